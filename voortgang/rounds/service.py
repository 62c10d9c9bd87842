"""Rounds: starting one, who sees which part, the figures, planning from it, closing it.

**Who is in a round** is decided once, when it starts (`start_round`): everyone active,
one manager's active reports, or chosen people. The rows of `round_people` are that
snapshot; people who join later are not in it.

**Which conversation belongs to a round** is derived, as the outside interface says: a
conversation with a person of the round (as employee), scheduled within its period.
When there are several, a completed one wins, then the latest scheduled, then the highest
id (`belonging`). The period is the days from `starts_on` to `ends_on` in the
organisation's time zone, stored as the instants `period_start` and `period_end`, so
SQL compares `scheduled_at` directly. A person's state is "to_plan" without such a
conversation, else that conversation's status.

**People who leave** (are deactivated) while the round is open and have no conversation
in it are left out of its figures; with one, they stay.

**A closed round** keeps its figures: `close_round` writes each person's state,
conversation and manager into `round_people` in one UPDATE; from then on every figure
is read from those frozen columns (`_people_rows`) and nothing in the round changes.

**Who sees what.** Administrators see every round, and all of it. A manager sees the
rounds of their own team and every other round with people of theirs in it (their
"part": the people whose manager they are, or were when the round closed), and only that
part. Anyone else gets a 404 for every round. Every figure is computed in SQL from the
viewer's part, in a fixed number of statements whatever the round's size; the people
still to plan are paged (records/paging.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from ..conversations import planning
from ..database import utcnow, writes
from ..errors import Invalid, NotFound, ReadOnly
from ..extensions import db
from ..models import Agreement, Conversation, Round, RoundPerson, Template, User
from ..records.paging import Page, fetch_page
from ..records.service import leads_people
from ..vocabulary import ROUND_STATES, AgreementStatus, RoundScope, RoundState, Status

MAX_NAME_LENGTH = 200
# A round is meant to last weeks or months; a typo of a year (2207) is refused.
MAX_PERIOD = timedelta(days=2 * 366)
# Dates a period can be turned into instants for (the first midnight in the organisation's
# time zone, the midnight after the last day).
MIN_YEAR, MAX_YEAR = 1900, 9998
CSV_CHUNK = 500


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def period_bounds(starts_on: date, ends_on: date) -> tuple[datetime, datetime]:
    """The instants the period runs between: the first day's midnight up to (not
    including) the midnight after the last day, in the organisation's time zone."""
    tz = zone()
    return (datetime.combine(starts_on, time(), tzinfo=tz),
            datetime.combine(ends_on + timedelta(days=1), time(), tzinfo=tz))


# --- Who may start, see and change a round --------------------------------------------------


def may_use_rounds(viewer: User) -> bool:
    """Administrators and managers (people with active reports); everyone else gets 404."""
    return leads_people(viewer)


def _part(viewer: User, manager_column):
    """The condition on the round's people that they are in the viewer's part."""
    if viewer.is_admin:
        return literal(True)
    return manager_column == viewer.id


def get_visible(viewer: User, round_id: int, lock: bool = False) -> Round:
    """The round, if the viewer may see it; NotFound otherwise (whether it exists or not).
    With `lock` (writes) the row is locked on PostgreSQL and read afresh, so planning from
    a round and closing it take turns."""
    round_ = (db.session.get(Round, round_id, with_for_update=True, populate_existing=True) if lock
              else db.session.get(Round, round_id))
    if round_ is None:
        raise NotFound()
    if viewer.is_admin or round_.team_id == viewer.id:
        return round_
    if round_.closed:
        mine = select(RoundPerson.person_id).where(RoundPerson.round_id == round_.id,
                                                   RoundPerson.manager_id == viewer.id)
    else:
        mine = (select(RoundPerson.person_id).join(User, User.id == RoundPerson.person_id)
                .where(RoundPerson.round_id == round_.id, User.manager_id == viewer.id))
    if db.session.scalar(mine.limit(1)) is None:
        raise NotFound()
    return round_


def may_close(viewer: User, round_: Round) -> bool:
    """Administrators close any round; a manager the round of their own team, or one they
    started (of chosen people among their reports)."""
    return viewer.is_admin or viewer.id in (round_.team_id, round_.created_by_id)


def rounds_for(viewer: User) -> list[Round]:
    """The rounds the viewer may see, the latest period first (one statement)."""
    query = select(Round)
    if not viewer.is_admin:
        open_part = (select(RoundPerson.person_id).join(User, User.id == RoundPerson.person_id)
                     .where(RoundPerson.round_id == Round.id, Round.closed_at.is_(None),
                            User.manager_id == viewer.id))
        closed_part = select(RoundPerson.person_id).where(
            RoundPerson.round_id == Round.id, Round.closed_at.is_not(None), RoundPerson.manager_id == viewer.id)
        query = query.where(or_(Round.team_id == viewer.id, exists(open_part), exists(closed_part)))
    return list(db.session.scalars(query.order_by(Round.starts_on.desc(), Round.id.desc())))


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


# --- Starting a round --------------------------------------------------------------------------


