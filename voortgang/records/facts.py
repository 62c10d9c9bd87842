"""Each person's facts, stored: the one place they are written.

The administrator's overview filters, sorts and counts the whole organisation by each
person's last completed conversation, the one under way and their current open
agreements; the open-agreements list starts from the current open agreements of
everyone. Derived per request (overview.py, service.py: current_open_agreements) that
costs a pass over the whole organisation on every page. So those facts are also stored:
`person_facts` (one row per person with conversations) and `agreements.is_current`.

There is one definition: `refresh_facts(employee_ids)` recomputes the stored facts of
those people from the derived queries, and is called inside the same `writing()` as
every change that can move them:

- `conversations/planning.py: plan_conversation` (a new open conversation),
- `conversations/signoff.py: sign` when the conversation is completed (its open
  agreements become current, those of the conversation it follows are taken up; it is
  the last completed one),
- `records/retention.py: erase_conversations` (retention and erasure on request).

Nothing else can move them: the facts are about completed conversations (read-only),
which open conversation is the latest (only planning adds one, only signing ends one;
its status is read from the conversation itself, so the autosave's move from planned to
in progress, proposing to close and reopening change no stored fact), and they count
every conversation of the employee whoever the manager is (a hand-over changes nothing
here; a manager's pages keep the derived queries, limited to their own conversations).
Deactivation changes `users.active`, which the pages read from `users`.
`tests/test_facts.py` checks the stored facts against the derived ones after each
operation through the app. `voortgang facts rebuild` recomputes everybody's (after
rows were written outside the app, e.g. restored by hand).
"""
from __future__ import annotations

from collections.abc import Iterable

import click
from flask.cli import AppGroup
from sqlalchemy import delete, func, insert, select, true, update

from ..database import writing
from ..extensions import db
from ..models import Agreement, Conversation, PersonFacts, User
from ..vocabulary import OPEN_STATUSES, AgreementStatus, Status

CHUNK = 500


def latest(column, statuses: tuple[str, ...], scope=None):
    """`column` of the person's (User's) latest conversation with one of these statuses,
    among the conversations in `scope` (a condition on Conversation; None: all)."""
    status = Conversation.status == statuses[0] if len(statuses) == 1 else Conversation.status.in_(statuses)
    return (select(column).where(Conversation.employee_id == User.id, status, true() if scope is None else scope)
            .order_by(Conversation.scheduled_at.desc(), Conversation.id.desc()).limit(1).scalar_subquery())


def current_agreements(column, scope=None, *conditions):
    """`column` (an aggregate) over the person's (User's) current open agreements."""
    from .service import taken_up

    return (select(column).select_from(Conversation)
            .join(Agreement, Agreement.conversation_id == Conversation.id)
            .where(Conversation.employee_id == User.id, Conversation.status == Status.COMPLETED,
                   true() if scope is None else scope, Agreement.status == AgreementStatus.OPEN, ~taken_up(),
                   *conditions)
            .scalar_subquery())


def derived_facts():
    """The columns of person_facts worked out from the conversations, correlated to User
    (the same expressions the overview uses for a manager)."""
    return {
        "last_completed_at": latest(Conversation.scheduled_at, (Status.COMPLETED,)),
        "next_evaluation": latest(Conversation.next_evaluation, (Status.COMPLETED,)),
        "current_id": latest(Conversation.id, OPEN_STATUSES),
        "open_agreements": current_agreements(func.count(Agreement.id)),
        "first_due": current_agreements(func.min(Agreement.due)),
    }


