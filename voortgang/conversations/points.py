"""Talking points, agreements (and the follow-up's reviews of carried ones), and the
date of the next evaluation: each change in its own `writing()`, recorded once."""
from __future__ import annotations

from datetime import date

from ..database import utcnow, writes
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Agreement, AgreementReview, Conversation, TalkingPoint, User
from ..vocabulary import (
    AGREEMENT_OWNERS,
    AGREEMENT_STATUSES,
    PHASES,
    REVIEW_DECISIONS,
    REVIEW_RATINGS,
    AgreementStatus,
    Decision,
    Status,
)
from .access import get_writable
from .changes import Event, clean_text, record_change

# --- Talking points -------------------------------------------------------------------


@writes
def add_talking_point(actor: User, conversation_id: int, phase: str, text: str) -> TalkingPoint:
    conversation, role = get_writable(actor, conversation_id)
    if phase not in PHASES:
        raise Invalid("phase_unknown")
    point = TalkingPoint(
        conversation=conversation, phase=phase, author_role=role, author_id=actor.id,
        text=clean_text(text),
    )
    db.session.add(point)
    db.session.flush()
    record_change(actor, conversation, Event("talking_point.added", "talking_point", point.id))
    return point


def _point(conversation: Conversation, role: str, point_id: int, *, own: bool) -> TalkingPoint:
    point = db.session.get(TalkingPoint, point_id)
    if point is None or point.conversation_id != conversation.id:
        raise NotFound()
    if own and point.author_role != role:
        raise NotFound()  # only the author edits or removes a point
    return point


@writes
def edit_talking_point(actor: User, conversation_id: int, point_id: int, text: str) -> TalkingPoint:
    conversation, role = get_writable(actor, conversation_id)
    point = _point(conversation, role, point_id, own=True)
    text = clean_text(text)
    if text != point.text:
        point.text = text
        point.updated_at = utcnow()
        record_change(actor, conversation, Event("talking_point.edited", "talking_point", point.id))
    return point


@writes
def remove_talking_point(actor: User, conversation_id: int, point_id: int) -> str:
    """Remove the person's own point; return its phase."""
    conversation, role = get_writable(actor, conversation_id)
    point = _point(conversation, role, point_id, own=True)
    phase = point.phase
    db.session.delete(point)
    record_change(actor, conversation, Event("talking_point.removed", "talking_point", point_id))
    return phase


@writes
def mark_discussed(actor: User, conversation_id: int, point_id: int, discussed: bool) -> TalkingPoint:
    conversation, role = get_writable(actor, conversation_id)
    point = _point(conversation, role, point_id, own=False)
    if point.discussed != discussed:
        point.discussed = discussed
        point.updated_at = utcnow()
        action = "talking_point.discussed" if discussed else "talking_point.undiscussed"
        record_change(actor, conversation, Event(action, "talking_point", point.id))
    return point


# --- Agreements -------------------------------------------------------------------------


def _agreement_fields(text: str, owner: str, due: date | None, status: str) -> dict:
    if owner not in AGREEMENT_OWNERS:
        raise Invalid("owner_unknown")
    if status not in AGREEMENT_STATUSES:
        raise Invalid("status_unknown")
    return {"text": clean_text(text), "owner": owner, "due": due, "status": status}


@writes
def add_agreement(actor: User, conversation_id: int, *, text: str, owner: str,
                  due: date | None, status: str = AgreementStatus.OPEN) -> Agreement:
    conversation, _role = get_writable(actor, conversation_id)
    agreement = Agreement(conversation=conversation, created_by_id=actor.id,
                          **_agreement_fields(text, owner, due, status))
    db.session.add(agreement)
    db.session.flush()
    record_change(actor, conversation, Event("agreement.added", "agreement", agreement.id))
    return agreement


@writes
def edit_agreement(actor: User, conversation_id: int, agreement_id: int, *, text: str, owner: str,
                   due: date | None, status: str) -> Agreement:
    conversation, _role = get_writable(actor, conversation_id)
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or agreement.conversation_id != conversation.id:
        raise NotFound()
    fields = _agreement_fields(text, owner, due, status)
    if any(getattr(agreement, key) != value for key, value in fields.items()):
        for key, value in fields.items():
            setattr(agreement, key, value)
        agreement.updated_at = utcnow()
        record_change(actor, conversation, Event("agreement.edited", "agreement", agreement.id))
    return agreement


def _carried_agreement(conversation: Conversation, agreement_id: int) -> Agreement:
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or agreement.conversation_id != conversation.id or agreement.carried_from_id is None:
        raise NotFound()
    return agreement


@writes
def review_agreement(actor: User, conversation_id: int, agreement_id: int, rating: str,
                     comment: str = "") -> Agreement:
    """Rate a carried agreement (done / partly / not done) from the person's own side."""
    conversation, role = get_writable(actor, conversation_id)
    agreement = _carried_agreement(conversation, agreement_id)
    if rating not in REVIEW_RATINGS:
        raise Invalid("rating_unknown")
    comment = clean_text(comment, required=False)
    review = agreement.review(role)
    if review is None:
        review = AgreementReview(agreement=agreement, role=role, rating=rating, comment=comment)
        db.session.add(review)
    elif (review.rating, review.comment) == (rating, comment):
        return agreement
    review.rating, review.comment, review.updated_at = rating, comment, utcnow()
    record_change(actor, conversation, Event("agreement.reviewed", "agreement", agreement.id, f"{role}: {rating}"))
    return agreement


DECISION_STATUS = {Decision.CLOSED: AgreementStatus.DONE, Decision.CARRIED: AgreementStatus.OPEN,
                   Decision.DROPPED: AgreementStatus.DROPPED}


@writes
def decide_agreement(actor: User, conversation_id: int, agreement_id: int, decision: str) -> Agreement:
    """Either participant records what the pair decided: close it, carry it on, or drop it."""
    conversation, _role = get_writable(actor, conversation_id)
    agreement = _carried_agreement(conversation, agreement_id)
    if decision not in REVIEW_DECISIONS:
        raise Invalid("decision_unknown")
    if agreement.decision != decision:
        agreement.decision = decision
        agreement.status = DECISION_STATUS[decision]
        agreement.updated_at = utcnow()
        record_change(actor, conversation, Event("agreement.decided", "agreement", agreement.id, decision))
    return agreement


# --- The next evaluation ----------------------------------------------------------------


@writes
def set_next_evaluation(actor: User, conversation_id: int, when: date | None) -> Conversation:
    conversation, _role = get_writable(actor, conversation_id)
    if when is not None and when < conversation.scheduled_at.date():
        raise Invalid("next_evaluation_past")
    if conversation.next_evaluation != when:
        if when is None and conversation.status == Status.AWAITING_SIGNATURES:
            raise Invalid("next_evaluation_required")
        conversation.next_evaluation = when
        record_change(actor, conversation, Event("next_evaluation.set"))
    return conversation
