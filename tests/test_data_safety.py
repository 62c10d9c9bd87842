"""Data safety: no lost autosave under concurrency, an online backup that restores,
a hard crash that loses nothing acknowledged, and migrations that keep every row.

Tests 1-3 run real `voortgang serve` processes (2 single-threaded worker processes).
Run with `pytest -s` to see the figures they print.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from voortgang import create_app
from voortgang.extensions import db

from .conftest import BASE_CONFIG, PASSWORD, POSTGRES_URL, sqlite_only
from .servers import Browserish, Server, run_cli, server_env

# --- The load of the concurrency test --------------------------------------------------
CONVERSATIONS = 40
SAVES_PER_PARTICIPANT = 30
QUESTIONS_PER_PARTICIPANT = 2  # each participant alternates between two of their own answers
WORKERS, THREADS = 2, 1  # as `voortgang serve` runs by default (on one CPU)

# --- Backup and crash storms ------------------------------------------------------------
STORM_CONVERSATIONS = 6
BACKUPS = 2
CRASH_AFTER_ACKNOWLEDGED = 150  # kill -9 once this many saves were acknowledged

# --- Helpers -------------------------------------------------------------------------------


class Participant:
    """One person's browser in one conversation, saving their own answers in a loop."""

    def __init__(self, base: str, email: str, role: str):
        self.client = Browserish(base)
        self.email, self.role = email, role
        self.cid = 0
        self.qids: list[int] = []
        # The last save acknowledged with 200 per question: (version, body), set in one step
        # so that another thread never sees a version with the body of another save.
        self.last: dict[int, tuple[int, str]] = {}
        self.acked: Counter[int] = Counter()  # number of 200s per question
        self.total_acked = 0  # a plain int: other threads read it while this one saves
        self.statuses: Counter[int] = Counter()
        self.connection_errors: list[str] = []
        self.problems: list[str] = []

    def save(self, qid: int, body: str) -> bool:
        """One autosave with the version of the last acknowledged save; False on a connection error."""
        version = self.last.get(qid, (0, ""))[0]
        try:
            status, page, _ = self.client.post(
                f"/conversations/{self.cid}/answers/{qid}", {"body": body, "version": str(version)},
                headers={"HX-Request": "true"},
            )
        except Exception as error:  # refused, reset, timed out: not acknowledged
            self.connection_errors.append(f"{type(error).__name__}: {error}")
            return False
        self.statuses[status] += 1
        if status != 200:
            self.problems.append(f"conversation {self.cid} q{qid} {self.role} v{version}: {status}")
            return True
        found = re.search(rf'id="answer-{qid}-version" value="(\d+)"', page)
        if not found:
            self.problems.append(f"conversation {self.cid} q{qid}: 200 without a version")
            return True
        new_version = int(found.group(1))
        if new_version != version + 1:
            self.problems.append(f"conversation {self.cid} q{qid} {self.role}: v{version} -> v{new_version}")
        self.last[qid] = (new_version, body)
        self.acked[qid] += 1
        self.total_acked += 1
        return True

    def storm(self, saves: int | None, start: threading.Barrier | None = None,
              stop: threading.Event | None = None) -> None:
        """Save `saves` times (or until `stop`), alternating over the own questions."""
        if start is not None:
            start.wait()
        i = 0
        while saves is None or i < saves:
            if stop is not None and stop.is_set():
                return
            qid = self.qids[i % len(self.qids)]
            body = f"{self.role} {self.email} q{qid} save {i}\nÉén regel met ümlauts en 'quotes' <b>{i}</b>"
            if not self.save(qid, body):
                return  # the server is gone or the connection broke: stop, as a page would
            i += 1


def make_people(people, count: int, prefix: str) -> list[tuple]:
    """`count` (manager, employee) pairs, each employee reporting to their own manager."""
    pairs = []
    for n in range(count):
        manager = people.add(f"{prefix}m{n}@example.org", f"Manager {n}")
        employee = people.add(f"{prefix}e{n}@example.org", f"Employee {n}", manager=manager)
        pairs.append((manager, employee))
    return pairs


