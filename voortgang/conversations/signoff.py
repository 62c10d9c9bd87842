"""The sign-off: propose to close, reopen, sign; with both signatures it is completed."""
from __future__ import annotations

from .. import mail
from ..database import utcnow, writes
from ..errors import Invalid
from ..models import Conversation, User
from ..vocabulary import Role, Status
from ..records.facts import refresh_facts
from .access import get_writable
from .changes import Event, clean_text, record_change


@writes
def propose_close(actor: User, conversation_id: int) -> Conversation:
    """Either side proposes to close: the record then awaits both signatures."""
    conversation, _role = get_writable(actor, conversation_id)
    if conversation.status == Status.AWAITING_SIGNATURES:
        return conversation
    if conversation.next_evaluation is None:
        raise Invalid("next_evaluation_required")
    conversation.status = Status.AWAITING_SIGNATURES
    record_change(actor, conversation, Event("conversation.proposed_close"), moves_on=False, withdraws=False)
    mail.signature_needed(conversation, actor)
    return conversation


@writes
def reopen(actor: User, conversation_id: int) -> Conversation:
    """Take back a proposal to close (signatures given so far are withdrawn)."""
    conversation, _role = get_writable(actor, conversation_id)
    if conversation.status != Status.AWAITING_SIGNATURES:
        return conversation
    conversation.status = Status.IN_PROGRESS
    record_change(actor, conversation, Event("conversation.reopened"), moves_on=False)
    return conversation


@writes
def sign(actor: User, conversation_id: int, comment: str = "") -> Conversation:
    """Sign the record with an optional closing comment; with both signatures it is completed."""
    conversation, role = get_writable(actor, conversation_id)
    if conversation.status != Status.AWAITING_SIGNATURES:
        raise Invalid("not_awaiting_signatures")
    comment = clean_text(comment, required=False)
    now = utcnow()
    if role == Role.EMPLOYEE:
        conversation.employee_signed_at, conversation.employee_comment = now, comment
    else:
        conversation.manager_signed_at, conversation.manager_comment = now, comment
    conversation.signatures_withdrawn_at = None
    completed = bool(conversation.employee_signed_at and conversation.manager_signed_at)
    if completed:
        conversation.status = Status.COMPLETED
        conversation.completed_at = now
    events = [Event("conversation.signed", detail=role)]
    if completed:
        events.append(Event("conversation.completed"))
    record_change(actor, conversation, *events, moves_on=False, withdraws=False)
    if completed:
        # Its open agreements become current, those it carried on are taken up, it is
        # the person's last completed conversation: records/facts.py.
        refresh_facts([conversation.employee_id])
    else:
        mail.signature_needed(conversation, actor)
    return conversation
