"""The audit trail of a conversation as administrators see it on its page: who changed
what, when. Audit events never hold the text of an answer, a talking point or private
preparation (conversations/changes.py writes only the action, the object and its id)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import AuditEvent, Conversation, User


@dataclass(frozen=True)
class Change:
    at: datetime
    actor_name: str | None
    role: str | None  # the actor's role in the conversation, if any
    action: str


def changes_of(conversation: Conversation) -> list[Change]:
    """Every audit event of the conversation, oldest first (one query)."""
    rows = db.session.execute(
        select(AuditEvent.at, AuditEvent.actor_id, AuditEvent.action, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.conversation_id == conversation.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [Change(at, name, conversation.role_of(actor_id) if actor_id else None, action)
            for at, actor_id, action, name in rows]
