"""The overview: one row per person in the viewer's scope, filtered, sorted and cut into
pages in SQL, so a page costs the same few statements for a team of twelve as for an
organisation of ten thousand.

Each fact of a person (their last completed conversation, the one under way, their open
agreements) is a correlated subquery that starts from that person's conversations on
an index (`ix_conversations_employee_status`, `ix_conversations_follows_status`,
`ix_agreements_conversation_status_due`): `facts.latest`, `facts.current_agreements`.
A page is two statements: the page's person ids with the whole list's length
(`count(*) OVER ()`), computing only what the filters and the sort need; then every fact
for those (at most 50) people. For an administrator (the whole organisation) the first
statement reads the stored facts instead (`person_facts`, kept by
`facts.refresh_facts` from the same subqueries). The CSV is one statement with every
fact for everyone, read in chunks (`yield_per`).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Agreement, Conversation, PersonFacts, User
from . import service
from .facts import current_agreements, latest
from .paging import PAGE_SIZE, Page, fetch_page
from ..vocabulary import OPEN_STATUSES, AgreementStatus, Status
from .service import DUE_SOON, YEARLY, taken_up

SORTS = ("name", "last", "next", "open")
STATUSES = ("none", *OPEN_STATUSES)
CSV_CHUNK = 500


@dataclass(frozen=True)
class Filters:
    team: int | None = None  # a manager's id (administrators only)
    status: str | None = None  # "none" (nothing under way) or one of OPEN_STATUSES
    overdue: bool = False  # only who needs attention
    sort: str = "name"

    @classmethod
    def of(cls, team: int | None = None, status: str | None = None, overdue: bool = False,
           sort: str | None = None) -> Filters:
        """Unknown values are left out (the whole list, sorted by name)."""
        return cls(team=team, status=status if status in STATUSES else None, overdue=overdue,
                   sort=sort if sort in SORTS else "name")


@dataclass
class OverviewRow:
    person_id: int
    name: str
    email: str
    manager_name: str
    last_completed: datetime | None = None
    next_evaluation: date | None = None
    current_status: str | None = None
    current_at: datetime | None = None
    open_agreements: int = 0
    overdue_agreements: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def next_evaluation_state(self) -> str:
        if self.next_evaluation is None:
            return "none"
        if self.next_evaluation < service.today():
            return "overdue"
        if self.next_evaluation <= service.today() + DUE_SOON:
            return "due_soon"
        return "ok"

    @property
    def needs_attention(self) -> bool:
        return bool(self.flags)

    @property
    def person(self) -> SimpleNamespace:
        """The person's id, name and email (as `row.person` before the rows were plain)."""
        return SimpleNamespace(id=self.person_id, name=self.name, email=self.email)


# --- Each person's facts, as subqueries correlated to User ---------------------------------


def _scope(viewer: User):
    """The conversations the viewer may take into account (service._conversation_scope)."""
    return true() if viewer.is_admin else Conversation.manager_id == viewer.id


class Facts:
    """The column expressions of one viewer's overview."""

    def __init__(self, viewer: User):
        self.viewer = viewer
        self.today = service.today()
        self.year_ago = datetime.now().astimezone() - YEARLY
        completed, scope = (Status.COMPLETED,), _scope(viewer)
        self.last_at = latest(Conversation.scheduled_at, completed, scope)
        self.next_evaluation = latest(Conversation.next_evaluation, completed, scope)
        self.current_status = latest(Conversation.status, OPEN_STATUSES, scope)
        self.current_at = latest(Conversation.scheduled_at, OPEN_STATUSES, scope)
        self.open_count = current_agreements(func.count(Agreement.id), scope)
        self.overdue_count = current_agreements(func.count(Agreement.id), scope, Agreement.due < self.today)

    def people(self, filters: Filters):
        """Conditions on User: who is in the list."""
        conditions = [User.active.is_(True)]
        if not self.viewer.is_admin:
            conditions.append(User.manager_id == self.viewer.id)
        elif filters.team is not None:
            conditions.append(User.manager_id == filters.team)
        if filters.status == "none":
            conditions.append(self.current_status.is_(None))
        elif filters.status:
            conditions.append(self.current_status == filters.status)
        if filters.overdue:
            overdue_agreement = (select(Agreement.id).select_from(Conversation)
                                 .join(Agreement, Agreement.conversation_id == Conversation.id)
                                 .where(Conversation.employee_id == User.id, Conversation.status == Status.COMPLETED,
                                        _scope(self.viewer), Agreement.status == AgreementStatus.OPEN,
                                        Agreement.due < self.today, ~taken_up()))
            conditions.append(or_(  # the flags, as in flags() below
                self.last_at.is_(None), self.last_at < self.year_ago,
                and_(self.next_evaluation < self.today, self.current_status.is_(None)),
                exists(overdue_agreement),
            ))
        return conditions

    def order(self, sort: str) -> list:
        by_name = [func.lower(User.name), User.id]
        if sort == "last":  # who never had one first, then the longest ago
            return [self.last_at.asc().nulls_first(), *by_name]
        if sort == "next":  # the soonest first, none last
            return [self.next_evaluation.asc().nulls_last(), *by_name]
        if sort == "open":
            return [self.open_count.desc(), *by_name]
        return by_name

    def columns(self) -> list:
        manager = aliased(User)
        return [User.id, User.name, User.email, manager.name, self.last_at, self.next_evaluation,
                self.current_status, self.current_at, self.open_count, self.overdue_count], manager

    def row(self, values) -> OverviewRow:
        person_id, name, email, manager_name, last_at, next_evaluation, status, at, open_count, overdue_count = values
        row = OverviewRow(person_id, name, email, manager_name or "", last_at, next_evaluation, status, at,
                          open_count, overdue_count)
        if row.last_completed is None or row.last_completed < self.year_ago:
            row.flags.append("no_conversation_this_year")
        if row.next_evaluation_state == "overdue" and row.current_status is None:
            row.flags.append("evaluation_overdue")
        if row.overdue_agreements:
            row.flags.append("agreements_overdue")
        return row


