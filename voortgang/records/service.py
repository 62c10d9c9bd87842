"""The organisation's overview and each person's record: who may see what, in a fixed
number of queries whatever the number of people or conversations."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from ..extensions import db
from ..models import Agreement, Conversation, ConversationQuestion, User

DUE_SOON = timedelta(days=30)
# The article: a progress conversation at least once a year.
YEARLY = timedelta(days=365)
OPEN_STATUSES = ("planned", "in_progress", "awaiting_signatures")


def today() -> date:
    return date.today()


# --- Scope: whose conversations the viewer may take into account ------------------------------


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


def current_open_agreements():
    """Agreements that are open in a completed conversation and not taken up by a later
    completed follow-up: "what was agreed" and is still to do."""
    later = aliased(Agreement)
    later_conversation = aliased(Conversation)
    return (
        select(Agreement)
        .join(Conversation, Agreement.conversation_id == Conversation.id)
        .where(
            Agreement.status == "open",
            Conversation.status == "completed",
            ~exists(
                select(later.id)
                .join(later_conversation, later.conversation_id == later_conversation.id)
                .where(later.carried_from_id == Agreement.id, later_conversation.status == "completed")
            ),
        )
    )


# --- The overview -------------------------------------------------------------------------


@dataclass
class OverviewRow:
    person: User
    manager_name: str
    last_completed: datetime | None = None
    last_completed_id: int | None = None
    next_evaluation: date | None = None
    current_status: str | None = None
    current_at: datetime | None = None
    current_id: int | None = None
    open_agreements: int = 0
    overdue_agreements: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def next_evaluation_state(self) -> str:
        if self.next_evaluation is None:
            return "none"
        if self.next_evaluation < today():
            return "overdue"
        if self.next_evaluation <= today() + DUE_SOON:
            return "due_soon"
        return "ok"

    @property
    def needs_attention(self) -> bool:
        return bool(self.flags)


def overview(viewer: User, *, team: int | None = None, status: str | None = None,
             overdue: bool = False, sort: str = "name") -> list[OverviewRow]:
    """One row per person in the viewer's scope (four queries in all)."""
    manager = aliased(User)
    people_query = overview_people_query(viewer).subquery()
    person = aliased(User, people_query)
    query = select(person, manager.name).outerjoin(manager, person.manager_id == manager.id)
    if team is not None and viewer.is_admin:
        query = query.where(person.manager_id == team)
    rows = {p.id: OverviewRow(person=p, manager_name=m or "") for p, m in db.session.execute(query)}
    ids = select(people_query.c.id)
    scope = _conversation_scope(viewer)

    # The last completed conversation per person, with its next evaluation.
    ranked = (
        select(
            Conversation.employee_id, Conversation.id, Conversation.scheduled_at, Conversation.next_evaluation,
            func.row_number().over(partition_by=Conversation.employee_id,
                                   order_by=Conversation.scheduled_at.desc()).label("rank"),
        )
        .where(Conversation.employee_id.in_(ids), Conversation.status == "completed", scope)
        .subquery()
    )
    for employee_id, cid, at, next_eval, _rank in db.session.execute(select(ranked).where(ranked.c.rank == 1)):
        if employee_id in rows:
            row = rows[employee_id]
            row.last_completed, row.last_completed_id, row.next_evaluation = at, cid, next_eval

    # The conversation under way per person (the latest one not completed).
    ranked = (
        select(
            Conversation.employee_id, Conversation.id, Conversation.status, Conversation.scheduled_at,
            func.row_number().over(partition_by=Conversation.employee_id,
                                   order_by=Conversation.scheduled_at.desc()).label("rank"),
        )
        .where(Conversation.employee_id.in_(ids), Conversation.status.in_(OPEN_STATUSES), scope)
        .subquery()
    )
    for employee_id, cid, current_status, at, _rank in db.session.execute(select(ranked).where(ranked.c.rank == 1)):
        if employee_id in rows:
            row = rows[employee_id]
            row.current_status, row.current_at, row.current_id = current_status, at, cid

    # Open agreements (and how many are overdue) per person.
    agreements = current_open_agreements().where(Conversation.employee_id.in_(ids), scope).subquery()
    open_counts = db.session.execute(
        select(
            Conversation.employee_id,
            func.count(agreements.c.id),
            func.count(agreements.c.id).filter(agreements.c.due < today()),
        )
        .join(agreements, agreements.c.conversation_id == Conversation.id)
        .group_by(Conversation.employee_id)
    )
    for employee_id, open_count, overdue_count in open_counts:
        if employee_id in rows:
            rows[employee_id].open_agreements = open_count
            rows[employee_id].overdue_agreements = overdue_count

    year_ago = datetime.now().astimezone() - YEARLY
    for row in rows.values():
        if row.last_completed is None or row.last_completed < year_ago:
            row.flags.append("no_conversation_this_year")
        if row.next_evaluation_state == "overdue" and row.current_status is None:
            row.flags.append("evaluation_overdue")
        if row.overdue_agreements:
            row.flags.append("agreements_overdue")

    result = list(rows.values())
    if status == "none":
        result = [r for r in result if r.current_status is None]
    elif status in OPEN_STATUSES:
        result = [r for r in result if r.current_status == status]
    if overdue:
        result = [r for r in result if r.needs_attention]
    keys = {
        "name": lambda r: r.person.name.lower(),
        "last": lambda r: (r.last_completed is not None, r.last_completed or datetime.min.replace(tzinfo=UTC)),
        "next": lambda r: (r.next_evaluation is None, r.next_evaluation or date.max),
        "open": lambda r: -r.open_agreements,
    }
    result.sort(key=keys.get(sort, keys["name"]))
    return result


