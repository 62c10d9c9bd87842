"""The database: transactions (`writing()` for a write, else a read), SQLite's pragmas and
writer lock, UTC timestamps. The rules are in docs/architecture.md, section 3."""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps

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


# Execution option for a connection that runs a single SELECT: no BEGIN needed on SQLite.
ONE_READ = "voortgang_one_read"

# A session's info key: this session is in `writing()` (an inner one joins it).
WRITING = "voortgang_writing"
# In `writing()` (this thread / context): transactions begun now take the write lock.
_writing: ContextVar[bool] = ContextVar("voortgang_writing", default=False)


@contextmanager
def writing():
    """A write, in plain words: the one owner of a change to the database.

    Ends the reads before it (their transaction; objects read so far are expired), then
    runs the block in one transaction that takes the write lock first (SQLite: the
    writer lock file, then BEGIN IMMEDIATE) and commits it; an exception (a `Refusal`
    too) rolls it back. Inside another `writing()` it joins that one: the outermost
    block commits. Outside `writing()` every transaction is a read (plain BEGIN, which
    in WAL mode never waits for a writer), and the session refuses to write in it.

    What the block decides must rest on what it reads inside, or on a condition in its
    UPDATE, since anything read before may have changed.
    """
    session = db.session()
    if session.info.get(WRITING):
        yield
        return
    if session.in_transaction():
        session.commit()  # ends the read transaction
    session.info[WRITING] = True
    token = _writing.set(True)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[WRITING] = False
        _writing.reset(token)


def writes(function):
    """A service function that changes the database: it runs in `writing()`."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with writing():
            return function(*args, **kwargs)

    return wrapper


class WriteOutsideWriting(RuntimeError):
    """Code tried to change the database in a read transaction (a programming error)."""


@event.listens_for(Session, "before_flush")
def _refuse_flush_outside_writing(session, flush_context, instances) -> None:
    if session.info.get(WRITING):
        return
    if session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty):
        raise WriteOutsideWriting("a change to the database outside database.writing()")


@event.listens_for(Session, "do_orm_execute")
def _refuse_statement_outside_writing(state) -> None:
    if not state.session.info.get(WRITING) and (state.is_insert or state.is_update or state.is_delete):
        raise WriteOutsideWriting("a change to the database outside database.writing()")


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """On SQLite, start a transaction in `writing()` with the write lock (BEGIN IMMEDIATE,
    after the lock file), any other with a plain BEGIN (a read)."""
    if conn.dialect.name != "sqlite":
        return
    if conn.get_execution_options().get(ONE_READ):
        return  # one statement is a transaction of its own
    if not _writing.get():
        conn.exec_driver_sql("BEGIN")
        return
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, SerialWriteConnection):
        dbapi_connection.begin_immediate()
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
