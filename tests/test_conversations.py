"""The conversation through the app: planning, both answers, autosave, talking points,
agreements, the status flow and sign-off, export."""
import re
from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from voortgang.extensions import db
from voortgang.models import Answer, AuditEvent, Conversation, TemplateQuestion, User
from voortgang.database import writing

from .helpers import HX, plan, planned, question_ids, save



@pytest.fixture
def conversation_id(team, login_as):
    return planned(login_as(team.mia), team.eva)


def status_of(app, conversation_id):
    with app.app_context():
        return db.session.get(Conversation, conversation_id).status


# --- Planning ---------------------------------------------------------------------


def test_manager_plans_and_questions_are_snapshotted(app, team, login_as):
    client = login_as(team.mia)
    cid = planned(client, team.eva)
    with app.app_context(), writing():
        conversation = db.session.get(Conversation, cid)
        assert (conversation.employee_id, conversation.manager_id, conversation.status) == (team.eva.id, team.mia.id, "planned")
        assert conversation.scheduled_at == datetime.fromisoformat("2026-12-01T09:00:00+00:00")  # Amsterdam → UTC
        texts = [q.text_nl for q in conversation.questions]
        assert len(texts) == 14 and len(set(texts)) == 14  # 12 of the article, 2 of feedback both ways
        assert texts.count("Hoe heeft de werknemer bijgedragen aan het succes van de organisatie?") == 1
        assert [q.phase for q in conversation.questions][:5] == ["looking_back"] * 5
        # Later template changes never alter the conversation.
        first = db.session.scalar(select(TemplateQuestion).order_by(TemplateQuestion.id))
        first.text_en = "Changed afterwards"
    page = client.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Changed afterwards" not in page
    assert "Have the personal and job-related goals been achieved?" in page


def test_employee_plans_with_their_own_manager(app, team, login_as):
    cid = planned(login_as(team.eva), team.eva)
    with app.app_context():
        assert db.session.get(Conversation, cid).manager_id == team.mia.id


def test_admin_plans_for_anyone_with_any_manager(app, team, login_as):
    response = plan(login_as(team.admin), team.tom, manager=team.mia.id)
    assert response.status_code == 303


def test_iso_datetime_with_offset_is_accepted(app, team, login_as):
    response = plan(login_as(team.mia), team.eva, when="2026-12-01T10:00:00+01:00")
    assert response.status_code == 303


def test_unrelated_person_cannot_plan(app, team, login_as):
    before = _count(app, Conversation)
    assert plan(login_as(team.max), team.eva).status_code == 422
    assert plan(login_as(team.tom), team.eva).status_code == 422
    # An employee cannot choose another manager.
    assert plan(login_as(team.eva), team.eva, manager=team.max.id).status_code == 422
    assert _count(app, Conversation) == before


def test_bad_date_is_refused_and_typed_text_kept(team, login_as):
    response = plan(login_as(team.mia), team.eva, when="tomorrow-ish")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Yearly conversation" in page and "Room 2" in page


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- Answers side by side, autosave -------------------------------------------------


def test_both_answers_are_stored_and_shown_side_by_side(app, team, login_as, conversation_id):
    qid = question_ids(app, conversation_id)[0]
    eva, mia = login_as(team.eva), login_as(team.mia)
    response = save(eva, conversation_id, qid, "Ik heb mijn doelen gehaald.", 0)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    assert re.search(r'name="version" id="answer-\d+-version" value="1"', fragment)
    assert save(mia, conversation_id, qid, "Agreed, well done.", 0).status_code == 200

    page = mia.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert "Ik heb mijn doelen gehaald." in page and "Agreed, well done." in page
    # Mia (English) sees English question texts and labels; Eva (Dutch) sees Dutch.
    assert "Have the personal and job-related goals been achieved?" in page
    assert "Eva · employee" in page and "Mia · manager" in page
    dutch = eva.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert "Zijn de persoonlijke en functiegerichte doelstellingen behaald?" in dutch
    assert "Eva · medewerker" in dutch and "Mia · leidinggevende" in dutch
    # Per phase, each side's count of answered questions.
    assert "Eva: 1 of 7 answered" in page and "Mia: 1 of 7 answered" in page
    # Each answer is kept per role.
    with app.app_context():
        answers = {a.role: a.body for a in db.session.scalars(select(Answer).where(Answer.question_id == qid))}
    assert answers == {"employee": "Ik heb mijn doelen gehaald.", "manager": "Agreed, well done."}
    # The other's answer is read-only for the viewer: only one textarea per question.
    assert page.count(f'id="answer-{qid}"') == 1


