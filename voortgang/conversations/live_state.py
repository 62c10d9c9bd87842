"""What the live view reads and writes in the database: counters, presence, audit rows.

The protocol itself (what the page sends, which pieces a reply carries, the idle fast
path) is `live.py`; this module only holds its queries and the state they return.
Everything lives in the database, so any number of app processes can serve the two
participants of one conversation.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Integer, and_, bindparam, case, select
from sqlalchemy.dialects import postgresql, sqlite

from ..database import ONE_READ, utcnow, writing
from ..extensions import db
from ..models import Answer, AuditEvent, Conversation, ConversationQuestion, Presence, User
from ..vocabulary import PHASES, Role

# A page says it is there every HEARTBEAT; it counts as gone after PRESENCE_TIMEOUT.
HEARTBEAT_SECONDS = 5
PRESENCE_TIMEOUT = timedelta(seconds=3 * HEARTBEAT_SECONDS)


@dataclass(frozen=True)
class PollState:
    """The server's side of a poll: what the page is compared with."""

    revision: int
    other_changes: int  # how many changes the other participant has made
    status: str
    role: Role
    other_phase: str  # "" when the other participant is not on the page


def presence_key(phase: str | None, seen_at: datetime | None, now: datetime) -> str:
    if phase in PHASES and seen_at is not None and now - seen_at <= PRESENCE_TIMEOUT:
        return phase
    return ""


@cache
def _poll_statement():
    """One statement: the conversation's counters and status, the other participant's
    presence, and the person's sign-in state (active, session token) for the quick path.
    Built once: the poll is the hottest request."""
    user_id = bindparam("user_id", type_=Integer)
    other_id = case(
        (Conversation.employee_id == user_id, Conversation.manager_id),
        else_=Conversation.employee_id,
    )
    return (
        select(
            Conversation.revision,
            Conversation.employee_changes,
            Conversation.manager_changes,
            Conversation.status,
            Conversation.employee_id,
            Conversation.manager_id,
            Presence.phase,
            Presence.seen_at,
            User.active,
            User.session_token,
        )
        .select_from(Conversation)
        .join(User, User.id == user_id)
        .outerjoin(
            Presence,
            and_(Presence.conversation_id == Conversation.id, Presence.user_id == other_id),
        )
        .where(Conversation.id == bindparam("conversation_id", type_=Integer))
    )


def poll_row(user_id: int, conversation_id: int):
    """The row of `_poll_statement`, or None when the conversation does not exist."""
    # A connection of its own: no ORM session to set up and tear down for one statement.
    with db.engine.connect().execution_options(**{ONE_READ: True}) as connection:
        return connection.execute(
            _poll_statement(), {"user_id": user_id, "conversation_id": conversation_id}
        ).one_or_none()


def state_of(row, user_id: int) -> PollState | None:
    """The poll state in a `poll_row`; None when `user_id` does not take part."""
    if row is None or user_id not in (row.employee_id, row.manager_id):
        return None
    role = Role.EMPLOYEE if user_id == row.employee_id else Role.MANAGER
    other_changes = row.manager_changes if role == Role.EMPLOYEE else row.employee_changes
    return PollState(row.revision, other_changes, row.status, role,
                     presence_key(row.phase, row.seen_at, utcnow()))


def other_changes(conversation: Conversation, role: Role) -> int:
    return conversation.changes_by(role.other)


def other_presence(conversation: Conversation, role: Role) -> str:
    """The phase the other participant has open, or "" when they are not on the page."""
    other = conversation.participant_id(role.other)
    presence = db.session.get(Presence, (conversation.id, other))
    if presence is None:
        return ""
    return presence_key(presence.phase, presence.seen_at, utcnow())


@cache
def _presence_upsert(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Presence.__table__)
    return statement.on_conflict_do_update(
        index_elements=["conversation_id", "user_id"],
        set_={"phase": statement.excluded.phase, "seen_at": statement.excluded.seen_at},
    )


def record_presence(user: User, conversation: Conversation, phase: str | None) -> None:
    """Say that `user` has `phase` open (None: they left the page). One upsert, committed."""
    values = {"conversation_id": conversation.id, "user_id": user.id,
              "phase": phase if phase in PHASES else None, "seen_at": utcnow()}
    with writing():
        connection = db.session.connection()
        connection.execute(_presence_upsert(connection.dialect.name), values)


@dataclass
class Changes:
    """What the other participant changed after a revision: the kinds, in order, the
    questions whose answers changed, and the name of who changed them."""

    kinds: list[str]
    question_ids: set[int]
    by: str = ""

    def any(self, *kinds: str) -> bool:
        return any(kind in self.kinds for kind in kinds)


@cache
def _changes_statement():
    return (
        select(AuditEvent.action, Answer.question_id, User.name)
        .outerjoin(Answer, and_(AuditEvent.object_type == "answer", Answer.id == AuditEvent.object_id))
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.conversation_id == bindparam("conversation_id"),
            AuditEvent.revision > bindparam("since"),
            AuditEvent.actor_id != bindparam("viewer_id"),
        )
        .order_by(AuditEvent.id)
    )


def changes_by_other(conversation: Conversation, since: int, viewer: User) -> Changes:
    """The changes others made to the conversation after revision `since` (one query)."""
    rows = db.session.connection().execute(
        _changes_statement(), {"conversation_id": conversation.id, "since": since, "viewer_id": viewer.id})
    changes = Changes([], set())
    for action, question_id, name in rows:
        kind = action if action.startswith(("conversation.", "preparation.")) else action.split(".")[0]
        if kind not in changes.kinds:
            changes.kinds.append(kind)
        if kind == "answer" and question_id is not None:
            changes.question_ids.add(question_id)
        changes.by = name or changes.by
    return changes


@dataclass(frozen=True)
class QuestionAnswers:
    """A question of the conversation with its answer texts by role (none yet: no entry)."""

    id: int
    phase: str
    bodies: dict[str, str]


@cache
def _question_answers_statement():
    return (
        select(ConversationQuestion.id, ConversationQuestion.phase, Answer.role, Answer.body)
        .outerjoin(Answer, Answer.question_id == ConversationQuestion.id)
        .where(ConversationQuestion.conversation_id == bindparam("conversation_id"))
        .order_by(ConversationQuestion.phase_order, ConversationQuestion.position)
    )


def question_answers(conversation_id: int) -> list[QuestionAnswers]:
    """Every question with its answers, in one query of plain rows (no ORM objects)."""
    rows = db.session.connection().execute(_question_answers_statement(), {"conversation_id": conversation_id})
    questions: dict[int, QuestionAnswers] = {}
    for question_id, phase, role, body in rows:
        question = questions.setdefault(question_id, QuestionAnswers(question_id, phase, {}))
        if role is not None:
            question.bodies[role] = body
    return list(questions.values())


def progress_key(progress: dict[str, dict]) -> str:
    """The stepper's counts in a few characters, so a poll can tell whether they moved."""
    return ".".join(f"{c['employee']}-{c['manager']}" for c in progress.values())
