"""Two people, two browsers, one conversation: the manager in English, the employee in Dutch."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from voortgang.extensions import db
from voortgang.models import Answer, Conversation

from .helpers import first_question_id, plan_in_browser, sign_in, wait_saved


def test_manager_and_employee_fill_in_all_phases_and_sign(browser, live_server, app, people):
    mia = people.add("mia@example.org", "Mia", locale="en")
    people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    base = live_server.url

    mia_ctx, m = sign_in(browser, base, "mia@example.org", "en-GB")
    eva_ctx, e = sign_in(browser, base, "eva@example.org", "nl-NL")

    # Mia plans the conversation through the form.
    cid = plan_in_browser(m, base, "Eva", place="Room 2", purpose="Our yearly conversation")
    e.goto(f"{base}/conversations/{cid}")

    # Each sees the questions in their own language.
    expect(m.get_by_role("heading", name="Have the personal and job-related goals been achieved?")).to_be_visible()
    expect(e.get_by_role("heading", name="Zijn de persoonlijke en functiegerichte doelstellingen behaald?")).to_be_visible()
    expect(m.locator(".question .who", has_text="Eva · employee")).to_have_count(7)
    expect(e.locator(".question .who", has_text="Mia · leidinggevende")).to_have_count(7)

    with app.app_context():
        questions = db.session.get(Conversation, cid).questions
        by_phase = {}
        for q in questions:
            by_phase.setdefault(q.phase, []).append(q.id)

    for index, phase in enumerate(["looking_back", "looking_forward", "agreements"]):
        if index:
            # Go to the next phase with the stepper: htmx swaps it in and pushes the URL.
            m.locator(".stepper a").nth(index).click()
            e.locator(".stepper a").nth(index).click()
            expect(m).to_have_url(re.compile(rf"/phases/{phase}$"))
            expect(e).to_have_url(re.compile(rf"/phases/{phase}$"))
        for qid in by_phase[phase]:
            m.locator(f"#answer-{qid}").fill(f"Manager answer {qid}")
            e.locator(f"#answer-{qid}").fill(f"Antwoord medewerker {qid}")
        for qid in by_phase[phase]:
            wait_saved(m, qid)
            wait_saved(e, qid)
        # Both add a talking point to this phase.
        m.locator(f"#tp-new-{phase}").fill(f"Manager point {phase}")
        m.locator(f"#talking-points-{phase} .add-point button").click()
        expect(m.locator(f"#talking-points-{phase}")).to_contain_text(f"Manager point {phase}")
        e.locator(f"#tp-new-{phase}").fill(f"Punt medewerker {phase}")
        e.locator(f"#talking-points-{phase} .add-point button").click()
        expect(e.locator(f"#talking-points-{phase}")).to_contain_text(f"Punt medewerker {phase}")

    expect(m.locator(".stepper .current .progress-manager")).to_contain_text("Mia: 3 of 3 answered")

    # Phase 3: an agreement and the next evaluation.
    e.get_by_label("Wat").last.fill("Cursus presenteren volgen")
    e.get_by_label("Wie").last.select_option("employee")
    e.get_by_label("Wanneer klaar").last.fill("2027-03-01")
    e.get_by_role("button", name="Afspraak toevoegen").click()
    expect(e.locator("#agreements table")).to_contain_text("Cursus presenteren volgen")
    m.get_by_label("Date of the next evaluation").fill("2027-06-01")
    m.get_by_role("button", name="Save date").click()
    expect(m.locator("#next-evaluation")).to_contain_text("2027")

    # Mia proposes to close; both sign.
    m.get_by_role("button", name="Propose to close and sign").click()
    expect(m.locator("#status")).to_contain_text("Awaiting signatures")
    m.get_by_role("button", name="Sign the record").click()
    expect(m.locator("#status")).to_contain_text("Mia · manager signed on")
    e.reload()
    e.get_by_label("Slotopmerking (niet verplicht)").fill("Fijn gesprek")
    e.get_by_role("button", name="Verslag ondertekenen").click()
    expect(e.locator("#status")).to_contain_text("Afgerond")

    # Read-only for both.
    for page in (m, e):
        page.goto(f"{base}/conversations/{cid}")
        expect(page.locator("textarea")).to_have_count(0)
        expect(page.locator("#status form")).to_have_count(0)
    expect(m.locator("#status")).to_contain_text("Fijn gesprek")

    with app.app_context():
        conversation = db.session.get(Conversation, cid)
        assert conversation.status == "completed"
        bodies = {(a.question_id, a.role): a.body for a in db.session.scalars(select(Answer))}
    assert len(bodies) == 28
    assert bodies[(by_phase["agreements"][0], "employee")] == f"Antwoord medewerker {by_phase['agreements'][0]}"
    assert m.errors == [] and e.errors == []
    mia_ctx.close()
    eva_ctx.close()


def test_autosave_conflict_keeps_text_and_offers_both(browser, live_server, app, people):
    mia = people.add("mia@example.org", "Mia", locale="en")
    people.add("eva@example.org", "Eva", manager=mia, locale="en")
    base = live_server.url
    ctx1, laptop = sign_in(browser, base, "eva@example.org", "en-GB")
    ctx2, tablet = sign_in(browser, base, "eva@example.org", "en-GB")
    cid = plan_in_browser(laptop, base)
    tablet.goto(f"{base}/conversations/{cid}")
    qid = first_question_id(laptop)

    laptop.locator(f"#answer-{qid}").fill("Written on the laptop")
    wait_saved(laptop, qid)
    tablet.locator(f"#answer-{qid}").fill("Written on the tablet")
    expect(tablet.locator(f"#answer-{qid}-problem")).to_contain_text("Written on the laptop")
    expect(tablet.locator(f"#answer-{qid}")).to_have_value("Written on the tablet")
    with app.app_context():
        assert db.session.scalar(select(Answer.body)) == "Written on the laptop"
    tablet.get_by_role("button", name="Save my text instead").click()
    wait_saved(tablet, qid)
    with app.app_context():
        assert db.session.scalar(select(Answer.body)) == "Written on the tablet"
    ctx1.close()
    ctx2.close()


def test_network_failure_keeps_text_and_retries(browser, live_server, app, people):
    mia = people.add("mia@example.org", "Mia", locale="en")
    people.add("eva@example.org", "Eva", manager=mia, locale="en")
    base = live_server.url
    ctx, page = sign_in(browser, base, "eva@example.org", "en-GB")
    plan_in_browser(page, base)
    qid = first_question_id(page)

    page.route("**/answers/**", lambda route: route.abort())
    page.locator(f"#answer-{qid}").fill("Typed while the network is down")
    state = page.locator(f"#answer-{qid}-state")
    expect(state).to_contain_text("Not saved")
    expect(page.locator(f"#answer-{qid}")).to_have_value("Typed while the network is down")
    page.unroute("**/answers/**")
    state.get_by_role("button", name="Retry").click()
    wait_saved(page, qid)
    with app.app_context():
        assert db.session.scalar(select(Answer.body)) == "Typed while the network is down"
    page.errors.clear()  # the aborted request logged a network error, as expected
    ctx.close()