def open_conversations(base: str, pairs: list[tuple]) -> list[tuple[Participant, Participant]]:
    """Sign both in, let the manager plan the conversation; pick the questions to write."""

    def one(pair):
        manager, employee = pair
        m = Participant(base, manager.email, "manager")
        e = Participant(base, employee.email, "employee")
        m.client.sign_in(manager.email, PASSWORD)
        e.client.sign_in(employee.email, PASSWORD)
        cid = m.client.plan(employee.id)
        status, page, _ = e.client.get(f"/conversations/{cid}")
        assert status == 200, status
        qids = sorted({int(q) for q in re.findall(r'id="answer-(\d+)-(?:manager|employee)"', page)})
        assert len(qids) >= QUESTIONS_PER_PARTICIPANT, qids
        for p in (m, e):
            p.cid, p.qids = cid, qids[:QUESTIONS_PER_PARTICIPANT]
        return m, e

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, pairs))


def run_storm(participants: list[Participant], saves: int | None,
              stop: threading.Event | None = None) -> list[threading.Thread]:
    start = threading.Barrier(len(participants))
    threads = [threading.Thread(target=p.storm, args=(saves, start, stop), daemon=True) for p in participants]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"{len(alive)} writer threads still running"


def stored_answers(app) -> dict[tuple[int, str], tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(text("SELECT question_id, role, body, version FROM answers")).all()
        db.session.remove()
    return {(q, r): (b, v) for q, r, b, v in rows}


def sqlite_path(url: str) -> Path:
    assert url.startswith("sqlite:///"), url
    return Path(url[len("sqlite:///"):])


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )]


