"""Private preparation, revealing it together, the guide and equal voice, through the app."""
import json
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from voortgang import mail
from voortgang.conversations import signoff
from voortgang.conversations import points as points_rules
from voortgang.database import writing
from voortgang.extensions import db
from voortgang.models import Answer, Conversation, Preparation, User

from .helpers import HX, counting_statements, planned, question_ids, save
from .test_live import live_state, poll
from .test_mail import inbox  # noqa: F401  (the fixture)

MARK = "zz-private-mark-7q"  # a text that appears nowhere but in a preparation


def prepare(client, cid, qid, body, version=0, **headers):
    return client.post(f"/conversations/{cid}/preparation/{qid}", data={"body": body, "version": version},
                       headers={**HX, **headers})


def share(client, cid, **headers):
    return client.post(f"/conversations/{cid}/preparation/share", data={"phase": "looking_back"}, headers=headers)


@pytest.fixture
def cid(team, login_as):
    return planned(login_as(team.mia), team.eva)


def _counters(app, cid):
    with app.app_context():
        c = db.session.get(Conversation, cid)
        return c.revision, c.employee_changes, c.manager_changes, c.status


def test_preparation_autosaves_with_versions_and_conflicts(app, team, login_as, cid):
    eva = login_as(team.eva)
    qid = question_ids(app, cid)[0]
    first = prepare(eva, cid, qid, "Mijn punten")
    assert first.status_code == 200 and "<html" not in first.get_data(as_text=True)
    assert re.search(r'name="version" id="prep-\d+-version" value="1"', first.get_data(as_text=True))
    stale = prepare(eva, cid, qid, "Uit een ander venster", 0)
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "Mijn punten" in body and "Uit een ander venster" in body  # both texts, nothing lost
    assert prepare(eva, cid, qid, "Mijn punten, verbeterd", 1).status_code == 200
    too_long = prepare(eva, cid, qid, "x" * (app.config["ANSWER_MAX_LENGTH"] + 1), 2)
    assert too_long.status_code == 422 and "x" * 50 in too_long.get_data(as_text=True)
    # Without JavaScript: a plain form post and a redirect back to the question.
    plain = eva.post(f"/conversations/{cid}/preparation/{qid}", data={"body": "Zonder JS", "version": 2})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"#q-{qid}")
    page = eva.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Zonder JS" in page and "Alleen jij ziet dit" in page


def test_a_private_save_is_not_a_change_the_other_side_can_notice(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    qid = question_ids(app, cid)[0]
    state = live_state(mia, cid)
    before = _counters(app, cid)
    assert prepare(eva, cid, qid, MARK).status_code == 200
    assert _counters(app, cid) == before  # no revision, no side counter, status still planned
    assert poll(mia, cid, state).status_code == 204  # not even when it happened
    with app.app_context():
        from voortgang.models import AuditEvent
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.detail.contains(MARK))) is None


# Every route that shows conversation content, and who asks: the leak check looks for
# MARK in each answer. Add new routes here (e.g. the record's PDF).
LEAK_ROUTES = [
    ("/conversations/{cid}", "mia"),
    ("/conversations/{cid}/phases/looking_back", "mia"),
    ("/conversations/{cid}/phases/looking_forward", "mia"),
    ("/conversations/{cid}/phases/agreements", "mia"),
    ("/conversations/{cid}/updates?since=0&seen=0&phase=looking_back&presence=", "mia"),
    ("/conversations/{cid}/updates?since=0&phase=looking_back&presence=", "mia"),
    ("/conversations/{cid}/export.json", "mia"),
    ("/conversations/{cid}/calendar.ics", "mia"),
    ("/me/export.json", "mia"),
    ("/", "mia"),
    ("/conversations/", "mia"),
    ("/overview", "mia"),
    ("/overview.csv", "mia"),
    ("/overview/agreements", "mia"),
    ("/people/{eva}/record", "mia"),
    ("/conversations/{cid}", "hanna"),
    ("/conversations/{cid}/export.json", "hanna"),
    ("/overview", "hanna"),
    ("/overview.csv", "hanna"),
    ("/people/{eva}/record", "hanna"),
    ("/me/export.json", "hanna"),
    ("/conversations/{cid}", "max"),
    ("/conversations/{cid}/export.json", "max"),
    ("/people/{eva}/record", "max"),
    ("/overview.csv", "max"),
    ("/conversations/{cid}/record.pdf", "mia"),
    ("/conversations/{cid}/record.pdf?lang=nl", "mia"),
    ("/people/{eva}/record.pdf", "mia"),
    ("/conversations/{cid}/record.pdf", "hanna"),
    ("/people/{eva}/record.pdf", "hanna"),
    ("/conversations/{cid}/record.pdf", "max"),
]


