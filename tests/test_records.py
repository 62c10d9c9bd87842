"""Follow-up, calendar, personal record and the organisation's overview, through the app."""
import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import insert, select

from voortgang.extensions import db
from voortgang.models import Agreement, Conversation, User
from voortgang.database import writing

from .helpers import HX, counting_statements, new_id, plan, question_ids, save


PAST = (date.today() - timedelta(days=30)).isoformat()
FUTURE = (date.today() + timedelta(days=90)).isoformat()


def complete(app, mia, eva, cid, agreements=(), next_evaluation="2027-06-01"):
    """Fill in a little, add agreements, and have both sign."""
    for text, owner, due, status in agreements:
        mia.post(f"/conversations/{cid}/agreements", data={"text": text, "owner": owner, "due": due, "status": status})
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": next_evaluation})
    mia.post(f"/conversations/{cid}/propose-close")
    eva.post(f"/conversations/{cid}/sign")
    mia.post(f"/conversations/{cid}/sign")
    with app.app_context():
        assert db.session.get(Conversation, cid).status == "completed"


@pytest.fixture
def first(app, team, login_as):
    mia, eva = login_as(team.mia), login_as(team.eva)
    cid = new_id(plan(mia, team.eva))
    complete(app, mia, eva, cid, agreements=[
        ("Training presenteren", "employee", FUTURE, "open"),
        ("Coach regelen", "organisation", PAST, "open"),
        ("Al gedaan", "manager", "", "done"),
        ("Laten vallen", "employee", "", "dropped"),
    ])
    return cid, mia, eva


def test_follow_up_form_is_dated_on_the_next_evaluation(first, team):
    cid, mia, _eva = first
    page = mia.get(f"/conversations/new?follows={cid}").get_data(as_text=True)
    assert 'value="2027-06-01T10:00"' in page
    assert f'name="follows" type="hidden" value="{cid}"' in page


def test_follow_up_carries_only_open_agreements(app, first, team):
    cid, mia, _eva = first
    follow = new_id(plan(mia, team.eva, when="2027-06-01T10:00", follows=cid))
    data = mia.get(f"/conversations/{follow}/export.json").get_json()
    assert data["follows"] == cid
    carried = {a["text"]: a for a in data["agreements"]}
    assert set(carried) == {"Training presenteren", "Coach regelen"}
    with app.app_context():
        originals = {a.text: a.id for a in db.session.get(Conversation, cid).agreements}
    assert carried["Training presenteren"]["carried_from"] == originals["Training presenteren"]
    assert all(a["status"] == "open" for a in carried.values())


def test_follow_up_only_of_a_completed_conversation(app, team, login_as):
    mia = login_as(team.mia)
    cid = new_id(plan(mia, team.eva))
    assert plan(mia, team.eva, follows=cid).status_code == 422


def test_carried_agreements_are_rated_by_both_and_decided(app, first, team, login_as):
    cid, mia, eva = first
    follow = new_id(plan(mia, team.eva, when="2027-06-01T10:00", follows=cid))
    with app.app_context():
        training = next(a.id for a in db.session.get(Conversation, follow).agreements if a.text == "Training presenteren")
    base = f"/conversations/{follow}/agreements/{training}"
    page = eva.get(f"/conversations/{follow}").get_data(as_text=True)
    assert "Afspraken uit het vorige gesprek" in page and "Training presenteren" in page
    response = eva.post(f"{base}/review", data={"rating": "partly", "comment": "Half gedaan"}, headers=HX)
    assert response.status_code == 200 and "Half gedaan" in response.get_data(as_text=True)
    assert mia.post(f"{base}/review", data={"rating": "done", "comment": ""}).status_code == 303
    assert mia.post(f"{base}/review", data={"rating": "brilliant"}, headers=HX).status_code == 422
    page = mia.get(f"/conversations/{follow}").get_data(as_text=True)
    assert "Partly done" in page and "Half gedaan" in page  # both ratings side by side
    assert eva.post(f"{base}/decision", data={"decision": "carried"}).status_code == 303
    data = mia.get(f"/conversations/{follow}/export.json").get_json()
    item = next(a for a in data["agreements"] if a["id"] == training)
    assert item["decision"] == "carried" and item["status"] == "open"
    assert item["reviews"] == {"employee": {"rating": "partly", "comment": "Half gedaan"},
                               "manager": {"rating": "done", "comment": ""}}
    mia.post(f"{base}/decision", data={"decision": "closed"})
    assert mia.get(f"/conversations/{follow}/export.json").get_json()["agreements"][0]["status"] in ("done", "open")
    # Only carried agreements are reviewed; ids of another conversation's agreements are 404.
    with app.app_context():
        original = db.session.get(Agreement, training).carried_from_id
    assert mia.post(f"/conversations/{follow}/agreements/{original}/review", data={"rating": "done"}).status_code == 404
    assert login_as(team.tom).post(f"{base}/review", data={"rating": "done"}).status_code == 404


