"""The overview and the open agreements a page at a time: every sort and filter, in both
roles, against what the rows in the database say (worked out here in plain Python, with
the definition of a current open agreement agreement by agreement), pagination edges,
the streamed CSV, statement counts that do not grow with the organisation."""
from __future__ import annotations

import csv
import io
import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text

from voortgang.database import writing
from voortgang.extensions import db
from voortgang.models import Agreement, Conversation, User
from voortgang.records.facts import rebuild_facts

from .helpers import counting_statements

OPEN = ("planned", "in_progress", "awaiting_signatures")
SORTS = ("name", "last", "next", "open")
STATUSES = ("", "none", *OPEN)
NAMES = ("Anna", "anna", "Bram", "Chantal", "daan", "Daan", "Eva", "Fatima", "Gijs", "Ilse", "Jeroen", "Kim")


class Org:
    """Rows inserted straight into the tables (fast), kept here to work out the answers."""

    def __init__(self):
        self.users: dict[int, dict] = {}
        self.conversations: dict[int, dict] = {}
        self.agreements: dict[int, dict] = {}


def build(app, people, *, big_team: int = 57, seed: int = 7) -> tuple[Org, object, object, object]:
    """Administrator Hanna; manager Mia with `big_team` people (one a leaver); manager Max
    with four. Conversations in chains of follow-ups that carry the open agreements, some
    chains broken (a new conversation that follows nothing), some held with the other manager."""
    rng = random.Random(seed)
    admin = people.add("hanna@example.org", "Hanna", is_admin=True)
    mia = people.add("mia@example.org", "Mia", locale="en")
    max_ = people.add("max@example.org", "Max", locale="nl")
    org = Org()
    now = datetime.now(UTC).replace(microsecond=0)
    today = date.today()
    with app.app_context(), writing():
        for user in db.session.scalars(select(User)):
            org.users[user.id] = {"id": user.id, "name": user.name, "email": user.email, "manager_id": user.manager_id,
                                  "active": user.active}
        next_user = max(org.users) + 1
        users = []
        for n in range(big_team + 4):
            uid = next_user + n
            manager = mia if n < big_team else max_
            row = {"id": uid, "email": f"p{uid}@example.org", "name": f"{rng.choice(NAMES)}{rng.choice('xyz')}",
                   "manager_id": manager.id, "active": n != 3, "is_admin": False, "locale": "en",
                   "session_token": f"t{uid}", "created_at": now}
            users.append(row)
            org.users[uid] = row
        db.session.execute(insert(User), users)
        cid, aid = 1000, 5000
        conversations, agreements = [], []
        for person in users:
            chain = rng.choice((0, 1, 2, 3, 3, 4))
            previous = None  # the previous completed conversation, and its open agreements
            for step in range(chain):
                cid += 1
                last = step == chain - 1
                status = rng.choice(OPEN) if last and rng.random() < 0.5 else "completed"
                days_ago = (chain - step) * 220 + rng.randint(-40, 40) - (300 if status != "completed" else 0)
                if abs(days_ago - 365) < 5:
                    days_ago += 10  # nothing on the edge of "the last 12 months"
                at = now - timedelta(days=days_ago, hours=rng.randint(0, 9))
                manager_id = person["manager_id"] if rng.random() < 0.85 else (
                    max_.id if person["manager_id"] == mia.id else mia.id)
                follows = previous if previous and rng.random() < 0.75 else None
                row = {"id": cid, "employee_id": person["id"], "manager_id": manager_id, "scheduled_at": at,
                       "place": "", "purpose": "", "status": status, "follows_id": follows[0] if follows else None,
                       "next_evaluation": today + timedelta(days=rng.randint(-120, 300)) if status == "completed" else None,
                       "revision": 1, "employee_comment": "", "manager_comment": "", "created_at": at, "updated_at": at}
                conversations.append(row)
                org.conversations[cid] = row
                open_now = []
                for old in (follows[1] if follows else []):  # a follow-up carries every open agreement
                    aid += 1
                    decision = rng.choice(("closed", "carried", "dropped")) if status == "completed" else None
                    copy = {**old, "id": aid, "conversation_id": cid, "carried_from_id": old["id"], "decision": decision,
                            "status": {"closed": "done", "dropped": "dropped"}.get(decision, "open")}
                    agreements.append(copy)
                    open_now.append(copy) if copy["status"] == "open" else None
                for _ in range(rng.randint(0, 3) if status != "planned" else 0):
                    aid += 1
                    due = None if rng.random() < 0.15 else today + timedelta(days=rng.randint(-200, 200))
                    state = rng.choice(("open", "open", "done", "dropped")) if status == "completed" else "open"
                    new = {"id": aid, "conversation_id": cid, "text": f"Agreement{aid}",
                           "owner": rng.choice(("employee", "manager", "organisation")), "due": due, "status": state,
                           "carried_from_id": None, "decision": None, "created_at": at, "updated_at": at}
                    agreements.append(new)
                    open_now.append(new) if state == "open" else None
                if status == "completed":
                    previous = (cid, open_now)
        db.session.execute(insert(Conversation), conversations)
        db.session.execute(insert(Agreement), agreements)
        sync_sequences("users", "conversations", "agreements")
        rebuild_facts()  # rows inserted around the app's writes, which keep the stored facts
    org.agreements = {a["id"]: a for a in agreements}
    return org, admin, mia, max_


