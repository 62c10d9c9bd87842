"""A round of 10,000 people against a round of 20: the round's pages, measured.

Run by hand from the checkout (never part of the test suite):

    .venv/bin/python -m bench.rounds                       # 10,000 people, 3 conversations each
    .venv/bin/python -m bench.rounds --people 2000 --database-url postgresql+psycopg://user@host:port/db

It migrates a fresh database (a temporary SQLite file unless --database-url names an empty
one), inserts the people (100 managers) and three conversations per person with Core bulk
inserts, starts a round for everyone and one for a team of 20 through the app's own rule,
gathers the statistics (ANALYZE), then requests the round's pages as the administrator with the Flask test client in this
process: p50 over --requests requests, the SQL statements of one request, the bytes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime

from sqlalchemy import insert, select, text

from .scale import counting

PASSWORD = "bench-password-1"
CONFIG = {"TESTING": False, "WTF_CSRF_ENABLED": False, "DEFAULT_LOCALE": "en", "ARGON2_TIME_COST": 1,
          "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False}
MANAGERS = 100


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.rounds", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database to fill (e.g. PostgreSQL); it is migrated first")
    return parser.parse_args(argv)


def fill(app, people: int) -> tuple[int, int]:
    """The organisation; returns the ids of the round of everyone and of a team's round."""
    from flask_migrate import upgrade

    from voortgang.database import writing
    from voortgang.extensions import db
    from voortgang.models import Conversation, User
    from voortgang.people.service import create_user
    from voortgang.rounds.service import start_round

    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        with writing():
            admin = create_user(email="admin@bench.example", name="Admin", is_admin=True, locale="en",
                                password=PASSWORD)
        admin_id = admin.id
        with writing():
            db.session.execute(insert(User), [
                {"email": f"m{n}@bench.example", "name": f"Manager {n:03d}", "manager_id": admin_id,
                 "is_admin": False, "locale": "en", "active": True, "session_token": f"m{n}", "created_at": now}
                for n in range(MANAGERS)])
        managers = list(db.session.scalars(select(User.id).where(User.email.like("m%")).order_by(User.id)))
        with writing():
            db.session.execute(insert(User), [
                {"email": f"p{n}@bench.example", "name": f"Person {n:05d}", "manager_id": managers[n % MANAGERS],
                 "is_admin": False, "locale": "en", "active": True, "session_token": f"p{n}", "created_at": now}
                for n in range(people)])
        persons = list(db.session.scalars(select(User.id).where(User.email.like("p%")).order_by(User.id)))
        rows = []
        for n, person in enumerate(persons):
            # Last year's completed one; in the round: none (every fifth), planned, under way or completed.
            for month, status in ((3, "completed"), (10, ("planned", "in_progress", "completed")[n % 3])):
                if month == 10 and n % 5 == 0:
                    continue
                rows.append({"employee_id": person, "manager_id": managers[n % MANAGERS],
                             "scheduled_at": datetime(2026, month, 1 + n % 28, 10, tzinfo=UTC), "status": status,
                             "place": "", "purpose": "", "revision": 1, "employee_changes": 0, "manager_changes": 0,
                             "employee_comment": "", "manager_comment": "", "created_at": now, "updated_at": now})
        with writing():
            for start in range(0, len(rows), 5000):
                db.session.execute(insert(Conversation), rows[start:start + 5000])
        with app.test_request_context():
            everyone = start_round(db.session.get(User, admin_id), name="Everyone", starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 31)).id
            team = start_round(db.session.get(User, admin_id), name="Team", starts_on=date(2026, 9, 1),
                               ends_on=date(2026, 12, 31), team_id=managers[0]).id
        with db.engine.begin() as connection:  # the statistics, as after a migration of real data
            connection.execute(text("ANALYZE"))
        db.engine.dispose()
    return everyone, team


def measure(app, client, path: str, requests: int) -> tuple[float, int, int]:
    from voortgang.extensions import db

    with app.app_context():
        engine = db.engine
    with counting(engine) as statements:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path).get_data()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, len(statements), len(response.get_data())


def main(argv=None) -> None:
    args = parse_args(argv)
    folder = tempfile.mkdtemp(prefix="voortgang-bench-rounds-")
    os.environ["VOORTGANG_INSTANCE_PATH"] = folder
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    from voortgang import create_app

    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    started = time.perf_counter()
    everyone, team = fill(app, args.people)
    print(f"filled {args.people:,} people in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    assert client.post("/login", data={"email": "admin@bench.example", "password": PASSWORD}).status_code == 303
    print(f"{'page':40} {'p50 ms':>8} {'statements':>10} {'bytes':>10}")
    for path in (f"/rounds/{team}", f"/rounds/{everyone}", f"/rounds/{everyone}?page=2",
                 "/rounds/", f"/rounds/{everyone}/export.json",
                 f"/rounds/{everyone}/export.csv"):
        p50, statements, size = measure(app, client, path, args.requests)
        print(f"{path:40} {p50:8.0f} {statements:10d} {size:10,d}")


if __name__ == "__main__":
    main()