def teams() -> list:
    """Managers (people with active reports): rows of (id, name), for the form."""
    report = aliased(User)
    return list(db.session.execute(
        select(User.id, User.name).where(User.active.is_(True), exists(
            select(report.id).where(report.manager_id == User.id, report.active.is_(True))))
        .order_by(func.lower(User.name), User.id)))


def choosable_people(viewer: User) -> list:
    """Whom the viewer may take into a round of chosen people: rows of (id, name)."""
    query = select(User.id, User.name).where(User.active.is_(True))
    if not viewer.is_admin:
        query = query.where(User.manager_id == viewer.id)
    return list(db.session.execute(query.order_by(func.lower(User.name), User.id)))


def templates() -> list[Template]:
    return list(db.session.scalars(select(Template).order_by(Template.is_default.desc(), Template.name)))


@writes
def start_round(actor: User, *, name: str, starts_on: date | None, ends_on: date | None,
                team_id: int | None = None, person_ids: list[int] | None = None,
                template_id: int | None = None, scope: str | None = None) -> Round:
    """Start a round: everyone active (no team, no people), one manager's team (`team_id`)
    or chosen people (`person_ids`); `scope` (the form's choice) says which one is meant,
    else what is given decides. An administrator may start any round; a manager one for
    their own team (or chosen people of it)."""
    if scope == RoundScope.TEAM and team_id is None:
        raise Invalid("round_team_unknown", field="team")
    if scope == RoundScope.CHOSEN and not person_ids:
        raise Invalid("round_people_missing", field="people")
    # One line of text: control characters (NUL included, which PostgreSQL refuses) and
    # runs of spaces become one space; the name goes into e-mail subjects too.
    name = " ".join("".join(c if c >= " " else " " for c in name or "").split())
    if not name:
        raise Invalid("round_name_missing", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid("round_name_too_long", field="name", max=MAX_NAME_LENGTH)
    if starts_on is None:
        raise Invalid("round_start_missing", field="starts_on")
    if ends_on is None:
        raise Invalid("round_end_missing", field="ends_on")
    if ends_on < starts_on:
        raise Invalid("round_period_order", field="ends_on")
    if starts_on.year < MIN_YEAR:
        raise Invalid("date_invalid", field="starts_on")
    if ends_on.year > MAX_YEAR:
        raise Invalid("date_invalid", field="ends_on")
    if ends_on - starts_on > MAX_PERIOD:
        raise Invalid("round_period_long", field="ends_on")
    if template_id is not None and db.session.get(Template, template_id) is None:
        raise Invalid("round_template_unknown", field="template")

    if person_ids:
        scope = RoundScope.CHOSEN
        people = select(User.id).where(User.id.in_(set(person_ids)), User.active.is_(True))
        if not actor.is_admin:
            people = people.where(User.manager_id == actor.id)
        chosen = list(db.session.scalars(people))
        if len(chosen) != len(set(person_ids)):
            raise Invalid("round_people_not_allowed", field="people")
        people = select(User.id).where(User.id.in_(chosen))
    elif team_id is not None:
        scope = RoundScope.TEAM
        if not actor.is_admin and team_id != actor.id:
            raise Invalid("round_team_not_allowed", field="team")
        manager = db.session.get(User, team_id)
        if manager is None or not manager.active:
            raise Invalid("round_team_unknown", field="team")
        people = select(User.id).where(User.manager_id == team_id, User.active.is_(True))
    else:
        scope = RoundScope.EVERYONE
        if not actor.is_admin:
            raise Invalid("round_team_not_allowed", field="team")
        people = select(User.id).where(User.active.is_(True))

    if db.session.scalar(people.limit(1)) is None:
        raise Invalid("round_empty", field="team")
    start, end = period_bounds(starts_on, ends_on)
    round_ = Round(name=name, starts_on=starts_on, ends_on=ends_on, period_start=start, period_end=end,
                   scope=scope, team_id=team_id if scope == RoundScope.TEAM else None,
                   template_id=template_id, created_by_id=actor.id)
    db.session.add(round_)
    db.session.flush()
    # The snapshot of its people: one INSERT ... SELECT, whatever their number.
    db.session.execute(RoundPerson.__table__.insert().from_select(
        ["round_id", "person_id"], people.with_only_columns(literal(round_.id), User.id)))
    return round_


# --- The figures -------------------------------------------------------------------------------


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


def _people_rows(round_: Round, viewer: User):
    """A subquery of the viewer's part of the round: person_id, manager_id, conversation_id,
    state. Derived while the round is open; the frozen columns once it is closed."""
    if round_.closed:
        return (select(RoundPerson.person_id, RoundPerson.manager_id, RoundPerson.conversation_id,
                       RoundPerson.state)
                .where(RoundPerson.round_id == round_.id, RoundPerson.state.is_not(None),
                       _part(viewer, RoundPerson.manager_id))
                .subquery("round_rows"))
    inner = (select(RoundPerson.person_id, User.manager_id, User.active,
                    belonging(round_).label("conversation_id"))
             .join(User, User.id == RoundPerson.person_id)
             .where(RoundPerson.round_id == round_.id, _part(viewer, User.manager_id))
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
    rows = _people_rows(round_, viewer)
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
    rows = _people_rows(round_, viewer)
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
    rows = _people_rows(round_, viewer)
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


# --- The rounds a conversation belongs to, and a manager's next steps ----------------------------


def rounds_of(conversation: Conversation, viewer: User) -> list[tuple[Round, bool]]:
    """The rounds this conversation belongs to, each with whether the viewer may open it
    (for its page, which both participants see): open rounds by the rule, closed rounds
    by what they froze. Two statements, few rows."""
    open_rounds = db.session.scalars(
        select(Round).join(RoundPerson, RoundPerson.round_id == Round.id)
        .where(Round.closed_at.is_(None), RoundPerson.person_id == conversation.employee_id,
               belonging() == conversation.id))
    closed_rounds = db.session.scalars(
        select(Round).join(RoundPerson, RoundPerson.round_id == Round.id)
        .where(Round.closed_at.is_not(None), RoundPerson.conversation_id == conversation.id))
    uses_rounds = may_use_rounds(viewer)
    return [(r, uses_rounds and _may_see(viewer, r))
            for r in sorted({*open_rounds, *closed_rounds}, key=lambda r: (r.starts_on, r.id))]


def _may_see(viewer: User, round_: Round) -> bool:
    try:
        get_visible(viewer, round_.id)
    except NotFound:
        return False
    return True


@dataclass
class RoundTask:
    round_id: int
    name: str
    ends_on: date
    to_plan: int


def to_plan_by_manager(manager_id: int | None = None) -> list[tuple[int, int, int]]:
    """(round id, manager id, how many to plan) for the open rounds, one statement; only
    for one manager when `manager_id` is given."""
    query = (select(RoundPerson.round_id, User.manager_id, func.count())
             .join(Round, Round.id == RoundPerson.round_id)
             .join(User, User.id == RoundPerson.person_id)
             .where(Round.closed_at.is_(None), User.active.is_(True), User.manager_id.is_not(None),
                    belonging().is_(None))
             .group_by(RoundPerson.round_id, User.manager_id))
    if manager_id is not None:
        query = query.where(User.manager_id == manager_id)
    return [tuple(row) for row in db.session.execute(query)]


def next_steps(viewer: User) -> list[RoundTask]:
    """The open rounds in which people of the viewer's are still to plan (home page)."""
    counts = {round_id: number for round_id, _manager, number in to_plan_by_manager(viewer.id)}
    if not counts:
        return []
    rounds = db.session.execute(select(Round.id, Round.name, Round.ends_on).where(Round.id.in_(counts))
                                .order_by(Round.ends_on, Round.id))
    return [RoundTask(rid, name, ends_on, counts[rid]) for rid, name, ends_on in rounds]


# --- Planning from the round, and closing it ------------------------------------------------------


@writes
def plan_in_round(actor: User, round_id: int, *, person_id: int, scheduled_at: datetime, place: str = "") -> Conversation:
    """Plan the conversation of a person of the round, within its period, with the round's
    question list: the planning rules are `planning.plan_conversation`'s."""
    round_ = get_visible(actor, round_id, lock=True)
    if round_.closed:
        raise ReadOnly("round_closed")
    rows = _people_rows(round_, actor)
    state = db.session.scalar(select(rows.c.state).where(rows.c.person_id == person_id))
    if state is None:
        raise NotFound()  # not in the round, or not in the actor's part of it
    if state != RoundState.TO_PLAN:
        raise Invalid("round_planned_already", field="scheduled_at")
    if not round_.period_start <= scheduled_at < round_.period_end:
        raise Invalid("round_outside_period", field="scheduled_at",
                      start=round_.starts_on.isoformat(), end=round_.ends_on.isoformat())
    return planning.plan_conversation(actor, employee_id=person_id, manager_id=None, scheduled_at=scheduled_at,
                                      place=place, template_id=round_.template_id)


@writes
def close_round(actor: User, round_id: int) -> Round:
    """Close the round: freeze each person's state, conversation and manager (one UPDATE).
    Closing a closed round changes nothing."""
    round_ = get_visible(actor, round_id, lock=True)
    if not may_close(actor, round_):
        raise ReadOnly("round_close_not_allowed")
    if round_.closed:
        return round_
    cid = belonging(round_)
    status = select(Conversation.status).where(Conversation.id == cid).scalar_subquery()
    person = select(User).where(User.id == RoundPerson.person_id).correlate(RoundPerson)
    manager = person.with_only_columns(User.manager_id).scalar_subquery()
    active = person.with_only_columns(User.active).scalar_subquery()
    # A leaver without a conversation in the round is left out (state NULL), as while open.
    state = case((and_(cid.is_(None), active.is_not(True)), None),
                 else_=func.coalesce(status, RoundState.TO_PLAN))
    db.session.execute(
        update(RoundPerson).where(RoundPerson.round_id == round_.id)
        .values(conversation_id=cid, state=state, manager_id=manager),
        execution_options={"synchronize_session": False})
    round_.closed_at = utcnow()
    round_.closed_by_id = actor.id
    return round_
