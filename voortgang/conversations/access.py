"""Who may see and write which conversation, and the conversation lists."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..errors import NotFound, ReadOnly
from ..extensions import db
from ..models import Conversation, User
from ..vocabulary import Role, Status


def role_of(user: User, conversation: Conversation) -> Role | None:
    """The person's role in the conversation; None when they do not take part."""
    return conversation.role_of(user.id)


def may_view(user: User, conversation: Conversation) -> bool:
    """Participants see it; an administrator reads it once it is completed."""
    if conversation.role_of(user.id):
        return True
    return user.is_admin and conversation.status == Status.COMPLETED


def get_visible(user: User, conversation_id: int, *, lock: bool = False) -> Conversation:
    """Return the conversation if `user` may see it; raise NotFound otherwise.

    lock: read it with SELECT ... FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers), so that what a write decides from it (sign: "the other side has
    signed, so it is completed") cannot be overtaken by a concurrent change (an autosave
    withdrawing that signature) until this transaction ends.
    """
    conversation = db.session.get(Conversation, conversation_id, with_for_update=True if lock else None,
                                  populate_existing=lock)
    if conversation is None or not may_view(user, conversation):
        raise NotFound()
    return conversation


def get_writable(user: User, conversation_id: int) -> tuple[Conversation, Role]:
    """Return the conversation, locked for this transaction, and the person's role for a
    write; NotFound or ReadOnly."""
    conversation = get_visible(user, conversation_id, lock=True)
    role = conversation.role_of(user.id)
    if role is None:
        raise NotFound()  # an administrator reading a record does not write in it
    if conversation.status == Status.COMPLETED:
        raise ReadOnly()
    return conversation, role


def conversations_for(user: User) -> list[Conversation]:
    """The conversations the person takes part in, as employee or as manager (of their team)."""
    return list(
        db.session.scalars(
            select(Conversation)
            .where(or_(Conversation.employee_id == user.id, Conversation.manager_id == user.id))
            .options(selectinload(Conversation.employee), selectinload(Conversation.manager))
            .order_by(Conversation.scheduled_at.desc())
        )
    )


def next_step(user: User, conversation: Conversation) -> str:
    """A code for what this conversation needs next from `user` (labels.NEXT_STEPS says it)."""
    role = conversation.role_of(user.id)
    if conversation.status == Status.COMPLETED:
        return "completed"  # (a NEXT_STEPS code)
    if conversation.status == Status.AWAITING_SIGNATURES:
        if role and conversation.signed_at(role) is None:
            return "sign"
        return "wait_signature"
    if conversation.status == Status.PLANNED:
        return "prepare"
    return "continue"
