"""Domain rules of the conversation: who may see and write what, status changes, export.

Every function that changes something runs in one short transaction and commits it
(on SQLite it starts with BEGIN IMMEDIATE, so read-modify-write cannot lose updates).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, case, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import mail
from ..database import utcnow, writing
from ..extensions import db
from ..models import (
    AGREEMENT_OWNERS,
    AGREEMENT_STATUSES,
    PHASES,
    REVIEW_DECISIONS,
    REVIEW_RATINGS,
    Agreement,
    AgreementReview,
    Answer,
    AuditEvent,
    Conversation,
    ConversationQuestion,
    TalkingPoint,
    Template,
    User,
)

MAX_TEXT_LENGTH = 10_000  # talking points, agreements, comments
MAX_PLACE_LENGTH = 200


class ConversationError(Exception):
    """A refusal; `code` names it for the view, which shows a translated message."""

    code = "invalid"

    def __init__(self, code: str | None = None, **details):
        super().__init__(code or self.code)
        if code:
            self.code = code
        self.details = details


class NotFound(ConversationError):
    """The conversation (or part of it) does not exist for this person: answer 404."""

    code = "not_found"


class ReadOnly(ConversationError):
    """The conversation is completed; nothing can change any more."""

    code = "read_only"


class Invalid(ConversationError):
    """The input is not acceptable; `code` says why."""


class StaleVersion(ConversationError):
    """The answer changed since the edit started; nothing was overwritten."""

    code = "stale_version"

    def __init__(self, body: str, version: int, updated_at: datetime | None):
        super().__init__()
        self.body, self.version, self.updated_at = body, version, updated_at


# --- Who may see and write what ----------------------------------------------


def role_of(user: User, conversation: Conversation) -> str | None:
    """Return 'employee' or 'manager' when `user` takes part, else None."""
    if user.id == conversation.employee_id:
        return "employee"
    if user.id == conversation.manager_id:
        return "manager"
    return None


def other_role(role: str) -> str:
    return "manager" if role == "employee" else "employee"


def may_view(user: User, conversation: Conversation) -> bool:
    """Participants see it; an administrator reads it once it is completed."""
    if role_of(user, conversation):
        return True
    return user.is_admin and conversation.status == "completed"


def get_visible(user: User, conversation_id: int, *, lock: bool = False) -> Conversation:
    """Return the conversation if `user` may see it; raise NotFound otherwise.

    lock: read it with SELECT ... FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers), so that what a write decides from it (sign: "the other side has
    signed, so it is completed") cannot be overtaken by a concurrent change (an autosave
    withdrawing that signature) until this transaction ends.
    """
    conversation = db.session.get(Conversation, conversation_id, with_for_update=True if lock else None,
                                  populate_existing=lock)
    if conversation is None or not may_view(user, conversation):
        raise NotFound()
    return conversation


def get_writable(user: User, conversation_id: int) -> tuple[Conversation, str]:
    """Return the conversation, locked for this transaction, and the person's role for a
    write; NotFound or ReadOnly."""
    conversation = get_visible(user, conversation_id, lock=True)
    role = role_of(user, conversation)
    if role is None:
        raise NotFound()  # an administrator reading a record does not write in it
    if conversation.status == "completed":
        raise ReadOnly()
    return conversation, role


def conversations_for(user: User) -> list[Conversation]:
    """The conversations the person takes part in, as employee or as manager (of their team)."""
    return list(
        db.session.scalars(
            select(Conversation)
            .where(or_(Conversation.employee_id == user.id, Conversation.manager_id == user.id))
            .options(selectinload(Conversation.employee), selectinload(Conversation.manager))
            .order_by(Conversation.scheduled_at.desc())
        )
    )


# --- Planning ----------------------------------------------------------------


def plannable_employees(actor: User) -> list[User]:
    """Whom `actor` may plan a conversation for: themselves, their reports; all for an admin."""
    query = select(User).where(User.active.is_(True)).order_by(User.name)
    if not actor.is_admin:
        query = query.where(or_(User.id == actor.id, User.manager_id == actor.id))
    return list(db.session.scalars(query))


def possible_managers() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def default_template() -> Template:
    template = db.session.scalar(select(Template).where(Template.is_default.is_(True)).limit(1))
    if template is None:
        raise Invalid("no_template")
    return template


def plan_conversation(
    actor: User,
    *,
    employee_id: int,
    manager_id: int | None,
    scheduled_at: datetime,
    place: str = "",
    purpose: str = "",
    follows_id: int | None = None,
) -> Conversation:
    """Plan a conversation; snapshot the default template's questions."""
    employee = db.session.get(User, employee_id)
    if employee is None or not employee.active:
        raise Invalid("employee_unknown")
    manager_id = manager_id or employee.manager_id
    if manager_id is None:
        raise Invalid("manager_missing")
    manager = db.session.get(User, manager_id)
    if manager is None or not manager.active:
        raise Invalid("manager_unknown")
    if manager.id == employee.id:
        raise Invalid("same_person")
    # Either side of the conversation may plan it (it is an equal conversation); an
    # administrator may plan any. Nobody else, and nobody with someone else's manager.
    if not actor.is_admin:
        if actor.id not in (employee.id, manager.id):
            raise Invalid("not_allowed")
        if manager.id != employee.manager_id:
            raise Invalid("not_their_manager")
    if scheduled_at.tzinfo is None:
        raise ValueError("scheduled_at must be timezone-aware")
    place, purpose = without_nul(place), without_nul(purpose)
    if len(place) > MAX_PLACE_LENGTH or len(purpose) > MAX_TEXT_LENGTH:
        raise Invalid("too_long")
    follows = None
    if follows_id is not None:
        follows = db.session.get(Conversation, follows_id)
        if follows is None or not may_view(actor, follows) or follows.employee_id != employee.id:
            raise Invalid("follows_unknown")
        if follows.status != "completed":
            raise Invalid("follows_not_completed")

    conversation = Conversation(
        employee=employee,
        manager=manager,
        planned_by=actor,
        scheduled_at=scheduled_at,
        place=place.strip(),
        purpose=purpose.strip(),
        follows=follows,
    )
    for question in default_template().questions:
        conversation.questions.append(
            ConversationQuestion(
                phase=question.phase,
                phase_order=question.phase_order,
                position=question.position,
                text_nl=question.text_nl,
                text_en=question.text_en,
            )
        )
    if follows is not None:
        # The open agreements come along; phase 1 of the follow-up reviews them.
        for agreement in follows.agreements:
            if agreement.status == "open":
                conversation.agreements.append(Agreement(
                    text=agreement.text, owner=agreement.owner, due=agreement.due, status="open",
                    carried_from_id=agreement.id, created_by_id=actor.id,
                ))
    db.session.add(conversation)
    db.session.flush()
    _audit(actor, conversation, "conversation.planned", "conversation", conversation.id)
    mail.conversation_planned(conversation, actor)  # queued in this transaction
    db.session.commit()
    return conversation


