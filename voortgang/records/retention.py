"""How long records are kept, and erasing them.

A person's conversations as employee are their personnel record. Once they have left
(were deactivated) more than `RETENTION_YEARS` whole years ago, `voortgang retention
--apply` erases them (the Dutch data protection authority's guidance for personnel
files: in general no longer than two years after employment ends). Without `--apply`
the command lists what it would erase and changes nothing.

`erase_conversations` is the one function that deletes conversations with everything
hanging off them; retention and erasure on request (erasure.py) both use it. Every
table that refers to a conversation, or to a part of one, is named in it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, func, insert, or_, select, update

from ..database import utcnow, writing
from ..extensions import db
from ..models import (
    Agreement,
    AgreementReview,
    Answer,
    AuditEvent,
    Conversation,
    ConversationQuestion,
    PersonFacts,
    Preparation,
    PreparationShare,
    Presence,
    RecordRead,
    RoundPerson,
    SentReminder,
    TalkingPoint,
    User,
)
from .facts import refresh_facts

CHUNK = 500  # ids per statement: far below any database's limit of parameters
# Reminders name a conversation or an agreement by id (mail.py: due_reminders).
CONVERSATION_REMINDERS = ("conversation_tomorrow", "next_evaluation")
AGREEMENT_REMINDERS = ("agreement_overdue",)


def retention_years() -> int:
    return current_app.config["RETENTION_YEARS"]


def years_after(moment: datetime, years: int) -> datetime:
    """The same moment `years` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def years_before(moment: datetime, years: int) -> datetime:
    return years_after(moment, -years)


@dataclass(frozen=True)
class Counts:
    """What a person's record as employee holds."""

    conversations: int = 0
    answers: int = 0
    agreements: int = 0
    talking_points: int = 0


@dataclass(frozen=True)
class Due:
    """One person whose records are (or will be) erased, with what would go."""

    person_id: int
    name: str
    deactivated_at: datetime
    erase_after: datetime
    counts: Counts

    @property
    def conversations(self) -> int:
        return self.counts.conversations

    def as_line(self) -> str:
        c = self.counts
        return (f"{self.name} (id {self.person_id}, left {self.deactivated_at.date().isoformat()}): "
                f"{c.conversations} conversation(s), {c.answers} answer(s), "
                f"{c.agreements} agreement(s), {c.talking_points} talking point(s)")


def _count(model, conversation_column, person_ids: Sequence[int], join=None) -> dict[int, int]:
    query = select(Conversation.employee_id, func.count()).select_from(model)
    if join is not None:
        query = query.join(*join)
    if model is not Conversation:
        query = query.join(Conversation, Conversation.id == conversation_column)
    query = query.where(
        Conversation.employee_id.in_(person_ids)).group_by(Conversation.employee_id)
    return dict(db.session.execute(query).all())


def record_counts(person_ids: Sequence[int]) -> dict[int, Counts]:
    """What each person's record as employee holds (four queries for all of them)."""
    if not person_ids:
        return {}
    conversations = _count(Conversation, Conversation.id, person_ids)
    answers = _count(Answer, ConversationQuestion.conversation_id, person_ids,
                     join=(ConversationQuestion, ConversationQuestion.id == Answer.question_id))
    agreements = _count(Agreement, Agreement.conversation_id, person_ids)
    points = _count(TalkingPoint, TalkingPoint.conversation_id, person_ids)
    return {i: Counts(conversations.get(i, 0), answers.get(i, 0), agreements.get(i, 0), points.get(i, 0))
            for i in person_ids}


def leavers(until: datetime | None = None, counts: bool = True) -> list[Due]:
    """Deactivated people who still have conversations as employee, with the moment their
    records are due for erasure; only those due by `until` when it is given. A handful
    of queries whatever the number of people (one without `counts`)."""
    years = retention_years()
    people = db.session.execute(
        select(User.id, User.name, User.deactivated_at)
        .where(User.active.is_(False), User.deactivated_at.is_not(None),
               select(Conversation.id).where(Conversation.employee_id == User.id).exists())
        .order_by(User.deactivated_at, User.id)
    ).all()
    if until is not None:
        people = [p for p in people if years_after(p.deactivated_at, years) <= until]
    held = record_counts([p.id for p in people]) if counts else {}
    return [Due(p.id, p.name, p.deactivated_at, years_after(p.deactivated_at, years), held.get(p.id, Counts()))
            for p in people]