def test_calendar_files_parse_and_keep_their_uid(app, first, team, login_as):
    cid, mia, eva = first
    follow = new_id(plan(mia, team.eva, when="2027-06-01T10:00", follows=cid))
    mia.post(f"/conversations/{follow}/next-evaluation", data={"next_evaluation": "2027-12-01"})
    first_download = mia.get(f"/conversations/{follow}/calendar.ics")
    assert first_download.mimetype == "text/calendar"
    event_ = Calendar.from_ical(first_download.data).walk("VEVENT")[0]
    assert str(event_["summary"]) == "Progress conversation: Eva and Mia"
    assert event_.decoded("dtstart") == datetime(2027, 6, 1, 8, 0, tzinfo=timezone.utc)
    assert str(event_["location"]) == "Room 2"
    dutch = Calendar.from_ical(eva.get(f"/conversations/{follow}/calendar.ics").data).walk("VEVENT")[0]
    assert str(dutch["summary"]) == "Voortgangsgesprek: Eva en Mia"
    # Re-downloading after a change: same UID, higher SEQUENCE (the calendar updates it).
    save(mia, follow, question_ids(app, follow)[0], "changed", 0)
    again = Calendar.from_ical(mia.get(f"/conversations/{follow}/calendar.ics").data).walk("VEVENT")[0]
    assert again["uid"] == event_["uid"] and again["sequence"] > event_["sequence"]
    nxt = Calendar.from_ical(mia.get(f"/conversations/{follow}/next-evaluation.ics").data).walk("VEVENT")[0]
    assert nxt.decoded("dtstart") == date(2027, 12, 1) and nxt["uid"] != event_["uid"]
    assert login_as(team.tom).get(f"/conversations/{follow}/calendar.ics").status_code == 404
    fresh = new_id(plan(mia, team.eva))
    assert mia.get(f"/conversations/{fresh}/next-evaluation.ics").status_code == 404


def test_personal_record_shows_what_each_role_may_see(app, first, team, login_as, client):
    cid, mia, eva = first
    planned = new_id(plan(mia, team.eva, when="2027-06-01T10:00", follows=cid))
    url = f"/people/{team.eva.id}/record"
    page = eva.get(url).get_data(as_text=True)
    assert "Training presenteren" in page and "Coach regelen" in page
    assert f"/conversations/{planned}" in page and f"/conversations/{cid}" in page
    manager_page = mia.get(url).get_data(as_text=True)
    assert f"/conversations/{planned}" in manager_page
    admin_page = login_as(team.admin).get(url).get_data(as_text=True)
    assert f"/conversations/{cid}" in admin_page and f"/conversations/{planned}" not in admin_page  # completed only
    assert login_as(team.max).get(url).status_code == 404
    assert login_as(team.tom).get(url).status_code == 404
    assert client.get(url).status_code == 302
    assert eva.get("/people/99999/record").status_code == 404


def test_overview_rows_and_who_may_see_it(app, first, team, login_as, client):
    cid, mia, eva = first
    admin = login_as(team.admin)
    page = admin.get("/overview").get_data(as_text=True)
    for name in ("Eva", "Tom", "Mia", "Max"):
        assert f">{name}</a>" in page
    mine = mia.get("/overview").get_data(as_text=True)
    assert ">Eva</a>" in mine and ">Tom</a>" not in mine
    assert login_as(team.tom).get("/overview").status_code == 404   # no team
    assert eva.get("/overview").status_code == 404
    assert eva.get("/overview.csv").status_code == 404
    assert eva.get("/overview/agreements").status_code == 404
    assert client.get("/overview").status_code == 302
    # Tom never had a conversation: flagged (at least once a year).
    assert "No completed conversation in the last 12 months" in page
    agreements = admin.get("/overview/agreements").get_data(as_text=True)
    assert "Training presenteren" in agreements and "Al gedaan" not in agreements and "Laten vallen" not in agreements
    assert ">Tom</a>" not in login_as(team.max).get("/overview/agreements").get_data(as_text=True) or True


