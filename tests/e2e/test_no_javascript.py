"""The whole conversation with JavaScript switched off: plain forms, links and redirects only.

The manager works in English, the employee in Dutch, each in a browser context with
`java_script_enabled=False`, so htmx and app.js never run.
"""
import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from voortgang.extensions import db
from voortgang.models import Answer, Conversation, TalkingPoint

from .helpers import plan_in_browser
from .helpers import sign_in as signed_in

PHASES = ["looking_back", "looking_forward", "agreements"]
SAVE = {"en-GB": "Save", "nl-NL": "Opslaan"}


def sign_in(browser, base, email, locale):
    """Sign in through the real form in a context without JavaScript; return (context, page)."""
    context, page = signed_in(browser, base, email, locale, java_script_enabled=False)
    assert "/login" not in page.url
    page.save_label = SAVE[locale]
    return context, page


def questions_by_phase(app, conversation_id):
    with app.app_context():
        by_phase = {}
        for q in db.session.get(Conversation, conversation_id).questions:
            by_phase.setdefault(q.phase, []).append(q.id)
    return by_phase


def save_answer(page, qid, text, phase):
    """Type an answer and press the form's own Save button; the server redirects back (PRG)."""
    form = page.locator(f"#answer-{qid}-form")
    button = form.get_by_role("button", name=page.save_label, exact=True)
    expect(button).to_be_visible()
    page.locator(f"#answer-{qid}").fill(text)
    with page.expect_response(lambda r: r.request.method == "POST" and f"/answers/{qid}" in r.url) as info:
        button.click()
    assert info.value.status == 303, info.value.status
    expect(page).to_have_url(re.compile(rf"/phases/{phase}(#q-{qid})?$"))
    expect(page.locator(f"#answer-{qid}")).to_have_value(text)
    expect(page.locator(f"#answer-{qid}-state")).to_contain_text(re.compile(r"Saved|Opgeslagen"))


def go_to_phase(page, index, phase):
    """Follow the plain stepper link (no htmx) to the phase."""
    page.locator(".stepper a").nth(index).click()
    expect(page).to_have_url(re.compile(rf"/phases/{phase}$"))
    expect(page.locator(".stepper [aria-current=step]")).to_have_count(1)
    expect(page.locator(".stepper li.step").nth(index)).to_have_class(re.compile(r"\bcurrent\b"))


