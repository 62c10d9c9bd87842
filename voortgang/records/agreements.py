"""The open agreements of the viewer's people, a page at a time (soonest due first)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..models import AGREEMENT_OWNERS, Agreement, Conversation, User
from . import service
from .paging import PAGE_SIZE, Page, fetch_page


@dataclass(frozen=True)
class AgreementFilters:
    team: int | None = None  # a manager's id (administrators only)
    owner: str | None = None  # employee, manager or organisation
    overdue: bool = False  # only those past their due date

    @classmethod
    def of(cls, team: int | None = None, owner: str | None = None, overdue: bool = False) -> AgreementFilters:
        return cls(team=team, owner=owner if owner in AGREEMENT_OWNERS else None, overdue=overdue)


def page_statement(viewer: User, filters: AgreementFilters, offset: int, limit: int = PAGE_SIZE):
    """The ids of one page of agreements, with the whole list's length.

    It starts from the people in scope (everyone active, a team), then their completed
    conversations without a completed follow-up, then the open agreements in those; the
    indexes cover all of it, so only the page's rows are read from the tables."""
    people = select(User.id).where(User.active.is_(True))
    if not viewer.is_admin:
        people = people.where(User.manager_id == viewer.id)
    elif filters.team is not None:
        people = people.where(User.manager_id == filters.team)
    if viewer.is_admin and filters.team is None:
        return stored_page_statement(filters, offset, limit)
    query = (
        service.current_open_agreements(Agreement.id, func.count().over().label("total"))
        .join(User, User.id == Conversation.employee_id)
        .where(Conversation.employee_id.in_(people), service._conversation_scope(viewer))
    )
    if filters.owner:
        query = query.where(Agreement.owner == filters.owner)
    if filters.overdue:
        query = query.where(Agreement.due < service.today())
    # Soonest due first, none last. As an expression (not `due NULLS LAST`), so PostgreSQL
    # does not walk every open agreement in the order of the due index to find the page.
    return (query.order_by(func.coalesce(Agreement.due, date.max), func.lower(User.name), Agreement.id)
            .offset(offset).limit(limit))


def agreements_page(viewer: User, filters: AgreementFilters, number: int = 1) -> Page:
    """One page of (agreement, conversation, employee): two statements, four past the last page."""
    ids, total, number = fetch_page(lambda offset, limit: page_statement(viewer, filters, offset, limit), number)
    position = {agreement_id: n for n, (agreement_id, _total) in enumerate(ids)}
    items = list(db.session.execute(
        select(Agreement, Conversation, User)
        .join(Conversation, Conversation.id == Agreement.conversation_id)
        .join(User, User.id == Conversation.employee_id)
        .where(Agreement.id.in_(position))
    ))  # (also when the page is empty: the same statements for every page)
    items.sort(key=lambda item: position[item[0].id])
    return Page(items, total, number)


def stored_page_statement(filters: AgreementFilters, offset: int, limit: int = PAGE_SIZE):
    """The whole organisation's page (an administrator without a team): the same rows
    and order as page_statement, from the stored flag (`agreements.is_current`,
    records/facts.py) on its covering index `ix_agreements_current_due`.

    Joining all ~40,000 current agreements to their conversation and person only to
    sort ties on a due date by name costs more than everything else. So the page is
    found from the index alone: the due dates at the page's first and last position are
    the same in the due-only order as in the full one; only the agreements due between
    those two dates (the page plus its ties) are joined and ranked by (due, name, id),
    numbered on from how many are due earlier. One statement."""
    inactive = (select(Conversation.id).join(User, User.id == Conversation.employee_id)
                .where(User.active.is_(False)))
    conditions = [Agreement.is_current.is_(True), Agreement.conversation_id.not_in(inactive)]
    if filters.owner:
        conditions.append(Agreement.owner == filters.owner)
    if filters.overdue:
        conditions.append(Agreement.due < service.today())
    keys = (select(Agreement.id.label("id"), Agreement.conversation_id.label("conversation_id"),
                   func.coalesce(Agreement.due, date.max).label("k"))
            .where(*conditions).cte("page_keys"))
    window = select(keys.c.k).order_by(keys.c.k).offset(offset).limit(limit).subquery("page_window")
    bounds = select(func.min(window.c.k).label("lo"), func.max(window.c.k).label("hi")).cte("page_bounds")
    low, high = select(bounds.c.lo).scalar_subquery(), select(bounds.c.hi).scalar_subquery()
    earlier = select(func.count()).select_from(keys).where(keys.c.k < low).scalar_subquery()
    candidates = (select(keys.c.id, keys.c.k, func.lower(User.name).label("name"))
                  .join(Conversation, Conversation.id == keys.c.conversation_id)
                  .join(User, User.id == Conversation.employee_id)
                  .where(keys.c.k >= low, keys.c.k <= high).subquery("page_candidates"))
    ranked = select(candidates.c.id, (func.row_number().over(
        order_by=(candidates.c.k, candidates.c.name, candidates.c.id)) + earlier).label("position")
    ).subquery("page_ranked")
    total = select(func.count()).select_from(keys).scalar_subquery()
    return (select(ranked.c.id, total.label("total"))
            .where(ranked.c.position > offset, ranked.c.position <= offset + limit)
            .order_by(ranked.c.position))
