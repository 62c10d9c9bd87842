"""The database: real migrations, SQLite connection settings, health check."""
import sqlite3

from flask_migrate import upgrade
from sqlalchemy import inspect, text

from voortgang import create_app
from voortgang.extensions import db

from .conftest import BASE_CONFIG


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


def test_sqlite_connections_use_wal_busy_timeout_foreign_keys(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        # BEGIN IMMEDIATE was issued by the begin event: the write lock is held now.
        assert raw.in_transaction


def test_sqlite_transactions_begin_immediate(app, tmp_path):
    """A second writer cannot even start while a transaction is open (no lost updates)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context(), db.engine.connect() as conn:
        path = db.engine.url.database
        conn.execute(text("SELECT 1"))  # opens the transaction: BEGIN IMMEDIATE
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


def test_reads_of_get_requests_take_no_write_lock_and_posts_do(app):
    """GET never writes, so its reads need no lock; a POST's read-modify-write holds it from the start."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        path = db.engine.url.database
    with app.test_request_context("/", method="GET"):
        db.session.execute(text("SELECT 1"))
        assert _second_writer_can_start(path)
        db.session.remove()
    with app.test_request_context("/", method="POST"):
        db.session.execute(text("SELECT 1"))
        assert not _second_writer_can_start(path)
        db.session.commit()  # the request's write is done: the rest of it only reads
        db.session.execute(text("SELECT 1"))
        assert _second_writer_can_start(path)
        db.session.remove()
