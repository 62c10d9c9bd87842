"""Rounds through the app: starting one, belonging, counts, planning from it, closing,
who sees what, the export and the CSV, the home page and the reminders, statement counts."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select

from voortgang.conversations import points, signoff
from voortgang.database import writing
from voortgang.extensions import db
from voortgang.models import Conversation, Round, RoundPerson, User

from .helpers import counting_statements, id_in, new_id, planned

STATES = ("to_plan", "planned", "in_progress", "awaiting_signatures", "completed")
SPRING = {"name": "Spring 2027", "starts_on": "2027-01-01", "ends_on": "2027-03-31"}


def start(client, **data):
    return client.post("/rounds/", data={**SPRING, **data})


def started(client, **data) -> int:
    return new_id(start(client, **data))


def export(client, round_id) -> dict:
    response = client.get(f"/rounds/{round_id}/export.json")
    assert response.status_code == 200, response.status_code
    return response.get_json()


def counts(client, round_id) -> dict:
    return export(client, round_id)["counts"]


def zero(**given) -> dict:
    return {state: given.get(state, 0) for state in STATES}


@pytest.fixture
def org(team, people):
    """The team (Hanna admin; Mia with Eva; Max with Tom) plus Ann in Mia's team."""
    team.ann = people.add("ann@example.org", "Ann", manager=team.mia)
    return team


# --- Starting a round ---------------------------------------------------------------------------


def test_an_administrator_starts_a_round_for_everyone_active(app, org, people, login_as):
    people.add("gone@example.org", "Gone", manager=org.mia, active=False)
    admin = login_as(org.admin)
    response = start(admin)
    assert response.status_code == 303
    round_id = id_in(response.headers["Location"])
    assert response.headers["Location"].endswith(f"/rounds/{round_id}")
    data = export(admin, round_id)
    assert {key: data[key] for key in ("id", "name", "starts_on", "ends_on", "closed")} == {
        "id": round_id, "name": "Spring 2027", "starts_on": "2027-01-01", "ends_on": "2027-03-31", "closed": False}
    names = [p["person"]["name"] for p in data["people"]]
    assert names == ["Ann", "Eva", "Hanna", "Max", "Mia", "Tom"]  # everyone active, by name; not Gone
    assert data["counts"] == zero(to_plan=6)
    assert all(p["state"] == "to_plan" and p["conversation"] is None for p in data["people"])


def test_a_manager_starts_a_round_for_her_own_team_only(app, org, login_as):
    mia = login_as(org.mia)
    round_id = started(mia, team=org.mia.id)
    assert [p["person"]["name"] for p in export(mia, round_id)["people"]] == ["Ann", "Eva"]
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Round))
    for data in ({"team": org.max.id}, {}):  # another team; everyone
        response = start(mia, **data)
        assert response.status_code == 422
        assert "You can start a round for your own team only." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Round)) == before


def test_an_administrator_starts_a_round_for_a_team_or_chosen_people(app, org, login_as):
    admin = login_as(org.admin)
    team_round = started(admin, team=org.max.id)
    assert [p["person"]["name"] for p in export(admin, team_round)["people"]] == ["Tom"]
    chosen = started(admin, scope="chosen", people=[org.eva.id, org.tom.id])
    assert [p["person"]["name"] for p in export(admin, chosen)["people"]] == ["Eva", "Tom"]


def test_bad_input_is_refused_with_a_sentence_and_keeps_what_was_typed(app, org, login_as):
    admin = login_as(org.admin)
    cases = [
        ({"name": ""}, "Enter a name for the round"),
        ({"starts_on": "1 januari"}, "Enter a date, for example 2027-03-01."),
        ({"ends_on": ""}, "Enter the last day of the round."),
        ({"ends_on": "2026-12-31"}, "The last day cannot be before the first day."),
        ({"team": org.eva.id}, "Nobody would take part in this round."),
    ]
    for data, sentence in cases:
        name = data.pop("name", "Typed name")
        response = start(admin, name=name, **data)
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and sentence in body, (data, response.status_code)
        if name:
            assert 'value="Typed name"' in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Round)) == 0