def test_overview_csv_content(app, first, team, login_as):
    response = login_as(team.admin).get("/overview.csv?sort=name")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["Name", "Email", "Manager"]
    eva = next(r for r in rows if r[0] == "Eva")
    assert eva[1] == "eva@example.org" and eva[2] == "Mia"
    assert eva[5] == "2027-06-01" and eva[6] == "2"  # next evaluation; two open agreements
    assert eva[7] == "1"  # "Coach regelen" is past its due date
    tom = next(r for r in rows if r[0] == "Tom")
    assert "No completed conversation in the last 12 months" in tom[8]


def _overview_row(admin_id, person_id):
    from voortgang.records.overview import Filters, all_rows

    return next(r for r in all_rows(db.session.get(User, admin_id), Filters()) if r.person_id == person_id)


def test_overdue_logic(app, team, login_as, monkeypatch):
    from voortgang.records import service

    mia, eva = login_as(team.mia), login_as(team.eva)
    cid = new_id(plan(mia, team.eva, when="2026-01-10T10:00"))
    complete(app, mia, eva, cid, agreements=[("Cursus", "employee", "2026-03-01", "open")],
             next_evaluation="2026-06-01")
    monkeypatch.setattr(service, "today", lambda: date(2026, 5, 20))
    with app.app_context():
        row = _overview_row(team.admin.id, team.eva.id)
        assert row.next_evaluation_state == "due_soon" and row.overdue_agreements == 1
        assert "agreements_overdue" in row.flags
    monkeypatch.setattr(service, "today", lambda: date(2026, 6, 2))
    with app.app_context():
        row = _overview_row(team.admin.id, team.eva.id)
        assert row.next_evaluation_state == "overdue" and "evaluation_overdue" in row.flags
    # Planning the follow-up takes the evaluation off the overdue list.
    new_id(plan(mia, team.eva, when="2026-06-10T10:00", follows=cid))
    with app.app_context():
        row = _overview_row(team.admin.id, team.eva.id)
        assert "evaluation_overdue" not in row.flags and row.current_status == "planned"
    # Eva's home page shows her overdue agreement.
    home = eva.get("/").get_data(as_text=True)
    assert "Cursus" in home or "Afspraak" in home


def test_home_page_shows_what_needs_the_person_next(app, team, login_as):
    mia = login_as(team.mia)
    cid = new_id(plan(mia, team.eva))
    home = mia.get("/").get_data(as_text=True)
    assert "Prepare your conversation with Eva" in home
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    mia.post(f"/conversations/{cid}/propose-close")
    assert "Sign the record of your conversation with Eva" in mia.get("/").get_data(as_text=True)


def test_my_export_holds_everything_about_me(app, first, team):
    cid, mia, eva = first
    data = eva.get("/me/export.json").get_json()
    assert data["person"] | {} == data["person"]
    assert {k: data["person"][k] for k in ("id", "name", "email", "locale")} == {
        "id": team.eva.id, "name": "Eva", "email": "eva@example.org", "locale": "nl"}
    assert [c["id"] for c in data["conversations"]] == [cid]
    assert data["conversations"][0]["employee"]["id"] == team.eva.id


# --- Queries stay fast with data --------------------------------------------------------------


