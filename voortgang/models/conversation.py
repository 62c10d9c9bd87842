"""The conversation: question templates, conversations with their questions, answers,
talking points, agreements and reviews."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..vocabulary import (
    AGREEMENT_OWNERS,
    AGREEMENT_STATUSES,
    PHASES,
    REVIEW_RATINGS,
    ROLES,
    STATUSES,
    AgreementStatus,
    Role,
    Status,
)

if TYPE_CHECKING:  # (annotations; SQLAlchemy finds the class in its registry)
    from .people import User


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
        # A person's latest conversation within a period (a round's, rounds/figures.py: belonging).
        Index("ix_conversations_employee_scheduled", "employee_id", "scheduled_at"),
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
    # Stored, not decided here: whether it is a current open agreement (open, in a
    # completed conversation without a completed follow-up), kept by
    # records/facts.py: refresh_facts in the writes that can change it.
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

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
        Index("ix_agreements_current_due", "is_current", "due", "owner", "conversation_id"),
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


class PersonFacts(db.Model):
    """Each person's facts as the administrator's overview filters and sorts by them,
    stored (one row per person who has or had a conversation; none means no
    conversation). Derived from the conversations and agreements by
    records/facts.py: refresh_facts, in the same write as every change that can move
    them; never written anywhere else."""

    __tablename__ = "person_facts"

    employee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # The latest completed conversation (by scheduled time): when, and its next evaluation.
    last_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_evaluation: Mapped[date | None] = mapped_column(Date)
    # The latest open conversation (its status is read from it: it moves on without
    # changing which conversation this is).
    current_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    # The current open agreements: how many, and the earliest due date among them
    # ("overdue" is first_due < today, so nothing needs a daily job).
    open_agreements: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_due: Mapped[date | None] = mapped_column(Date)
