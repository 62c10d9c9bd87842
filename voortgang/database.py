"""Database engine set-up: SQLite pragmas and BEGIN IMMEDIATE for writes, timestamps."""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import current_app, g, has_request_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from .extensions import db

SQLITE_BUSY_TIMEOUT_MS = 10_000


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


class SerialWriteConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions queue for a lock file first.

    SQLite lets one writer in at a time; the others retry in its busy handler, which
    sleeps 1, 2, 5, 10 ... 100 ms between tries, so a waiter sleeps on while the lock
    is free again, and under many short writes from several processes it can lose race
    after race. Waiting for an exclusive flock on "<database>-writer.lock" before
    BEGIN IMMEDIATE puts the waiters in the kernel instead, which wakes one the moment
    the lock is released (or its holder dies). The busy timeout still covers writers
    that do not take the lock file (`sqlite3` by hand, a backup).
    """

    _held = threading.local()  # does this thread hold the lock through some connection?

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        name = os.fspath(database)
        self._lock_path = None if name in ("", ":memory:") or name.startswith("file:") else name + "-writer.lock"
        self._lock_fd: int | None = None
        self._locked = False

    def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, after waiting for the lock file."""
        if self._lock_path and not getattr(self._held, "value", False):
            # (A thread holding the lock through another connection would wait for
            # itself: that case is left to the busy timeout, as without the lock file.)
            if self._lock_fd is None:
                self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._locked = self._held.value = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._unlock()
            raise

    def _unlock(self) -> None:
        if self._locked:
            self._locked = self._held.value = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._unlock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._unlock()

    def close(self) -> None:
        try:
            self._unlock()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
        finally:
            super().close()


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
# Execution option for a connection that runs a single SELECT: no BEGIN needed on SQLite.
ONE_READ = "voortgang_one_read"
WRITING = "voortgang_writing"


def reads_first(view):
    """Mark a view whose reads need no write lock: it writes only inside `writing()`.

    For the hottest writes (autosave, presence): SQLite's one write lock is then held
    for the few statements of the write itself, not for loading the person and the
    checks before it. Put it below the route decorator; `functools.wraps` in the
    decorators above carries the mark to the registered view.
    """
    view.reads_first = True
    return view


def _reads_first() -> bool:
    return getattr(current_app.view_functions.get(request.endpoint), "reads_first", False)


@contextmanager
def writing():
    """The request's write: end its reads, then run the block in one transaction that
    takes the write lock first (SQLite) and commits; an exception rolls it back.

    What the block decides must rest on what it reads inside, or on a condition in
    its UPDATE, since anything read before may have changed.
    """
    setattr(g, WRITING, True)  # first: these commits leave the request's later transactions as they were
    if db.session().in_transaction():
        db.session.commit()  # ends the read transaction (objects read so far are expired)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        setattr(g, WRITING, False)


def refused() -> None:
    """The request's write was refused: drop what it did, and let the rest of the request
    (rendering the refusal) read without the write lock."""
    db.session.rollback()
    if has_request_context():
        setattr(g, READS_ONLY, True)


def _request_reads_only() -> bool:
    """True when the current request will not write in this transaction.

    GET and HEAD never change state (a test enforces it); a request that has
    committed its one write only reads afterwards (to render the reply); a
    `reads_first` view reads until `writing()`. Those transactions need no write
    lock: in WAL mode readers never wait for writers.
    """
    if not has_request_context():
        return False
    if request.method in ("GET", "HEAD"):
        return True
    if g.get(WRITING, False):
        return False
    return g.get(READS_ONLY, False) or _reads_first()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """Start SQLite transactions that may write with BEGIN IMMEDIATE (take the write lock up front)."""
    if conn.dialect.name != "sqlite":
        return
    if conn.get_execution_options().get(ONE_READ):
        return  # one statement is a transaction of its own
    if _request_reads_only():
        conn.exec_driver_sql("BEGIN")
        return
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, SerialWriteConnection):
        dbapi_connection.begin_immediate()
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    """After a request's write is committed, the rest of the request only reads."""
    if (has_request_context() and request.method not in ("GET", "HEAD") and not _reads_first()
            and not g.get(WRITING, False)):
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