def test_stale_version_gets_409_with_both_texts_and_nothing_overwritten(app, team, login_as, conversation_id):
    qid = question_ids(app, conversation_id)[0]
    laptop, tablet = login_as(team.eva), login_as(team.eva)
    assert save(laptop, conversation_id, qid, "From the laptop", 0).status_code == 200
    response = save(tablet, conversation_id, qid, "From the tablet", 0)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "From the laptop" in body and "From the tablet" in body
    with app.app_context():
        answer = db.session.scalar(select(Answer).where(Answer.question_id == qid))
        assert (answer.body, answer.version) == ("From the laptop", 1)
    # Deliberately saving over it with the current version works.
    assert save(tablet, conversation_id, qid, "From the tablet", 1).status_code == 200


def test_stale_version_without_javascript_shows_both_texts_on_the_page(app, team, login_as, conversation_id):
    qid = question_ids(app, conversation_id)[0]
    eva = login_as(team.eva)
    eva.post(f"/conversations/{conversation_id}/answers/{qid}", data={"body": "first", "version": 0})
    response = eva.post(f"/conversations/{conversation_id}/answers/{qid}", data={"body": "second", "version": 0})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "<html" in page and "first" in page and ">second</textarea>" in page


def test_length_limit_keeps_the_text_in_the_field(app, team, login_as, conversation_id):
    qid = question_ids(app, conversation_id)[0]
    eva = login_as(team.eva)
    text = "x" * 10_001
    response = save(eva, conversation_id, qid, text, 0)
    assert response.status_code == 422
    assert "10001" in response.get_data(as_text=True) or "10,001" in response.get_data(as_text=True)
    plain = eva.post(f"/conversations/{conversation_id}/answers/{qid}", data={"body": text, "version": 0})
    assert plain.status_code == 422 and f">{text}</textarea>" in plain.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0


def test_autosave_without_javascript_redirects_back_to_the_question(app, team, login_as, conversation_id):
    qid = question_ids(app, conversation_id, "looking_forward")[0]
    eva = login_as(team.eva)
    response = eva.post(f"/conversations/{conversation_id}/answers/{qid}", data={"body": "Groeien", "version": 0})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/conversations/{conversation_id}/phases/looking_forward#q-{qid}")


def test_each_person_writes_only_their_own_answer(app, team, login_as, conversation_id):
    qid = question_ids(app, conversation_id)[0]
    eva = login_as(team.eva)
    eva.post(f"/conversations/{conversation_id}/answers/{qid}",
             data={"body": "mine", "version": 0, "role": "manager", "author": team.mia.id})
    with app.app_context():
        roles = [a.role for a in db.session.scalars(select(Answer))]
    assert roles == ["employee"]


def test_question_of_another_conversation_is_404(app, team, login_as, conversation_id):
    other_id = planned(login_as(team.max), team.tom)
    foreign_qid = question_ids(app, other_id)[0]
    assert save(login_as(team.eva), conversation_id, foreign_qid, "x", 0).status_code == 404


# --- Phases ---------------------------------------------------------------------------


