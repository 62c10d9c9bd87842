"""Who read a completed record: the read log.

When someone other than the two participants (an administrator) opens a completed
conversation (its page, its JSON, its PDF), that is logged, once per reader, form and
day, and the employee sees the list on their record and in `/me/export.json`. The
participants' own views are never logged, and neither is anything while the
conversation is still open (only participants can see it then).

Logging a read is a write: views call `note_reads` after they have read and rendered
what they show, so the write transaction holds the lock for one INSERT only.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ..database import utcnow, writing
from ..extensions import db
from ..models import Conversation, RecordRead, User
from ..vocabulary import Status

FORMS = ("page", "json", "pdf")
ADMINISTRATOR, MANAGER, OTHER = "administrator", "manager", "other"


@dataclass(frozen=True)
class Read:
    """One logged read, as the employee sees it."""

    conversation_id: int
    scheduled_at: datetime
    reader_id: int | None
    reader_name: str | None
    capacity: str
    form: str
    day: date
    at: datetime


def _capacity(reader: User, conversation: Conversation) -> str:
    if reader.is_admin:
        return ADMINISTRATOR
    if conversation.employee.manager_id == reader.id:
        return MANAGER  # a later manager of the employee
    return OTHER


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def note_reads(reader: User, conversations: Iterable[Conversation], form: str) -> int:
    """Log that `reader` opened these conversations in `form` (page, json, pdf), for each
    one that is completed and in which the reader does not take part. Returns how many
    were logged (a second read the same day adds no row)."""
    if form not in FORMS:
        raise ValueError(f"unknown form of reading: {form!r}")
    now = utcnow()
    rows = [{"conversation_id": c.id, "reader_id": reader.id, "capacity": _capacity(reader, c),
             "form": form, "day": _local_day(now), "at": now}
            for c in conversations
            if c.status == Status.COMPLETED and c.role_of(reader.id) is None]
    if not rows:
        return 0
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RecordRead.__table__).on_conflict_do_nothing(
        index_elements=["conversation_id", "reader_id", "form", "day"])
    with writing():
        db.session.connection().execute(statement, rows)
    return len(rows)


def note_read(reader: User, conversation: Conversation, form: str) -> int:
    return note_reads(reader, [conversation], form)


def reads_of(employee_id: int) -> list[Read]:
    """Every logged read of the records of this employee, the latest first (one query)."""
    rows = db.session.execute(
        select(RecordRead, Conversation.scheduled_at, User.name)
        .join(Conversation, Conversation.id == RecordRead.conversation_id)
        .outerjoin(User, User.id == RecordRead.reader_id)
        .where(Conversation.employee_id == employee_id)
        .order_by(RecordRead.at.desc(), RecordRead.id.desc())
    )
    return [Read(r.conversation_id, scheduled_at, r.reader_id, name, r.capacity, r.form, r.day, r.at)
            for r, scheduled_at, name in rows]


def export_reads(employee_id: int) -> list[dict]:
    """The read log of this employee's records, for `/me/export.json`."""
    return [{"conversation": r.conversation_id,
             "reader": {"id": r.reader_id, "name": r.reader_name} if r.reader_id else None,
             "as": r.capacity, "form": r.form, "day": r.day.isoformat(), "at": r.at.isoformat()}
            for r in reads_of(employee_id)]