def page_statement(viewer: User, filters: Filters, offset: int, limit: int = PAGE_SIZE):
    """The ids of one page of people, with the whole list's length."""
    if viewer.is_admin:
        return stored_page_statement(filters, offset, limit)
    facts = Facts(viewer)
    return (select(User.id, func.count().over().label("total")).where(*facts.people(filters))
            .order_by(*facts.order(filters.sort)).offset(offset).limit(limit))


def stored_page_statement(filters: Filters, offset: int, limit: int = PAGE_SIZE):
    """An administrator's page: the whole organisation filtered and sorted by the stored
    facts (person_facts, records/facts.py), one row per person read, instead of each
    fact worked out per person. The same conditions and order as Facts above, with the
    administrator's scope (every conversation)."""
    stored = PersonFacts
    today = service.today()
    year_ago = datetime.now().astimezone() - YEARLY
    query = (select(User.id, func.count().over().label("total"))
             .outerjoin(stored, stored.employee_id == User.id).where(User.active.is_(True)))
    if filters.team is not None:
        query = query.where(User.manager_id == filters.team)
    if filters.status == "none":
        query = query.where(stored.current_id.is_(None))
    elif filters.status:  # the latest open conversation's status, read from it
        current = aliased(Conversation)
        query = query.join(current, current.id == stored.current_id).where(current.status == filters.status)
    if filters.overdue:  # the flags, as in Facts.row
        query = query.where(or_(
            stored.last_completed_at.is_(None), stored.last_completed_at < year_ago,
            and_(stored.next_evaluation < today, stored.current_id.is_(None)),
            stored.first_due < today,
        ))
    by_name = [func.lower(User.name), User.id]
    order = {"last": [stored.last_completed_at.asc().nulls_first()],
             "next": [stored.next_evaluation.asc().nulls_last()],
             "open": [func.coalesce(stored.open_agreements, 0).desc()]}.get(filters.sort, [])
    return query.order_by(*order, *by_name).offset(offset).limit(limit)


def _details(facts: Facts, conditions, order=()):
    columns, manager = facts.columns()
    return select(*columns).outerjoin(manager, manager.id == User.manager_id).where(*conditions).order_by(*order)


def overview_page(viewer: User, filters: Filters, number: int = 1) -> Page:
    """One page of the overview (two statements, four past the last page)."""
    facts = Facts(viewer)
    ids, total, number = fetch_page(lambda offset, limit: page_statement(viewer, filters, offset, limit), number)
    position = {person_id: n for n, (person_id, _total) in enumerate(ids)}
    # (Also for an empty page: every page takes the same statements.)
    rows = [facts.row(values) for values in db.session.execute(_details(facts, [User.id.in_(position)]))]
    rows.sort(key=lambda row: position[row.person_id])
    return Page(rows, total, number)


def all_rows(viewer: User, filters: Filters) -> Iterator[OverviewRow]:
    """Every row of the overview in order, read from one statement in chunks (the CSV)."""
    facts = Facts(viewer)
    statement = _details(facts, facts.people(filters), facts.order(filters.sort))
    result = db.session.execute(statement, execution_options={"yield_per": CSV_CHUNK})
    try:
        for values in result:
            yield facts.row(values)
    finally:
        result.close()


def teams(viewer: User) -> list:
    """Managers (people with active reports), rows of (id, name), for the team filter of an administrator."""
    if not viewer.is_admin:
        return []
    report = aliased(User)
    return list(db.session.execute(
        select(User.id, User.name)
        .where(exists(select(report.id).where(report.manager_id == User.id, report.active.is_(True))))
        .order_by(func.lower(User.name), User.id)
    ))