def _text(response) -> str:
    """What a person reads in the answer: a PDF's extracted text, else the body."""
    if response.mimetype == "application/pdf":
        from io import BytesIO

        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    return response.get_data(as_text=True)


def _leaks(app, team, login_as, cid):
    clients = {"mia": login_as(team.mia), "hanna": login_as(team.admin), "max": login_as(team.max)}
    found = []
    for path, who in LEAK_ROUTES:
        url = path.format(cid=cid, eva=team.eva.id)
        for headers in ({}, HX):
            body = _text(clients[who].get(url, headers=headers))
            if MARK in body:
                found.append(f"{who} {url} {headers}")
    return found


def test_preparation_never_reaches_anyone_but_its_author(app, team, login_as, cid, inbox):  # noqa: F811
    eva, mia = login_as(team.eva), login_as(team.mia)
    qids = question_ids(app, cid)
    assert prepare(eva, cid, qids[0], MARK).status_code == 200
    assert prepare(eva, cid, qids[1], MARK + " twee").status_code == 200
    # The reminder the day before (planned) tells each their own count, never the text.
    tomorrow = datetime.combine(date.today() + timedelta(days=1), time(12), ZoneInfo("Europe/Amsterdam"))
    with app.app_context(), writing():
        db.session.get(Conversation, cid).scheduled_at = tomorrow
    with app.test_request_context():
        assert mail.due_reminders(date.today()) == 2
        mail.deliver_due()
    mails = {m["To"].split("<")[-1].rstrip(">"): inbox.body(m) for m in inbox.all() if "Morgen" in m["Subject"]
             or "Tomorrow" in m["Subject"]}
    assert MARK not in "".join(mails.values())
    assert "2 van de 14" in mails["eva@example.org"] and "0 of 14" in mails["mia@example.org"]
    assert save(mia, cid, qids[0], "Mia's answer", 0).status_code == 200
    points_rules_text = "Mia brings this in"
    mia.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back", "text": points_rules_text})
    assert _leaks(app, team, login_as, cid) == []
    # The other side sees only a count.
    page = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Eva prepared 2 of 14 questions" in page
    # The author's own export has it, the other's does not.
    own = json.loads(eva.get(f"/conversations/{cid}/export.json").data)
    assert own["my_preparation"] == {str(qids[0]): MARK, str(qids[1]): MARK + " twee"}
    assert json.loads(mia.get(f"/conversations/{cid}/export.json").data)["my_preparation"] == {}
    me = json.loads(eva.get("/me/export.json").data)
    assert me["conversations"][0]["my_preparation"][str(qids[0])] == MARK
    # Completed: the administrator reads the record, still without the preparation.
    with app.test_request_context():
        mia_user, eva_user = db.session.get(User, team.mia.id), db.session.get(User, team.eva.id)
        points_rules.set_next_evaluation(mia_user, cid, date(2027, 6, 1))
        signoff.propose_close(mia_user, cid)
        signoff.sign(mia_user, cid)
        signoff.sign(eva_user, cid)
    assert _leaks(app, team, login_as, cid) == []
    assert eva.get(f"/conversations/{cid}").status_code == 200
    assert prepare(eva, cid, qids[0], "te laat", 1).status_code == 403  # completed: read-only