def sync_sequences(*tables: str) -> None:
    """PostgreSQL: rows inserted with their ids leave the id sequences behind; move them on."""
    if db.engine.dialect.name == "postgresql":
        for table in tables:
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))


# --- The answers, worked out from the rows -------------------------------------------------


def current_agreements(org: Org, viewer) -> list[dict]:
    """Open in a completed conversation, and no copy of it in a completed conversation."""
    completed = {c["id"] for c in org.conversations.values() if c["status"] == "completed"}
    taken = {a["carried_from_id"] for a in org.agreements.values() if a["conversation_id"] in completed}
    return [a for a in org.agreements.values() if a["status"] == "open" and a["conversation_id"] in completed
            and a["id"] not in taken and in_scope(viewer, org.conversations[a["conversation_id"]])]


def in_scope(viewer, conversation) -> bool:
    return viewer.is_admin or conversation["manager_id"] == viewer.id


def people_in_view(org: Org, viewer, team=None) -> list[dict]:
    """Everyone active (or one team) for an administrator; a manager's own people."""
    if not viewer.is_admin:
        team = viewer.id
    return [u for u in org.users.values() if u["active"] and (team is None or u["manager_id"] == team)]


def expected_overview(org: Org, viewer, *, sort="name", status="", overdue=False, team=None) -> list[int]:
    today = date.today()
    year_ago = datetime.now(UTC) - timedelta(days=365)
    current = current_agreements(org, viewer)
    rows = []
    for person in people_in_view(org, viewer, team):
        mine = [c for c in org.conversations.values() if c["employee_id"] == person["id"] and in_scope(viewer, c)]
        done = sorted((c for c in mine if c["status"] == "completed"), key=lambda c: (c["scheduled_at"], c["id"]))
        under_way = sorted((c for c in mine if c["status"] in OPEN), key=lambda c: (c["scheduled_at"], c["id"]))
        last = done[-1] if done else None
        now_status = under_way[-1]["status"] if under_way else None
        agreements = [a for a in current if org.conversations[a["conversation_id"]]["employee_id"] == person["id"]]
        overdue_count = sum(1 for a in agreements if a["due"] and a["due"] < today)
        next_evaluation = last["next_evaluation"] if last else None
        attention = (last is None or last["scheduled_at"] < year_ago or overdue_count > 0
                     or (next_evaluation is not None and next_evaluation < today and now_status is None))
        if status == "none" and now_status is not None or status in OPEN and now_status != status:
            continue
        if overdue and not attention:
            continue
        name = (person["name"].lower(), person["id"])
        key = {"name": name,  # who never had one first, then the longest ago
               "last": (last is not None, last["scheduled_at"] if last else year_ago, *name),
               "next": (next_evaluation is None, next_evaluation or today, *name),  # none last
               "open": (-len(agreements), *name)}[sort]
        rows.append((key, person["id"]))
    return [person_id for _key, person_id in sorted(rows)]