def refresh_facts(employee_ids: Iterable[int | None]) -> None:
    """Recompute the stored facts of these people (inside the caller's `writing()`):
    which of their agreements are current, and their row of person_facts. A few
    statements per 500 people, each on the people's own conversations."""
    from .service import current_open_agreements

    ids = sorted({i for i in employee_ids if i is not None})
    plain = {"synchronize_session": False}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        # On PostgreSQL two writes about the same person take turns here (their rows of
        # users, locked in one order), so the second reads what the first committed
        # instead of inserting a second row of person_facts; SQLite writers take turns anyway.
        db.session.execute(select(User.id).where(User.id.in_(chunk)).order_by(User.id).with_for_update())
        theirs = select(Conversation.id).where(Conversation.employee_id.in_(chunk))
        current = current_open_agreements(Agreement.id).where(Conversation.employee_id.in_(chunk))
        db.session.execute(update(Agreement).where(
            Agreement.conversation_id.in_(theirs), Agreement.is_current.is_(False), Agreement.id.in_(current))
            .values(is_current=True), execution_options=plain)
        db.session.execute(update(Agreement).where(
            Agreement.conversation_id.in_(theirs), Agreement.is_current.is_(True), Agreement.id.not_in(current))
            .values(is_current=False), execution_options=plain)
        db.session.execute(delete(PersonFacts).where(PersonFacts.employee_id.in_(chunk)), execution_options=plain)
        facts = derived_facts()
        has_conversations = select(Conversation.id).where(Conversation.employee_id == User.id).exists()
        db.session.execute(insert(PersonFacts).from_select(
            ["employee_id", *facts], select(User.id, *facts.values()).where(User.id.in_(chunk), has_conversations)))
    for loaded in list(db.session.identity_map.values()):  # (the UPDATEs above bypassed them)
        if isinstance(loaded, Agreement):
            db.session.expire(loaded, ["is_current"])
        elif isinstance(loaded, PersonFacts):
            db.session.expire(loaded)


def rebuild_facts() -> int:
    """Recompute everybody's stored facts in one write; returns how many people."""
    with writing():
        ids = list(db.session.scalars(select(User.id).order_by(User.id)))
        # Rows of people who no longer have any conversation go too.
        db.session.execute(delete(PersonFacts), execution_options={"synchronize_session": False})
        db.session.execute(update(Agreement).where(Agreement.is_current.is_(True)).values(is_current=False),
                           execution_options={"synchronize_session": False})
        refresh_facts(ids)
    return len(ids)


def stored_and_derived() -> tuple[list[tuple], list[tuple]]:
    """Everybody's stored facts and the same worked out from the conversations, as sorted
    rows (for the tests and `voortgang facts check`)."""
    from .service import current_open_agreements

    facts = derived_facts()
    derived = [tuple(row) for row in db.session.execute(
        select(User.id, *facts.values()).where(select(Conversation.id).where(
            Conversation.employee_id == User.id).exists()).order_by(User.id))]
    stored = [tuple(row) for row in db.session.execute(
        select(PersonFacts.employee_id, *(getattr(PersonFacts, name) for name in facts))
        .order_by(PersonFacts.employee_id))]
    derived_current = set(db.session.scalars(current_open_agreements(Agreement.id)))
    stored_current = set(db.session.scalars(select(Agreement.id).where(Agreement.is_current.is_(True))))
    derived.append(("current agreements", sorted(derived_current)))
    stored.append(("current agreements", sorted(stored_current)))
    return stored, derived


facts_cli = AppGroup("facts", help="The stored facts of the administrator's overview (person_facts).")


@facts_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute every person's stored facts from the conversations."""
    count = rebuild_facts()
    click.echo(f"Recomputed the stored facts of {count} people.")


@facts_cli.command("check")
def check_command() -> None:
    """Compare the stored facts with the conversations; exit 1 when they differ."""
    stored, derived = stored_and_derived()
    db.session.rollback()
    if stored == derived:
        click.echo("The stored facts agree with the conversations.")
        return
    differ = sorted(set(map(repr, stored)) ^ set(map(repr, derived)))
    click.echo(f"The stored facts differ from the conversations ({len(differ)} rows); "
               "run `voortgang facts rebuild`.", err=True)
    raise SystemExit(1)
