"""Live together: each sees the other's input appear without reloading."""

from playwright.sync_api import expect

from .helpers import first_question_id, plan_in_browser, sign_in, wait_saved


def open_conversation(browser, live_server, people, app):
    mia = people.add("mia@example.org", "Mia", locale="en")
    people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    base = live_server.url
    mctx, m = sign_in(browser, base, "mia@example.org", "en-GB")
    ectx, e = sign_in(browser, base, "eva@example.org", "nl-NL")
    cid = plan_in_browser(m, base, "Eva")
    e.goto(f"{base}/conversations/{cid}")
    return mctx, m, ectx, e, cid


def test_answers_points_agreements_status_and_presence_propagate(browser, live_server, people, app):
    mctx, m, ectx, e, cid = open_conversation(browser, live_server, people, app)
    qids = [int(x.split("-")[1]) for x in m.locator("form.answer-form:not(.preparation-form) textarea[data-autosave]").evaluate_all("els => els.map(e => e.id)")]
    q1, q2 = qids[0], qids[1]

    # Presence: each sees the other on the page, in phase 1.
    expect(e.locator(".presence-line")).to_contain_text("Mia is hier, in fase 1")
    expect(m.locator(".presence-line")).to_contain_text("Eva is here, in phase 1")

    # Eva starts typing in her own field and does not save yet (focus stays there).
    e.locator(f"#answer-{q2}").click()
    e.locator(f"#answer-{q2}").press_sequentially("Half a thought", delay=10)

    # What Mia types appears in Eva's page without a reload.
    m.locator(f"#answer-{q1}").fill("Mia's view on the goals")
    wait_saved(m, q1)
    expect(e.locator(f"#answer-{q1}-manager")).to_contain_text("Mia's view on the goals", timeout=3000)
    # Eva's focused field and her text are untouched.
    expect(e.locator(f"#answer-{q2}")).to_be_focused()
    expect(e.locator(f"#answer-{q2}")).to_have_value("Half a thought")
    wait_saved(e, q2)
    expect(m.locator(f"#answer-{q2}-employee")).to_contain_text("Half a thought", timeout=3000)

    # Talking points both ways.
    m.locator("#tp-new-looking_back").fill("Workload in Q3")
    m.locator("#talking-points-looking_back .add-point button").click()
    expect(e.locator("#talking-points-looking_back-list")).to_contain_text("Workload in Q3", timeout=3000)
    e.locator("#tp-new-looking_back").fill("Meer thuiswerken")
    e.locator("#talking-points-looking_back .add-point button").click()
    expect(m.locator("#talking-points-looking_back-list")).to_contain_text("Meer thuiswerken", timeout=3000)

    # Presence follows the phase, in both directions.
    m.locator(".stepper a").nth(2).click()
    expect(e.locator(".presence-line")).to_contain_text("Mia is hier, in fase 3", timeout=3000)
    e.locator(".stepper a").nth(2).click()

    # Agreements and next evaluation both ways (both are in phase 3 now).
    m.get_by_label("What").last.fill("Presentation course")
    m.get_by_role("button", name="Add agreement").click()
    expect(e.locator("#agreements")).to_contain_text("Presentation course", timeout=3000)
    e.get_by_label("Datum van de volgende evaluatie").fill("2027-06-01")
    e.get_by_role("button", name="Datum opslaan").click()
    expect(m.locator("#next-evaluation")).to_contain_text("2027", timeout=3000)

    # Status and signatures both ways.
    m.get_by_role("button", name="Propose to close and sign").click()
    expect(e.locator("#status")).to_contain_text("Wacht op ondertekening", timeout=3000)
    e.get_by_role("button", name="Verslag ondertekenen").click()
    expect(m.locator("#status")).to_contain_text("Eva · employee signed on", timeout=3000)
    m.get_by_role("button", name="Sign the record").click()
    expect(e.locator("#status")).to_contain_text("Afgerond", timeout=3000)
    expect(e.locator("textarea")).to_have_count(0, timeout=3000)  # read-only, without a reload
    expect(e.locator("#live")).to_have_count(0)  # a completed conversation does not poll
    assert e.errors == [], e.errors
    assert m.errors == [], m.errors
    mctx.close()
    ectx.close()


def test_incoming_update_never_replaces_a_section_with_unsaved_text(browser, live_server, people, app):
    mctx, m, ectx, e, cid = open_conversation(browser, live_server, people, app)
    # Eva is writing a talking point, not yet added; Mia adds one meanwhile.
    e.locator("#tp-new-looking_back").fill("Nog niet toegevoegd")
    m.locator("#tp-new-looking_back").fill("Mia's point")
    m.locator("#talking-points-looking_back .add-point button").click()
    expect(e.locator("#talking-points-looking_back-list")).to_contain_text("Mia's point", timeout=3000)
    expect(e.locator("#tp-new-looking_back")).to_have_value("Nog niet toegevoegd")

    # Eva has typed her own answer (unsaved for a moment) while Mia changes hers.
    qid = first_question_id(m)
    e.locator(f"#answer-{qid}").fill("Eigen tekst")
    m.locator(f"#answer-{qid}").fill("Mia again")
    expect(e.locator(f"#answer-{qid}-manager")).to_contain_text("Mia again", timeout=3000)
    expect(e.locator(f"#answer-{qid}")).to_have_value("Eigen tekst")
    assert e.errors == [] and m.errors == []

    # Presence fades when Mia leaves.
    expect(e.locator(".presence-line")).to_contain_text("Mia is hier")
    mctx.close()
    expect(e.locator(".presence-line")).to_contain_text("Mia is nu niet op deze pagina", timeout=20000)
    ectx.close()