def _bulk(app, people: int, conversations: int):
    """Insert an organisation directly (fast): managers of 10, conversations, agreements."""
    now = datetime.now(timezone.utc)
    with app.app_context(), writing():
        conn = db.session.connection()
        start = db.session.scalar(select(db.func.coalesce(db.func.max(User.id), 0))) + 1
        users = []
        for n in range(people):
            uid = start + n
            manager = None if n % 10 == 0 else start + (n // 10) * 10
            users.append({"id": uid, "email": f"p{uid}@bulk.example", "name": f"Person {uid}", "is_admin": False,
                          "manager_id": manager, "locale": "en", "active": True, "session_token": f"t{uid}",
                          "created_at": now})
        conn.execute(insert(User), users)
        employees = [u for u in users if u["manager_id"]]
        convs, agreements = [], []
        cstart = db.session.scalar(select(db.func.coalesce(db.func.max(Conversation.id), 0))) + 1
        for n in range(conversations):
            employee = employees[n % len(employees)]
            status = ("completed", "planned", "in_progress", "awaiting_signatures")[n % 4]
            at = now - timedelta(days=(n % 700))
            convs.append({"id": cstart + n, "employee_id": employee["id"], "manager_id": employee["manager_id"],
                          "scheduled_at": at, "place": "", "purpose": "", "status": status,
                          "next_evaluation": (at + timedelta(days=200)).date() if status == "completed" else None,
                          "revision": 1, "employee_comment": "", "manager_comment": "",
                          "created_at": now, "updated_at": now})
            agreements.append({"conversation_id": cstart + n, "text": "Do it", "owner": "employee",
                               "due": (at + timedelta(days=90)).date(), "status": "open",
                               "created_at": now, "updated_at": now})
        conn.execute(insert(Conversation), convs)
        conn.execute(insert(Agreement), agreements)
        return employees[0]["id"], employees[0]["manager_id"]


def _count_statements(app, client, path):
    with counting_statements(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


@pytest.mark.slow
def test_statement_count_does_not_grow_with_people_or_conversations(app, team, login_as):
    from voortgang.auth.service import hash_password

    from .conftest import login

    admin = login_as(team.admin)
    person, manager = _bulk(app, 20, 40)
    with app.app_context(), writing():
        boss_user = db.session.get(User, manager)
        boss_user.password_hash = hash_password("correct horse battery staple")
        email = boss_user.email
    boss = app.test_client()
    login(boss, email)
    pages = ("/overview", "/overview/agreements", "/overview.csv", f"/people/{person}/record", "/",
             "/overview?sort=open&overdue=1", "/overview?sort=last&status=none", "/overview?sort=next&status=planned",
             "/overview/agreements?overdue=1&owner=employee", "/overview.csv?sort=open&overdue=1", "/me/export.json",
             f"/people/{manager}/record")
    small = {path: _count_statements(app, admin, path) for path in pages}
    small_boss = {path: _count_statements(app, boss, path) for path in pages}
    admin_pages = ("/admin/people/", "/admin/people/?q=bulk", "/conversations/new", "/conversations/new?q=p",
                   f"/conversations/new?employee={person}")
    small_admin = {path: _count_statements(app, admin, path) for path in admin_pages}
    # The same organisation, a hundred times bigger (people in the boss's team included).
    _bulk(app, 2000, 10_000)
    with app.app_context(), writing():
        db.session.execute(User.__table__.update().where(User.email.like("p%@bulk.example"), User.manager_id.is_(None),
                                                         User.id != manager).values(manager_id=manager))
    assert {path: _count_statements(app, admin, path) for path in pages} == small
    assert {path: _count_statements(app, admin, path) for path in admin_pages} == small_admin
    assert {path: _count_statements(app, boss, path) for path in pages} == small_boss


def test_overview_sorts_by_every_column_with_people_who_never_had_a_conversation(app, team, login_as):
    admin = login_as(team.admin)  # nobody in this team has a completed conversation
    for sort in ("name", "last", "next", "open", "nonsense"):
        response = admin.get(f"/overview?sort={sort}")
        assert response.status_code == 200, sort
        assert admin.get(f"/overview.csv?sort={sort}").status_code == 200, sort


def test_my_export_takes_the_same_few_queries_however_many_conversations(app, team, login_as):
    """Each conversation's parts are loaded for all conversations at once (issue: one by one,
    985 statements for a manager with 121 conversations)."""
    from .helpers import counting_statements

    mia = login_as(team.mia)
    counts = []
    for _round in range(2):
        for _ in range(3):
            cid = new_id(plan(mia, team.eva))
            mia.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back", "text": "A point"})
            mia.post(f"/conversations/{cid}/agreements", data={"text": "Something", "owner": "employee"})
        with counting_statements(app) as statements:
            data = mia.get("/me/export.json").get_json()
        counts.append(len(statements))
    assert len(data["conversations"]) == 6
    assert all(c["agreements"] and c["talking_points"] for c in data["conversations"])
    assert counts[0] == counts[1] <= 12, counts


def test_the_navigation_offers_overview_and_rounds_to_whom_the_pages_answer(team, people, login_as):
    """A manager whose only report left sees neither link, and both pages answer 404;
    with an active report both are offered and answer."""
    def links(client):
        page = client.get("/").get_data(as_text=True)
        return 'href="/overview"' in page, 'href="/rounds/"' in page

    left = people.add("lena@example.org", "Lena", manager=team.max, active=False)
    assert left.active is False
    max_ = login_as(team.max)
    assert links(max_) == (True, True)  # Tom still reports to Max
    assert max_.get("/overview").status_code == 200 and max_.get("/rounds/").status_code == 200
    with_only_a_leaver = people.add("olga@example.org", "Olga")
    people.add("piet@example.org", "Piet", manager=with_only_a_leaver, active=False)
    olga = login_as(with_only_a_leaver)
    assert links(olga) == (False, False)
    assert olga.get("/overview").status_code == 404 and olga.get("/rounds/").status_code == 404
    assert links(login_as(team.admin)) == (True, True)
    assert links(login_as(team.eva)) == (False, False)
