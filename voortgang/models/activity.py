"""Around the conversation: private preparation, the audit trail, presence, reminders,
the outbox and the read log."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db

if TYPE_CHECKING:  # (annotations; SQLAlchemy finds the class in its registry)
    from .people import User


# --- Preparation before the meeting -------------------------------------------


class Preparation(db.Model):
    """A participant's private preparation for one question: only its author ever sees it
    (until they reveal it together, when it becomes their answer where they had none).
    Kept per author, not per role: a new manager never inherits the former one's notes."""

    __tablename__ = "preparations"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("conversation_questions.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("question_id", "author_id", name="uq_preparations_question_author"),)


class PreparationShare(db.Model):
    """A participant said "ready to share" their preparation; with both, it was revealed."""

    __tablename__ = "preparation_shares"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuideDismissal(db.Model):
    """A part of the conversation guide a person closed: it stays closed for them."""

    __tablename__ = "guide_dismissals"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[str] = mapped_column(String(30), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- The live view, the audit trail and e-mail ---------------------------------


class AuditEvent(db.Model):
    """Who did what, when (append-only; never the answer text itself)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(50))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    # The conversation's revision after this change: the live view summarises the
    # changes since the revision a page last saw.
    revision: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_audit_events_conversation_revision", "conversation_id", "revision"),)


class Presence(db.Model):
    """Which phase a participant has open, and when their page last said so."""

    __tablename__ = "presence"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[str | None] = mapped_column(String(20))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SentReminder(db.Model):
    """A reminder e-mail that went out, so `voortgang remind` sends each one once."""

    __tablename__ = "sent_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "object_id", "user_id", name="uq_sent_reminders_once"),)


class OutgoingMail(db.Model):
    """An e-mail on its way: written in the transaction that decided to send it, delivered
    after the commit by the app's courier (mail.py), retried on failure, never sent twice."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # the template, e.g. password_link
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    # The whole message (RFC 5322), rendered in the recipient's language when it was decided.
    message: Mapped[bytes] = mapped_column(db.LargeBinary)
    # queued → sending → sent; back to queued after a failure (until failed); a message
    # left in sending by a process that died is never resent: it becomes unknown.
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed', 'unknown')", name="state"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )


class RecordRead(db.Model):
    """Someone other than the two participants opened a completed conversation (its page,
    JSON or PDF): the employee may see who read their record. One row per reader, form
    and day."""

    __tablename__ = "record_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # In what capacity they read it (administrator), as it was at the time.
    capacity: Mapped[str] = mapped_column(String(20))
    # page, json or pdf
    form: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reader: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("conversation_id", "reader_id", "form", "day", name="uq_record_reads_once_a_day"),
        CheckConstraint("form IN ('page', 'json', 'pdf')", name="form_valid"),
    )