def test_reveal_only_when_both_are_ready_and_never_overwrite(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    q = question_ids(app, cid)
    prepare(eva, cid, q[0], "Eva bereidde q0 voor")
    prepare(eva, cid, q[1], "Eva bereidde q1 voor")
    prepare(mia, cid, q[0], "Mia prepared q0")
    assert save(eva, cid, q[1], "Eva's own answer", 0).status_code == 200
    mia_state = live_state(mia, cid)
    assert share(eva, cid).status_code == 303
    # Mia is told Eva is ready (live), but sees none of the text.
    reply = poll(mia, cid, mia_state)
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    assert "Ready to share" in text and "Eva is ready to share." in text and "bereidde" not in text
    with app.app_context():
        assert db.session.scalar(select(Answer.id).where(Answer.body.contains("bereidde"))) is None
    assert share(eva, cid).status_code == 303  # twice is fine, still nothing revealed
    eva_state = live_state(eva, cid)
    response = share(mia, cid, **HX)
    assert response.status_code == 200 and "Mia prepared q0" in response.get_data(as_text=True)
    with app.app_context():
        bodies = {(a.question_id, a.role): a.body for a in db.session.scalars(select(Answer))}
    assert bodies[(q[0], "employee")] == "Eva bereidde q0 voor"
    assert bodies[(q[1], "employee")] == "Eva's own answer"  # never overwritten
    assert bodies[(q[0], "manager")] == "Mia prepared q0"
    assert (q[1], "manager") not in bodies
    # Eva's page learns it live: the whole phase, her own revealed answer included.
    reply = poll(eva, cid, eva_state).get_data(as_text=True)
    assert "Mia prepared q0" in reply and 'id="phase-view" hx-swap-oob="innerHTML"' in reply
    assert "heeft de voorbereiding gedeeld" in reply  # told, in Eva's language
    assert _counters(app, cid)[3] == "in_progress"


def test_a_new_manager_never_sees_the_former_managers_preparation(app, team, login_as, cid):
    mia = login_as(team.mia)
    qid = question_ids(app, cid)[0]
    prepare(mia, cid, qid, MARK)
    with app.app_context(), writing():
        db.session.get(Conversation, cid).manager_id = team.max.id
    page = login_as(team.max).get(f"/conversations/{cid}").get_data(as_text=True)
    assert MARK not in page and "You prepared 0 of 14 questions" in page


def test_use_my_preparation_copies_it_into_the_answer_without_losing_any(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    qid = question_ids(app, cid)[0]
    use = f"/conversations/{cid}/preparation/{qid}/use"
    assert eva.post(use, headers=HX).status_code == 422  # nothing prepared yet
    prepare(eva, cid, qid, "Voorbereid")
    save(eva, cid, qid, "Al gezegd", 0)
    mia_state = live_state(mia, cid)
    response = eva.post(use, headers=HX)
    assert response.status_code == 200 and f'id="q-{qid}"' in response.get_data(as_text=True)
    assert eva.post(use).status_code == 303  # twice: already in, nothing doubled
    with app.app_context():
        answer = db.session.scalar(select(Answer).where(Answer.question_id == qid, Answer.role == "employee"))
        assert answer.body == "Al gezegd\n\nVoorbereid" and answer.version == 2
    assert "Voorbereid" in poll(mia, cid, mia_state).get_data(as_text=True)  # an answer like any other


def test_the_guide_is_shown_and_closing_it_is_remembered_per_person(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    page = eva.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Voor het gesprek: een checklist voor jullie allebei" in page and 'id="guide-looking_back"' in page
    response = eva.post(f"/conversations/{cid}/guide/looking_back", data={"hidden": "1", "phase": "looking_back"},
                        headers=HX)
    assert response.status_code == 200 and "Toon de handreiking" in response.get_data(as_text=True)
    assert eva.post(f"/conversations/{cid}/guide/before", data={"hidden": "1"}).status_code == 303
    page = eva.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "een checklist voor jullie allebei" not in page and "Toon de handreiking" in page
    english = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Before the meeting: a checklist for both of you" in english  # Mia's is her own
    assert eva.post(f"/conversations/{cid}/guide/nonsense", data={"hidden": "1"}).status_code == 404
    assert eva.post(f"/conversations/{cid}/guide/before", data={"hidden": "0"}).status_code == 303
    assert "een checklist voor jullie allebei" in eva.get(f"/conversations/{cid}").get_data(as_text=True)


def test_equal_voice_per_phase_with_a_gentle_hint(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    q = question_ids(app, cid)
    save(mia, cid, q[0], " ".join(["word"] * 45), 0)
    save(eva, cid, q[0], "kort", 0)
    page = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "voice-bar voice-0" in page  # Eva 1 of 46 words: 0 % in 10 % steps
    assert "Share of the words: Eva 0 % · Mia 100 %" in page
    assert "Eva has written little in this phase yet: ask what Eva thinks." in page
    assert "Je hebt in deze fase nog weinig geschreven" in eva.get(f"/conversations/{cid}").get_data(as_text=True)
    mia.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back", "text": "x"})
    eva.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back",
                                                           "text": " ".join(["woord"] * 44)})
    page = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "voice-bar voice-50" in page and "has written little" not in page


def test_the_page_with_preparation_costs_a_fixed_number_of_statements(app, team, login_as, cid):
    eva = login_as(team.eva)
    q = question_ids(app, cid)
    eva.get(f"/conversations/{cid}")  # warm up
    with counting_statements(app) as before:
        eva.get(f"/conversations/{cid}")
    for i, qid in enumerate(q):
        prepare(eva, cid, qid, f"voorbereiding {i}")
        save(eva, cid, qid, f"antwoord {i}", 0)
    with counting_statements(app) as after:
        eva.get(f"/conversations/{cid}")
    assert len(after) == len(before) <= 20, after
    # The usual autosave reply of a preparation loads nothing more than it writes.
    with counting_statements(app) as saving:
        assert prepare(eva, cid, q[0], "nog eens", 1).status_code == 200
    assert len(saving) <= 8, saving


def test_home_page_and_list_show_how_far_each_prepared(app, team, login_as, cid):
    eva = login_as(team.eva)
    for qid in question_ids(app, cid)[:3]:
        prepare(eva, cid, qid, "iets")
    home = eva.get("/").get_data(as_text=True)
    assert "voorbereid: 3 van 14 vragen" in home
    listing = eva.get("/conversations/").get_data(as_text=True)
    assert "Je hebt 3 van 14 vragen voorbereid" in listing


def test_feedback_both_ways_in_a_new_installations_default_questions(app, team, login_as, cid):
    page = login_as(team.mia).get(f"/conversations/{cid}").get_data(as_text=True)
    assert "What could the manager do differently to support the employee better?" in page
    dutch = login_as(team.eva).get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Wat kan de organisatie beter doen, voor de werknemer en voor het werk?" in dutch


def test_outsiders_cannot_prepare_share_or_use(app, team, login_as, cid):
    qid = question_ids(app, cid)[0]
    for person in (team.max, team.admin, team.tom):
        client = login_as(person)
        assert prepare(client, cid, qid, "x").status_code == 404
        assert share(client, cid).status_code == 404
        assert client.post(f"/conversations/{cid}/preparation/{qid}/use").status_code == 404
        assert client.post(f"/conversations/{cid}/guide/before", data={"hidden": "1"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Preparation.id)) is None
    other = planned(login_as(team.max), team.tom)
    foreign = question_ids(app, other)[0]
    assert prepare(login_as(team.eva), cid, foreign, "x").status_code == 404