# --- A new manager ---------------------------------------------------------------

OPEN_STATUSES = ("planned", "in_progress", "awaiting_signatures")
HANDED_OVER = "conversation.manager_changed"


def hand_over_open_conversations(actor: User, employee: User, former_manager_id: int | None) -> int:
    """The employee has another manager: their open conversations with the former one move
    to the new manager, who takes part from now on; the former manager no longer sees
    them. Signatures given so far are withdrawn (the record has a new participant).
    Completed conversations stay with the two people who held them. Each move is audited
    (and shown on the conversation page). Part of the caller's transaction; returns how
    many moved. Without a new manager nothing moves: the former one stays in the open
    conversations until someone else manages the employee.
    """
    new_manager_id = employee.manager_id
    if former_manager_id is None or new_manager_id is None or new_manager_id == former_manager_id:
        return 0
    moved = db.session.scalars(select(Conversation).where(
        Conversation.employee_id == employee.id, Conversation.manager_id == former_manager_id,
        Conversation.status.in_(OPEN_STATUSES))).all()
    for conversation in moved:
        signed = bool(conversation.employee_signed_at or conversation.manager_signed_at)
        conversation.manager_id = new_manager_id
        _bump_revision(conversation, actor, withdraw=signed)
        if signed:
            _audit(actor, conversation, "signatures.withdrawn")
        _audit(actor, conversation, HANDED_OVER, "user", new_manager_id, detail=str(former_manager_id))
    return len(moved)


