"""axe-core on every main page, in English and in Dutch, and no console errors (CSP) on any.

The manager views the pages in English, the employee in Dutch; the conversations are
filled in through the domain functions so that the browser only reads.
"""
from datetime import date, datetime, timezone

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from voortgang.conversations import answers, planning, points, signoff
from voortgang.extensions import db
from voortgang.models import Conversation, User

from ..conftest import PASSWORD

BLOCKING = ("serious", "critical")
AXE = Axe()


def fill_in(actor_id: int, conversation_id: int, label: str, *, every_question: bool = False) -> None:
    """Answer questions (the first per phase, or all) and bring in a talking point per phase."""
    actor = db.session.get(User, actor_id)
    conversation = db.session.get(Conversation, conversation_id)
    seen = set()
    for question in list(conversation.questions):
        if every_question or question.phase not in seen:
            answers.save_answer(actor, conversation_id, question.id,
                                f"{label}: answer with some length to read, line one.\nLine two.", 0)
            seen.add(question.phase)
    for phase in ("looking_back", "looking_forward", "agreements"):
        points.add_talking_point(actor, conversation_id, phase, f"{label}: point for {phase}")


@pytest.fixture
def conversations(app, people):
    """An in-progress, an awaiting-signatures and a completed conversation of Eva and Mia."""
    mia = people.add("mia@example.org", "Mia", locale="en")
    eva = people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    ids = {}
    with app.app_context():
        manager = db.session.get(User, mia.id)
        when = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
        for key in ("in_progress", "awaiting", "completed"):
            conversation = planning.plan_conversation(
                manager, employee_id=eva.id, manager_id=None, scheduled_at=when,
                place="Room 2", purpose="Our yearly conversation",
            )
            ids[key] = cid = conversation.id
            fill_in(mia.id, cid, "Mia", every_question=key == "completed")
            fill_in(eva.id, cid, "Eva", every_question=key == "completed")
            employee = db.session.get(User, eva.id)
            point = next(p for p in db.session.get(Conversation, cid).talking_points if p.author_role == "employee")
            points.mark_discussed(db.session.get(User, mia.id), cid, point.id, True)
            points.add_agreement(employee, cid, text="Follow a presentation course", owner="employee",
                                  due=date(2027, 3, 1))
            points.add_agreement(db.session.get(User, mia.id), cid, text="Arrange a mentor",
                                  owner="organisation", due=None, status="done")
            if key == "in_progress":
                continue
            points.set_next_evaluation(db.session.get(User, mia.id), cid, date(2027, 6, 1))
            signoff.propose_close(db.session.get(User, mia.id), cid)
            if key == "completed":
                signoff.sign(db.session.get(User, mia.id), cid, "")
                signoff.sign(db.session.get(User, eva.id), cid, "A good conversation.")
        assert db.session.get(Conversation, ids["completed"]).status == "completed"
        assert db.session.get(Conversation, ids["awaiting"]).status == "awaiting_signatures"
    return ids


def open_page(context):
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(f"pageerror: {exc}"))
    return page


def check(page, url: str, problems: list[str]) -> None:
    """Load the page; record console errors and blocking axe violations in `problems`."""
    page.errors.clear()
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    scan(page, url, problems)


def scan(page, url: str, problems: list[str]) -> None:
    """Record the page's console errors so far and its blocking axe violations."""
    page.wait_for_load_state("load")
    for error in page.errors:
        problems.append(f"{url}: {error}")
    results = AXE.run(page)
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = "; ".join(" ".join(str(t) for t in node["target"]) for node in violation["nodes"])
        problems.append(
            f"{url}: axe {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation.get('helpUrl', '')}]\n    nodes: {targets}"
        )


@pytest.mark.parametrize(
    ("browser_locale", "email"),
    [("en-GB", "mia@example.org"), ("nl-NL", "eva@example.org")],
    ids=["manager-en", "employee-nl"],
)
def test_pages_have_no_serious_accessibility_violations_or_console_errors(
    browser, live_server, conversations, browser_locale, email
):
    base = live_server.url
    problems: list[str] = []
    context = browser.new_context(locale=browser_locale)
    page = open_page(context)

    check(page, base + "/login", problems)
    expected_lang = browser_locale[:2]
    assert page.locator("html").get_attribute("lang") == expected_lang
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/")

    urls = [base + "/", base + "/conversations/", base + "/conversations/new"]
    for key in ("in_progress", "awaiting", "completed"):
        cid = conversations[key]
        phases = ("looking_back", "looking_forward", "agreements") if key != "awaiting" else ("agreements",)
        urls += [f"{base}/conversations/{cid}/phases/{phase}" for phase in phases]
    for url in urls:
        check(page, url, problems)
        assert page.locator("html").get_attribute("lang") == expected_lang, url

    # The planning form with its errors shown (422): errors must be linked to their fields.
    page.goto(base + "/conversations/new")
    page.errors.clear()
    page.locator("#scheduled_at").fill("")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("main form button[type=submit]").click()
    assert posted.value.status == 422, posted.value.status
    expect(page.locator("#scheduled_at-error")).to_be_visible()
    page.errors[:] = [e for e in page.errors if "status of 422" not in e]  # the 422 document itself
    scan(page, base + "/conversations/new (with errors)", problems)

    # The open conversation again in dark mode: contrast must hold there too.
    page.emulate_media(color_scheme="dark")
    for url in urls[3:6]:
        check(page, url, problems)

    context.close()
    assert not problems, f"{len(problems)} accessibility problem(s) or console error(s):\n" + "\n".join(problems)


