"""A round's figures: which conversation belongs to it for each person, the counts per
state and per team, the people still to plan, every person for the export and the CSV,
and the list of rounds' progress. Read-only, in a fixed number of statements whatever
the round's size, from the viewer's part of the round (rounds/service.py says who sees
what): derived from the conversations while the round is open, from the columns frozen
in `round_people` once it is closed.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Agreement, Conversation, Round, RoundPerson, User
from ..records.paging import Page, fetch_page
from ..vocabulary import ROUND_STATES, AgreementStatus, RoundState, Status

CSV_CHUNK = 500


def in_part(viewer: User, manager_column):
    """The condition on the round's people that they are in the viewer's part."""
    if viewer.is_admin:
        return literal(True)
    return manager_column == viewer.id


@dataclass
class Progress:
    total: int = 0
    completed: int = 0
    to_plan: int = 0


def progress_of(viewer: User, rounds: list[Round]) -> dict[int, Progress]:
    """Per round of the list, in the viewer's part: how many people, completed, to plan
    (two grouped statements: the open rounds derived, the closed ones frozen)."""
    result = {r.id: Progress() for r in rounds}
    if not rounds:
        return result
    conversation_id = belonging()
    state = func.coalesce(
        select(Conversation.status).where(Conversation.id == conversation_id).scalar_subquery(),
        RoundState.TO_PLAN)
    derived = (select(RoundPerson.round_id, state, func.count())
               .join(Round, Round.id == RoundPerson.round_id)
               .join(User, User.id == RoundPerson.person_id)
               .where(RoundPerson.round_id.in_([r.id for r in rounds if not r.closed]),
                      or_(User.active.is_(True), conversation_id.is_not(None))))
    if not viewer.is_admin:
        derived = derived.where(User.manager_id == viewer.id)
    frozen = (select(RoundPerson.round_id, RoundPerson.state, func.count())
              .where(RoundPerson.round_id.in_([r.id for r in rounds if r.closed]), RoundPerson.state.is_not(None)))
    if not viewer.is_admin:
        frozen = frozen.where(RoundPerson.manager_id == viewer.id)
    for statement in (derived.group_by(RoundPerson.round_id, state),
                      frozen.group_by(RoundPerson.round_id, RoundPerson.state)):
        for round_id, round_state, number in db.session.execute(statement):
            progress = result[round_id]
            progress.total += number
            if round_state == RoundState.COMPLETED:
                progress.completed += number
            elif round_state == RoundState.TO_PLAN:
                progress.to_plan += number
    return result



def belonging(round_: Round | None = None):
    """The id of the conversation that belongs to the round for a person of it, correlated
    to RoundPerson (and to Round, unless `round_` gives the period): of those scheduled
    within the period, a completed one first (a follow-up planned in the same period does
    not undo that the person's conversation was held), then the latest, then the highest id."""
    start, end = (round_.period_start, round_.period_end) if round_ is not None else (Round.period_start,
                                                                                        Round.period_end)
    query = (select(Conversation.id)
             .where(Conversation.employee_id == RoundPerson.person_id,
                    Conversation.scheduled_at >= start, Conversation.scheduled_at < end)
             .order_by(case((Conversation.status == Status.COMPLETED, 0), else_=1),
                       Conversation.scheduled_at.desc(), Conversation.id.desc()).limit(1))
    return query.correlate(RoundPerson, *(() if round_ is not None else (Round,))).scalar_subquery()


def people_rows(round_: Round, viewer: User):
    """A subquery of the viewer's part of the round: person_id, manager_id, conversation_id,
    state. Derived while the round is open; the frozen columns once it is closed."""
    if round_.closed:
        return (select(RoundPerson.person_id, RoundPerson.manager_id, RoundPerson.conversation_id,
                       RoundPerson.state)
                .where(RoundPerson.round_id == round_.id, RoundPerson.state.is_not(None),
                       in_part(viewer, RoundPerson.manager_id))
                .subquery("round_rows"))
    inner = (select(RoundPerson.person_id, User.manager_id, User.active,
                    belonging(round_).label("conversation_id"))
             .join(User, User.id == RoundPerson.person_id)
             .where(RoundPerson.round_id == round_.id, in_part(viewer, User.manager_id))
             .subquery("round_people_now"))
    return (select(inner.c.person_id, inner.c.manager_id, inner.c.conversation_id,
                   func.coalesce(Conversation.status, RoundState.TO_PLAN).label("state"))
            .outerjoin(Conversation, Conversation.id == inner.c.conversation_id)
            .where(or_(inner.c.active.is_(True), inner.c.conversation_id.is_not(None)))  # (leavers)
            .subquery("round_rows"))


@dataclass
class TeamFigures:
    manager_id: int | None
    manager_name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROUND_STATES, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def id(self) -> int | None:  # (as a row of the team filter: id, name)
        return self.manager_id

    @property
    def name(self) -> str:
        return self.manager_name


@dataclass
class Figures:
    """The counts of the viewer's part of a round, in all and per team."""

    counts: dict[str, int]
    teams: list[TeamFigures]
    agreements: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def completed(self) -> int:
        return self.counts[RoundState.COMPLETED]

    @property
    def percent(self) -> int:
        """Completed, in whole per cent (rounded down: 100 only when everyone is done)."""
        return self.completed * 100 // self.total if self.total else 0


def figures(round_: Round, viewer: User) -> Figures:
    """Counts per state and per team (one statement) and the agreements of the completed
    conversations (one statement: a completed conversation never changes, so these
    figures stay when the round closes)."""
    rows = people_rows(round_, viewer)
    manager = aliased(User)
    counted = db.session.execute(
        select(rows.c.manager_id, manager.name, rows.c.state, func.count())
        .outerjoin(manager, manager.id == rows.c.manager_id)
        .group_by(rows.c.manager_id, manager.name, rows.c.state))
    counts = dict.fromkeys(ROUND_STATES, 0)
    by_team: dict[int | None, TeamFigures] = {}
    for manager_id, manager_name, state, number in counted:
        counts[state] += number
        team = by_team.setdefault(manager_id, TeamFigures(manager_id, manager_name or ""))
        team.counts[state] += number
    agreements = dict.fromkeys(AgreementStatus, 0)
    for status, number in db.session.execute(
            select(Agreement.status, func.count()).join(rows, Agreement.conversation_id == rows.c.conversation_id)
            .where(rows.c.state == RoundState.COMPLETED).group_by(Agreement.status)):
        agreements[status] = number
    ordered = sorted(by_team.values(), key=lambda t: (t.manager_id is None, t.manager_name.lower(), t.manager_id or 0))
    return Figures(counts, ordered, agreements)


@dataclass
class ToPlan:
    person_id: int
    name: str
    manager_id: int | None
    manager_name: str


def to_plan_page(round_: Round, viewer: User, number: int = 1, team: int | None = None) -> Page:
    """One page (50) of the viewer's people still to plan, by name, with their manager;
    only one manager's team when `team` is given."""
    rows = people_rows(round_, viewer)
    person, manager = aliased(User), aliased(User)
    conditions = [rows.c.state == RoundState.TO_PLAN]
    if team is not None:
        conditions.append(rows.c.manager_id == team)

    def statement(offset: int, limit: int):
        return (select(rows.c.person_id, person.name, rows.c.manager_id, manager.name.label("manager_name"),
                       func.count().over().label("total"))
                .join(person, person.id == rows.c.person_id)
                .outerjoin(manager, manager.id == rows.c.manager_id)
                .where(*conditions)
                .order_by(func.lower(person.name), person.id).offset(offset).limit(limit))

    found, total, shown = fetch_page(statement, number)
    return Page([ToPlan(r.person_id, r.name, r.manager_id, r.manager_name or "") for r in found], total, shown)


@dataclass
class PersonRow:
    person_id: int
    name: str
    email: str
    manager_name: str
    conversation_id: int | None
    scheduled_at: datetime | None
    state: str


def all_people(round_: Round, viewer: User) -> Iterator[PersonRow]:
    """Every person of the viewer's part, by name, from one statement read in chunks
    (the export and the CSV)."""
    rows = people_rows(round_, viewer)
    person, manager = aliased(User), aliased(User)
    statement = (select(rows.c.person_id, person.name, person.email, manager.name, rows.c.conversation_id,
                        Conversation.scheduled_at, rows.c.state)
                 .join(person, person.id == rows.c.person_id)
                 .outerjoin(manager, manager.id == rows.c.manager_id)
                 .outerjoin(Conversation, Conversation.id == rows.c.conversation_id)
                 .order_by(func.lower(person.name), person.id))
    result = db.session.execute(statement, execution_options={"yield_per": CSV_CHUNK})
    try:
        for values in result:
            person_id, name, email, manager_name, cid, at, state = values
            yield PersonRow(person_id, name, email, manager_name or "", cid, at, state)
    finally:
        result.close()


def export(round_: Round, viewer: User) -> dict:
    """The round as JSON (its keys are part of the outside interface: only ever added to)."""
    people = list(all_people(round_, viewer))
    counts = dict.fromkeys(ROUND_STATES, 0)
    for row in people:
        counts[row.state] += 1
    return {
        "id": round_.id,
        "name": round_.name,
        "starts_on": round_.starts_on.isoformat(),
        "ends_on": round_.ends_on.isoformat(),
        "closed": round_.closed,
        "closed_at": round_.closed_at.isoformat() if round_.closed_at else None,
        "scope": round_.scope,
        "team": round_.team_id,
        "counts": counts,
        "people": [{"person": {"id": row.person_id, "name": row.name}, "conversation": row.conversation_id,
                    "state": row.state} for row in people],
    }
