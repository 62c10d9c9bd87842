"""The open agreements of the viewer's people, a page at a time (soonest due first)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

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
    """One page of (agreement, conversation, employee), with the whole list's length.

    It starts from the people in scope (everyone active, a team), then their completed
    conversations without a completed follow-up, then the open agreements in those."""
    query = (
        service.current_open_agreements()
        .add_columns(Conversation, User, func.count().over().label("total"))
        .join(User, User.id == Conversation.employee_id)
        .where(User.active.is_(True), service._conversation_scope(viewer))
    )
    if not viewer.is_admin:
        query = query.where(User.manager_id == viewer.id)
    elif filters.team is not None:
        query = query.where(User.manager_id == filters.team)
    if filters.owner:
        query = query.where(Agreement.owner == filters.owner)
    if filters.overdue:
        query = query.where(Agreement.due < service.today())
    return (query.order_by(Agreement.due.asc().nulls_last(), func.lower(User.name), Agreement.id)
            .offset(offset).limit(limit))


def agreements_page(viewer: User, filters: AgreementFilters, number: int = 1) -> Page:
    """One page of the open agreements (one statement, three past the last page)."""
    rows, total, number = fetch_page(lambda offset, limit: page_statement(viewer, filters, offset, limit), number)
    return Page([(agreement, conversation, employee) for agreement, conversation, employee, _total in rows],
                total, number)
