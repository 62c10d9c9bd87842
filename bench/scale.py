"""Grows with the organisation, measured: every page at a given size of organisation.

Run by hand from the checkout (never part of the test suite):

    .venv/bin/python -m bench.scale                                   # 20 people, 200 conversations
    .venv/bin/python -m bench.scale --people 10000 --conversations 100000
    .venv/bin/python -m bench.scale --people 2000 --conversations 20000 \\
        --database-url postgresql+psycopg://user@host:port/db --explain

It migrates a fresh database (a temporary SQLite file unless --database-url or --sqlite-file
names one), fills it with a synthetic organisation through the app's own tables
(bench/scale_fill.py: Core bulk inserts that satisfy every constraint), then requests
every page as an administrator, a manager of a team of about twelve and an employee with
the Flask test client in this one process: p50/p95 over --requests requests, the SQL
statements of one request, the bytes of the reply. The whole organisation's CSV is
also measured for the growth of the process (peak RSS, VmHWM reset before it) and the
peak of Python's allocations (tracemalloc) while it streams.

--sqlite-file keeps the database: a second run with the same file skips the filling.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, func, select, text

PASSWORD = "bench-password-1"
CONFIG = {"TESTING": False, "WTF_CSRF_ENABLED": False, "DEFAULT_LOCALE": "en", "ARGON2_TIME_COST": 1,
          "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False}
OVERVIEW_VARIANTS = ("", "?sort=last", "?sort=next", "?sort=open", "?status=none", "?status=planned",
                     "?status=in_progress", "?status=awaiting_signatures", "?overdue=1", "?overdue=1&sort=open",
                     "?page=2", "?page=999999")
AGREEMENT_VARIANTS = ("", "?overdue=1", "?owner=organisation", "?page=2", "?page=999999")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=None, help="default: 10 per person")
    parser.add_argument("--requests", type=int, default=30, help="requests per page (default 30)")
    parser.add_argument("--audit", type=int, default=10, help="audit rows per conversation (default 10)")
    parser.add_argument("--database-url", help="an empty database to fill (e.g. PostgreSQL); it is migrated first")
    parser.add_argument("--sqlite-file", help="keep the SQLite database here; reused (not refilled) when it exists")
    parser.add_argument("--explain", action="store_true", help="print the query plans of the heaviest queries")
    parser.add_argument("--only", help="measure only the pages whose path contains this")
    parser.add_argument("--roles", default="administrator,manager,employee", help="whose pages to measure")
    return parser.parse_args(argv)


def rss_peak_mb() -> float:
    """Peak resident memory of this process since the last reset (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reset_rss_peak() -> bool:
    """Linux: writing 5 to clear_refs sets VmHWM back to the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def make_app(args, workdir: Path):
    os.environ["VOORTGANG_INSTANCE_PATH"] = str(workdir)
    from voortgang import create_app

    if args.database_url:
        url = args.database_url
    else:
        path = Path(args.sqlite_file) if args.sqlite_file else workdir / "voortgang.db"
        url = f"sqlite:///{path}"
    return create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})


def prepare(app, args, log):
    from flask_migrate import upgrade

    from voortgang.auth.service import hash_password
    from voortgang.extensions import db
    from voortgang.models import User

    from .scale_fill import fill

    with app.app_context():
        started = time.perf_counter()
        upgrade()
        log(f"migrated in {time.perf_counter() - started:.1f} s")
        filled = db.session.scalar(select(func.count(User.id)))
        db.session.rollback()
        if not filled:
            started = time.perf_counter()
            conversations = args.conversations if args.conversations is not None else args.people * 10
            org = fill(args.people, conversations, audit_per_conversation=args.audit, log=log)
            log(f"filled in {time.perf_counter() - started:.1f} s: {org.counts}")
            from voortgang.records.facts import rebuild_facts

            started = time.perf_counter()
            rebuild_facts()  # the rows went in around the app's writes, which keep them
            log(f"stored facts computed in {time.perf_counter() - started:.1f} s")
        from voortgang.database import writing
        from voortgang.statistics import analyze

        started = time.perf_counter()
        if db.engine.dialect.name == "postgresql":  # autovacuum would, some time after the bulk insert
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with db.engine.begin() as conn:
                analyze(conn)  # as after the migrations
        log(f"statistics gathered in {time.perf_counter() - started:.1f} s")
        viewers = choose_viewers()
        password_hash = hash_password(PASSWORD)
        with writing():
            db.session.execute(User.__table__.update().where(User.id.in_([v[1] for v in viewers.values()]))
                               .values(password_hash=password_hash))
        sizes = {name: db.session.scalar(text(f"SELECT count(*) FROM {name}")) for name in (
            "users", "conversations", "conversation_questions", "answers", "talking_points", "agreements",
            "agreement_reviews", "audit_events")}
        db.session.rollback()
    return viewers, sizes


def choose_viewers() -> dict[str, tuple[str, int, dict]]:
    """The administrator, a manager of about 12 people and an employee of theirs, with the
    ids of the pages each opens (a record and a conversation page)."""
    from voortgang.extensions import db
    from voortgang.models import Conversation, User

    admin = db.session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    team_size = func.count(User.id)
    teams = db.session.execute(select(User.manager_id, team_size).where(User.active.is_(True), User.manager_id.isnot(None))
                               .group_by(User.manager_id)).all()
    manager_id = min(teams, key=lambda t: (abs(t[1] - 12), t[0]))[0]
    manager = db.session.get(User, manager_id)
    employee = db.session.scalar(select(User).where(User.manager_id == manager.id, User.active.is_(True))
                                 .order_by(User.id).limit(1))
    completed = db.session.scalar(select(Conversation.id).where(Conversation.employee_id == employee.id,
                                                                Conversation.status == "completed")
                                  .order_by(Conversation.scheduled_at.desc()).limit(1))
    latest = db.session.scalar(select(Conversation.id).where(Conversation.employee_id == employee.id)
                               .order_by(Conversation.scheduled_at.desc()).limit(1))
    manager_conversations = db.session.scalar(select(func.count(Conversation.id)).where(
        (Conversation.manager_id == manager.id) | (Conversation.employee_id == manager.id)))
    ids = {"employee": employee.id, "completed": completed, "latest": latest, "team": manager.id,
           "manager_conversations": manager_conversations}
    return {"administrator": (admin.email, admin.id, ids), "manager": (manager.email, manager.id, ids),
            "employee": (employee.email, employee.id, ids)}


def pages_for(role: str, ids: dict) -> list[str]:
    record = f"/people/{ids['employee']}/record"
    common = ["/", "/conversations/", record, "/me/export.json"]
    if role == "employee":
        return [*common, f"/conversations/{ids['latest']}", f"/conversations/{ids['completed']}"]
    pages = [*common, f"/conversations/{ids['completed']}"]
    overview = [f"/overview{v}" for v in OVERVIEW_VARIANTS]
    if role == "administrator":
        overview.append(f"/overview?team={ids['team']}")
        pages += ["/admin/people/", "/admin/people/?page=2", "/admin/people/?q=an", "/conversations/new",
                  "/conversations/new?q=an", f"/conversations/new?employee={ids['employee']}"]
    agreements = [f"/overview/agreements{v}" for v in AGREEMENT_VARIANTS]
    if role == "administrator":
        agreements.append(f"/overview/agreements?team={ids['team']}")
    return pages + overview + agreements


def measure(app, client, path: str, requests: int) -> dict:
    from voortgang.extensions import db

    with app.app_context():
        engine = db.engine
    response = client.get(path)  # warm: templates compiled, statements cached
    if response.status_code != 200:
        return {"path": path, "status": response.status_code}
    with counting(engine) as statements:
        body = client.get(path).get_data()
    times, cpu = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        response.close()
    times.sort()
    return {"path": path, "status": 200, "p50": statistics.median(times),
            "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], "cpu": statistics.median(cpu),
            "statements": len(statements), "bytes": len(body)}


def measure_csv(app, client, path: str, requests: int) -> dict:
    """The CSV of the whole organisation: time, and the process's growth while it streams."""
    from voortgang.extensions import db

    with app.app_context():
        engine = db.engine
    client.get(path).close()
    times, cpu = [], []
    for _ in range(max(3, requests // 5)):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        size = sum(len(chunk) for chunk in response.response)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        response.close()
    reset = reset_rss_peak()
    before = rss_now_mb()
    tracemalloc.start()
    with counting(engine) as statements:
        response = client.get(path)
        chunks = rows = 0
        for chunk in response.response:
            chunks += 1
            rows += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        response.close()
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times.sort()
    return {"path": path, "status": response.status_code, "p50": statistics.median(times), "p95": times[-1],
            "cpu": statistics.median(cpu),
            "statements": len(statements), "bytes": size, "rows": rows - 1, "chunks": chunks,
            "rss_growth_mb": (rss_peak_mb() - before) if reset else float("nan"),
            "traced_peak_mb": traced_peak / 2**20}


def explain(app, viewers):
    """The plans of the overview's and the agreements page's queries, as the database runs them."""
    from voortgang.extensions import db
    from voortgang.models import User

    from voortgang.records import agreements as agreements_service
    from voortgang.records import overview as overview_service

    with app.app_context():
        dialect = db.engine.dialect.name
        for role in ("administrator", "manager"):
            viewer = db.session.get(User, viewers[role][1])
            queries = {
                "overview page (sort=name)": overview_service.page_statement(viewer, overview_service.Filters(), 0),
                "overview page (sort=open, overdue)": overview_service.page_statement(
                    viewer, overview_service.Filters(sort="open", overdue=True), 0),
                "overview page (status=planned)": overview_service.page_statement(
                    viewer, overview_service.Filters(status="planned"), 0),
                "agreements page": agreements_service.page_statement(viewer, agreements_service.AgreementFilters(), 0),
            }
            for name, statement in queries.items():
                compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
                prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
                plan = db.session.execute(text(prefix + str(compiled))).all()
                print(f"\n-- {role}: {name}")
                for row in plan:
                    print("   ", row[-1] if dialect == "sqlite" else row[0])
        db.session.rollback()


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="voortgang-scale-"))
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    app = make_app(args, workdir)
    viewers, sizes = prepare(app, args, log)
    from .scale_report import header, row_line

    print(header(args, sizes, app))
    if args.explain:
        explain(app, viewers)
    results = []
    for role, (email, _id, ids) in viewers.items():
        if role not in args.roles.split(","):
            continue
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 303, (role, response.status_code)
        for path in pages_for(role, ids):
            if args.only and args.only not in path:
                continue
            result = measure(app, client, path, args.requests)
            results.append((role, result))
            print(row_line(role, result), flush=True)
        if role != "employee" and (not args.only or args.only in "/overview.csv"):
            result = measure_csv(app, client, "/overview.csv", args.requests)
            results.append((role, result))
            print(row_line(role, result), flush=True)
    print(f"\nPeak RSS of the process over the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
