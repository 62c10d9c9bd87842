"""Rounds: starting one, who sees which part, planning from it, closing it (the figures
are in figures.py).

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
is read from those frozen columns (`figures.py: people_rows`) and nothing in the round changes.

**Who sees what.** Administrators see every round, and all of it. A manager sees the
rounds of their own team and every other round with people of theirs in it (their
"part": the people whose manager they are, or were when the round closed), and only that
part. Anyone else gets a 404 for every round. Every figure is computed in SQL from the
viewer's part, in a fixed number of statements whatever the round's size; the people
still to plan are paged (records/paging.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from ..conversations import planning
from ..database import utcnow, writes
from ..errors import Invalid, NotFound, ReadOnly
from ..extensions import db
from ..models import Conversation, Round, RoundPerson, Template, User
from ..records.service import leads_people
from .figures import belonging, people_rows
from ..vocabulary import RoundScope, RoundState

MAX_NAME_LENGTH = 200
# A round is meant to last weeks or months; a typo of a year (2207) is refused.
MAX_PERIOD = timedelta(days=2 * 366)
# Dates a period can be turned into instants for (the first midnight in the organisation's
# time zone, the midnight after the last day).
MIN_YEAR, MAX_YEAR = 1900, 9998


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
    rows = people_rows(round_, actor)
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
