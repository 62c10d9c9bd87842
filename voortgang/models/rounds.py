"""Rounds: "the progress conversations of spring 2027, everyone, done by 31 March".

A round is a period and the people taken in when it started. Which conversation belongs
to a round is derived (rounds/figures.py): while the round is open, a person's latest
conversation as employee scheduled within the period; when it closes, each person's
conversation, state and manager are frozen in `round_people`, so the figures stay.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..vocabulary import ROUND_SCOPES, ROUND_STATES
from .conversation import _enum_check
from .people import User


class Round(db.Model):
    """A round of progress conversations: a name, a period and its people."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # The period as instants (the first day's midnight and the day after the last, in the
    # organisation's time zone), so SQL compares conversations' scheduled_at directly.
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    scope: Mapped[str] = mapped_column(String(10))
    # A team round: this manager's reports (NULL for everyone or chosen people).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The question list planning from the round uses (NULL: the default template then).
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    team: Mapped[User | None] = relationship(foreign_keys=[team_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="period_in_order"),
        _enum_check("scope", ROUND_SCOPES),
    )

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class RoundPerson(db.Model):
    """A person taken into a round when it started. `state`, `conversation_id` and
    `manager_id` are NULL while the round is open (derived then) and frozen at closing."""

    __tablename__ = "round_people"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(20))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("state IS NULL OR state IN (" + ", ".join(f"'{s}'" for s in ROUND_STATES) + ")",
                        name="state_valid"),
        Index("ix_round_people_person", "person_id"),
    )