def handed_over(conversation: Conversation) -> list[dict]:
    """The moves of this conversation to another manager, oldest first, for its page."""
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.conversation_id == conversation.id, AuditEvent.action == HANDED_OVER).order_by(AuditEvent.id)).all()
    people = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({e.object_id for e in events} | {int(e.detail) for e in events if e.detail.isdigit()})))}
    return [{"at": e.at, "former": people.get(int(e.detail)) if e.detail.isdigit() else None,
             "new": people.get(e.object_id)} for e in events]


# --- Changes -----------------------------------------------------------------


def _audit(actor: User, conversation: Conversation, action: str, object_type: str | None = None,
           object_id: int | None = None, detail: str = "") -> None:
    db.session.add(
        AuditEvent(
            actor_id=actor.id,
            conversation_id=conversation.id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
            revision=conversation.revision,
        )
    )
    current_app.logger.info(
        "audit %s by user %s on conversation %s (%s %s)",
        action, actor.id, conversation.id, object_type or "-", object_id or "-",
    )


def _changed(actor: User, conversation: Conversation) -> None:
    """Record that the record changed: the status leaves "planned", signatures are
    withdrawn (and that is audited), the revision goes up."""
    signed = bool(conversation.employee_signed_at or conversation.manager_signed_at)
    _bump_revision(conversation, actor, leave_planned=conversation.status == "planned", withdraw=signed)
    if signed:
        _audit(actor, conversation, "signatures.withdrawn")


def _bump_revision(conversation: Conversation, actor: User, *, leave_planned: bool = False,
                   withdraw: bool = False) -> None:
    """Count a change with the autosave's UPDATE (`_count_change_statement`) and keep the
    loaded conversation in step with the row."""
    db.session.flush()  # what the caller changed goes first, as before
    now = utcnow()
    revision = db.session.connection().execute(
        _count_change_statement(actor.id == conversation.employee_id, leave_planned, withdraw),
        {"now": now, "conversation_id": conversation.id},
    ).scalar_one()
    values = {"revision": revision, "updated_at": now}
    if leave_planned:
        values["status"] = "in_progress"
    if withdraw:
        values.update(employee_signed_at=None, manager_signed_at=None, signatures_withdrawn_at=now)
    for key, value in values.items():
        set_committed_value(conversation, key, value)
    db.session.expire(conversation, ["employee_changes", "manager_changes"])


def without_nul(text: str) -> str:
    """Drop NUL characters: nobody types them, and PostgreSQL cannot store them in text."""
    return text.replace("\x00", "")


def _clean_text(text: str | None, *, required: bool = True, limit: int = MAX_TEXT_LENGTH) -> str:
    text = without_nul(text or "").strip()
    if required and not text:
        raise Invalid("text_missing")
    if len(text) > limit:
        raise Invalid("too_long", length=len(text), limit=limit)
    return text


def answer_limit() -> int:
    return current_app.config["ANSWER_MAX_LENGTH"]


@dataclass(frozen=True)
class AnswerState:
    """An answer as stored: what the autosave reply shows."""

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
    role = case((Conversation.employee_id == actor_id, "employee"), else_="manager")
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


@cache
def _count_change_statement(by_employee: bool, planned: bool, signed: bool):
    """A change to the record as one UPDATE: the status leaves "planned", signatures are
    withdrawn, the revision and the side's change count go up; returns the new revision.
    (The autosave and `_changed` both count changes with it.)"""
    table = Conversation.__table__
    side = table.c.employee_changes if by_employee else table.c.manager_changes
    values = {"updated_at": bindparam("now"), "revision": table.c.revision + 1, side.name: side + 1}
    if planned:
        values["status"] = "in_progress"
    if signed:
        values.update(employee_signed_at=None, manager_signed_at=None, signatures_withdrawn_at=bindparam("now"))
    return (update(table).values(**values).where(table.c.id == bindparam("conversation_id"))
            .returning(table.c.revision))


