"""Preparing privately and revealing together, in two browsers; axe on the page with the
preparation and the guide open, in both languages."""
import re

from playwright.sync_api import expect

from .helpers import plan_in_browser, sign_in
from .test_accessibility import BLOCKING, AXE
from .test_live import open_conversation


def _prepare(page, qid, text):
    field = page.locator(f"#prep-{qid}")
    field.fill(text)
    field.blur()
    expect(page.locator(f"#prep-{qid}-state")).to_contain_text(re.compile(r"Saved|Opgeslagen"))


def _axe(page, where):
    problems = []
    for violation in AXE.run(page).response["violations"]:
        if violation["impact"] in BLOCKING:
            problems.append(f"{where}: {violation['id']} {violation['help']} "
                            f"{[n['target'] for n in violation['nodes']]}")
    return problems


def test_preparations_are_revealed_live_on_both_sides(browser, live_server, people, app):
    mctx, m, ectx, e, cid = open_conversation(browser, live_server, people, app)
    qid = int(m.locator("form.answer-form:not(.preparation-form) textarea[data-autosave]").first
              .get_attribute("id").split("-")[1])
    # Both pages hold the preparation and the guide open: no serious accessibility problem.
    problems = _axe(m, "manager (en)") + _axe(e, "employee (nl)")
    assert not problems, "\n".join(problems)

    _prepare(e, qid, "Eva's private notes")
    _prepare(m, qid, "Mia's private notes")
    expect(m.locator(f"#answer-{qid}-employee")).not_to_contain_text("Eva's private notes")

    e.get_by_role("button", name=re.compile("Deel mijn voorbereiding")).click()
    # Mia is told Eva is ready, live, without any of the text.
    expect(m.locator("#preparation")).to_contain_text("Eva is ready to share.", timeout=3000)
    expect(m.locator("body")).not_to_contain_text("Eva's private notes")

    m.get_by_role("button", name=re.compile("Share my preparation")).click()
    # Both pages show both answers now, without a reload.
    expect(m.locator(f"#answer-{qid}")).to_have_value("Mia's private notes")
    expect(m.locator(f"#answer-{qid}-employee")).to_contain_text("Eva's private notes", timeout=3000)
    expect(e.locator(f"#answer-{qid}-manager")).to_contain_text("Mia's private notes", timeout=3000)
    expect(e.locator(f"#answer-{qid}")).to_have_value("Eva's private notes", timeout=3000)
    expect(e.locator("#preparation")).to_contain_text("Jullie hebben allebei je voorbereiding gedeeld")
    assert not m.errors and not e.errors, (m.errors, e.errors)
    mctx.close()
    ectx.close()


def test_prepare_share_and_use_without_javascript(browser, live_server, people, app):
    mia = people.add("mia@example.org", "Mia", locale="en")
    people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    base = live_server.url
    mctx, m = sign_in(browser, base, "mia@example.org", "en-GB", java_script_enabled=False)
    ectx, e = sign_in(browser, base, "eva@example.org", "nl-NL", java_script_enabled=False)
    cid = plan_in_browser(m, base, "Eva")
    e.goto(f"{base}/conversations/{cid}")
    qid = int(e.locator("textarea[id^=prep-]").first.get_attribute("id").split("-")[1])
    e.locator(f"#prep-{qid}").fill("Zonder script voorbereid")
    e.locator(f"#prep-{qid}-form button[type=submit]").click()
    expect(e.locator(f"#prep-{qid}")).to_have_value("Zonder script voorbereid")
    e.get_by_role("button", name=re.compile("Deel mijn voorbereiding")).click()
    m.goto(f"{base}/conversations/{cid}")
    expect(m.locator("#preparation")).to_contain_text("Eva is ready to share.")
    expect(m.locator("body")).not_to_contain_text("Zonder script voorbereid")
    m.get_by_role("button", name=re.compile("Share my preparation")).click()
    expect(m.locator(f"#answer-{qid}-employee")).to_contain_text("Zonder script voorbereid")
    # The guide closes without a script too, and stays closed.
    e.goto(f"{base}/conversations/{cid}")
    e.locator("#guide-looking_back button").click()
    expect(e.locator("#guide-looking_back")).to_contain_text("Toon de handreiking")
    mctx.close()
    ectx.close()