def expected_agreements(org: Org, viewer, *, owner="", overdue=False, team=None) -> list[tuple[str, int]]:
    people = {u["id"]: u for u in people_in_view(org, viewer, team)}
    today = date.today()
    rows = [a for a in current_agreements(org, viewer)
            if org.conversations[a["conversation_id"]]["employee_id"] in people
            and (not owner or a["owner"] == owner) and (not overdue or (a["due"] and a["due"] < today))]

    def key(a):
        employee = people[org.conversations[a["conversation_id"]]["employee_id"]]
        return (a["due"] is None, a["due"] or date.min, employee["name"].lower(), a["id"])

    return [(a["text"], a["conversation_id"]) for a in sorted(rows, key=key)]


# --- Reading the pages ------------------------------------------------------------------------


def tbody(html: str) -> str:
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def next_link(html: str) -> str | None:
    match = re.search(r'<a rel="next" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def walk(client, url: str) -> tuple[list[str], list[str]]:
    """Every page from `url` on, following the "Next" links; returns the pages' html and urls."""
    pages, urls = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        pages.append(html)
        urls.append(url)
        url = next_link(html)
        assert len(pages) < 20
    return pages, urls


def person_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'/people/(\d+)/record', tbody(html))]


def agreement_rows(html: str) -> list[tuple[str, int]]:
    return [(text, int(cid)) for text, cid in re.findall(
        r'<td class="text">([^<]*)</td>.*?/conversations/(\d+)"', tbody(html), flags=re.S)]


def total(html: str) -> int:
    return int(re.search(r'<span class="count">([\d.,]+) ', html).group(1).replace(",", "").replace(".", ""))


def query(**args) -> str:
    return "&".join(f"{k}={v}" for k, v in args.items() if v not in ("", None, False))


@pytest.fixture
def org(app, people):
    return build(app, people)


def test_overview_every_sort_and_filter_in_both_roles(app, org, login_as):
    data, admin, mia, max_ = org
    viewers = [(admin, login_as(admin)), (mia, login_as(mia)), (max_, login_as(max_))]
    for viewer, client in viewers:
        for sort in SORTS:
            for status in STATUSES:
                for overdue in (False, True):
                    args = query(sort=sort, status=status, overdue=1 if overdue else "")
                    expected = expected_overview(data, viewer, sort=sort, status=status, overdue=overdue)
                    pages, urls = walk(client, f"/overview?{args}")
                    shown = [pid for html in pages for pid in person_ids(html)]
                    assert shown == expected, (viewer.name, args)
                    assert all(total(html) == len(expected) for html in pages)
                    assert all(len(person_ids(html)) == 50 for html in pages[:-1])
                    for url in urls[1:]:  # the links keep the filters and the sort
                        assert all(part in url for part in args.split("&") if part), (url, args)
                    rows = list(csv.reader(io.StringIO(client.get(f"/overview.csv?{args}").get_data(as_text=True))))
                    emails = {u["email"]: u["id"] for u in data.users.values()}
                    assert [emails[r[1]] for r in rows[1:]] == expected, ("csv", viewer.name, args)
    # An administrator's team filter, with a sort and the other filters.
    client = viewers[0][1]
    for team in (mia.id, max_.id):
        for sort, status, overdue in (("name", "", False), ("open", "", True), ("last", "none", False)):
            args = query(team=team, sort=sort, status=status, overdue=1 if overdue else "")
            pages, _urls = walk(client, f"/overview?{args}")
            assert [pid for html in pages for pid in person_ids(html)] == expected_overview(
                data, admin, team=team, sort=sort, status=status, overdue=overdue), args
    # A manager's team filter is ignored: only their own people.
    pages, _urls = walk(viewers[1][1], f"/overview?team={max_.id}")
    assert [pid for html in pages for pid in person_ids(html)] == expected_overview(data, mia)