def save_answer(actor: User, conversation_id: int, question_id: int, body: str, version: int) -> SavedAnswer:
    """Save the person's own answer if `version` is the one stored; else StaleVersion.

    The autosave is the most frequent write, so it is one short transaction of plain
    statements: read the target, check, write the answer, count the change, audit.
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
            if row.status == "completed":
                raise ReadOnly()
            if len(body) > limit:
                raise Invalid("too_long", length=len(body), limit=limit)
            role = "employee" if actor_id == row.employee_id else "manager"
            current = row.version if row.answer_id is not None else 0
            if version != current:
                raise StaleVersion(row.body, current, row.updated_at) if row.answer_id else StaleVersion("", 0, None)
            if row.answer_id is not None and row.body == body and current > 0:
                # Nothing changed: no new version, no withdrawn signatures.
                return SavedAnswer(AnswerState(body, current, row.updated_at), False)
            now = utcnow()
            values = {"new_body": body, "new_version": current + 1, "now": now, "actor_id": actor_id,
                      "question_id": question_id, "role": role, "answer_id": row.answer_id,
                      "old_version": current}
            insert_answer, update_answer = _answer_write_statements()
            if row.answer_id is None:  # a concurrent first save: IntegrityError
                answer_id = connection.execute(insert_answer, values).scalar_one()
            else:
                answer_id = row.answer_id
                if connection.execute(update_answer, values).rowcount != 1:
                    raise _LostRace()
            signed = bool(row.employee_signed_at or row.manager_signed_at)
            revision = connection.execute(
                _count_change_statement(actor_id == row.employee_id, row.status == "planned", signed),
                {"now": now, "conversation_id": conversation_id}).scalar_one()
            events = [("signatures.withdrawn", None, None, "")] if signed else []
            events.append(("answer.saved", "answer", answer_id, f"version {current + 1}"))
            _audit_rows(actor_id, conversation_id, revision, events)
    except (_LostRace, IntegrityError):
        # Another save of this answer won between our read and our write (PostgreSQL;
        # SQLite's write lock rules it out): the same reply as for an old version.
        stored = db.session.scalar(select(Answer).where(Answer.question_id == question_id, Answer.role == role))
        raise StaleVersion(stored.body, stored.version, stored.updated_at) if stored else StaleVersion("", 0, None)
    before = (row.status, signed, bool(row.body and row.body.strip()))
    after = ("in_progress" if row.status == "planned" else row.status, False, bool(body.strip()))
    return SavedAnswer(AnswerState(body, current + 1, now), before != after)


class _LostRace(Exception):
    """A conditional write found its row changed by someone else."""


@cache
def _audit_insert():
    return insert(AuditEvent.__table__)


def _audit_rows(actor_id: int, conversation_id: int, revision: int,
                events: list[tuple[str, str | None, int | None, str]]) -> None:
    """`_audit` as one INSERT, for plain-statement writes: (action, object type, id, detail)."""
    db.session.connection().execute(_audit_insert(), [
        {"actor_id": actor_id, "conversation_id": conversation_id, "action": action, "object_type": kind,
         "object_id": object_id, "detail": detail, "revision": revision, "at": utcnow()}
        for action, kind, object_id, detail in events
    ])
    for action, kind, object_id, _detail in events:
        current_app.logger.info("audit %s by user %s on conversation %s (%s %s)",
                                action, actor_id, conversation_id, kind or "-", object_id or "-")


def add_talking_point(actor: User, conversation_id: int, phase: str, text: str) -> TalkingPoint:
    conversation, role = get_writable(actor, conversation_id)
    if phase not in PHASES:
        raise Invalid("phase_unknown")
    point = TalkingPoint(
        conversation=conversation, phase=phase, author_role=role, author_id=actor.id,
        text=_clean_text(text),
    )
    db.session.add(point)
    db.session.flush()
    _changed(actor, conversation)
    _audit(actor, conversation, "talking_point.added", "talking_point", point.id)
    db.session.commit()
    return point


def _own_point(conversation: Conversation, role: str, point_id: int, *, own: bool) -> TalkingPoint:
    point = db.session.get(TalkingPoint, point_id)
    if point is None or point.conversation_id != conversation.id:
        raise NotFound()
    if own and point.author_role != role:
        raise NotFound()  # only the author edits or removes a point
    return point


def edit_talking_point(actor: User, conversation_id: int, point_id: int, text: str) -> TalkingPoint:
    conversation, role = get_writable(actor, conversation_id)
    point = _own_point(conversation, role, point_id, own=True)
    text = _clean_text(text)
    if text != point.text:
        point.text = text
        point.updated_at = utcnow()
        _changed(actor, conversation)
        _audit(actor, conversation, "talking_point.edited", "talking_point", point.id)
    db.session.commit()
    return point


def remove_talking_point(actor: User, conversation_id: int, point_id: int) -> str:
    """Remove the person's own point; return its phase."""
    conversation, role = get_writable(actor, conversation_id)
    point = _own_point(conversation, role, point_id, own=True)
    phase = point.phase
    db.session.delete(point)
    _changed(actor, conversation)
    _audit(actor, conversation, "talking_point.removed", "talking_point", point_id)
    db.session.commit()
    return phase