def row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in sqlite_tables(conn)}
    finally:
        conn.close()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (from /proc; no psutil needed)."""
    result = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_line = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat_line.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            result.append(int(entry.name))
    return result


def is_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def figure(line: str) -> None:
    """A one-line result, shown with `pytest -s`."""
    print(f"\n{line}", flush=True)


# --- 1. Concurrency ------------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_autosaves_lose_nothing_and_bump_the_revision_once_per_change(
        app, people, instance_path, database_url):
    pairs = make_people(people, CONVERSATIONS, "c")
    env = server_env(instance_path, database_url)
    with Server(env, workers=WORKERS, threads=THREADS) as server:
        conversations = open_conversations(server.url, pairs)
        participants = [p for pair in conversations for p in pair]
        started = time.monotonic()
        join_all(run_storm(participants, SAVES_PER_PARTICIPANT), timeout=240)
        elapsed = time.monotonic() - started

    statuses = sum((p.statuses for p in participants), Counter())
    errors = [e for p in participants for e in p.connection_errors]
    problems = [x for p in participants for x in p.problems]
    five_xx = sum(n for status, n in statuses.items() if status >= 500)
    assert five_xx == 0, f"{five_xx} responses >= 500: {dict(statuses)}"
    assert not errors, f"{len(errors)} connection errors, e.g. {errors[:3]}"
    assert not problems, f"{len(problems)} unexpected answers, e.g. {problems[:5]}"
    assert statuses == {200: CONVERSATIONS * 2 * SAVES_PER_PARTICIPANT}, dict(statuses)

    stored = stored_answers(app)
    lost = 0
    for p in participants:
        for qid in p.qids:
            body, version = stored[(qid, p.role)]
            if (version, body) != p.last[qid] or version != p.acked[qid]:
                lost += 1
    assert lost == 0, f"{lost} answers differ from the last acknowledged save"

    with app.app_context():
        revisions = dict(db.session.execute(text("SELECT id, revision FROM conversations")).all())
        audit = db.session.execute(
            text("SELECT conversation_id, revision FROM audit_events WHERE action = 'answer.saved'")
        ).all()
        db.session.remove()
    audited: dict[int, list[int]] = {}
    for cid, revision in audit:
        audited.setdefault(cid, []).append(revision)
    for manager, employee in conversations:
        changes = manager.total_acked + employee.total_acked
        # Planning leaves revision 1; each acknowledged save bumps it exactly once.
        assert revisions[manager.cid] == 1 + changes, (manager.cid, revisions[manager.cid], changes)
        # ... and every save has its own audit event carrying its own revision.
        assert sorted(audited[manager.cid]) == list(range(2, 2 + changes)), manager.cid

    figure(f"concurrency: {CONVERSATIONS} conversations × 2 participants × {SAVES_PER_PARTICIPANT} saves, "
           f"{lost} lost, {five_xx} 5xx, {len(errors)} connection errors "
           f"({sum(statuses.values())} saves in {elapsed:.1f} s, {sum(statuses.values()) / elapsed:.0f}/s, "
           f"{WORKERS} workers × {THREADS} threads, {'PostgreSQL' if POSTGRES_URL else 'SQLite WAL'})")


# --- 2. Online backup and restore ------------------------------------------------------------


@pytest.mark.slow
@sqlite_only("works on the SQLite database file")
def test_backup_during_writes_is_consistent_and_restores(app, people, instance_path, database_url, tmp_path):
    pairs = make_people(people, STORM_CONVERSATIONS, "b")
    env = server_env(instance_path, database_url)
    backups: list[tuple[Path, dict[tuple[int, str], tuple[int, str]]]] = []
    during: list[int] = []  # saves acknowledged while each backup command ran
    stop = threading.Event()
    with Server(env, workers=WORKERS, threads=THREADS) as server:
        conversations = open_conversations(server.url, pairs)
        participants = [p for pair in conversations for p in pair]
        threads = run_storm(participants, None, stop)
        try:
            for n in range(BACKUPS):
                time.sleep(1.5)
                # What was acknowledged before the backup started must be in it.
                acked_before = {(qid, p.role): last for p in participants for qid, last in dict(p.last).items()}
                target = tmp_path / f"backup-{n}.db"
                saves_before = sum(p.total_acked for p in participants)
                result = run_cli(env, "backup", str(target))
                during.append(sum(p.total_acked for p in participants) - saves_before)
                assert "integrity check ok" in result.stdout
                backups.append((target, acked_before))
            time.sleep(0.5)
        finally:
            stop.set()
            join_all(threads)
    statuses = sum((p.statuses for p in participants), Counter())
    assert not [e for p in participants for e in p.connection_errors]
    assert set(statuses) == {200}, dict(statuses)
    assert all(during), f"no save was acknowledged while a backup ran: {during}"

    for target, acked_before in backups:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600, oct(target.stat().st_mode)
        assert not Path(f"{target}-wal").exists()  # one self-contained file
        assert integrity(target) == "ok"
        assert acked_before, "the storm acknowledged nothing before the backup"
        conn = sqlite3.connect(target)
        copied = {(q, r): (v, b) for q, r, b, v in conn.execute("SELECT question_id, role, body, version FROM answers")}
        revisions = dict(conn.execute("SELECT id, revision FROM conversations"))
        saves = dict(conn.execute("SELECT conversation_id, count(*) FROM audit_events "
                                  "WHERE action = 'answer.saved' GROUP BY conversation_id"))
        version_sums = dict(conn.execute("SELECT q.conversation_id, sum(a.version) FROM answers a "
                                         "JOIN conversation_questions q ON q.id = a.question_id "
                                         "GROUP BY q.conversation_id"))
        conn.close()
        for key, (version, body) in acked_before.items():
            assert copied[key][0] >= version, (key, copied[key][0], version)
            if copied[key][0] == version:
                assert copied[key][1] == body
        # A consistent snapshot: every answer version, its audit event and its revision bump together.
        for cid, revision in revisions.items():
            assert revision == 1 + saves.get(cid, 0) == 1 + version_sums.get(cid, 0), cid

    # Restore the last backup into a fresh instance folder, as the README tells an operator.
    target = backups[-1][0]
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copyfile(target, restored / "voortgang.db")
    restored_env = server_env(restored)
    run_cli(restored_env, "db", "upgrade")
    assert row_counts(restored / "voortgang.db") == row_counts(target)

    conn = sqlite3.connect(target)
    expected = {(q, r): (b, v) for q, r, b, v in conn.execute("SELECT question_id, role, body, version FROM answers")}
    revisions = dict(conn.execute("SELECT id, revision FROM conversations"))
    conn.close()
    checked = 0
    with Server(restored_env, workers=1, threads=2) as server:
        for manager, _employee in conversations:
            client = Browserish(server.url)
            client.sign_in(manager.email, PASSWORD)
            status, body, _ = client.get(f"/conversations/{manager.cid}/export.json")
            assert status == 200, status
            data = json.loads(body)
            assert data["revision"] == revisions[manager.cid]
            for phase in data["phases"]:
                for question in phase["questions"]:
                    for role, answer in question["answers"].items():
                        stored = expected.get((question["id"], role))
                        if stored is None:
                            assert answer is None
                        else:
                            assert (answer["body"], answer["version"]) == stored
                            checked += 1
    assert checked == len(expected) > 0
    figure(f"backup: {BACKUPS} online backups during {sum(statuses.values())} saves "
           f"({len(participants)} writers; {', '.join(map(str, during))} saves acknowledged while they ran), "
           f"integrity ok, mode 0600; restore: "
           f"{sum(row_counts(target).values())} rows in {len(row_counts(target))} tables identical, "
           f"{checked} answers read back over HTTP")


# --- 3. A hard crash -----------------------------------------------------------------------------


@pytest.mark.slow
@sqlite_only("works on the SQLite database file")
def test_kill_9_in_the_middle_of_writes_loses_no_acknowledged_save(app, people, instance_path, database_url):
    pairs = make_people(people, STORM_CONVERSATIONS, "k")
    env = server_env(instance_path, database_url)
    stop = threading.Event()
    server = Server(env, workers=WORKERS, threads=THREADS)
    killed: list[int] = []
    try:
        conversations = open_conversations(server.url, pairs)
        participants = [p for pair in conversations for p in pair]
        threads = run_storm(participants, None, stop)
        deadline = time.monotonic() + 60
        while sum(p.total_acked for p in participants) < CRASH_AFTER_ACKNOWLEDGED:
            assert time.monotonic() < deadline, "the storm did not get going"
            time.sleep(0.05)
        master = server.process.pid
        workers = children(master)
        assert len(workers) == WORKERS, workers
        # Master first (so it cannot start new workers), then its workers, all with SIGKILL.
        for pid in [master, *workers]:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not all(is_gone(pid) for pid in workers):
            assert time.monotonic() < deadline, "workers survived SIGKILL"
            time.sleep(0.05)
        join_all(threads, timeout=60)  # every writer stops at its first connection error
    finally:
        stop.set()
        server.stop()

    acknowledged = {(qid, p.role): last for p in participants for qid, last in p.last.items()}
    broken = sum(1 for p in participants if p.connection_errors)
    statuses = sum((p.statuses for p in participants), Counter())
    assert set(statuses) == {200}, dict(statuses)

    wal = Path(f"{sqlite_path(database_url)}-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    with Server(env, workers=WORKERS, threads=THREADS) as restarted:
        assert integrity(sqlite_path(database_url)) == "ok"
        stored = stored_answers(app)
        missing = []
        for key, (version, body) in acknowledged.items():
            stored_body, stored_version = stored[key]
            if stored_version < version or (stored_version == version and stored_body != body):
                missing.append((key, version, stored_version))
        assert not missing, f"{len(missing)} acknowledged saves lost, e.g. {missing[:5]}"

        with app.app_context():
            revisions = dict(db.session.execute(text("SELECT id, revision FROM conversations")).all())
            saves = dict(db.session.execute(text(
                "SELECT conversation_id, count(*) FROM audit_events WHERE action = 'answer.saved' "
                "GROUP BY conversation_id")).all())
            version_sums = dict(db.session.execute(text(
                "SELECT q.conversation_id, sum(a.version) FROM answers a JOIN conversation_questions q "
                "ON q.id = a.question_id GROUP BY q.conversation_id")).all())
            db.session.remove()
        # No half-written change: each save's answer, audit event and revision bump survived together.
        for manager, _employee in conversations:
            cid = manager.cid
            assert revisions[cid] == 1 + saves.get(cid, 0) == 1 + version_sums.get(cid, 0), cid

        # The restarted server takes the next save on top of what survived.
        manager = conversations[0][0]
        qid = manager.qids[0]
        client = Browserish(restarted.url)
        client.sign_in(manager.email, PASSWORD)
        # (This writer may not have reached its first question before the kill: version 0 then.)
        version = stored.get((qid, "manager"), ("", 0))[1]
        status, page, _ = client.post(f"/conversations/{manager.cid}/answers/{qid}",
                                      {"body": "after the crash", "version": str(version)},
                                      headers={"HX-Request": "true"})
        assert status == 200, status
        assert f'id="answer-{qid}-version" value="{version + 1}"' in page

    in_flight = sum(stored[key][1] - version for key, (version, _body) in acknowledged.items())
    figure(f"crash: kill -9 of master + {len(killed) - 1} workers after {sum(statuses.values())} acknowledged "
           f"saves ({broken} writers cut off); 0 of {len(acknowledged)} answers lost, "
           f"{in_flight} unacknowledged saves committed anyway, {wal_size // 1024} KiB WAL recovered, integrity ok")


# --- 4. Migrations on a populated database -------------------------------------------------------


def _revisions(app) -> list[str]:
    """Revision ids from the first migration to head."""
    from alembic.script import ScriptDirectory

    config = app.extensions["migrate"].migrate.get_config(app.extensions["migrate"].directory)
    script = ScriptDirectory.from_config(config)
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def _contents(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, as sorted tuples of name=value (to compare before/after)."""
    conn = sqlite3.connect(path)
    try:
        result = {}
        for table in sqlite_tables(conn):
            if table == "alembic_version":
                continue
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            names = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(f'SELECT {names} FROM "{table}"').fetchall()
            result[table] = sorted((tuple(zip(columns, row, strict=True)) for row in rows), key=repr)
        return result
    finally:
        conn.close()