def test_whole_conversation_without_javascript(browser, live_server, app, people):
    mia = people.add("mia@example.org", "Mia", locale="en")
    people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    base = live_server.url

    mia_ctx, m = sign_in(browser, base, "mia@example.org", "en-GB")
    eva_ctx, e = sign_in(browser, base, "eva@example.org", "nl-NL")
    # Nothing scripted runs: the page must not have been marked as enhanced.
    expect(m.locator("html")).not_to_have_class(re.compile(r"\bjs\b"))

    cid = plan_in_browser(m, base, "Eva", place="Room 2", purpose="Our yearly conversation")
    e.goto(f"{base}/conversations/{cid}")
    expect(m.get_by_role("heading", name="Have the personal and job-related goals been achieved?")).to_be_visible()
    expect(e.get_by_role("heading", name="Zijn de persoonlijke en functiegerichte doelstellingen behaald?")).to_be_visible()
    by_phase = questions_by_phase(app, cid)
    assert sum(len(ids) for ids in by_phase.values()) == 14  # the article's 12 and 2 of feedback both ways

    for index, phase in enumerate(PHASES):
        if index:
            go_to_phase(m, index, phase)
            go_to_phase(e, index, phase)
        for qid in by_phase[phase]:
            save_answer(m, qid, f"Manager answer {qid}", phase)
            save_answer(e, qid, f"Antwoord medewerker {qid}", phase)
        # Without live updates the other side's answers show after a page load.
        m.reload()
        for qid in by_phase[phase]:
            expect(m.locator(f"#answer-{qid}-employee")).to_contain_text(f"Antwoord medewerker {qid}")
        expect(m.locator(".stepper .current .progress-employee")).to_contain_text(
            f"Eva: {len(by_phase[phase])} of {len(by_phase[phase])} answered"
        )

    # Back to phase 1 with the stepper: each adds a talking point there.
    go_to_phase(e, 0, "looking_back")
    go_to_phase(m, 0, "looking_back")
    e.locator("#tp-new-looking_back").fill("Punt medewerker: werkdruk")
    e.locator("#talking-points-looking_back .add-point").get_by_role("button", name="Toevoegen").click()
    expect(e).to_have_url(re.compile(r"/phases/looking_back(#talking-points-looking_back)?$"))
    expect(e.locator("#talking-points-looking_back")).to_contain_text("Punt medewerker: werkdruk")
    m.locator("#tp-new-looking_back").fill("Manager point: mentoring")
    m.locator("#talking-points-looking_back .add-point").get_by_role("button", name="Add").click()
    points = m.locator("#talking-points-looking_back")
    expect(points).to_contain_text("Manager point: mentoring")
    expect(points).to_contain_text("Punt medewerker: werkdruk")  # the full page shows both

    # Mia marks Eva's point as discussed.
    eva_point = m.locator("#talking-points-looking_back li.point-employee")
    eva_point.get_by_role("button", name="Mark as discussed").click()
    expect(m.locator("#talking-points-looking_back li.point-employee")).to_contain_text("Discussed")
    e.reload()
    expect(e.locator("#talking-points-looking_back li.point-employee")).to_contain_text("Besproken")
    expect(e.locator("#talking-points-looking_back li.point-manager")).to_contain_text("Manager point: mentoring")

    # Phase 3: Eva adds an agreement, Mia sets the next evaluation.
    go_to_phase(e, 2, "agreements")
    e.get_by_label("Wat").last.fill("Cursus presenteren volgen")
    e.get_by_label("Wie").last.select_option("employee")
    e.get_by_label("Wanneer klaar").last.fill("2027-03-01")
    e.get_by_role("button", name="Afspraak toevoegen").click()
    expect(e).to_have_url(re.compile(r"/phases/agreements(#agreements)?$"))
    expect(e.locator("#agreements table")).to_contain_text("Cursus presenteren volgen")

    go_to_phase(m, 2, "agreements")
    expect(m.locator("#agreements table")).to_contain_text("Cursus presenteren volgen")
    m.get_by_label("Date of the next evaluation").fill("2027-06-01")
    m.get_by_role("button", name="Save date").click()
    expect(m).to_have_url(re.compile(r"/phases/agreements(#next-evaluation)?$"))
    expect(m.locator("#next-evaluation")).to_contain_text("2027")

    # Mia proposes to close and signs; Eva signs with a closing comment.
    m.get_by_role("button", name="Propose to close and sign").click()
    expect(m.locator("#status")).to_contain_text("Awaiting signatures")
    m.get_by_role("button", name="Sign the record").click()
    expect(m.locator("#status")).to_contain_text("Mia · manager signed on")
    e.reload()
    expect(e.locator("#status")).to_contain_text("Wacht op ondertekening")
    e.get_by_label("Slotopmerking (niet verplicht)").fill("Fijn gesprek")
    e.get_by_role("button", name="Verslag ondertekenen").click()
    expect(e.locator("#status")).to_contain_text("Afgerond")

    # Read-only for both, on every phase.
    for page in (m, e):
        for phase in PHASES:
            page.goto(f"{base}/conversations/{cid}/phases/{phase}")
            expect(page.locator("#status")).to_be_visible()
            expect(page.locator("textarea")).to_have_count(0)
            expect(page.locator("#status form")).to_have_count(0)
            expect(page.locator("#phase-view form")).to_have_count(0)
    expect(m.locator("#status")).to_contain_text("Fijn gesprek")

    with app.app_context():
        conversation = db.session.get(Conversation, cid)
        assert conversation.status == "completed"
        assert conversation.next_evaluation.isoformat() == "2027-06-01"
        assert conversation.employee_comment == "Fijn gesprek"
        assert [(a.text, a.owner, a.due.isoformat()) for a in conversation.agreements] == [
            ("Cursus presenteren volgen", "employee", "2027-03-01")
        ]
        discussed = {p.author_role: p.discussed for p in db.session.scalars(select(TalkingPoint))}
        bodies = {(a.question_id, a.role): a.body for a in db.session.scalars(select(Answer))}
    assert discussed == {"employee": True, "manager": False}
    assert len(bodies) == 28
    for ids in by_phase.values():
        for qid in ids:
            assert bodies[(qid, "manager")] == f"Manager answer {qid}"
            assert bodies[(qid, "employee")] == f"Antwoord medewerker {qid}"
    assert m.errors == [] and e.errors == []
    mia_ctx.close()
    eva_ctx.close()


def test_too_long_answer_without_javascript_keeps_the_text_and_stores_nothing(browser, live_server, app, people):
    mia = people.add("mia@example.org", "Mia", locale="en")
    people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    base = live_server.url
    mia_ctx, m = sign_in(browser, base, "mia@example.org", "en-GB")
    cid = plan_in_browser(m, base, "Eva", place="Room 2", purpose="Our yearly conversation")
    mia_ctx.close()

    ctx, e = sign_in(browser, base, "eva@example.org", "nl-NL")
    e.goto(f"{base}/conversations/{cid}")
    qid = questions_by_phase(app, cid)["looking_back"][0]
    too_long = "x" * 10_001
    e.locator(f"#answer-{qid}").fill(too_long)
    with e.expect_response(lambda r: r.request.method == "POST" and f"/answers/{qid}" in r.url) as info:
        e.locator(f"#answer-{qid}-form").get_by_role("button", name="Opslaan", exact=True).click()
    assert info.value.status == 422, info.value.status

    problem = e.locator(f"#answer-{qid}-problem")
    expect(problem).to_contain_text("Niet opgeslagen")
    expect(problem).to_contain_text(re.compile(r"10[.,\u00a0]?001"))
    expect(e.locator(f"#answer-{qid}-state")).to_contain_text("Niet opgeslagen")
    expect(e.locator(f"#answer-{qid}")).to_have_value(too_long)
    # The error is tied to its field for assistive technology.
    described = e.locator(f"#answer-{qid}").get_attribute("aria-describedby") or ""
    assert f"answer-{qid}-problem" in described.split()

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
        assert db.session.get(Conversation, cid).status == "planned"
    # The browser logs the 422 document itself as a failed load; nothing else may appear.
    assert [m for m in e.errors if "status of 422" not in m] == []
    ctx.close()
