"""Fixtures: an app per test on a real, migrated database; clients; people."""
from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

# The database the suite runs on: SQLite files by default; PostgreSQL when CI sets
# VOORTGANG_TEST_DATABASE_URL (postgresql+psycopg://...).
POSTGRES_URL = os.environ.get("VOORTGANG_TEST_DATABASE_URL")


def sqlite_only(reason: str):
    """Mark a test of something only SQLite has: on PostgreSQL it is skipped, with the reason."""
    return pytest.mark.skipif(bool(POSTGRES_URL), reason=f"SQLite only: {reason}")


# Tests choose their own configuration; nothing from the calling shell leaks in.
for _name in [n for n in os.environ if n.startswith("VOORTGANG_")]:
    del os.environ[_name]

from voortgang import create_app  # noqa: E402
from voortgang.database import writing  # noqa: E402
from voortgang.extensions import db  # noqa: E402

# The fingerprinted, compressed static files are built once for the whole run, not per
# test's instance folder (voortgang/assets.py).
ASSETS_FOLDER = tempfile.mkdtemp(prefix="voortgang-test-assets-")
atexit.register(shutil.rmtree, ASSETS_FOLDER, True)

TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PASSWORD = "correct horse battery staple"

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": TEST_SECRET,
    "WTF_CSRF_ENABLED": False,
    # English pages for signed-out clients; the Dutch default has tests of its own.
    "DEFAULT_LOCALE": "en",
    # Cheap hashes keep the suite quick; production parameters are tested on their own.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 8,
    "ARGON2_PARALLELISM": 1,
    "ASSETS_FOLDER": ASSETS_FOLDER,
}


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file migrated once per run; each test gets a copy."""
    folder = tmp_path_factory.mktemp("template-db")
    path = folder / "template.db"
    os.environ["VOORTGANG_INSTANCE_PATH"] = str(folder)
    try:
        _migrate(f"sqlite:///{path}", folder)
    finally:
        del os.environ["VOORTGANG_INSTANCE_PATH"]
    # Fold the WAL into the main file so one copy holds everything.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


# Rows the migrations seed (the default question template): restored after each truncation.
SEEDED_TABLES = ("templates", "template_questions")
_seeded_rows: dict[str, list[dict]] = {}


@pytest.fixture(scope="session")
def migrated_postgres(tmp_path_factory) -> str | None:
    if not POSTGRES_URL:
        return None
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(POSTGRES_URL, tmp_path_factory.mktemp("pg-instance"))
    engine = create_engine(POSTGRES_URL)
    with engine.connect() as conn:
        for table in SEEDED_TABLES:
            _seeded_rows[table] = [dict(row._mapping) for row in conn.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    return POSTGRES_URL


def _truncate_postgres(url: str) -> None:
    """Empty every table, then put back what the migrations seed (as a fresh install has it)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars().all()
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        for table in SEEDED_TABLES:
            rows = _seeded_rows.get(table)
            if rows:
                columns = ", ".join(rows[0])
                values = ", ".join(f":{c}" for c in rows[0])
                conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), rows)
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path, migrated_sqlite, migrated_postgres) -> str:
    """URL of a fresh, migrated database for this test."""
    if migrated_postgres:
        _truncate_postgres(migrated_postgres)
        return migrated_postgres
    path = tmp_path / "voortgang.db"
    shutil.copyfile(migrated_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture
def instance_path(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setenv("VOORTGANG_INSTANCE_PATH", str(folder))
    return folder


@pytest.fixture
def app_config(database_url) -> dict:
    """Override or extend in a test module to change the configuration."""
    return {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url}


@pytest.fixture
def app(instance_path, app_config) -> Iterator[Flask]:
    """The app, with no context pushed: each request gets its own, as in production.

    Tests open `with app.app_context():` around direct database work.
    """
    app = create_app(app_config)
    yield app
    courier = app.extensions.get("voortgang.courier")
    if courier is not None:
        courier.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class People:
    """Makes people in the test database; returns detached snapshots (id, email, name...)."""

    def __init__(self, app: Flask):
        self.app = app

    def add(self, email: str, name: str | None = None, *, password: str = PASSWORD,
            manager=None, is_admin: bool = False, locale: str | None = "en", active: bool = True):
        from voortgang.people.service import create_user

        with self.app.app_context():
            with writing():
                user = create_user(
                    email=email,
                    name=name or email.split("@")[0].title(),
                    is_admin=is_admin,
                    manager_email=manager.email if manager else None,
                    locale=locale,
                    password=password,
                )
                user.active = active
            return snapshot(user)


def snapshot(obj) -> SimpleNamespace:
    """Return the column values of a model object, usable after its session is gone."""
    return SimpleNamespace(**{c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs})


@pytest.fixture
def people(app) -> People:
    return People(app)


@pytest.fixture
def team(people):
    """An organisation: admin Hanna; manager Mia with Eva; manager Max with Tom."""
    class Team:
        admin = people.add("hanna@example.org", "Hanna", is_admin=True)
        mia = people.add("mia@example.org", "Mia", locale="en")
        max = people.add("max@example.org", "Max")
    Team.eva = people.add("eva@example.org", "Eva", manager=Team.mia, locale="nl")
    Team.tom = people.add("tom@example.org", "Tom", manager=Team.max)
    return Team


def login(client: FlaskClient, email: str, password: str = PASSWORD, **extra):
    """Sign in through the real form; return the response."""
    return client.post("/login", data={"email": email, "password": password, **extra})


@pytest.fixture
def login_as(app):
    """Return a fresh test client signed in as the given person."""

    def _login(user, password: str = PASSWORD) -> FlaskClient:
        client = app.test_client()
        response = login(client, user.email, password)
        assert response.status_code == 303, response.status_code
        return client

    return _login


class LiveServer:
    def __init__(self, app: Flask):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
