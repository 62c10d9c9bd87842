"""The domain model (described in docs/architecture.md)."""
from __future__ import annotations

import secrets
import time
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .database import UTCDateTime, utcnow
from .extensions import db
from .vocabulary import (  # noqa: F401  (the tuples are imported from here too)
    AGREEMENT_OWNERS,
    AGREEMENT_STATUSES,
    PHASES,
    REVIEW_DECISIONS,
    REVIEW_RATINGS,
    ROLES,
    STATUSES,
    AgreementStatus,
    Role,
    Status,
)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (stripped, lower-case), which makes it unique case-insensitively.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the id in every session and remember cookie; rotating it ends them all.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person was deactivated (left): the retention period counts from here.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an administrator erased the person's data on request (only the name stays).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    manager: Mapped[User | None] = relationship(remote_side=[id], back_populates="reports")
    reports: Mapped[list[User]] = relationship(back_populates="manager")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive people
        return self.active

    def get_id(self) -> str:
        # Flask-Login stores this at sign-in in the session and the remember cookie:
        # the session token (rotated to end all sessions) and the sign-in time
        # (which bounds how long any session or remember cookie lives).
        return f"{self.id}:{self.session_token}:{int(time.time())}"

    def end_sessions(self) -> None:
        """Invalidate every session and remember cookie of this person."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class LoginFailure(db.Model):
    """One failed sign-in; counted per account and per address to throttle guessing."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )


class Setting(db.Model):
    """A small piece of installation state shared by every app process."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- The conversation -------------------------------------------------------

def _enum_check(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


class Template(db.Model):
    """A question list per phase; conversations copy it when they are planned."""

    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    questions: Mapped[list[TemplateQuestion]] = relationship(
        back_populates="template",
        order_by="(TemplateQuestion.phase_order, TemplateQuestion.position)",
        cascade="all, delete-orphan",
    )


class TemplateQuestion(db.Model):
    __tablename__ = "template_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(String(20))
    phase_order: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    text_nl: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)

    template: Mapped[Template] = relationship(back_populates="questions")

    __table_args__ = (_enum_check("phase", PHASES),)


class Conversation(db.Model):
    """One voortgangsgesprek between an employee and a manager."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    follows_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=Status.PLANNED, index=True)
    next_evaluation: Mapped[date | None] = mapped_column(Date)
    # Bumped by every change (calendar SEQUENCE, audit events, export) ...
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # ... and per side, so a page polls only for the other participant's changes.
    employee_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    manager_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    employee_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manager_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    employee_comment: Mapped[str] = mapped_column(Text, default="")
    manager_comment: Mapped[str] = mapped_column(Text, default="")
    # Set when a change withdrew signatures, so the page can say so; cleared on signing.
    signatures_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee: Mapped[User] = relationship(foreign_keys=[employee_id])
    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    planned_by: Mapped[User | None] = relationship(foreign_keys=[planned_by_id])
    follows: Mapped[Conversation | None] = relationship(remote_side=[id])
    questions: Mapped[list[ConversationQuestion]] = relationship(
        back_populates="conversation",
        order_by="(ConversationQuestion.phase_order, ConversationQuestion.position)",
        cascade="all, delete-orphan",
    )
    talking_points: Mapped[list[TalkingPoint]] = relationship(
        back_populates="conversation", order_by="TalkingPoint.id", cascade="all, delete-orphan"
    )
    agreements: Mapped[list[Agreement]] = relationship(
        back_populates="conversation",
        order_by="Agreement.id",
        cascade="all, delete-orphan",
        foreign_keys="Agreement.conversation_id",
    )

    __table_args__ = (
        _enum_check("status", STATUSES),
        CheckConstraint("employee_id <> manager_id", name="two_people"),
        Index("ix_conversations_employee_status", "employee_id", "status", "scheduled_at"),
        Index("ix_conversations_follows_status", "follows_id", "status"),
        Index("ix_conversations_manager_status", "manager_id", "status", "scheduled_at"),
    )

    def role_of(self, user_id: int) -> Role | None:
        """The role of the person with this id in this conversation; None: not taking part."""
        if user_id == self.employee_id:
            return Role.EMPLOYEE
        if user_id == self.manager_id:
            return Role.MANAGER
        return None

    def participant(self, role: str) -> User:
        return self.employee if role == Role.EMPLOYEE else self.manager

    def participant_id(self, role: str) -> int:
        return self.employee_id if role == Role.EMPLOYEE else self.manager_id

    def changes_by(self, role: str) -> int:
        """How many changes this side has made (the live view polls for the other side's)."""
        return self.employee_changes if role == Role.EMPLOYEE else self.manager_changes

    def signed_at(self, role: str) -> datetime | None:
        return self.employee_signed_at if role == Role.EMPLOYEE else self.manager_signed_at

    def comment(self, role: str) -> str:
        return self.employee_comment if role == Role.EMPLOYEE else self.manager_comment


class ConversationQuestion(db.Model):
    """A question as it was in the template when the conversation was planned."""

    __tablename__ = "conversation_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    phase: Mapped[str] = mapped_column(String(20))
    phase_order: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    text_nl: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)

    conversation: Mapped[Conversation] = relationship(back_populates="questions")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="question", cascade="all, delete-orphan"
    )

    __table_args__ = (_enum_check("phase", PHASES),)

    def text(self, locale: str) -> str:
        return self.text_nl if locale == "nl" else self.text_en


class Answer(db.Model):
    """One participant's answer to one question."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_questions.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    question: Mapped[ConversationQuestion] = relationship(back_populates="answers")

    __table_args__ = (
        UniqueConstraint("question_id", "role", name="uq_answers_question_role"),
        _enum_check("role", ROLES),
    )


class TalkingPoint(db.Model):
    """A point either participant brings in (aandachtspunt)."""

    __tablename__ = "talking_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    phase: Mapped[str] = mapped_column(String(20))
    author_role: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    discussed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="talking_points")

    __table_args__ = (_enum_check("phase", PHASES), _enum_check("author_role", ROLES))


class Agreement(db.Model):
    """An action agreed in phase 3: what, who, by when, status."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(20))
    due: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10), default=AgreementStatus.OPEN, index=True)
    carried_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # In a follow-up, what the pair decided about an agreement carried from before.
    decision: Mapped[str | None] = mapped_column(String(10))

    conversation: Mapped[Conversation] = relationship(
        back_populates="agreements", foreign_keys=[conversation_id]
    )
    carried_from: Mapped[Agreement | None] = relationship(remote_side=[id])
    reviews: Mapped[list[AgreementReview]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan"
    )

    __table_args__ = (
        _enum_check("owner", AGREEMENT_OWNERS),
        _enum_check("status", AGREEMENT_STATUSES),
        Index("ix_agreements_conversation_status_due", "conversation_id", "status", "due"),
        CheckConstraint(
            "decision IS NULL OR decision IN ('closed', 'carried', 'dropped')", name="decision_valid"
        ),
    )

    def review(self, role: str) -> AgreementReview | None:
        return next((r for r in self.reviews if r.role == role), None)


class AgreementReview(db.Model):
    """One participant's rating of a carried agreement in the follow-up."""

    __tablename__ = "agreement_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    rating: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="reviews")

    __table_args__ = (
        UniqueConstraint("agreement_id", "role", name="uq_agreement_reviews_agreement_role"),
        _enum_check("role", ROLES),
        _enum_check("rating", REVIEW_RATINGS),
    )


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