def _populate_old_schema(path: Path) -> None:
    """People, conversations, answers, talking points, agreements and audit events, written
    with plain SQL: the ORM models follow the newest schema, this database is older."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    clock = iter(range(1_000_000))

    def at() -> str:  # distinct UTC timestamps in the format UTCDateTime stores on SQLite
        moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC) + timedelta(seconds=next(clock))
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def insert(table: str, **values) -> int:
        names, marks = ", ".join(values), ", ".join("?" * len(values))
        return conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(values.values())).lastrowid

    def user(email: str, name: str, manager: int | None = None, admin: bool = False, locale: str | None = None):
        return insert("users", email=email, name=name, password_hash=None, is_admin=int(admin), manager_id=manager,
                      locale=locale, active=1, session_token=f"token-{email}", created_at=at())

    def audit(actor: int, cid: int, action: str, kind: str | None = None, oid: int | None = None, detail: str = ""):
        insert("audit_events", at=at(), actor_id=actor, action=action, conversation_id=cid, object_type=kind,
               object_id=oid, detail=detail)

    admin = user("admin@example.org", "Admin", admin=True)
    managers = [user(f"boss{n}@example.org", f"Boss {n}", locale="nl") for n in range(3)]
    employees = [user(f"emp{n}@example.org", f"Werknemer {n} — ë", manager=managers[n % 3], locale="en")
                 for n in range(9)]
    for _ in range(3):
        insert("login_failures", email="emp0@example.org", address="10.0.0.1", at=at())
    insert("settings", key="test.marker", value="kept")
    template = conn.execute("SELECT id FROM templates WHERE is_default").fetchone()[0]

    for n, employee in enumerate(employees):
        manager = managers[n % 3]
        previous_cid = previous_agreement = None
        for round_ in range(2):
            completed = round_ == 0
            cid = insert(
                "conversations", employee_id=employee, manager_id=manager, planned_by_id=admin,
                follows_id=previous_cid, scheduled_at=at(), place="Kamer 1", purpose="Terug- en vooruitblik",
                status="completed" if completed else "in_progress",
                next_evaluation="2026-09-01" if completed else None, revision=1,
                employee_signed_at=at() if completed else None, manager_signed_at=at() if completed else None,
                employee_comment="Goed gesprek" if completed else "", manager_comment="",
                signatures_withdrawn_at=None, completed_at=at() if completed else None,
                created_at=at(), updated_at=at(),
            )
            audit(manager, cid, "conversation.planned", "conversation", cid)
            changes = 0
            conn.execute(
                "INSERT INTO conversation_questions (conversation_id, phase, phase_order, position, text_nl, text_en) "
                "SELECT ?, phase, phase_order, position, text_nl, text_en FROM template_questions "
                "WHERE template_id = ? ORDER BY phase_order, position", (cid, template))
            qids = [r[0] for r in conn.execute(
                "SELECT id FROM conversation_questions WHERE conversation_id = ? ORDER BY id", (cid,))]
            for i, qid in enumerate(qids):
                for role, person, every, versions in (("employee", employee, 1, 1), ("manager", manager, 2, 2)):
                    if i % every:
                        continue
                    aid = insert("answers", question_id=qid, role=role, body=f"Antwoord {i}\nmet ümlaut en 'quote'",
                                 version=versions, updated_at=at(), updated_by_id=person)
                    for version in range(1, versions + 1):
                        audit(person, cid, "answer.saved", "answer", aid, f"version {version}")
                        changes += 1
            for role, person, phase in (("employee", employee, "looking_back"), ("manager", manager, "looking_forward")):
                point = insert("talking_points", conversation_id=cid, phase=phase, author_role=role, author_id=person,
                               text=f"Punt van {role}", discussed=int(completed), created_at=at(), updated_at=at())
                audit(person, cid, "talking_point.added", "talking_point", point)
                changes += 1
            agreement = insert("agreements", conversation_id=cid, text="Cursus volgen", owner="employee",
                               due="2026-09-01", status="open", carried_from_id=previous_agreement,
                               created_by_id=manager, created_at=at(), updated_at=at())
            other = insert("agreements", conversation_id=cid, text="Maandelijks overleg", owner="organisation",
                           due=None, status="done", carried_from_id=None, created_by_id=employee,
                           created_at=at(), updated_at=at())
            for oid in (agreement, other):
                audit(manager, cid, "agreement.added", "agreement", oid)
                changes += 1
            if completed:
                audit(employee, cid, "conversation.signed", detail="employee")
                audit(manager, cid, "conversation.signed", detail="manager")
                audit(manager, cid, "conversation.completed")
                changes += 2
            conn.execute("UPDATE conversations SET revision = ? WHERE id = ?", (1 + changes, cid))
            previous_cid, previous_agreement = cid, agreement
    conn.execute("COMMIT")
    conn.close()


def _without(contents: dict[str, list[tuple]], keep: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """`contents` restricted to the tables and columns of `keep`."""
    result = {}
    for table, rows in keep.items():
        if table not in contents:
            continue
        columns = {c for row in rows[:1] for c, _ in row} or None
        result[table] = sorted(
            (tuple(i for i in row if columns is None or i[0] in columns) for row in contents[table]), key=repr
        )
    return result


def _check_foreign_keys(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def _assert_app_connections_enforce_foreign_keys() -> None:
    """New connections of the app have foreign keys on (the migration turned them off)."""
    db.engine.dispose()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.engine.dispose()


def test_migrations_keep_every_row_of_a_populated_database(instance_path, tmp_path):
    from flask_migrate import downgrade, upgrade

    from voortgang.conversations import export
    from voortgang.models import Conversation

    path = tmp_path / "old.db"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        revisions = _revisions(app)
        assert len(revisions) >= 3, revisions
        upgrade(revision=revisions[1])
        db.engine.dispose()
    _populate_old_schema(path)
    before = _contents(path)
    counts = {table: len(rows) for table, rows in before.items()}
    for table in ("users", "conversations", "conversation_questions", "answers", "talking_points",
                  "agreements", "audit_events", "login_failures", "settings"):
        assert counts[table] > 0, table

    with app.app_context():
        upgrade()
        _assert_app_connections_enforce_foreign_keys()
        # The app reads the migrated records.
        exported = [export.export(c) for c in db.session.scalars(db.select(Conversation))]
        db.session.remove()
        db.engine.dispose()
    assert len(exported) == counts["conversations"]
    assert sum(1 for c in exported for phase in c["phases"] for q in phase["questions"]
               for a in q["answers"].values() if a) == counts["answers"]
    after = _contents(path)
    assert {t: len(after[t]) for t in counts} == counts
    # Not just the counts: every value of every column that existed before is unchanged.
    assert _without(after, before) == before
    _check_foreign_keys(path)
    conn = sqlite3.connect(path)
    head = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    conn.close()
    assert head == revisions[-1]

    # Down one migration and up again: the tables of both schemas keep their rows.
    with app.app_context():
        downgrade(revision="-1")
        _assert_app_connections_enforce_foreign_keys()
    down = _contents(path)
    common = set(down) & set(after)
    assert {t: len(down[t]) for t in common} == {t: len(after[t]) for t in common}
    assert _without(after, down) == _without(down, down)
    _check_foreign_keys(path)
    with app.app_context():
        upgrade()
        _assert_app_connections_enforce_foreign_keys()
    again = _contents(path)
    assert {t: len(again[t]) for t in common} == {t: len(after[t]) for t in common}
    assert _without(again, down) == _without(after, down)
    _check_foreign_keys(path)
    figure(f"migrations: {sum(counts.values())} rows in {len(counts)} tables unchanged by "
           f"{revisions[1]} -> {revisions[-1]} (head) and by a downgrade/upgrade of {revisions[-1]}")


def test_the_connection_a_migration_used_has_foreign_keys_on_again(instance_path, tmp_path):
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pool.db'}"})
    with app.app_context():
        try:
            upgrade()
            # The pool hands out the connection the migration used (and left with foreign keys off).
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        finally:
            db.engine.dispose()


BROKEN_MIGRATION = '''"""test only: leaves a row whose foreign key points nowhere"""
from alembic import op
import sqlalchemy as sa

revision = "ffffbroken01"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "broken_child",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
    )
    op.execute("INSERT INTO broken_child (id, user_id) VALUES (1, 999999)")


def downgrade():
    op.drop_table("broken_child")
'''


def test_a_migration_that_breaks_foreign_keys_is_rolled_back(instance_path, tmp_path):
    from flask_migrate import upgrade

    path = tmp_path / "broken.db"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    directory = tmp_path / "migrations"
    shutil.copytree(app.extensions["migrate"].directory, directory,
                    ignore=shutil.ignore_patterns("__pycache__"))
    with app.app_context():
        head = _revisions(app)[-1]
        upgrade()
        (directory / "versions" / "ffffbroken01_broken.py").write_text(BROKEN_MIGRATION.format(head=head))
        with pytest.raises((RuntimeError, SystemExit)):  # Flask-Migrate turns errors into exit 1
            upgrade(directory=str(directory))
        db.engine.dispose()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head
        assert "broken_child" not in sqlite_tables(conn)
    finally:
        conn.close()


# --- Signing while the other side's autosave withdraws the signatures ---------------------------


def test_signing_and_a_withdrawing_autosave_at_once_never_leave_one_signature(app, team):
    """The employee signs at the moment the manager (who signed) changes an answer, which
    withdraws the signatures. Whatever wins, a completed record has both signatures and a
    withdrawn one is open. On PostgreSQL this needs the row lock in `sign` (SQLite's
    BEGIN IMMEDIATE serialises writers anyway)."""
    from datetime import date

    from sqlalchemy import select

    from voortgang.conversations import answers, planning, points, signoff
    from voortgang.errors import Invalid, ReadOnly
    from voortgang.models import Conversation, ConversationQuestion, User

    outcomes = Counter()
    for round_ in range(25 if POSTGRES_URL else 5):
        with app.test_request_context(method="POST"):
            mia, eva = db.session.get(User, team.mia.id), db.session.get(User, team.eva.id)
            conversation = planning.plan_conversation(
                mia, employee_id=eva.id, manager_id=mia.id, scheduled_at=datetime(2026, 12, 1, 10, tzinfo=UTC))
            cid = conversation.id
            qid = db.session.scalar(select(ConversationQuestion.id).where(
                ConversationQuestion.conversation_id == cid).order_by(ConversationQuestion.id).limit(1))
            points.set_next_evaluation(mia, cid, date(2027, 6, 1))
            signoff.propose_close(mia, cid)
            signoff.sign(mia, cid)
        start = threading.Barrier(2)

        def at_the_same_time(user_id, write, losing):
            """Run `write(actor)` in a request of its own, released together with the other."""
            def run():
                with app.test_request_context(method="POST"):
                    actor = db.session.get(User, user_id)
                    db.session.rollback()  # hold no lock at the start line
                    start.wait()
                    try:
                        write(actor)
                    except losing:
                        pass  # the other one won
                    finally:
                        db.session.remove()
            return threading.Thread(target=run)

        threads = [
            # The autosave won: no longer awaiting signatures.
            at_the_same_time(team.eva.id, lambda actor: signoff.sign(actor, cid), (Invalid, ReadOnly)),
            # The signature won: the record is completed and read-only.
            at_the_same_time(team.mia.id, lambda actor, r=round_: answers.save_answer(
                actor, cid, qid, f"A late thought {r}", 0), ReadOnly),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        with app.app_context():
            c = db.session.get(Conversation, cid)
            state = (c.status, c.employee_signed_at is not None, c.manager_signed_at is not None)
            db.session.rollback()
        assert state in {("completed", True, True), ("awaiting_signatures", False, False),
                         ("awaiting_signatures", True, False)}, f"round {round_}: {state}"
        outcomes[state] += 1
    print("sign/autosave race outcomes:", dict(outcomes))