@pytest.mark.parametrize(("browser_locale", "email"), [("en-GB", "mia@example.org"), ("nl-NL", "eva@example.org")],
                         ids=["manager-en", "employee-nl"])
def test_phone_header_is_one_line_until_the_menu_opens(browser, live_server, conversations, browser_locale, email):
    """At 390 px the header holds the name and a menu button; the menu is a <details>
    disclosure (no JavaScript needed) that keyboard and screen readers can use."""
    base = live_server.url
    context = browser.new_context(locale=browser_locale, viewport={"width": 390, "height": 844})
    page = open_page(context)
    page.goto(base + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/")
    problems: list[str] = []
    header, menu = page.locator(".site-header"), page.locator(".site-menu > summary")
    one_line = 70  # px: the 44 px touch targets plus padding; the old header took five lines
    for url in (base + "/", f"{base}/conversations/{conversations['in_progress']}"):
        check(page, url, problems)
        assert header.bounding_box()["height"] <= one_line, url
        expect(page.locator(".site-nav")).to_be_hidden()
    assert problems == [], "\n".join(problems)

    menu.focus()
    page.keyboard.press("Enter")  # the keyboard opens it
    nav = page.locator(".site-nav")
    expect(nav).to_be_visible()
    assert header.bounding_box()["height"] <= one_line  # the menu opens over the page
    expect(page.locator(".site-tools button[type=submit]").last).to_be_visible()  # sign out
    scan(page, "menu open", problems)
    assert problems == [], "\n".join(problems)
    page.keyboard.press("Enter")
    expect(nav).to_be_hidden()

    page.set_viewport_size({"width": 1280, "height": 800})  # wide: the links simply show
    expect(nav).to_be_visible()
    expect(menu).to_be_hidden()
    context.close()


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/")


def test_record_reads_audit_trail_and_erasure_pages_are_accessible(browser, live_server, conversations, people):
    """An administrator reads Eva's completed record (logged; the audit trail open) and
    opens the erasure confirmation; Eva then sees on her record who read it, in Dutch."""
    admin = people.add("hanna@example.org", "Hanna de Vries", is_admin=True, locale="en")
    base = live_server.url
    problems: list[str] = []
    context = browser.new_context(locale="en-GB")
    page = open_page(context)
    sign_in(page, base, admin.email)
    check(page, f"{base}/conversations/{conversations['completed']}", problems)
    page.locator("details.audit-trail > summary").click()
    expect(page.locator("details.audit-trail table")).to_be_visible()
    scan(page, "audit trail open", problems)
    with app_people_id(people, "eva@example.org") as eva_id:
        for url in (f"{base}/admin/people/", f"{base}/admin/people/{eva_id}", f"{base}/admin/people/{eva_id}/erase"):
            check(page, url, problems)
        page.locator("main form button.danger").click()  # not ticked: the browser asks for the tick first
        expect(page.locator("input[name=confirm]")).to_be_focused()
        assert page.url == f"{base}/admin/people/{eva_id}/erase"
    context.close()

    context = browser.new_context(locale="nl-NL")
    page = open_page(context)
    sign_in(page, base, "eva@example.org")
    page.locator("nav a").nth(2).click()  # Mijn dossier
    expect(page.locator("#record-reads")).to_have_text("Wie dit dossier las")
    expect(page.locator(".reads li").first).to_contain_text("Hanna de Vries (beheerder) las dit dossier op")
    scan(page, "record (nl)", problems)
    page.emulate_media(color_scheme="dark")
    scan(page, "record (nl, dark)", problems)
    context.close()
    assert not problems, f"{len(problems)} accessibility problem(s) or console error(s):\n" + "\n".join(problems)


class app_people_id:
    """The id of the person with this e-mail address (a tiny context manager for readability)."""

    def __init__(self, people, email: str):
        from sqlalchemy import select

        with people.app.app_context():
            self.id = db.session.scalar(select(User.id).where(User.email == email))

    def __enter__(self) -> int:
        return self.id

    def __exit__(self, *exc) -> None:
        return None