def teams(viewer: User) -> list[User]:
    """Managers (people with reports), for the team filter of an administrator."""
    if not viewer.is_admin:
        return []
    report = aliased(User)
    return list(db.session.scalars(
        select(User).where(exists(select(report.id).where(report.manager_id == User.id, report.active.is_(True))))
        .order_by(User.name)
    ))


def open_agreements(viewer: User) -> list[tuple[Agreement, Conversation, User]]:
    """Every open agreement in the viewer's scope, soonest due first (one query)."""
    ids = select(overview_people_query(viewer).subquery().c.id)
    query = (
        current_open_agreements()
        .add_columns(Conversation, User)
        .join(User, User.id == Conversation.employee_id)
        .where(Conversation.employee_id.in_(ids), _conversation_scope(viewer))
        .order_by(Agreement.due.is_(None), Agreement.due, User.name)
    )
    return [(a, c, u) for a, c, u in db.session.execute(query)]


# --- A person's record ----------------------------------------------------------------------


def record_conversations_query(viewer: User, person: User):
    """The conversations of `person` the viewer may read, or None when none at all."""
    query = select(Conversation).where(Conversation.employee_id == person.id)
    if viewer.id == person.id:
        query = select(Conversation).where(
            or_(Conversation.employee_id == person.id, Conversation.manager_id == person.id))
    elif viewer.is_admin:
        query = query.where(Conversation.status == "completed")
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
            selectinload(Conversation.employee), selectinload(Conversation.manager),
            selectinload(Conversation.agreements).selectinload(Agreement.reviews),
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
    completed = [c for c in own if c.status == "completed"]
    return {
        "person": person,
        "conversations": conversations,
        "histories": histories,
        "next_evaluation": completed[0].next_evaluation if completed else None,
    }


# --- What needs the person next ---------------------------------------------------------------


def needs_attention(user: User) -> dict:
    """For the home page: conversations to prepare or sign, and overdue agreements (two queries)."""
    mine = list(db.session.scalars(
        select(Conversation)
        .where(or_(Conversation.employee_id == user.id, Conversation.manager_id == user.id),
               Conversation.status.in_(OPEN_STATUSES))
        .options(selectinload(Conversation.employee), selectinload(Conversation.manager))
        .order_by(Conversation.scheduled_at)
    ))
    role_owner = or_(
        and_(Conversation.employee_id == user.id, Agreement.owner == "employee"),
        and_(Conversation.manager_id == user.id, Agreement.owner.in_(("manager", "organisation"))),
    )
    overdue = list(db.session.execute(
        current_open_agreements().add_columns(Conversation)
        .where(role_owner, Agreement.due < today())
        .order_by(Agreement.due)
    ))
    def signed(c: Conversation) -> bool:
        return c.signed_at("employee" if c.employee_id == user.id else "manager") is not None

    return {
        "sign": [c for c in mine if c.status == "awaiting_signatures" and not signed(c)],
        "prepare": [c for c in mine if c.status == "planned"],
        "continue": [c for c in mine if c.status == "in_progress"],
        "overdue": [(a, c) for a, c in overdue],
    }


def personal_export(person: User) -> dict:
    """Everything stored about `person` (`/me/export.json`): their details and every
    conversation they took part in, in the conversation export's format.

    A fixed handful of queries however many conversations there are: each conversation's
    parts are loaded together for all of them (they were loaded one by one before).
    """
    from ..conversations.export import export

    mine = db.session.scalars(
        select(Conversation)
        .where(or_(Conversation.employee_id == person.id, Conversation.manager_id == person.id))
        .order_by(Conversation.scheduled_at, Conversation.id)
        .options(
            selectinload(Conversation.employee), selectinload(Conversation.manager),
            selectinload(Conversation.questions).selectinload(ConversationQuestion.answers),
            selectinload(Conversation.talking_points),
            selectinload(Conversation.agreements).selectinload(Agreement.reviews),
        )
    ).all()
    manager = person.manager
    return {
        "person": {"id": person.id, "name": person.name, "email": person.email, "locale": person.locale,
                   "is_admin": person.is_admin, "active": person.active,
                   "manager": {"id": manager.id, "name": manager.name, "email": manager.email} if manager else None,
                   "created_at": person.created_at.isoformat()},
        "conversations": [
            export(c, answers={q.id: {a.role: a for a in q.answers} for q in c.questions}) for c in mine
        ],
    }
