"""The one way a change to a conversation is recorded: the change counted (revision and
the side's counter, in one UPDATE that also moves the status on and withdraws
signatures), and audit events written (one INSERT). ORM writes and the autosave's plain
statements both record through here, inside the caller's `database.writing()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, insert, update

from ..database import utcnow
from ..errors import Invalid
from ..extensions import db
from ..models import AuditEvent, Conversation, User
from ..vocabulary import Role, Status

MAX_TEXT_LENGTH = 10_000  # talking points, agreements, comments


@dataclass(frozen=True)
class Event:
    """One line of the audit trail: what was done, to which object, with a short detail."""

    action: str
    object_type: str | None = None
    object_id: int | None = None
    detail: str = ""


@cache
def _count_change_statement(by_employee: bool, planned: bool, signed: bool):
    """A change to the record as one UPDATE: the status leaves "planned", signatures are
    withdrawn, the revision and the side's change count go up; returns the new revision."""
    table = Conversation.__table__
    side = table.c.employee_changes if by_employee else table.c.manager_changes
    values = {"updated_at": bindparam("now"), "revision": table.c.revision + 1, side.name: side + 1}
    if planned:
        values["status"] = Status.IN_PROGRESS
    if signed:
        values.update(employee_signed_at=None, manager_signed_at=None, signatures_withdrawn_at=bindparam("now"))
    return (update(table).values(**values).where(table.c.id == bindparam("conversation_id"))
            .returning(table.c.revision))


def count_change(conversation_id: int, role: str, *, planned: bool = False, signed: bool = False) -> int:
    """Count a change by `role`'s side; `planned`: the status moves to in progress;
    `signed`: the signatures given are withdrawn. Returns the new revision."""
    return db.session.connection().execute(
        _count_change_statement(role == Role.EMPLOYEE, planned, signed),
        {"now": utcnow(), "conversation_id": conversation_id},
    ).scalar_one()


@cache
def _audit_insert():
    return insert(AuditEvent.__table__)


def audit(actor_id: int, conversation_id: int, revision: int, *events: Event) -> None:
    """Write the events to the audit trail (one INSERT) and the log."""
    now = utcnow()
    db.session.connection().execute(_audit_insert(), [
        {"actor_id": actor_id, "conversation_id": conversation_id, "action": e.action,
         "object_type": e.object_type, "object_id": e.object_id, "detail": e.detail, "revision": revision,
         "at": now}
        for e in events
    ])
    for e in events:
        current_app.logger.info("audit %s by user %s on conversation %s (%s %s)",
                                e.action, actor_id, conversation_id, e.object_type or "-", e.object_id or "-")


def record_change(actor: User, conversation: Conversation, *events: Event, moves_on: bool = True,
                  withdraws: bool = True) -> int:
    """Record a change to a loaded conversation: what the caller changed is flushed
    first; then the change is counted and the events audited. A change to what the
    record says `moves_on` a planned conversation to in progress and `withdraws` the
    signatures given (audited too); a step of the sign-off does neither. The counted
    columns of `conversation` are expired (read again when next used). Returns the new
    revision."""
    db.session.flush()
    signed = withdraws and bool(conversation.employee_signed_at or conversation.manager_signed_at)
    planned = moves_on and conversation.status == Status.PLANNED
    revision = count_change(conversation.id, conversation.role_of(actor.id), planned=planned, signed=signed)
    db.session.expire(conversation, ["revision", "employee_changes", "manager_changes", "status",
                                      "updated_at", "employee_signed_at", "manager_signed_at",
                                      "signatures_withdrawn_at"])
    withdrawn = (Event("signatures.withdrawn"),) if signed else ()
    audit(actor.id, conversation.id, revision, *withdrawn, *events)
    return revision


def without_nul(text: str) -> str:
    """Drop NUL characters: nobody types them, and PostgreSQL cannot store them in text."""
    return text.replace("\x00", "")


def clean_text(text: str | None, *, required: bool = True, limit: int = MAX_TEXT_LENGTH) -> str:
    """The text as stored: no NUL, stripped; Invalid when missing (if required) or too long."""
    text = without_nul(text or "").strip()
    if required and not text:
        raise Invalid("text_missing")
    if len(text) > limit:
        raise Invalid("too_long", length=len(text), limit=limit)
    return text