def test_open_agreements_every_filter_in_both_roles(app, org, login_as):
    data, admin, mia, max_ = org
    for viewer in (admin, mia, max_):
        client = login_as(viewer)
        for owner in ("", "employee", "manager", "organisation"):
            for overdue in (False, True):
                args = query(owner=owner, overdue=1 if overdue else "")
                expected = expected_agreements(data, viewer, owner=owner, overdue=overdue)
                pages, urls = walk(client, f"/overview/agreements?{args}")
                assert [row for html in pages for row in agreement_rows(html)] == expected, (viewer.name, args)
                assert all(total(html) == len(expected) for html in pages)
                for url in urls[1:]:
                    assert all(part in url for part in args.split("&") if part), (url, args)
    client = login_as(admin)
    for team in (mia.id, max_.id):
        pages, _urls = walk(client, f"/overview/agreements?team={team}&overdue=1")
        assert [row for html in pages for row in agreement_rows(html)] == expected_agreements(
            data, admin, team=team, overdue=True)
    assert len(expected_agreements(data, admin)) > 50  # more than one page was walked


def test_pages_beyond_the_last_show_the_last_and_nonsense_is_page_one(app, org, login_as):
    data, admin, mia, _max = org
    client = login_as(mia)
    expected = expected_overview(data, mia)
    assert 50 < len(expected) <= 100
    first = client.get("/overview").get_data(as_text=True)
    second = client.get("/overview?page=2").get_data(as_text=True)
    assert person_ids(first) == expected[:50] and person_ids(second) == expected[50:]
    for page in ("3", "999999999", "99999999999999999999"):
        html = client.get(f"/overview?page={page}").get_data(as_text=True)
        assert person_ids(html) == expected[50:] if page != "99999999999999999999" else expected[:50]
    for page in ("0", "-1", "abc", "", "1.5"):
        assert person_ids(client.get(f"/overview?page={page}").get_data(as_text=True)) == expected[:50], page
    # The navigation: labelled, the current page marked, no link back from page 1 or on from the last.
    assert '<nav class="pagination" aria-label="Pages of the overview">' in first
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert 'href="/overview" aria-label="Page 1" aria-current="page"' in first
    assert 'aria-label="Page 2" aria-current="page"' in second
    assert 'rel="prev"' not in first and 'rel="next"' in first
    assert 'rel="prev" href="/overview"' in second and 'rel="next"' not in second
    # The CSV link keeps the filters, not the page.
    html = client.get("/overview?sort=open&status=none&page=2").get_data(as_text=True)
    assert 'href="/overview.csv?status=none&amp;sort=open"' in html
    # A list that fits one page has no navigation; an empty one says so.
    assert "pagination" not in client.get("/overview?status=planned").get_data(as_text=True)
    agreements = login_as(admin).get("/overview/agreements?page=999").get_data(as_text=True)
    expected_rows = expected_agreements(data, admin)
    assert agreement_rows(agreements) == expected_rows[(len(expected_rows) - 1) // 50 * 50:]


def test_headings_count_in_the_viewers_language(app, org, login_as, people):
    data, admin, mia, max_ = org
    mine = len(expected_overview(data, mia))
    english = login_as(mia).get("/overview").get_data(as_text=True)
    assert f'<span class="count">{mine} people</span>' in english
    dutch = login_as(max_).get("/overview").get_data(as_text=True)
    assert f'<span class="count">{len(expected_overview(data, max_))} personen</span>' in dutch
    with app.app_context(), writing():
        lone = people.add("solo@example.org", "Solo", manager=max_, locale="nl")
        boss = people.add("boss@example.org", "Boss", locale="nl")
        db.session.execute(User.__table__.update().where(User.id == lone.id).values(manager_id=boss.id))
    assert '<span class="count">1 persoon</span>' in login_as(boss).get("/overview").get_data(as_text=True)
    agreements = login_as(admin).get("/overview/agreements").get_data(as_text=True)
    assert f'<span class="count">{len(expected_agreements(data, admin))} agreements</span>' in agreements
    assert "Pagina 1 van" in login_as(max_).get("/overview/agreements").get_data(as_text=True) or \
        len(expected_agreements(data, max_)) <= 50


def test_a_page_takes_the_same_statements_on_every_page_and_in_every_sort(app, org, login_as):
    _data, admin, mia, _max = org
    for viewer in (admin, mia):
        client = login_as(viewer)
        counts = set()
        for url in ("/overview", "/overview?page=2", "/overview?sort=open&overdue=1", "/overview?sort=last&status=none",
                    "/overview?sort=next&status=in_progress"):
            with counting_statements(app) as statements:
                assert client.get(url).status_code == 200
            counts.add(len(statements))
        assert len(counts) == 1, (viewer.name, counts)
        counts = set()
        urls = ["/overview/agreements", "/overview/agreements?owner=manager&overdue=1"]
        if len(expected_agreements(_data, viewer)) > 50:
            urls.append("/overview/agreements?page=2")
        for url in urls:
            with counting_statements(app) as statements:
                assert client.get(url).status_code == 200
            counts.add(len(statements))
        assert len(counts) == 1, (viewer.name, counts)


@pytest.mark.slow
def test_the_csv_is_streamed_in_pieces_from_one_statement(app, people, login_as):
    from voortgang.records.overview import CSV_CHUNK

    admin = people.add("hanna@example.org", "Hanna", is_admin=True)
    now = datetime.now(UTC)
    with app.app_context(), writing():
        db.session.execute(insert(User), [
            {"email": f"p{n}@example.org", "name": f"=Person{n:04d}", "manager_id": admin.id, "is_admin": False,
             "locale": "en", "active": True, "session_token": f"t{n}", "created_at": now}
            for n in range(CSV_CHUNK * 2 + 10)])
    client = login_as(admin)
    with counting_statements(app) as statements:
        response = client.get("/overview.csv")
        assert response.is_streamed
        chunks = [chunk for chunk in response.response if chunk]
    assert len(chunks) == 3 and len(statements) <= 3, (len(chunks), len(statements))
    rows = list(csv.reader(io.StringIO("".join(c.decode() if isinstance(c, bytes) else c for c in chunks))))
    assert len(rows) == CSV_CHUNK * 2 + 10 + 2  # the header, everyone and Hanna herself
    assert all(row[0].startswith("'=Person") for row in rows[1:] if row[1] != admin.email)  # still no formulas


def test_exports_and_records_take_the_same_statements_for_600_conversations(app, people, login_as):
    """Collections are loaded in one statement each (no batches of 500 ids)."""
    from voortgang.models import AgreementReview, Answer, ConversationQuestion, TalkingPoint

    mia = people.add("mia@example.org", "Mia")
    eva = people.add("eva@example.org", "Eva", manager=mia)
    client = login_as(mia)

    def add(count: int, start: int) -> None:
        now = datetime.now(UTC)
        ids = range(start, start + count)
        with app.app_context(), writing():
            db.session.execute(insert(Conversation), [
                {"id": c, "employee_id": eva.id, "manager_id": mia.id, "scheduled_at": now - timedelta(days=c),
                 "status": "completed", "next_evaluation": date.today(), "revision": 1, "created_at": now,
                 "updated_at": now} for c in ids])
            db.session.execute(insert(ConversationQuestion), [
                {"id": c * 2 + k, "conversation_id": c, "phase": "looking_back", "phase_order": 1, "position": k,
                 "text_nl": "Vraag", "text_en": "Question"} for c in ids for k in (0, 1)])
            db.session.execute(insert(Answer), [
                {"question_id": c * 2 + k, "role": role, "body": "Ja", "version": 1, "updated_at": now}
                for c in ids for k in (0, 1) for role in ("employee", "manager")])
            db.session.execute(insert(TalkingPoint), [
                {"conversation_id": c, "phase": "looking_back", "author_role": "employee", "text": "Punt",
                 "created_at": now, "updated_at": now} for c in ids])
            db.session.execute(insert(Agreement), [
                {"id": c, "conversation_id": c, "text": "Afspraak", "owner": "employee", "status": "done",
                 "carried_from_id": None, "created_at": now, "updated_at": now} for c in ids])
            db.session.execute(insert(AgreementReview), [
                {"agreement_id": c, "role": "employee", "rating": "done", "updated_at": now} for c in ids])

    def statements(url):
        with counting_statements(app) as found:
            response = client.get(url)
            assert response.status_code == 200
        return len(found), response

    add(2, 10)
    small = {url: statements(url)[0] for url in ("/me/export.json", f"/people/{eva.id}/record", "/")}
    add(600, 100)
    large = {url: statements(url)[0] for url in small}
    assert large == small
    assert len(statements("/me/export.json")[1].get_json()["conversations"]) == 602


def test_upgrade_from_the_previous_head_adds_the_indexes_and_gathers_statistics(instance_path, tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from voortgang import create_app

    from .conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    with app.app_context():
        upgrade(revision="67ca63aa3e28")
        indexes = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        assert "ix_agreements_conversation_status_due" not in indexes
        with writing():
            db.session.execute(insert(User), [{"email": f"p{n}@example.org", "name": f"P{n}", "is_admin": False,
                                               "locale": "en", "active": True, "session_token": f"t{n}",
                                               "created_at": datetime.now(UTC)} for n in range(30)])
        upgrade()
        indexes = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        assert {"ix_agreements_conversation_status_due", "ix_conversations_follows_status",
                "ix_conversations_manager_status"} <= indexes
        stats = dict(db.session.execute(text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'users'")).all())
        assert stats["sqlite_autoindex_users_1"].startswith("30 ")  # every row counted, not a sample
        db.session.rollback()
        downgrade(revision="67ca63aa3e28")
        indexes = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        assert "ix_conversations_follows_status" not in indexes
        db.engine.dispose()


@pytest.mark.slow
def test_paged_lists_are_valid_html_in_both_languages(app, org, login_as, tmp_path):
    import json
    import shutil
    import subprocess

    from .test_html import HTMX_ATTRIBUTE, VNU

    if not VNU.is_file() or not shutil.which("java"):
        pytest.fail(f"the Nu checker needs java and {VNU}: run `make test-deps`")
    _data, admin, mia, _max = org
    files = []
    for viewer in (admin, mia):
        for locale in ("nl", "en"):
            client = login_as(viewer)
            client.post("/language", data={"locale": locale, "next": "/"})
            for url in ("/overview?page=2&sort=open", "/overview/agreements?page=2", "/overview?status=planned"):
                response = client.get(url)
                assert response.status_code == 200
                file = tmp_path / f"page-{len(files)}.html"
                file.write_text(response.get_data(as_text=True), encoding="utf-8")
                files.append(str(file))
    result = subprocess.run(["java", "-jar", str(VNU), "--format", "json", *files],
                            capture_output=True, text=True, timeout=300)
    problems = [m for m in json.loads(result.stderr)["messages"] if not HTMX_ATTRIBUTE.match(m.get("message", ""))]
    assert problems == []