def test_phase_is_a_page_and_an_htmx_fragment(team, login_as, conversation_id):
    mia = login_as(team.mia)
    url = f"/conversations/{conversation_id}/phases/looking_forward"
    full = mia.get(url)
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"]
    fragment = mia.get(url, headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    assert "What does the employee want to achieve in the coming period?" in fragment
    assert mia.get(f"/conversations/{conversation_id}/phases/nonsense").status_code == 404


# --- Talking points, agreements, next evaluation ----------------------------------------------


def test_talking_points_by_both(app, team, login_as, conversation_id):
    eva, mia = login_as(team.eva), login_as(team.mia)
    url = f"/conversations/{conversation_id}/talking-points"
    response = eva.post(url, data={"phase": "looking_back", "text": "Werkdruk"}, headers=HX)
    assert response.status_code == 200 and "Werkdruk" in response.get_data(as_text=True)
    assert mia.post(url, data={"phase": "looking_forward", "text": "Training"}).status_code == 303
    with app.app_context():
        points = {p.text: p for p in db.session.get(Conversation, conversation_id).talking_points}
        eva_point, mia_point = points["Werkdruk"].id, points["Training"].id
        assert points["Werkdruk"].author_role == "employee" and points["Training"].author_role == "manager"
    # Only the author edits or removes; either marks discussed.
    assert mia.post(f"{url}/{eva_point}", data={"text": "hijacked", "phase": "looking_back"}).status_code == 404
    assert mia.post(f"{url}/{eva_point}/delete").status_code == 404
    assert mia.post(f"{url}/{eva_point}/discussed", data={"discussed": "1"}).status_code == 303
    assert eva.post(f"{url}/{eva_point}", data={"text": "Werkdruk en planning", "phase": "looking_back"}).status_code == 303
    assert eva.post(f"{url}/{eva_point}", data={"text": "  ", "phase": "looking_back"}, headers=HX).status_code == 422
    assert mia.post(f"{url}/{mia_point}/delete").status_code == 303
    with app.app_context():
        points = db.session.get(Conversation, conversation_id).talking_points
        assert [(p.text, p.discussed) for p in points] == [("Werkdruk en planning", True)]


def test_empty_talking_point_is_refused_with_message(team, login_as, conversation_id):
    response = login_as(team.eva).post(f"/conversations/{conversation_id}/talking-points",
                                       data={"phase": "looking_back", "text": " "}, headers=HX)
    assert response.status_code == 422
    assert "Schrijf eerst iets." in response.get_data(as_text=True)  # Eva reads Dutch


def test_agreements_by_both_and_next_evaluation(app, team, login_as, conversation_id):
    eva, mia = login_as(team.eva), login_as(team.mia)
    url = f"/conversations/{conversation_id}/agreements"
    response = mia.post(url, data={"text": "Cursus presenteren", "owner": "organisation", "due": "2027-03-01",
                                   "status": "open"}, headers=HX)
    assert response.status_code == 200
    with app.app_context():
        agreement_id = db.session.get(Conversation, conversation_id).agreements[0].id
    assert eva.post(f"{url}/{agreement_id}", data={"text": "Cursus presenteren", "owner": "employee",
                                                   "due": "2027-04-01", "status": "done"}).status_code == 303
    bad = eva.post(url, data={"text": "Iets", "owner": "nobody", "due": "2027-01-01"}, headers=HX)
    assert bad.status_code == 422 and "Iets" in bad.get_data(as_text=True)
    bad_date = eva.post(url, data={"text": "Iets", "owner": "employee", "due": "1 maart"}, headers=HX)
    assert bad_date.status_code == 422
    response = eva.post(f"/conversations/{conversation_id}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    assert response.status_code == 303
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert [(a.owner, a.status, str(a.due)) for a in conversation.agreements] == [("employee", "done", "2027-04-01")]
        assert str(conversation.next_evaluation) == "2027-06-01"


# --- Status and sign-off ------------------------------------------------------------------


def test_status_flow_with_withdrawn_signatures_and_read_only_completion(app, team, login_as, conversation_id):
    eva, mia = login_as(team.eva), login_as(team.mia)
    cid = conversation_id
    qid = question_ids(app, cid)[0]
    assert status_of(app, cid) == "planned"
    save(eva, cid, qid, "Eerste antwoord", 0)
    assert status_of(app, cid) == "in_progress"

    # Closing needs a next-evaluation date.
    response = mia.post(f"/conversations/{cid}/propose-close", headers=HX)
    assert response.status_code == 422 and "next evaluation" in response.get_data(as_text=True)
    assert status_of(app, cid) == "in_progress"
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    assert mia.post(f"/conversations/{cid}/propose-close").status_code == 303
    assert status_of(app, cid) == "awaiting_signatures"

    # Eva signs; then Mia changes something: the signature is withdrawn and the page says so.
    assert eva.post(f"/conversations/{cid}/sign", data={"comment": "Akkoord"}).status_code == 303
    save(mia, cid, qid, "A late addition", 0)
    with app.app_context():
        conversation = db.session.get(Conversation, cid)
        assert conversation.employee_signed_at is None and conversation.signatures_withdrawn_at is not None
    page = eva.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Handtekeningen zijn ingetrokken" in page

    # Both sign, with a closing comment that records disagreement: completed.
    eva.post(f"/conversations/{cid}/sign", data={"comment": "Niet eens met punt 2"})
    assert status_of(app, cid) == "awaiting_signatures"
    mia.post(f"/conversations/{cid}/sign", data={"comment": ""})
    assert status_of(app, cid) == "completed"
    page = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Niet eens met punt 2" in page
    assert "<textarea" not in page  # read-only for both

    # Every write route refuses now, with and without htmx; nothing changes.
    with app.app_context():
        revision = db.session.get(Conversation, cid).revision
    writes = [
        (f"/conversations/{cid}/answers/{qid}", {"body": "late", "version": 2}),
        (f"/conversations/{cid}/talking-points", {"phase": "looking_back", "text": "late"}),
        (f"/conversations/{cid}/agreements", {"text": "late", "owner": "employee", "due": ""}),
        (f"/conversations/{cid}/next-evaluation", {"next_evaluation": "2027-07-01"}),
        (f"/conversations/{cid}/propose-close", {}),
        (f"/conversations/{cid}/reopen", {}),
        (f"/conversations/{cid}/sign", {"comment": "again"}),
    ]
    for client in (eva, mia):
        for url, data in writes:
            assert client.post(url, data=data).status_code == 403, url
            assert client.post(url, data=data, headers=HX).status_code == 403, url
    with app.app_context():
        assert db.session.get(Conversation, cid).revision == revision


def test_sign_before_proposal_is_refused(team, login_as, conversation_id):
    response = login_as(team.eva).post(f"/conversations/{conversation_id}/sign", data={}, headers=HX)
    assert response.status_code == 422


def test_every_write_is_audited_without_the_answer_text(app, team, login_as, conversation_id):
    qid = question_ids(app, conversation_id)[0]
    save(login_as(team.eva), conversation_id, qid, "Geheime tekst", 0)
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["conversation.planned", "answer.saved"]
    assert events[1].actor_id == team.eva.id
    assert all("Geheime" not in (e.detail or "") for e in events)


# --- Lists and export ---------------------------------------------------------------------


def test_list_shows_own_and_team_conversations(app, team, login_as, conversation_id):
    plan(login_as(team.max), team.tom)
    mia_list = login_as(team.mia).get("/conversations/").get_data(as_text=True)
    assert ">Eva</a>" in mia_list and ">Tom</a>" not in mia_list
    assert "Prepare" in mia_list
    eva_list = login_as(team.eva).get("/conversations/").get_data(as_text=True)
    assert ">Mia</a>" in eva_list
    tom_list = login_as(team.tom).get("/conversations/").get_data(as_text=True)
    assert ">Eva</a>" not in tom_list and ">Max</a>" in tom_list


def test_export_json_matches_the_contract(app, team, login_as, conversation_id):
    eva = login_as(team.eva)
    qid = question_ids(app, conversation_id)[0]
    save(eva, conversation_id, qid, "Antwoord", 0)
    eva.post(f"/conversations/{conversation_id}/talking-points", data={"phase": "looking_back", "text": "Punt"})
    eva.post(f"/conversations/{conversation_id}/agreements",
             data={"text": "Cursus", "owner": "employee", "due": "2027-03-01"})
    response = eva.get(f"/conversations/{conversation_id}/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert {"id", "status", "employee", "manager", "scheduled_at", "follows", "next_evaluation",
            "phases", "talking_points", "agreements", "signatures"} <= data.keys()
    assert data["status"] == "in_progress" and data["follows"] is None
    assert data["employee"] == {"id": team.eva.id, "name": "Eva", "email": "eva@example.org"}
    assert data["scheduled_at"] == "2026-12-01T09:00:00+00:00"
    assert [p["key"] for p in data["phases"]] == ["looking_back", "looking_forward", "agreements"]
    first = data["phases"][0]["questions"][0]
    assert first["id"] == qid and set(first["text"]) == {"nl", "en"}
    assert first["answers"]["employee"]["body"] == "Antwoord" and first["answers"]["employee"]["version"] == 1
    assert first["answers"]["manager"] is None
    assert data["talking_points"][0] | {"id": 0} == {"id": 0, "author": "employee", "phase": "looking_back",
                                                     "text": "Punt", "discussed": False}
    agreement = data["agreements"][0]
    assert {k: agreement[k] for k in ("text", "owner", "due", "status", "carried_from")} == {
        "text": "Cursus", "owner": "employee", "due": "2027-03-01", "status": "open", "carried_from": None}
    assert data["signatures"] == {"employee": None, "manager": None}


def test_autosave_reply_carries_status_and_progress_only_when_they_change(app, team, login_as, conversation_id):
    qid = question_ids(app, conversation_id)[0]
    eva = login_as(team.eva)
    first = save(eva, conversation_id, qid, "Begin", 0).get_data(as_text=True)  # planned → in progress
    assert 'id="status"' in first and 'id="stepper"' in first
    second = save(eva, conversation_id, qid, "Begin, en meer", 1).get_data(as_text=True)
    assert 'id="status"' not in second and 'id="stepper"' not in second
    assert 'value="2"' in second
    emptied = save(eva, conversation_id, qid, "", 2).get_data(as_text=True)  # no longer answered
    assert 'id="stepper"' in emptied


def employee_options(page: str) -> dict[str, str]:
    """The employee select's options: {value: label} (the placeholder included)."""
    select_html = page.split('<select id="employee"', 1)[1].split("</select>", 1)[0]
    return dict(re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select_html))


def selected_employee(page: str) -> str | None:
    select_html = page.split('<select id="employee"', 1)[1].split("</select>", 1)[0]
    match = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html)
    return (match.group(1) or match.group(2) or None) if match else None


