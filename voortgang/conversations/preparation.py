"""Private preparation: each participant's own notes per question before the meeting.

Nobody but the author ever reads a preparation: the page shows the other side only how
many questions they prepared and whether they are ready to share. Saving one is not a
change to the conversation: it counts nothing and audits nothing, so the other side's
poll cannot even tell when it happened. "Ready to share" (`share`) is a change, recorded
the usual way (`changes.record_change`), and when both sides are ready each side's
preparation becomes its answer wherever that side has none yet (`_reveal`), never
overwriting one. During the meeting `use_preparation` copies one into the answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError

from ..database import utcnow, writing
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Answer, Conversation, ConversationQuestion, Preparation, PreparationShare, User
from ..vocabulary import ROLES, Role
from . import access
from .answers import AnswerState, StaleVersion, answer_limit
from .changes import Event, record_change, without_nul


@dataclass(frozen=True)
class Summary:
    """What either side may know about the preparation: counts and readiness, no text."""

    total: int  # questions in the conversation
    prepared: dict[str, int]  # per role: questions with a preparation
    ready: dict[str, datetime | None]  # per role: when they said "ready to share"

    @property
    def revealed(self) -> bool:
        return all(self.ready.values())


def own_preparations(user: User, conversation: Conversation) -> dict[int, AnswerState]:
    """{question id: preparation} of `user` in this conversation (one query). Only ever
    called with the signed-in person: nobody reads another's preparation."""
    rows = db.session.execute(
        select(Preparation.question_id, Preparation.body, Preparation.version, Preparation.updated_at)
        .join(ConversationQuestion, ConversationQuestion.id == Preparation.question_id)
        .where(ConversationQuestion.conversation_id == conversation.id, Preparation.author_id == user.id))
    return {qid: AnswerState(body, version, at) for qid, body, version, at in rows}


def summary(conversation: Conversation) -> Summary:
    """How many questions each participant prepared, and who is ready (two queries)."""
    ids = {conversation.employee_id: Role.EMPLOYEE, conversation.manager_id: Role.MANAGER}
    counts = db.session.execute(
        select(Preparation.author_id, func.count())
        .join(ConversationQuestion, ConversationQuestion.id == Preparation.question_id)
        .where(ConversationQuestion.conversation_id == conversation.id,
               Preparation.author_id.in_(list(ids)), func.length(func.trim(Preparation.body)) > 0)
        .group_by(Preparation.author_id))
    prepared = {role: 0 for role in ROLES}
    for author_id, count in counts:
        prepared[ids[author_id]] = count
    ready: dict[str, datetime | None] = {role: None for role in ROLES}
    for user_id, at in db.session.execute(
            select(PreparationShare.user_id, PreparationShare.ready_at)
            .where(PreparationShare.conversation_id == conversation.id,
                   PreparationShare.user_id.in_(list(ids)))):
        ready[ids[user_id]] = at
    return Summary(len(conversation.questions), prepared, ready)


