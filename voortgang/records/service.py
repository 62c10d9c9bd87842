"""Who may see what (the scope), each person's record, the home page's to-do list and the
personal export: in a fixed number of queries whatever the number of people or
conversations, each starting from the viewer's own people or conversations. The
overview and the open agreements are in overview.py and agreements.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import g
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased, joinedload, subqueryload

from ..extensions import db
from ..models import Agreement, Conversation, ConversationQuestion, Preparation, User
from ..vocabulary import OPEN_STATUSES, AgreementStatus, Owner, Status

DUE_SOON = timedelta(days=30)
# The article: a progress conversation at least once a year.
YEARLY = timedelta(days=365)


# How the pages below load what belongs to many conversations: the two people joined in,
# each collection in one statement for all the conversations (subqueryload repeats the
# conversations' query inside it; selectinload would send its ids 500 at a time, so its
# statements would grow with the number of conversations).
PARTICIPANTS = (joinedload(Conversation.employee), joinedload(Conversation.manager))


def today() -> date:
    return date.today()


# --- Scope: whose conversations the viewer may take into account ------------------------------


def leads_people(viewer: User) -> bool:
    """Whether the viewer sees an overview and rounds: an administrator, or a manager
    with at least one active report. Asked once per request (the navigation asks too)."""
    if viewer.is_admin:
        return True
    cache = g.setdefault("voortgang_leads_people", {})
    if viewer.id not in cache:
        cache[viewer.id] = db.session.scalar(
            select(User.id).where(User.manager_id == viewer.id, User.active.is_(True)).limit(1)) is not None
    return cache[viewer.id]


def overview_people_query(viewer: User):
    """The people in the viewer's overview: everyone for an administrator, else their team."""
    query = select(User).where(User.active.is_(True))
    if not viewer.is_admin:
        query = query.where(User.manager_id == viewer.id)
    return query


def _conversation_scope(viewer: User):
    """Conditions on Conversation for what the viewer may count: all for an administrator
    (status and dates), else the conversations the viewer took part in as manager."""
    if viewer.is_admin:
        return True
    return Conversation.manager_id == viewer.id


def taken_up():
    """The condition on Conversation that a completed follow-up of it exists.

    A follow-up can only be planned once the conversation it follows is completed, and
    then copies every agreement that is open in it (`carried_from_id`); a completed
    conversation never changes again and agreements are never deleted. So "a completed
    follow-up exists" is the same as "each of its open agreements was carried into a
    completed conversation", and it is asked once per conversation, on an index, instead
    of once per agreement.
    """
    follow_up = aliased(Conversation)
    return exists(select(follow_up.id).where(follow_up.follows_id == Conversation.id,
                                             follow_up.status == Status.COMPLETED))


def current_open_agreements(*columns):
    """Agreements that are open in a completed conversation and not taken up by a later
    completed follow-up: "what was agreed" and is still to do. Callers narrow it with
    conditions on Conversation (whose conversations), which the indexes start from.
    Selects `columns`, or the Agreement."""
    return (
        select(*(columns or (Agreement,)))
        .select_from(Conversation)
        .join(Agreement, Agreement.conversation_id == Conversation.id)
        .where(Agreement.status == AgreementStatus.OPEN, Conversation.status == Status.COMPLETED, ~taken_up())
    )


def overview(viewer: User, **filters) -> list:
    """Every row of the viewer's overview, in order (records.overview.all_rows as a list)."""
    from .overview import Filters, all_rows

    return list(all_rows(viewer, Filters.of(**filters)))


# --- A person's record ----------------------------------------------------------------------


def record_conversations_query(viewer: User, person: User):
    """The conversations of `person` the viewer may read, or None when none at all."""
    query = select(Conversation).where(Conversation.employee_id == person.id)
    if viewer.id == person.id:
        query = select(Conversation).where(
            or_(Conversation.employee_id == person.id, Conversation.manager_id == person.id))
    elif viewer.is_admin:
        query = query.where(Conversation.status == Status.COMPLETED)
    elif person.manager_id == viewer.id:
        query = query.where(Conversation.manager_id == viewer.id)
    else:
        return None
    return query


@dataclass
class AgreementHistory:
    """One agreement through the follow-ups: the first version and each later copy."""

    steps: list[Agreement]

    @property
    def latest(self) -> Agreement:
        return self.steps[-1]