def mark_discussed(actor: User, conversation_id: int, point_id: int, discussed: bool) -> TalkingPoint:
    conversation, role = get_writable(actor, conversation_id)
    point = _own_point(conversation, role, point_id, own=False)
    if point.discussed != discussed:
        point.discussed = discussed
        point.updated_at = utcnow()
        _changed(actor, conversation)
        _audit(actor, conversation, "talking_point.discussed" if discussed else "talking_point.undiscussed",
               "talking_point", point.id)
    db.session.commit()
    return point


def _agreement_fields(text: str, owner: str, due: date | None, status: str) -> dict:
    if owner not in AGREEMENT_OWNERS:
        raise Invalid("owner_unknown")
    if status not in AGREEMENT_STATUSES:
        raise Invalid("status_unknown")
    return {"text": _clean_text(text), "owner": owner, "due": due, "status": status}


def add_agreement(actor: User, conversation_id: int, *, text: str, owner: str,
                  due: date | None, status: str = "open") -> Agreement:
    conversation, _role = get_writable(actor, conversation_id)
    agreement = Agreement(conversation=conversation, created_by_id=actor.id,
                          **_agreement_fields(text, owner, due, status))
    db.session.add(agreement)
    db.session.flush()
    _changed(actor, conversation)
    _audit(actor, conversation, "agreement.added", "agreement", agreement.id)
    db.session.commit()
    return agreement


def edit_agreement(actor: User, conversation_id: int, agreement_id: int, *, text: str, owner: str,
                   due: date | None, status: str) -> Agreement:
    conversation, _role = get_writable(actor, conversation_id)
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or agreement.conversation_id != conversation.id:
        raise NotFound()
    fields = _agreement_fields(text, owner, due, status)
    if any(getattr(agreement, key) != value for key, value in fields.items()):
        for key, value in fields.items():
            setattr(agreement, key, value)
        agreement.updated_at = utcnow()
        _changed(actor, conversation)
        _audit(actor, conversation, "agreement.edited", "agreement", agreement.id)
    db.session.commit()
    return agreement


def _carried_agreement(conversation: Conversation, agreement_id: int) -> Agreement:
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or agreement.conversation_id != conversation.id or agreement.carried_from_id is None:
        raise NotFound()
    return agreement