def test_employees_get_404_on_every_round_page(app, org, login_as):
    round_id = started(login_as(org.admin))
    eva = login_as(org.eva)
    for path in ("/rounds/", "/rounds/new", f"/rounds/{round_id}", f"/rounds/{round_id}/export.json",
                 f"/rounds/{round_id}/export.csv"):
        assert eva.get(path).status_code == 404, path
    assert start(eva, team=org.eva.id).status_code == 404
    assert eva.post(f"/rounds/{round_id}/close").status_code == 404
    assert "/rounds/" not in eva.get("/").get_data(as_text=True)


# --- Who sees which part ----------------------------------------------------------------------------


def test_a_manager_sees_her_part_and_never_another_teams_round(app, org, login_as):
    admin, mia, max_ = login_as(org.admin), login_as(org.mia), login_as(org.max)
    everyone = started(admin)
    mias = started(mia, team=org.mia.id)
    maxs = started(max_, team=org.max.id)
    assert [p["person"]["name"] for p in export(mia, everyone)["people"]] == ["Ann", "Eva"]
    assert [p["person"]["name"] for p in export(max_, everyone)["people"]] == ["Tom"]
    for path in (f"/rounds/{maxs}", f"/rounds/{maxs}/export.json", f"/rounds/{maxs}/export.csv"):
        assert mia.get(path).status_code == 404, path
    assert mia.post(f"/rounds/{maxs}/plan", data={"person": org.tom.id,
                                                  "scheduled_at": "2027-02-01T10:00"}).status_code == 404
    assert mia.post(f"/rounds/{maxs}/close").status_code == 404
    assert max_.get(f"/rounds/{mias}").status_code == 404
    listed = mia.get("/rounds/").get_data(as_text=True)
    assert f"/rounds/{everyone}" in listed and f"/rounds/{mias}" in listed and f"/rounds/{maxs}" not in listed
    page = mia.get(f"/rounds/{everyone}").get_data(as_text=True)
    assert "Eva" in page and "Tom" not in page
    # Nobody else's people are planned through a round: Tom is not in Mia's part.
    assert mia.post(f"/rounds/{everyone}/plan", data={"person": org.tom.id,
                                                      "scheduled_at": "2027-02-01T10:00"}).status_code == 404
    assert export(admin, everyone)["counts"] == zero(to_plan=6)
    assert admin.get("/rounds/999").status_code == 404


# --- Belonging, planning, counts ------------------------------------------------------------------