def test_an_administrator_finds_the_employee_among_many_without_javascript(app, team, login_as):
    from .test_people import add_many

    add_many(app, 80, name="Zoe")  # after the team in the alphabet
    with app.app_context():
        zoe_79 = db.session.scalar(select(User.id).where(User.email == "zoe079@example.org"))
    admin = login_as(team.admin)
    page = admin.get("/conversations/new").get_data(as_text=True)
    options = employee_options(page)
    assert len(options) == 51 and options[""] == "Choose a person"  # 50 people and the placeholder
    assert 'method="get"' in page and 'name="q"' in page
    assert "first 50 of 85 people" in page
    assert selected_employee(page) == str(team.admin.id)  # as before: oneself pre-selected
    # A search narrows the list (a plain GET form); one match is chosen.
    page = admin.get("/conversations/new?q=zoe%20079").get_data(as_text=True)
    assert list(employee_options(page).values()) == ["Choose a person", "Zoe 079"]
    assert selected_employee(page) == str(zoe_79) and 'value="zoe 079"' in page
    page = admin.get("/conversations/new?q=zoe%2007").get_data(as_text=True)
    assert len(employee_options(page)) == 11 and "10 people found" in page and selected_employee(page) is None
    assert "Nobody matches this search." in admin.get("/conversations/new?q=nobody").get_data(as_text=True)
    # A link pre-selects someone beyond the first 50.
    page = admin.get(f"/conversations/new?employee={zoe_79}").get_data(as_text=True)
    assert selected_employee(page) == str(zoe_79) and employee_options(page)[str(zoe_79)] == "Zoe 079"
    assert admin.get("/conversations/new?employee=99999999999999999999999").status_code == 200
    # The form posts the same fields as before, for anyone active.
    with app.app_context(), writing():
        db.session.execute(User.__table__.update().where(User.email.like("zoe%")).values(manager_id=team.mia.id))
    response = plan(admin, SimpleNamespace(id=zoe_79))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    # A manager chooses among their team in a select, without the search.
    page = login_as(team.mia).get("/conversations/new?q=zoe").get_data(as_text=True)
    assert 'name="q"' not in page and len(employee_options(page)) == 83  # Mia, Eva, 80 Zoes, placeholder


def test_the_overview_and_the_people_page_link_to_planning_for_the_person(app, team, login_as):
    admin = login_as(team.admin)
    link = f'href="/conversations/new?employee={team.tom.id}"'
    assert link in admin.get(f"/admin/people/{team.tom.id}").get_data(as_text=True)
    overview = admin.get("/overview").get_data(as_text=True)
    assert link in overview and 'aria-label="Plan a conversation with Tom"' in overview
    page = admin.get(f"/conversations/new?employee={team.tom.id}").get_data(as_text=True)
    assert selected_employee(page) == str(team.tom.id)
    planned(admin, team.tom)  # once something is under way, its status shows instead
    assert link not in admin.get("/overview").get_data(as_text=True)
