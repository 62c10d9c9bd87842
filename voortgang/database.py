"""Database engine set-up: SQLite pragmas and BEGIN IMMEDIATE for writes, timestamps."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from flask import g, has_request_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 10_000


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """Put every SQLite connection in WAL mode with a busy timeout and foreign keys on."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's begin event issue the BEGIN instead of pysqlite's implicit,
    # deferred one, which loses concurrent read-modify-write updates.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


READS_ONLY = "voortgang_reads_only"


def _request_reads_only() -> bool:
    """True when the current request will not write any more.

    GET and HEAD never change state (a test enforces it), and a request that has
    committed its one write only reads afterwards (to render the reply). Those
    transactions need no write lock: in WAL mode readers never wait for writers.
    """
    if not has_request_context():
        return False
    return request.method in ("GET", "HEAD") or g.get(READS_ONLY, False)


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """Start SQLite transactions that may write with BEGIN IMMEDIATE (take the write lock up front)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN" if _request_reads_only() else "BEGIN IMMEDIATE")


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    """After a request's write is committed, the rest of the request only reads."""
    if has_request_context() and request.method not in ("GET", "HEAD"):
        g.setdefault(READS_ONLY, True)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