def test_planning_from_the_round_links_the_conversation_and_counts_move(app, org, login_as):
    mia, eva = login_as(org.mia), login_as(org.eva)
    round_id = started(mia, team=org.mia.id)
    response = mia.post(f"/rounds/{round_id}/plan", data={"person": org.eva.id, "scheduled_at": "2027-02-03T10:00",
                                                          "place": "Room 4"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/rounds/{round_id}?planned=")
    data = export(mia, round_id)
    eva_row = next(p for p in data["people"] if p["person"]["id"] == org.eva.id)
    cid = eva_row["conversation"]
    assert eva_row["state"] == "planned" and cid
    assert data["counts"] == zero(to_plan=1, planned=1)
    with app.app_context():
        conversation = db.session.get(Conversation, cid)
        assert (conversation.place, conversation.manager_id) == ("Room 4", org.mia.id)
    page = mia.get(response.headers["Location"]).get_data(as_text=True)
    assert "Planned: the conversation with Eva" in page
    # The conversation's page says which round it belongs to (for both participants).
    assert "Onderdeel van ronde</dt><dd>Spring 2027<" in eva.get(f"/conversations/{cid}").get_data(as_text=True)
    assert f'href="/rounds/{round_id}"' in mia.get(f"/conversations/{cid}").get_data(as_text=True)

    # Planned again: refused; outside the period: refused, with the typed values kept.
    again = mia.post(f"/rounds/{round_id}/plan", data={"person": org.eva.id, "scheduled_at": "2027-02-04T10:00"})
    assert again.status_code == 422
    outside = mia.post(f"/rounds/{round_id}/plan", data={"person": org.ann.id, "scheduled_at": "2027-04-01T10:00",
                                                         "place": "Typed place"})
    body = outside.get_data(as_text=True)
    assert outside.status_code == 422 and "Choose a date within the round" in body and 'value="Typed place"' in body
    assert counts(mia, round_id) == zero(to_plan=1, planned=1)

    # The conversation moves on: the counts follow.
    with app.test_request_context():
        manager, employee = db.session.get(User, org.mia.id), db.session.get(User, org.eva.id)
        points.add_agreement(manager, cid, text="Course", owner="employee", due=None)
        assert counts(mia, round_id) == zero(to_plan=1, in_progress=1)
        points.set_next_evaluation(manager, cid, date(2027, 9, 1))
        signoff.propose_close(manager, cid)
        assert counts(mia, round_id) == zero(to_plan=1, awaiting_signatures=1)
        signoff.sign(manager, cid)
        signoff.sign(employee, cid)
    assert counts(mia, round_id) == zero(to_plan=1, completed=1)
    page = mia.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "1 of 2 conversations completed (50 %)" in page
    assert "Open: 1 · done: 0 · dropped: 0" in page


def test_a_conversation_planned_elsewhere_within_the_period_belongs_the_latest_wins(app, org, login_as):
    mia = login_as(org.mia)
    round_id = started(mia, team=org.mia.id)
    planned(mia, org.eva, "2026-12-31T23:30")  # before the period (Amsterdam time)
    assert counts(mia, round_id) == zero(to_plan=2)
    first = planned(mia, org.eva, "2027-01-01T00:30")
    latest = planned(mia, org.eva, "2027-03-31T23:30")
    planned(mia, org.eva, "2027-04-01T00:30")  # after it
    row = next(p for p in export(mia, round_id)["people"] if p["person"]["id"] == org.eva.id)
    assert row["conversation"] == latest != first
    assert counts(mia, round_id) == zero(to_plan=1, planned=1)


# --- Closing ------------------------------------------------------------------------------------------


def test_a_closed_round_is_read_only_and_keeps_its_figures(app, org, login_as):
    admin, mia = login_as(org.admin), login_as(org.mia)
    round_id = started(admin)
    cid = planned(mia, org.eva, "2027-02-01T10:00")
    before = export(admin, round_id)
    assert mia.post(f"/rounds/{round_id}/close").status_code == 403  # not her team's round
    assert admin.post(f"/rounds/{round_id}/close").status_code == 303
    after = export(admin, round_id)
    assert after["closed"] is True
    assert {k: v for k, v in after.items() if k not in ("closed", "closed_at")} == {
        k: v for k, v in before.items() if k not in ("closed", "closed_at")}
    # Later changes move nothing: the conversation moves on, another one is planned in the period,
    # Eva gets another manager.
    with app.test_request_context():
        points.add_agreement(db.session.get(User, org.mia.id), cid, text="Course", owner="employee", due=None)
    planned(mia, org.ann, "2027-02-02T10:00")
    with app.app_context(), writing():
        db.session.get(User, org.eva.id).manager_id = org.max.id
    assert export(admin, round_id)["counts"] == after["counts"] == zero(to_plan=5, planned=1)
    assert [p["person"]["name"] for p in export(mia, round_id)["people"]] == ["Ann", "Eva"]  # her part when closed
    assert mia.post(f"/rounds/{round_id}/plan", data={"person": org.ann.id,
                                                      "scheduled_at": "2027-02-01T10:00"}).status_code == 403
    page = admin.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "This round is closed" in page and "Close the round" not in page and 'name="scheduled_at"' not in page
    assert admin.post(f"/rounds/{round_id}/close").status_code == 303  # again: nothing changes
    assert export(admin, round_id)["closed_at"] == after["closed_at"]
    # The conversation's page still names the round.
    assert "Part of round" in mia.get(f"/conversations/{cid}").get_data(as_text=True)


# --- The export matches the page; the CSV ---------------------------------------------------------------


def test_the_export_and_the_csv_match_the_page(app, org, login_as):
    admin, mia = login_as(org.admin), login_as(org.mia)
    round_id = started(admin)
    planned(mia, org.eva, "2027-02-01T10:00")
    data = export(admin, round_id)
    page = admin.get(f"/rounds/{round_id}").get_data(as_text=True)
    for state, number in data["counts"].items():
        assert f'<td id="count-{state}">{number}</td>' in page, state
    to_plan = [p["person"]["name"] for p in data["people"] if p["state"] == "to_plan"]
    assert f"{len(to_plan)} people" in page
    for name in to_plan:
        assert f">{name}</a>" in page
    rows = list(csv.reader(io.StringIO(admin.get(f"/rounds/{round_id}/export.csv").get_data(as_text=True))))
    assert rows[0] == ["Name", "Email", "Manager", "State", "Date", "Conversation"]
    assert [(r[0], r[3]) for r in rows[1:]] == [
        (p["person"]["name"], "To plan" if p["state"] == "to_plan" else "Planned") for p in data["people"]]
    assert ["Eva", "eva@example.org", "Mia", "Planned", "2027-02-01 10:00"] == rows[2][:5]


# --- Home page ---------------------------------------------------------------------------------------------


def test_the_managers_home_page_says_how_many_to_plan(app, org, login_as):
    admin, mia = login_as(org.admin), login_as(org.mia)
    round_id = started(admin)
    home = mia.get("/").get_data(as_text=True)
    assert "Plan 2 conversations for round Spring 2027 (until 31 Mar)" in home
    assert f'href="/rounds/{round_id}"' in home
    planned(mia, org.eva, "2027-02-01T10:00")
    assert "Plan 1 conversation for round Spring 2027 (until 31 Mar)" in mia.get("/").get_data(as_text=True)
    planned(mia, org.ann, "2027-02-01T11:00")
    assert "for round Spring 2027" not in mia.get("/").get_data(as_text=True)
    assert "for round" not in login_as(org.eva).get("/").get_data(as_text=True)


# --- Statement counts ---------------------------------------------------------------------------------------


def _add_people(app, manager_id: int, count: int, start: int = 0) -> None:
    now = datetime.now(UTC)
    with app.app_context(), writing():
        db.session.execute(insert(User), [
            {"email": f"p{n}@example.org", "name": f"Person {n:05d}", "manager_id": manager_id, "is_admin": False,
             "locale": "en", "active": True, "session_token": f"t{n}", "created_at": now}
            for n in range(start, start + count)])


def test_the_round_page_takes_the_same_statements_for_20_and_for_600_people(app, org, login_as):
    admin, mia = login_as(org.admin), login_as(org.mia)
    _add_people(app, org.mia.id, 16)
    small = started(admin)
    _add_people(app, org.mia.id, 580, start=100)
    _add_people(app, org.max.id, 20, start=1000)
    big = started(admin)
    planned(mia, org.eva, "2027-02-01T10:00")
    for who, client in (("admin", admin), ("mia", mia)):
        # Page 1 of a round of 22 and pages 1 and 2 of a round of 600 (a page past the last
        # one takes two statements more, records/paging.py).
        measured = {}
        for url in (f"/rounds/{small}", f"/rounds/{big}", f"/rounds/{big}?page=2"):
            with counting_statements(app) as statements:
                assert client.get(url).status_code == 200
            measured[url] = len(statements)
        assert len(set(measured.values())) == 1, (who, measured)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RoundPerson).where(RoundPerson.round_id == big)) > 600