def record(viewer: User, person_id: int) -> dict | None:
    """The person's record for the viewer, or None (404) when the viewer may not see it."""
    person = db.session.get(User, person_id)
    if person is None:
        return None
    query = record_conversations_query(viewer, person)
    if query is None:
        return None
    conversations = list(db.session.scalars(
        query.options(
            *PARTICIPANTS, subqueryload(Conversation.agreements).subqueryload(Agreement.reviews),
        ).order_by(Conversation.scheduled_at.desc())
    ))
    own = [c for c in conversations if c.employee_id == person.id]
    by_id = {a.id: a for c in own for a in c.agreements}
    children = {a.carried_from_id: a for a in by_id.values() if a.carried_from_id in by_id}
    histories = []
    for agreement in sorted(by_id.values(), key=lambda a: (a.conversation.scheduled_at, a.id)):
        if agreement.carried_from_id in by_id:
            continue  # part of the history of an earlier one
        steps = [agreement]
        while steps[-1].id in children:
            steps.append(children[steps[-1].id])
        histories.append(AgreementHistory(steps))
    completed = [c for c in own if c.status == Status.COMPLETED]
    return {
        "person": person,
        "conversations": conversations,
        "histories": histories,
        "next_evaluation": completed[0].next_evaluation if completed else None,
    }


# --- What needs the person next ---------------------------------------------------------------


def needs_attention(user: User) -> dict:
    """For the home page: conversations to prepare (with how far the person got) or sign,
    and overdue agreements (three queries)."""
    from ..conversations.preparation import preparation_progress

    mine = list(db.session.scalars(
        select(Conversation)
        .where(or_(Conversation.employee_id == user.id, Conversation.manager_id == user.id),
               Conversation.status.in_(OPEN_STATUSES))
        .options(*PARTICIPANTS)
        .order_by(Conversation.scheduled_at)
    ))
    role_owner = or_(
        and_(Conversation.employee_id == user.id, Agreement.owner == Owner.EMPLOYEE),
        and_(Conversation.manager_id == user.id, Agreement.owner.in_((Owner.MANAGER, Owner.ORGANISATION))),
    )
    overdue = list(db.session.execute(
        current_open_agreements().add_columns(Conversation)
        .where(or_(Conversation.employee_id == user.id, Conversation.manager_id == user.id), role_owner,
               Agreement.due < today())
        .order_by(Agreement.due)
    ))
    def signed(c: Conversation) -> bool:
        return c.signed_at(c.role_of(user.id)) is not None

    return {
        "sign": [c for c in mine if c.status == Status.AWAITING_SIGNATURES and not signed(c)],
        "prepare": [c for c in mine if c.status == Status.PLANNED],
        # (prepared, questions) per conversation to prepare
        "prepared": preparation_progress(user, [c.id for c in mine if c.status == Status.PLANNED]),
        "continue": [c for c in mine if c.status == Status.IN_PROGRESS],
        "overdue": [(a, c) for a, c in overdue],
    }


def personal_export(person: User) -> dict:
    """Everything stored about `person` (`/me/export.json`): their details and every
    conversation they took part in, in the conversation export's format.

    A fixed handful of queries however many conversations there are: each conversation's
    parts are loaded together for all of them (they were loaded one by one before), each
    kind in one statement.
    """
    from ..conversations.export import export

    mine = db.session.scalars(
        select(Conversation)
        .where(or_(Conversation.employee_id == person.id, Conversation.manager_id == person.id))
        .order_by(Conversation.scheduled_at, Conversation.id)
        .options(
            *PARTICIPANTS,
            subqueryload(Conversation.questions).subqueryload(ConversationQuestion.answers),
            subqueryload(Conversation.talking_points),
            subqueryload(Conversation.agreements).subqueryload(Agreement.reviews),
        )
    ).all()
    from .reads import export_reads

    manager = person.manager
    prepared = _preparation_by_conversation(person)
    return {
        "person": {"id": person.id, "name": person.name, "email": person.email, "locale": person.locale,
                   "is_admin": person.is_admin, "active": person.active,
                   "manager": {"id": manager.id, "name": manager.name, "email": manager.email} if manager else None,
                   "created_at": person.created_at.isoformat()},
        "conversations": [
            {**export(c, answers={q.id: {a.role: a for a in q.answers} for q in c.questions}),
             "my_preparation": prepared.pop(c.id, {})}
            for c in mine
        ],
        # Who other than the two participants read the person's completed records (reads.py).
        "record_reads": export_reads(person.id),
        # Their preparation in conversations they no longer take part in (handed over).
        "my_other_preparation": {str(cid): texts for cid, texts in prepared.items()},
    }


def _preparation_by_conversation(person: User) -> dict[int, dict[str, str]]:
    """{conversation id: {question id: text}} of everything `person` prepared (one query)."""
    result: dict[int, dict[str, str]] = {}
    for conversation_id, question_id, body in db.session.execute(
            select(ConversationQuestion.conversation_id, Preparation.question_id, Preparation.body)
            .join(ConversationQuestion, ConversationQuestion.id == Preparation.question_id)
            .where(Preparation.author_id == person.id, Preparation.body != "")):
        result.setdefault(conversation_id, {})[str(question_id)] = body
    return result
