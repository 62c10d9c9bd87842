"""The answers: the autosave (the most frequent write), and reading them with the
counts per phase that the stepper shows."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, case, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..database import utcnow, writing
from ..errors import Invalid, NotFound, ReadOnly, Refusal
from ..extensions import db
from ..models import Answer, Conversation, ConversationQuestion, User
from ..vocabulary import PHASES, Role, Status
from .changes import Event, audit, count_change, without_nul


class StaleVersion(Refusal):
    """The answer changed since the edit started; nothing was overwritten."""

    code = "stale_version"
    status = 409

    def __init__(self, body: str, version: int, updated_at: datetime | None):
        super().__init__()
        self.body, self.version, self.updated_at = body, version, updated_at


def answer_limit() -> int:
    return current_app.config["ANSWER_MAX_LENGTH"]


@dataclass(frozen=True)
class AnswerState:
    """An answer as stored (version 0: none yet): what the pages and replies show."""

    body: str
    version: int
    updated_at: datetime | None


@dataclass
class SavedAnswer:
    """The saved answer, and whether parts of the page beyond the field changed with it
    (the status, the signatures, or the count of answered questions)."""

    answer: AnswerState
    record_changed: bool


# The autosave's statements, built once (constructing them costs more than running them).


@cache
def _answer_target_statement():
    """The question with its conversation and the actor's answer: one row, or none."""
    actor_id = bindparam("actor_id", type_=Integer)
    role = case((Conversation.employee_id == actor_id, Role.EMPLOYEE.value), else_=Role.MANAGER.value)
    return (
        select(
            ConversationQuestion.phase,
            Conversation.employee_id,
            Conversation.manager_id,
            Conversation.status,
            Conversation.employee_signed_at,
            Conversation.manager_signed_at,
            Answer.id.label("answer_id"),
            Answer.body,
            Answer.version,
            Answer.updated_at,
        )
        .select_from(ConversationQuestion)
        .join(Conversation, Conversation.id == ConversationQuestion.conversation_id)
        .outerjoin(Answer, and_(Answer.question_id == ConversationQuestion.id, Answer.role == role))
        .where(ConversationQuestion.id == bindparam("question_id", type_=Integer),
               Conversation.id == bindparam("conversation_id", type_=Integer))
        .with_for_update(of=Conversation)  # PostgreSQL: one write per conversation at a time
    )


@cache
def _answer_write_statements():
    answers = Answer.__table__
    values = {"body": bindparam("new_body"), "version": bindparam("new_version"),
              "updated_at": bindparam("now"), "updated_by_id": bindparam("actor_id")}
    insert_answer = insert(answers).values(question_id=bindparam("question_id"), role=bindparam("role"),
                                           **values).returning(answers.c.id)
    update_answer = (update(answers).values(**values)
                     .where(answers.c.id == bindparam("answer_id"), answers.c.version == bindparam("old_version")))
    return insert_answer, update_answer


class _LostRace(Exception):
    """A conditional write found its row changed by someone else."""


def save_answer(actor: User, conversation_id: int, question_id: int, body: str, version: int) -> SavedAnswer:
    """Save the person's own answer if `version` is the one stored; else StaleVersion.

    The autosave is the most frequent write, so it is one short transaction of plain
    statements: read the target, check, write the answer, record the change.
    """
    actor_id = actor.id
    body = without_nul(body)
    limit = answer_limit()
    try:
        with writing():
            connection = db.session.connection()
            row = connection.execute(_answer_target_statement(), {
                "actor_id": actor_id, "question_id": question_id, "conversation_id": conversation_id}).one_or_none()
            if row is None or actor_id not in (row.employee_id, row.manager_id):
                # Not a participant (an administrator reading a record does not write),
                # or no such question in this conversation.
                raise NotFound()
            if row.status == Status.COMPLETED:
                raise ReadOnly()
            if len(body) > limit:
                raise Invalid("too_long", length=len(body), limit=limit)
            role = Role.EMPLOYEE if actor_id == row.employee_id else Role.MANAGER
            current = row.version if row.answer_id is not None else 0
            if version != current:
                raise StaleVersion(row.body, current, row.updated_at) if row.answer_id else StaleVersion("", 0, None)
            if row.answer_id is not None and row.body == body and current > 0:
                # Nothing changed: no new version, no withdrawn signatures.
                return SavedAnswer(AnswerState(body, current, row.updated_at), False)
            now = utcnow()
            values = {"new_body": body, "new_version": current + 1, "now": now, "actor_id": actor_id,
                      "question_id": question_id, "role": role.value, "answer_id": row.answer_id,
                      "old_version": current}
            insert_answer, update_answer = _answer_write_statements()
            if row.answer_id is None:  # a concurrent first save: IntegrityError
                answer_id = connection.execute(insert_answer, values).scalar_one()
            else:
                answer_id = row.answer_id
                if connection.execute(update_answer, values).rowcount != 1:
                    raise _LostRace()
            signed = bool(row.employee_signed_at or row.manager_signed_at)
            revision = count_change(conversation_id, role, planned=row.status == Status.PLANNED, signed=signed)
            withdrawn = (Event("signatures.withdrawn"),) if signed else ()
            audit(actor_id, conversation_id, revision, *withdrawn,
                  Event("answer.saved", "answer", answer_id, f"version {current + 1}"))
    except (_LostRace, IntegrityError):
        # Another save of this answer won between our read and our write (PostgreSQL;
        # SQLite's write lock rules it out): the same reply as for an old version.
        stored = db.session.scalar(select(Answer).where(Answer.question_id == question_id, Answer.role == role))
        raise StaleVersion(stored.body, stored.version, stored.updated_at) if stored else StaleVersion("", 0, None)
    before = (row.status, signed, bool(row.body and row.body.strip()))
    after = (Status.IN_PROGRESS if row.status == Status.PLANNED else row.status, False, bool(body.strip()))
    return SavedAnswer(AnswerState(body, current + 1, now), before != after)


@cache
def _answers_statement():
    return (select(Answer.question_id, Answer.role, Answer.body, Answer.version, Answer.updated_at)
            .join(ConversationQuestion, ConversationQuestion.id == Answer.question_id)
            .where(ConversationQuestion.conversation_id == bindparam("conversation_id")))


def answers_by_question(conversation: Conversation) -> dict[int, dict[str, AnswerState]]:
    """Return {question_id: {role: answer}} in one query of plain rows."""
    result: dict[int, dict[str, AnswerState]] = {q.id: {} for q in conversation.questions}
    rows = db.session.connection().execute(_answers_statement(), {"conversation_id": conversation.id})
    for question_id, role, body, version, updated_at in rows:
        result.setdefault(question_id, {})[role] = AnswerState(body, version, updated_at)
    return result


def progress(conversation: Conversation, answers: dict[int, dict[str, AnswerState]]) -> dict[str, dict]:
    """Per phase: the number of questions and how many each side has answered."""
    return tally_progress(
        (question.phase, {role: answer.body for role, answer in answers.get(question.id, {}).items()})
        for question in conversation.questions
    )


def tally_progress(questions: Iterable[tuple[str, dict[str, str]]]) -> dict[str, dict]:
    """`progress` from (phase, {role: answer text}) per question."""
    result = {phase: {"total": 0, Role.EMPLOYEE: 0, Role.MANAGER: 0} for phase in PHASES}
    for phase, bodies in questions:
        counts = result[phase]
        counts["total"] += 1
        for role, body in bodies.items():
            if body.strip():
                counts[role] += 1
    return result