def test_the_form_says_which_choice_is_missing(app, org, login_as):
    admin = login_as(org.admin)
    form = admin.get("/rounds/new").get_data(as_text=True)
    assert '<input checked id="scope-0" name="scope" type="radio" value="everyone">' in form
    for data, sentence in (({"scope": "team", "team": ""}, "Choose a manager whose team takes part."),
                           ({"scope": "chosen"}, "Choose the people who take part.")):
        response = start(admin, **data)
        assert response.status_code == 422 and sentence in response.get_data(as_text=True)
    mia = login_as(org.mia)
    form = mia.get("/rounds/new").get_data(as_text=True)
    assert 'value="everyone"' not in form and "Team of Mia" in form and "Team of Max" not in form
    assert ">Tom<" not in form  # only her own people to choose from
    response = start(mia, scope="chosen", people=[org.tom.id])
    assert response.status_code == 422 and "Choose people from the list." in response.get_data(as_text=True)
    chosen = started(mia, scope="chosen", people=[org.ann.id])
    assert export(mia, chosen)["counts"] == zero(to_plan=1)
    assert mia.post(f"/rounds/{chosen}/close").status_code == 303  # she started it: she closes it
    assert export(mia, chosen)["closed"] is True


def test_planning_from_the_round_uses_its_question_list(app, org, login_as):
    from voortgang.models import ConversationQuestion, Template
    from voortgang.questions import service as questions

    with app.test_request_context():
        default = db.session.scalar(select(Template).where(Template.is_default.is_(True)))
        spare = questions.create_template("Short list", default.id)
        spare_id, texts = spare.id, [q.text_en for q in spare.questions]
        questions.add_question(spare.id, "looking_back", "Wat ging goed?", "What went well?")
    mia = login_as(org.mia)
    round_id = started(mia, team=org.mia.id, template=spare_id)
    response = mia.post(f"/rounds/{round_id}/plan", data={"person": org.eva.id, "scheduled_at": "2027-02-03T10:00"})
    assert response.status_code == 303
    cid = export(mia, round_id)["people"][1]["conversation"]
    with app.app_context():
        asked = list(db.session.scalars(select(ConversationQuestion.text_en).where(
            ConversationQuestion.conversation_id == cid)))
    assert "What went well?" in asked and set(texts) <= set(asked)
    # Planned the usual way, the default list is used.
    other = planned(mia, org.ann, "2027-02-04T10:00")
    with app.app_context():
        assert "What went well?" not in db.session.scalars(select(ConversationQuestion.text_en).where(
            ConversationQuestion.conversation_id == other)).all()