def review_agreement(actor: User, conversation_id: int, agreement_id: int, rating: str,
                     comment: str = "") -> Agreement:
    """Rate a carried agreement (done / partly / not done) from the person's own side."""
    conversation, role = get_writable(actor, conversation_id)
    agreement = _carried_agreement(conversation, agreement_id)
    if rating not in REVIEW_RATINGS:
        raise Invalid("rating_unknown")
    comment = _clean_text(comment, required=False)
    review = agreement.review(role)
    if review is None:
        review = AgreementReview(agreement=agreement, role=role, rating=rating, comment=comment)
        db.session.add(review)
    elif (review.rating, review.comment) == (rating, comment):
        db.session.rollback()
        return agreement
    review.rating, review.comment, review.updated_at = rating, comment, utcnow()
    db.session.flush()
    _changed(actor, conversation)
    _audit(actor, conversation, "agreement.reviewed", "agreement", agreement.id, f"{role}: {rating}")
    db.session.commit()
    return agreement


DECISION_STATUS = {"closed": "done", "carried": "open", "dropped": "dropped"}


def decide_agreement(actor: User, conversation_id: int, agreement_id: int, decision: str) -> Agreement:
    """Either participant records what the pair decided: close it, carry it on, or drop it."""
    conversation, _role = get_writable(actor, conversation_id)
    agreement = _carried_agreement(conversation, agreement_id)
    if decision not in REVIEW_DECISIONS:
        raise Invalid("decision_unknown")
    if agreement.decision != decision:
        agreement.decision = decision
        agreement.status = DECISION_STATUS[decision]
        agreement.updated_at = utcnow()
        _changed(actor, conversation)
        _audit(actor, conversation, "agreement.decided", "agreement", agreement.id, decision)
    db.session.commit()
    return agreement


def set_next_evaluation(actor: User, conversation_id: int, when: date | None) -> Conversation:
    conversation, _role = get_writable(actor, conversation_id)
    if when is not None and when < conversation.scheduled_at.date():
        raise Invalid("next_evaluation_past")
    if conversation.next_evaluation != when:
        if when is None and conversation.status == "awaiting_signatures":
            raise Invalid("next_evaluation_required")
        conversation.next_evaluation = when
        _changed(actor, conversation)
        _audit(actor, conversation, "next_evaluation.set")
    db.session.commit()
    return conversation


# --- Sign-off ----------------------------------------------------------------


def propose_close(actor: User, conversation_id: int) -> Conversation:
    """Either side proposes to close: the record then awaits both signatures."""
    conversation, _role = get_writable(actor, conversation_id)
    if conversation.status == "awaiting_signatures":
        db.session.rollback()
        return conversation
    if conversation.next_evaluation is None:
        raise Invalid("next_evaluation_required")
    conversation.status = "awaiting_signatures"
    conversation.updated_at = utcnow()
    _bump_revision(conversation, actor)
    _audit(actor, conversation, "conversation.proposed_close")
    mail.signature_needed(conversation, actor)
    db.session.commit()
    return conversation


def reopen(actor: User, conversation_id: int) -> Conversation:
    """Take back a proposal to close (signatures given so far are withdrawn)."""
    conversation, _role = get_writable(actor, conversation_id)
    if conversation.status != "awaiting_signatures":
        db.session.rollback()
        return conversation
    _changed(actor, conversation)
    conversation.status = "in_progress"
    _audit(actor, conversation, "conversation.reopened")
    db.session.commit()
    return conversation


def sign(actor: User, conversation_id: int, comment: str = "") -> Conversation:
    """Sign the record with an optional closing comment; with both signatures it is completed."""
    conversation, role = get_writable(actor, conversation_id)
    if conversation.status != "awaiting_signatures":
        raise Invalid("not_awaiting_signatures")
    comment = _clean_text(comment, required=False)
    now = utcnow()
    if role == "employee":
        conversation.employee_signed_at, conversation.employee_comment = now, comment
    else:
        conversation.manager_signed_at, conversation.manager_comment = now, comment
    conversation.signatures_withdrawn_at = None
    if conversation.employee_signed_at and conversation.manager_signed_at:
        conversation.status = "completed"
        conversation.completed_at = now
    conversation.updated_at = now
    _bump_revision(conversation, actor)
    _audit(actor, conversation, "conversation.signed", detail=role)
    if conversation.status == "completed":
        _audit(actor, conversation, "conversation.completed")
    else:
        mail.signature_needed(conversation, actor)
    db.session.commit()
    return conversation


