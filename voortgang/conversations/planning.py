"""Planning a conversation (a follow-up takes the open agreements along), and handing
open conversations over to an employee's new manager."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from .. import mail
from ..database import writes
from ..errors import Invalid
from ..extensions import db
from ..models import Agreement, AuditEvent, Conversation, ConversationQuestion, Template, User
from ..vocabulary import OPEN_STATUSES, AgreementStatus, Status
from .access import may_view
from ..records.facts import refresh_facts
from .changes import MAX_TEXT_LENGTH, Event, audit, record_change, without_nul

MAX_PLACE_LENGTH = 200
HANDED_OVER = "conversation.manager_changed"


# An administrator may plan for anyone: the form offers at most this many people at
# once, those whose name or e-mail address matches a search (people/service.py: matching).
CHOICES = 50


def plannable_employees(actor: User, query: str = "", include: Iterable[int | None] = ()) -> tuple[list[User], int]:
    """Whom `actor` may plan a conversation for, as the form offers them, and how many
    there are in all: themselves and their reports; for an administrator everyone active,
    of whom the first CHOICES matching `query` are offered, plus the people in `include`
    (the one chosen or pre-selected)."""
    from ..people.service import matching

    active = select(User).where(User.active.is_(True))
    if not actor.is_admin:
        people = list(db.session.scalars(
            active.where((User.id == actor.id) | (User.manager_id == actor.id)).order_by(User.name)))
        return people, len(people)
    condition = matching(query)
    if condition is not None:
        active = active.where(condition)
    rows = db.session.execute(active.add_columns(func.count().over())
                              .order_by(func.lower(User.name), User.id).limit(CHOICES)).all()
    people, total = [person for person, _total in rows], rows[0][1] if rows else 0
    wanted = _ids(include)
    if wanted:  # (read even when they are among the first: the same statements at any size)
        shown = {person.id for person in people}
        people += [person for person in db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(wanted)))
                   if person.id not in shown]
        people.sort(key=lambda person: (person.name.lower(), person.id))
    return people, total


def _ids(values: Iterable[int | None]) -> list[int]:
    """The ids among `values` that can be a row's (from a form or a link: anything)."""
    return [value for value in values if value is not None and 0 < value < 2**31]


def possible_managers(include: Iterable[int | None] = ()) -> list:
    """Whom an administrator is offered as the manager, as rows of (id, name): the active
    people who manage someone active, and the people in `include` (the one chosen or
    pre-selected). Any active person is still accepted (plan_conversation decides), only
    not listed."""
    report = aliased(User)
    manages = select(report.id).where(report.manager_id == User.id, report.active.is_(True)).exists()
    wanted = _ids(include)
    return list(db.session.execute(select(User.id, User.name)
                                   .where(User.active.is_(True), or_(manages, User.id.in_(wanted)))
                                   .order_by(func.lower(User.name), User.id)))


def default_template() -> Template:
    template = db.session.scalar(select(Template).where(Template.is_default.is_(True)).limit(1))
    if template is None:
        raise Invalid("no_template")
    return template


@writes
def plan_conversation(
    actor: User,
    *,
    employee_id: int,
    manager_id: int | None,
    scheduled_at: datetime,
    place: str = "",
    purpose: str = "",
    follows_id: int | None = None,
    template_id: int | None = None,
) -> Conversation:
    """Plan a conversation; snapshot the questions of the template (by default the
    default template; a round names its own)."""
    employee = db.session.get(User, employee_id)
    if employee is None or not employee.active:
        raise Invalid("employee_unknown")
    manager_id = manager_id or employee.manager_id
    if manager_id is None:
        raise Invalid("manager_missing")
    manager = db.session.get(User, manager_id)
    if manager is None or not manager.active:
        raise Invalid("manager_not_chosen")
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
        if follows.status != Status.COMPLETED:
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
    template = db.session.get(Template, template_id) if template_id is not None else None
    for question in (template or default_template()).questions:
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
            if agreement.status == AgreementStatus.OPEN:
                conversation.agreements.append(Agreement(
                    text=agreement.text, owner=agreement.owner, due=agreement.due, status=AgreementStatus.OPEN,
                    carried_from_id=agreement.id, created_by_id=actor.id,
                ))
    db.session.add(conversation)
    db.session.flush()
    audit(actor.id, conversation.id, conversation.revision, Event("conversation.planned", "conversation", conversation.id))
    refresh_facts([employee.id])  # it may be the person's latest open conversation now
    mail.conversation_planned(conversation, actor)  # queued in this transaction
    return conversation


@writes
def hand_over_open_conversations(actor: User, employee: User, former_manager_id: int | None) -> int:
    """The employee has another manager: their open conversations with the former one move
    to the new manager, who takes part from now on; the former manager no longer sees
    them. Signatures given so far are withdrawn (the record has a new participant).
    Completed conversations stay with the two people who held them. Each move is audited
    (and shown on the conversation page). Returns how many moved. Without a new manager
    nothing moves: the former one stays in the open conversations until someone else
    manages the employee.
    """
    new_manager_id = employee.manager_id
    if former_manager_id is None or new_manager_id is None or new_manager_id == former_manager_id:
        return 0
    moved = db.session.scalars(select(Conversation).where(
        Conversation.employee_id == employee.id, Conversation.manager_id == former_manager_id,
        Conversation.status.in_(OPEN_STATUSES))).all()
    for conversation in moved:
        conversation.manager_id = new_manager_id
        record_change(actor, conversation, Event(HANDED_OVER, "user", new_manager_id, str(former_manager_id)),
                      moves_on=False)
    return len(moved)


def handed_over(conversation: Conversation) -> list[dict]:
    """The moves of this conversation to another manager, oldest first, for its page."""
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.conversation_id == conversation.id, AuditEvent.action == HANDED_OVER).order_by(AuditEvent.id)).all()
    people = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({e.object_id for e in events} | {int(e.detail) for e in events if e.detail.isdigit()})))}
    return [{"at": e.at, "former": people.get(int(e.detail)) if e.detail.isdigit() else None,
             "new": people.get(e.object_id)} for e in events]