def test_an_erased_conversation_leaves_a_closed_round_its_figures(app, org, login_as):
    from voortgang.records.retention import erase_conversations

    admin, mia = login_as(org.admin), login_as(org.mia)
    round_id = started(admin, team=org.mia.id)
    cid = planned(mia, org.eva, "2027-02-01T10:00")
    admin.post(f"/rounds/{round_id}/close")
    with app.app_context(), writing():
        assert erase_conversations([cid]) == 1
    data = export(admin, round_id)
    assert data["counts"] == zero(to_plan=1, planned=1)
    assert next(p for p in data["people"] if p["person"]["id"] == org.eva.id)["conversation"] is None


def test_an_administrator_narrows_the_people_to_plan_to_one_team(app, org, login_as):
    admin = login_as(org.admin)
    round_id = started(admin)
    page = admin.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "6 people" in page and 'id="filter-team"' in page
    page = admin.get(f"/rounds/{round_id}?team={org.mia.id}").get_data(as_text=True)
    assert "2 people" in page and ">Ann</a>" in page and ">Tom</a>" not in page
    assert '<td id="count-to_plan">6</td>' in page  # the counts stay the round's
    response = admin.post(f"/rounds/{round_id}/plan", data={"person": org.eva.id, "team": org.mia.id,
                                                            "scheduled_at": "2027-02-01T10:00"})
    assert response.headers["Location"].startswith(f"/rounds/{round_id}?team={org.mia.id}&planned=")


def test_the_list_of_rounds_shows_each_ones_progress_in_the_viewers_part(app, org, login_as):
    admin, mia = login_as(org.admin), login_as(org.mia)
    everyone = started(admin)
    closed = started(admin, name="Autumn 2026", starts_on="2026-09-01", ends_on="2026-12-31")
    planned(mia, org.eva, "2027-02-01T10:00")
    admin.post(f"/rounds/{closed}/close")
    listed = " ".join(admin.get("/rounds/").get_data(as_text=True).split())
    assert "<td>0 of 6</td> <td>5</td>" in listed and "<td>0 of 6</td> <td>6</td>" in listed
    listed = " ".join(mia.get("/rounds/").get_data(as_text=True).split())
    assert "<td>0 of 2</td> <td>1</td>" in listed and "<td>0 of 2</td> <td>2</td>" in listed
    assert f"/rounds/{everyone}" in listed


def test_a_leaver_without_a_conversation_in_the_round_is_left_out(app, org, login_as):
    admin, mia = login_as(org.admin), login_as(org.mia)
    round_id = started(admin, team=org.mia.id)
    cid = planned(mia, org.eva, "2027-02-01T10:00")
    assert counts(admin, round_id) == zero(to_plan=1, planned=1)
    with app.app_context(), writing():
        for person in (org.ann, org.eva):
            db.session.get(User, person.id).active = False
    assert counts(admin, round_id) == zero(planned=1)  # Ann left, Eva's conversation stays
    assert "for round" not in mia.get("/").get_data(as_text=True)
    assert admin.post(f"/rounds/{round_id}/close").status_code == 303
    data = export(admin, round_id)
    assert data["counts"] == zero(planned=1) and [p["conversation"] for p in data["people"]] == [cid]
    listed = " ".join(admin.get("/rounds/").get_data(as_text=True).split())
    assert "<td>0 of 1</td> <td>0</td>" in listed