def due_for_erasure(now: datetime | None = None) -> list[Due]:
    """The people whose records are kept too long now."""
    return leavers(until=now or utcnow())


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def erase_conversations(ids: Sequence[int]) -> int:
    """Delete these conversations and everything hanging off them, inside the caller's
    `writing()`. Follow-ups and carried agreements outside `ids` lose only their link.
    Returns how many conversations were deleted.

    Every table that refers to a conversation or to a part of one is named here (not
    left to ON DELETE CASCADE), so one place says what erasing takes along.
    """
    deleted = 0
    session = db.session
    people: set[int] = set()  # whose stored facts change (records/facts.py)
    for chunk in _chunks(sorted(set(ids))):
        people.update(session.scalars(select(Conversation.employee_id).where(Conversation.id.in_(chunk))))
        questions = select(ConversationQuestion.id).where(ConversationQuestion.conversation_id.in_(chunk))
        agreements = select(Agreement.id).where(Agreement.conversation_id.in_(chunk))
        plain = {"synchronize_session": False}
        session.execute(delete(Answer).where(Answer.question_id.in_(questions)), execution_options=plain)
        session.execute(delete(Preparation).where(Preparation.question_id.in_(questions)), execution_options=plain)
        session.execute(delete(AgreementReview).where(AgreementReview.agreement_id.in_(agreements)),
                        execution_options=plain)
        session.execute(update(Agreement).where(Agreement.carried_from_id.in_(agreements),
                                                Agreement.conversation_id.not_in(chunk))
                        .values(carried_from_id=None), execution_options=plain)
        session.execute(delete(SentReminder).where(or_(
            SentReminder.kind.in_(CONVERSATION_REMINDERS) & SentReminder.object_id.in_(chunk),
            SentReminder.kind.in_(AGREEMENT_REMINDERS) & SentReminder.object_id.in_(agreements),
        )), execution_options=plain)
        # Agreements carried within the chunk point at each other: unlink before deleting.
        session.execute(update(Agreement).where(Agreement.conversation_id.in_(chunk))
                        .values(carried_from_id=None), execution_options=plain)
        for model in (Agreement, TalkingPoint, ConversationQuestion, Presence, PreparationShare, RecordRead,
                      AuditEvent):
            session.execute(delete(model).where(model.conversation_id.in_(chunk)), execution_options=plain)
        session.execute(update(Conversation).where(Conversation.follows_id.in_(chunk))
                        .values(follows_id=None), execution_options=plain)
        # A closed round keeps the person's frozen state, without the erased conversation.
        session.execute(update(RoundPerson).where(RoundPerson.conversation_id.in_(chunk))
                        .values(conversation_id=None), execution_options=plain)
        session.execute(update(PersonFacts).where(PersonFacts.current_id.in_(chunk))
                        .values(current_id=None), execution_options=plain)
        deleted += session.execute(delete(Conversation).where(Conversation.id.in_(chunk)),
                                   execution_options=plain).rowcount
    # A follow-up erased without the conversation it followed makes that one's open
    # agreements current again: recompute the people's stored facts.
    refresh_facts(people)
    session.expire_all()
    return deleted


def conversations_as_employee(person_id: int) -> list[int]:
    return list(db.session.scalars(select(Conversation.id).where(Conversation.employee_id == person_id)))


def apply_retention(now: datetime | None = None) -> list[Due]:
    """Erase the records kept too long, all in one transaction; each person's erasure
    leaves an audit entry without content (whose, how many, when). Returns what went."""
    with writing():
        due = due_for_erasure(now)
        for person in due:
            erase_conversations(conversations_as_employee(person.person_id))
            db.session.execute(insert(AuditEvent).values(
                at=utcnow(), actor_id=None, action="retention.erased", object_type="user",
                object_id=person.person_id, detail=f"conversations={person.conversations}"))
    return due


@click.command("retention")
@click.option("--apply", "apply_", is_flag=True, help="Erase them (without it: only list what would go).")
@with_appcontext
def retention_command(apply_: bool) -> None:
    """Erase the records of people who left more than RETENTION_YEARS years ago."""
    years = retention_years()
    if apply_:
        due = apply_retention()
        for person in due:
            click.echo(f"Erased: {person.as_line()}")
        click.echo(f"Erased the records of {len(due)} person(s) who left more than {years} year(s) ago."
                   if due else f"Nothing to erase: nobody left more than {years} year(s) ago with records kept.")
        return
    due = due_for_erasure()
    for person in due:
        click.echo(f"Would erase: {person.as_line()}")
    if due:
        click.echo(f"{len(due)} person(s) left more than {years} year(s) ago. Nothing changed: "
                   "run `voortgang retention --apply` to erase.")
    else:
        click.echo(f"Nothing to erase: nobody left more than {years} year(s) ago with records kept.")