# --- Reading -----------------------------------------------------------------


def answers_by_question(conversation: Conversation) -> dict[int, dict[str, Answer]]:
    """Return {question_id: {role: answer}} in one query."""
    result: dict[int, dict[str, Answer]] = {q.id: {} for q in conversation.questions}
    rows = db.session.scalars(
        select(Answer).join(ConversationQuestion).where(ConversationQuestion.conversation_id == conversation.id)
    )
    for answer in rows:
        result.setdefault(answer.question_id, {})[answer.role] = answer
    return result


def progress(conversation: Conversation, answers: dict[int, dict[str, Answer]]) -> dict[str, dict]:
    """Per phase: the number of questions and how many each side has answered."""
    return tally_progress(
        (question.phase, {role: answer.body for role, answer in answers.get(question.id, {}).items()})
        for question in conversation.questions
    )


def tally_progress(questions: Iterable[tuple[str, dict[str, str]]]) -> dict[str, dict]:
    """`progress` from (phase, {role: answer text}) per question."""
    result = {phase: {"total": 0, "employee": 0, "manager": 0} for phase in PHASES}
    for phase, bodies in questions:
        counts = result[phase]
        counts["total"] += 1
        for role, body in bodies.items():
            if body.strip():
                counts[role] += 1
    return result


def next_step(user: User, conversation: Conversation) -> str:
    """A code for what this conversation needs next from `user` (the view translates it)."""
    role = role_of(user, conversation)
    if conversation.status == "completed":
        return "completed"
    if conversation.status == "awaiting_signatures":
        if role and conversation.signed_at(role) is None:
            return "sign"
        return "wait_signature"
    if conversation.status == "planned":
        return "prepare"
    return "continue"


def _person(user: User) -> dict:
    return {"id": user.id, "name": user.name, "email": user.email}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export(conversation: Conversation, answers: dict[int, dict[str, Answer]] | None = None) -> dict:
    """The conversation as JSON: an outside interface that scripts rely on (keys are only ever added).

    answers: {question id: {role: answer}} when the caller loaded them already."""
    if answers is None:
        answers = answers_by_question(conversation)
    phases = []
    for phase in PHASES:
        questions = []
        for question in conversation.questions:
            if question.phase != phase:
                continue
            by_role = answers.get(question.id, {})
            questions.append({
                "id": question.id,
                "text": {"nl": question.text_nl, "en": question.text_en},
                "answers": {
                    role: (
                        {"body": a.body, "version": a.version, "updated_at": _iso(a.updated_at)}
                        if (a := by_role.get(role)) else None
                    )
                    for role in ("employee", "manager")
                },
            })
        phases.append({"key": phase, "questions": questions})
    return {
        "id": conversation.id,
        "status": conversation.status,
        "employee": _person(conversation.employee),
        "manager": _person(conversation.manager),
        "scheduled_at": _iso(conversation.scheduled_at),
        "place": conversation.place,
        "purpose": conversation.purpose,
        "follows": conversation.follows_id,
        "next_evaluation": conversation.next_evaluation.isoformat() if conversation.next_evaluation else None,
        "revision": conversation.revision,
        "phases": phases,
        "talking_points": [
            {"id": p.id, "author": p.author_role, "phase": p.phase, "text": p.text, "discussed": p.discussed}
            for p in conversation.talking_points
        ],
        "agreements": [
            {"id": a.id, "text": a.text, "owner": a.owner,
             "due": a.due.isoformat() if a.due else None, "status": a.status,
             "carried_from": a.carried_from_id, "decision": a.decision,
             "reviews": {role: ({"rating": r.rating, "comment": r.comment} if (r := a.review(role)) else None)
                         for role in ("employee", "manager")}}
            for a in conversation.agreements
        ],
        "signatures": {
            "employee": _iso(conversation.employee_signed_at),
            "manager": _iso(conversation.manager_signed_at),
        },
        "closing_comments": {
            "employee": conversation.employee_comment or None,
            "manager": conversation.manager_comment or None,
        },
    }