def test_input_beyond_what_dates_and_ids_can_be_is_refused_or_not_found(app, org, login_as):
    admin = login_as(org.admin)
    round_id = started(admin)
    huge = "99999999999999999999"
    for data, field_sentence in [({"starts_on": "0001-01-01", "ends_on": "0001-01-02"}, "Enter a date"),
                                 ({"starts_on": "9999-12-30", "ends_on": "9999-12-31"}, "Enter a date"),
                                 ({"team": huge, "scope": "team"}, "Choose a manager whose team takes part."),
                                 ({"template": huge}, "Choose a question list.")]:
        response = start(admin, name="Typed name", **data)
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and field_sentence in body and 'value="Typed name"' in body, data
    for path in (f"/rounds/{huge}", f"/rounds/{huge}/export.json", f"/rounds/{huge}/export.csv",
                 f"/conversations/{huge}", f"/people/{huge}/record", f"/admin/people/{huge}"):
        assert admin.get(path).status_code == 404, path
    assert admin.post(f"/rounds/{huge}/close").status_code == 404
    assert admin.post(f"/rounds/{round_id}/plan", data={"person": huge,
                                                        "scheduled_at": "2027-02-01T10:00"}).status_code == 404
    for query in (f"planned={huge}", "team=%C2%B2", "page=%C2%B2", f"team={huge}", f"page={huge}"):
        assert admin.get(f"/rounds/{round_id}?{query}").status_code == 200, query
    for path in ("/admin/people/?page=%C2%B2", "/overview?team=%C2%B2&page=%C2%B2",
                 "/overview/agreements?page=-1&team=--3"):
        assert admin.get(path).status_code == 200, path


def test_a_rounds_name_is_one_line_of_text(app, org, login_as):
    admin = login_as(org.admin)
    round_id = started(admin, name="Spring\x00 2027\x07\r\nBcc: x@example.org")
    assert export(admin, round_id)["name"] == "Spring 2027 Bcc: x@example.org"


def test_a_follow_up_planned_in_the_same_period_does_not_undo_a_held_conversation(app, org, login_as):
    mia = login_as(org.mia)
    round_id = started(mia, team=org.mia.id)
    cid = planned(mia, org.eva, "2027-01-10T10:00")
    with app.test_request_context():
        manager, employee = db.session.get(User, org.mia.id), db.session.get(User, org.eva.id)
        points.add_agreement(manager, cid, text="Course", owner="employee", due=None)
        points.set_next_evaluation(manager, cid, date(2027, 3, 1))
        signoff.propose_close(manager, cid)
        signoff.sign(manager, cid)
        signoff.sign(employee, cid)
    assert counts(mia, round_id) == zero(to_plan=1, completed=1)
    follow_up = mia.post("/conversations/", data={"employee": org.eva.id, "scheduled_at": "2027-03-01T10:00",
                                                  "follows": cid})
    assert follow_up.status_code == 303
    assert counts(mia, round_id) == zero(to_plan=1, completed=1)
    row = next(p for p in export(mia, round_id)["people"] if p["person"]["id"] == org.eva.id)
    assert row["conversation"] == cid


def test_a_closed_rounds_agreements_stay_and_only_who_may_open_the_round_gets_a_link(app, org, login_as):
    admin, mia = login_as(org.admin), login_as(org.mia)
    round_id = started(admin)
    cid = planned(mia, org.eva, "2027-02-01T10:00")
    with app.test_request_context():
        points.add_agreement(db.session.get(User, org.mia.id), cid, text="Course", owner="employee", due=None)
    figures = "Open: 0 · done: 0 · dropped: 0"  # only completed conversations' agreements count
    assert figures in admin.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert admin.post(f"/rounds/{round_id}/close").status_code == 303
    with app.test_request_context():
        points.add_agreement(db.session.get(User, org.mia.id), cid, text="Coaching", owner="manager", due=None)
    assert figures in admin.get(f"/rounds/{round_id}").get_data(as_text=True)
    # Eva moves to Max: the round (closed) keeps Eva in Mia's part, so Mia still opens it;
    # Max, her new manager, has no part in it and gets its name without a link.
    with app.app_context(), writing():
        db.session.get(User, org.eva.id).manager_id = org.max.id
    page = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert f'href="/rounds/{round_id}"' in page
    eva_page = login_as(org.eva).get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Onderdeel van ronde</dt><dd>Spring 2027<" in eva_page and f'href="/rounds/{round_id}"' not in eva_page
