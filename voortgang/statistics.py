"""Statistics for SQLite's query planner, gathered as SQLite recommends
(https://sqlite.org/lang_analyze.html#recommended_usage_pattern).

Without them SQLite guesses how many rows each index narrows down to, and with an
organisation of thousands of people it guessed wrong. `analyze` runs after the
migrations (migrations/env.py); `init_app` runs `PRAGMA optimize` on a connection that
goes back to the pool at most once an hour per process, which re-analyses only the
tables whose size changed a lot since. Both read every index in full: a sample
(`analysis_limit`) makes a column with few values (a status) look as selective as the
sample is small, and the planner then starts from every open agreement again. A full
ANALYZE of an organisation of 10,000 people (1 GB) takes about a second.
PostgreSQL gathers its own statistics (autovacuum), so nothing is done there.
"""
from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import event

INTERVAL_SECONDS = 3600

_lock = threading.Lock()
_last_optimize = 0.0


def _run(dbapi_connection, statement: str) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement)
        cursor.fetchall()
    finally:
        cursor.close()


def analyze(connection) -> None:
    """ANALYZE every table: after a schema change, e.g. new indexes. `connection` is a
    SQLAlchemy Connection; on PostgreSQL this does nothing."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("ANALYZE")


def _optimize_on_checkin(dbapi_connection, connection_record) -> None:
    global _last_optimize
    if not isinstance(dbapi_connection, sqlite3.Connection) or dbapi_connection.in_transaction:
        return
    now = time.monotonic()
    if _last_optimize and now - _last_optimize < INTERVAL_SECONDS:
        return  # the usual case, on every checkin: no lock taken
    with _lock:
        if _last_optimize and now - _last_optimize < INTERVAL_SECONDS:
            return
        _last_optimize = now
    try:
        _run(dbapi_connection, "PRAGMA optimize")
    except sqlite3.Error:
        pass  # busy or read-only: the next hour tries again


def init_app(app) -> None:
    """Run `PRAGMA optimize` now and then on the app's SQLite connections."""
    from .extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite" and not event.contains(engine, "checkin", _optimize_on_checkin):
        event.listen(engine, "checkin", _optimize_on_checkin)
