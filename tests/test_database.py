"""The database: real migrations, SQLite connection settings, health check."""
import fcntl
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import inspect, text

from voortgang import create_app, database
from voortgang.database import writing
from voortgang.extensions import db

from .conftest import BASE_CONFIG, sqlite_only


def test_migrations_create_schema_on_empty_sqlite_file(instance_path, tmp_path):
    path = tmp_path / "fresh.db"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"users", "login_failures", "settings", "alembic_version"} <= tables


def test_cli_db_upgrade_then_check_finds_no_pending_model_change(instance_path, tmp_path):
    path = tmp_path / "cli.db"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()


@sqlite_only("SQLite's connection settings (PRAGMAs)")
def test_sqlite_connections_use_wal_busy_timeout_foreign_keys(app):
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        # BEGIN IMMEDIATE was issued by the begin event: the write lock is held now.
        assert raw.in_transaction


@sqlite_only("SQLite's BEGIN IMMEDIATE write lock")
def test_sqlite_writes_begin_immediate(app, tmp_path):
    """A second writer cannot even start while a write is open (no lost updates)."""
    with app.app_context(), writing():
        path = db.engine.url.database
        db.session.execute(text("SELECT 1"))  # opens the transaction: BEGIN IMMEDIATE
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
        else:
            raise AssertionError("a second writer got the lock during an open transaction")
        finally:
            other.close()


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def _second_writer_can_start(path) -> bool:
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@sqlite_only("SQLite's one write lock")
def test_reads_take_no_write_lock_and_writing_takes_it_for_its_block_only(app):
    """Outside `writing()` every transaction only reads (no write lock, in a request or
    not, GET or POST); `writing()` takes the lock for its block alone, and gives it back
    when the block fails (a refusal) too."""
    with app.app_context():
        path = db.engine.url.database
    for context in (app.app_context(), app.test_request_context("/", method="GET"),
                    app.test_request_context("/conversations/1/answers/1", method="POST")):
        with context:
            db.session.execute(text("SELECT 1"))
            assert _second_writer_can_start(path)
            with writing():
                db.session.execute(text("SELECT 1"))
                assert not _second_writer_can_start(path)
            db.session.execute(text("SELECT 1"))
            assert _second_writer_can_start(path)
            try:
                with writing():
                    db.session.execute(text("SELECT 1"))
                    raise RuntimeError("refused")
            except RuntimeError:
                pass
            assert _second_writer_can_start(path)
            db.session.remove()


def test_a_change_outside_writing_is_refused_and_writings_nest(app, people):
    """Every change goes through `writing()`: the session refuses a flush or a statement
    that changes something in a read transaction (on SQLite it could fail under load). An
    inner `writing()` joins the outer one, which commits or rolls back the whole."""
    import pytest
    from sqlalchemy import select, update

    from voortgang.database import WriteOutsideWriting
    from voortgang.models import User

    eva = people.add("eva@example.org", "Eva")
    with app.app_context():
        db.session.get(User, eva.id).name = "Changed"
        with pytest.raises(WriteOutsideWriting):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(WriteOutsideWriting):
            db.session.execute(update(User).where(User.id == eva.id).values(name="Changed"))
        db.session.rollback()
        with pytest.raises(RuntimeError):
            with writing():
                db.session.get(User, eva.id).name = "Changed"
                with writing():
                    db.session.execute(update(User).where(User.id == eva.id).values(locale="nl"))
                raise RuntimeError("the outer block fails: nothing of either is kept")
        assert db.session.execute(select(User.name, User.locale).where(User.id == eva.id)).one() == ("Eva", "en")
        with writing():
            with writing():
                db.session.get(User, eva.id).name = "Eva de Vries"
        assert db.session.scalar(select(User.name).where(User.id == eva.id)) == "Eva de Vries"


def _lock_file_is_free(path) -> bool:
    fd = os.open(path + "-writer.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@sqlite_only("the writer lock file next to the SQLite file")
def test_sqlite_writers_queue_on_the_lock_file_and_go_in_as_soon_as_it_is_free(app):
    with app.app_context():
        engine = db.engine
        path = engine.url.database
    first = engine.connect()
    token = database._writing.set(True)  # as in writing(): this connection's transactions write
    first.execute(text("SELECT 1"))  # BEGIN IMMEDIATE, after taking the lock file
    lock_file = Path(path + "-writer.lock")
    assert stat.S_IMODE(lock_file.stat().st_mode) == 0o600
    assert not _lock_file_is_free(path)
    got_in = []

    def second_writer():
        database._writing.set(True)  # (a thread of its own starts outside writing())
        with engine.connect() as second:
            second.execute(text("SELECT 1"))  # waits for the first writer, without an error
            got_in.append(time.monotonic())
            second.rollback()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.3)
    assert not got_in  # still waiting
    released = time.monotonic()
    first.commit()
    thread.join(timeout=10)
    assert got_in and got_in[0] - released < 0.2  # at once, not after a busy-handler sleep
    assert _lock_file_is_free(path)
    # Rolled back or closed in the middle of a write: the lock is free again.
    first.execute(text("SELECT 1"))
    first.rollback()
    assert _lock_file_is_free(path)
    first.execute(text("SELECT 1"))
    first.close()
    assert _lock_file_is_free(path)
    database._writing.reset(token)


@sqlite_only("SQLite's write lock")
def test_a_refused_write_renders_its_answer_without_the_write_lock(app, team, login_as):
    """SQLite has one write lock that every autosave waits for: a refused write (422, 403,
    404) drops what it did and renders its answer while reading only."""
    from flask import template_rendered

    from voortgang.database import SerialWriteConnection

    from .helpers import HX, planned

    mia = login_as(team.mia)
    cid = planned(mia, team.eva)
    held = []

    def rendered(sender, template, context, **extra):
        held.append((template.name, getattr(SerialWriteConnection._held, "value", False)))

    template_rendered.connect(rendered, app)
    try:
        refusals = [
            mia.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back", "text": ""}, headers=HX),
            mia.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back", "text": ""}),
            mia.post(f"/conversations/{cid}/agreements", data={"text": "", "owner": "employee"}, headers=HX),
            mia.post("/conversations/", data={"employee": str(team.tom.id), "scheduled_at": "2026-12-01T10:00"}),
            mia.post(f"/conversations/{cid + 100}/talking-points", data={"phase": "looking_back", "text": "x"}),
        ]
    finally:
        template_rendered.disconnect(rendered, app)
    assert [r.status_code for r in refusals] == [422, 422, 422, 422, 404]
    assert held and not [name for name, locked in held if locked], held