def preparation_progress(user: User, conversation_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{conversation id: (questions `user` prepared, questions)} for the home page, the
    conversation list and the reminder (one query)."""
    if not conversation_ids:
        return {}
    prepared = case((func.length(func.trim(func.coalesce(Preparation.body, ""))) > 0, 1), else_=0)
    rows = db.session.execute(
        select(ConversationQuestion.conversation_id, func.sum(prepared), func.count(ConversationQuestion.id))
        .outerjoin(Preparation, and_(Preparation.question_id == ConversationQuestion.id,
                                     Preparation.author_id == user.id))
        .where(ConversationQuestion.conversation_id.in_(conversation_ids))
        .group_by(ConversationQuestion.conversation_id))
    return {cid: (int(done or 0), total) for cid, done, total in rows}


def _question(conversation: Conversation, question_id: int) -> ConversationQuestion:
    question = db.session.get(ConversationQuestion, question_id)
    if question is None or question.conversation_id != conversation.id:
        raise NotFound()
    return question


def _own(user_id: int, question_id: int) -> Preparation | None:
    return db.session.scalar(select(Preparation).where(
        Preparation.question_id == question_id, Preparation.author_id == user_id))


def save_preparation(actor: User, conversation_id: int, question_id: int, body: str, version: int) -> AnswerState:
    """Save the person's own preparation if `version` is the one stored; else StaleVersion.
    Not a change to the conversation: nothing is counted or audited."""
    actor_id = actor.id
    body = without_nul(body)
    try:
        with writing():
            conversation, _role = access.get_writable(actor, conversation_id)
            _question(conversation, question_id)
            if len(body) > answer_limit():
                raise Invalid("too_long", length=len(body), limit=answer_limit())
            stored = _own(actor_id, question_id)
            current = stored.version if stored else 0
            if version != current:
                raise StaleVersion(stored.body, current, stored.updated_at) if stored else StaleVersion("", 0, None)
            if stored is not None and stored.body == body and current > 0:
                return AnswerState(body, current, stored.updated_at)
            if stored is None:
                stored = Preparation(question_id=question_id, author_id=actor_id)
                db.session.add(stored)
            stored.body, stored.version, stored.updated_at = body, current + 1, utcnow()
            db.session.flush()
            saved = AnswerState(stored.body, stored.version, stored.updated_at)
    except IntegrityError:  # two first saves at once (PostgreSQL): as for an old version
        stored = _own(actor_id, question_id)
        raise StaleVersion(stored.body, stored.version, stored.updated_at) if stored else StaleVersion("", 0, None)
    return saved


def _write_answer(answer: Answer | None, question_id: int, role: str, body: str, author_id: int) -> Answer:
    if answer is None:
        answer = Answer(question_id=question_id, role=role, version=0)
        db.session.add(answer)
    answer.body, answer.version = body, (answer.version or 0) + 1
    answer.updated_at, answer.updated_by_id = utcnow(), author_id
    return answer


def share(actor: User, conversation_id: int) -> bool:
    """The person is ready to share their preparation; when the other side is too, both
    are revealed (`_reveal`). Returns whether this revealed them. Saying it twice is fine."""
    with writing():
        conversation, role = access.get_writable(actor, conversation_id)
        ready = set(db.session.scalars(select(PreparationShare.user_id).where(
            PreparationShare.conversation_id == conversation.id)))
        if actor.id in ready:
            return False
        db.session.add(PreparationShare(conversation_id=conversation.id, user_id=actor.id))
        events = [Event("preparation.ready")]
        revealed = conversation.participant_id(role.other) in ready
        copied: list[Answer] = []
        if revealed:
            copied = _reveal(conversation)
            db.session.flush()
            events.append(Event("preparation.revealed", detail=f"{len(copied)} answers"))
            events += [Event("answer.saved", "answer", a.id, f"version {a.version}") for a in copied]
        record_change(actor, conversation, *events, moves_on=bool(copied), withdraws=bool(copied))
    return revealed


def _reveal(conversation: Conversation) -> list[Answer]:
    """Each side's preparation becomes its answer where that side has no answer yet."""
    authors = {conversation.employee_id: Role.EMPLOYEE, conversation.manager_id: Role.MANAGER}
    question_ids = [q.id for q in conversation.questions]
    answers = {(a.question_id, a.role): a for a in db.session.scalars(
        select(Answer).where(Answer.question_id.in_(question_ids)))}
    written = []
    for preparation in db.session.scalars(select(Preparation).where(
            Preparation.question_id.in_(question_ids), Preparation.author_id.in_(list(authors)))
            .order_by(Preparation.id)):
        role = authors[preparation.author_id]
        answer = answers.get((preparation.question_id, role))
        if not preparation.body.strip() or (answer is not None and answer.body.strip()):
            continue  # nothing to bring in, or an answer that is never overwritten
        written.append(_write_answer(answer, preparation.question_id, role, preparation.body,
                                     preparation.author_id))
    return written


def use_preparation(actor: User, conversation_id: int, question_id: int) -> ConversationQuestion:
    """Copy the person's preparation into their answer to the question: the answer when it
    is empty, else added below it (nothing is lost). A change like any answer's."""
    with writing():
        conversation, role = access.get_writable(actor, conversation_id)
        question = _question(conversation, question_id)
        preparation = _own(actor.id, question_id)
        if preparation is None or not preparation.body.strip():
            raise Invalid("preparation_empty")
        answer = db.session.scalar(select(Answer).where(Answer.question_id == question_id, Answer.role == role))
        current = answer.body if answer is not None else ""
        prepared = preparation.body.strip()
        if prepared in current:
            return question  # already in the answer
        body = f"{current.rstrip()}\n\n{prepared}" if current.strip() else prepared
        if len(body) > answer_limit():
            raise Invalid("too_long", length=len(body), limit=answer_limit())
        answer = _write_answer(answer, question_id, role, body, actor.id)
        db.session.flush()
        record_change(actor, conversation, Event("answer.saved", "answer", answer.id, f"version {answer.version}"))
    return question


def my_preparation(user: User, conversation: Conversation) -> dict[str, str]:
    """The author's own preparation for their export: {question id: text}."""
    return {str(qid): p.body for qid, p in own_preparations(user, conversation).items() if p.body}
