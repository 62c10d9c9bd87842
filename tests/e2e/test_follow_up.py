"""A follow-up in the browser: plan it from the completed conversation, rate a carried agreement."""
import re
from datetime import date, datetime, timezone

from playwright.sync_api import expect

from voortgang.conversations import planning, points, signoff
from voortgang.extensions import db
from voortgang.models import Conversation, User

from .helpers import sign_in


def completed_conversation(app, mia_id, eva_id):
    with app.app_context():
        mia, eva = db.session.get(User, mia_id), db.session.get(User, eva_id)
        c = planning.plan_conversation(mia, employee_id=eva.id, manager_id=mia.id,
                                      scheduled_at=datetime(2026, 6, 1, 8, tzinfo=timezone.utc), place="Room 2")
        points.add_agreement(mia, c.id, text="Presentation course", owner="employee", due=date(2026, 10, 1))
        points.add_agreement(mia, c.id, text="Already finished", owner="manager", due=None, status="done")
        points.set_next_evaluation(mia, c.id, date(2026, 12, 1))
        signoff.propose_close(mia, c.id)
        signoff.sign(mia, c.id)
        signoff.sign(eva, c.id)
        return c.id


def test_plan_follow_up_and_rate_carried_agreement_from_both_sides(browser, live_server, app, people):
    mia = people.add("mia@example.org", "Mia", locale="en")
    eva = people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    cid = completed_conversation(app, mia.id, eva.id)
    base = live_server.url
    mctx, m = sign_in(browser, base, "mia@example.org", "en-GB")
    ectx, e = sign_in(browser, base, "eva@example.org", "nl-NL")

    m.goto(f"{base}/conversations/{cid}")
    m.get_by_role("link", name="Plan the follow-up").click()
    expect(m.get_by_label("Date and time")).to_have_value("2026-12-01T10:00")
    m.get_by_role("button", name="Plan").click()
    m.wait_for_url(re.compile(r"/conversations/\d+$"))
    follow = int(m.url.rsplit("/", 1)[1])
    expect(m.locator("#carried")).to_contain_text("Presentation course")
    expect(m.locator("#carried")).not_to_contain_text("Already finished")

    e.goto(f"{base}/conversations/{follow}")
    card = e.locator(".carried-agreement").first
    card.get_by_label("Deels gedaan").check()
    card.get_by_label("Toelichting (niet verplicht)").fill("Eerste module gedaan")
    card.get_by_role("button", name="Beoordeling opslaan").click()
    expect(e.locator("#carried")).to_contain_text("Eerste module gedaan")

    card = m.locator(".carried-agreement").first
    expect(card).to_contain_text("Eerste module gedaan", timeout=3000)  # live, without a reload
    card.get_by_label("Done", exact=True).check()
    card.get_by_role("button", name="Save rating").click()
    expect(e.locator(".carried-agreement").first).to_contain_text("Gedaan", timeout=3000)
    m.locator(".carried-agreement").first.get_by_role("button", name="Carry it on").click()
    expect(e.locator("#carried")).to_contain_text("Doorgezet naar de volgende periode", timeout=3000)

    with app.app_context():
        agreement = db.session.get(Conversation, follow).agreements[0]
        assert agreement.decision == "carried"
        assert {r.role: r.rating for r in agreement.reviews} == {"employee": "partly", "manager": "done"}
    assert m.errors == [] and e.errors == []
    mctx.close()
    ectx.close()
