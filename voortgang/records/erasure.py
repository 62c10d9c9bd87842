"""Erasing one person's data on request (AVG/GDPR art. 17).

What goes: the conversations in which they were the employee (their record, as
retention erases it: retention.py: erase_conversations), their private preparation
everywhere, and their account details (e-mail address, password, language, manager,
administrator role, sign-in history, e-mails waiting for them). What stays: the
conversations in which they were the *manager*, whole, since those are the employee's
record; there the manager is shown by name only, so the name stays on the account row,
which can no longer sign in.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from ..auth.service import normalise_email
from ..database import utcnow, writes
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import (
    AuditEvent,
    Conversation,
    GuideDismissal,
    LoginFailure,
    OutgoingMail,
    Preparation,
    PreparationShare,
    Presence,
    SentReminder,
    User,
)
from . import retention

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never a real address


@dataclass(frozen=True)
class ErasureSummary:
    """What erasing the person would take, and what stays."""

    person: User
    as_employee: retention.Counts
    as_manager: int
    reports: int


def summary(person: User) -> ErasureSummary:
    """What erasing `person` would erase (counts), for the confirmation page."""
    counts = retention.record_counts([person.id])[person.id]
    as_manager = db.session.scalar(select(func.count()).select_from(Conversation)
                                   .where(Conversation.manager_id == person.id))
    reports = db.session.scalar(select(func.count()).select_from(User)
                                .where(User.manager_id == person.id, User.active.is_(True)))
    return ErasureSummary(person, counts, as_manager or 0, reports or 0)


def erased_email(person_id: int) -> str:
    return f"erased-{person_id}@{ERASED_DOMAIN}"


@writes
def erase_person(actor: User, person_id: int) -> int:
    """Erase the person's data (see the module's docstring); returns how many of their
    conversations as employee went. Refused for oneself, for the last active
    administrator, and while active people still report to them."""
    person = db.session.get(User, person_id, with_for_update=True, populate_existing=True)
    if person is None or person.erased_at is not None:
        raise NotFound()
    if person.id == actor.id:
        raise Invalid("erase_self", "you cannot erase yourself")
    if person.is_admin and person.active:
        from ..people.service import _active_admins

        if _active_admins(excluding=person.id) == 0:
            raise Invalid("last_admin", "there must always be an active administrator")
    if db.session.scalar(select(User.id).where(User.manager_id == person.id, User.active.is_(True)).limit(1)):
        raise Invalid("erase_has_reports", f"people still report to {person.email}: give them another manager first",
                      name=person.name)
    erased = retention.erase_conversations(retention.conversations_as_employee(person.id))
    old_email = person.email
    plain = {"synchronize_session": False}
    # Their private preparation in every other conversation (as manager, or handed over),
    # and what they said about readiness and the guide: erase_conversations took the rest.
    for model, column in ((Preparation, Preparation.author_id), (PreparationShare, PreparationShare.user_id),
                          (GuideDismissal, GuideDismissal.user_id)):
        db.session.execute(delete(model).where(column == person.id), execution_options=plain)
    db.session.execute(delete(LoginFailure).where(LoginFailure.email.in_(
        (normalise_email(old_email), "reset:" + normalise_email(old_email)))), execution_options=plain)
    for model in (OutgoingMail, SentReminder, Presence):
        db.session.execute(delete(model).where(model.user_id == person.id), execution_options=plain)
    person = db.session.get(User, person_id, populate_existing=True)
    now = utcnow()
    person.email = erased_email(person.id)
    person.password_hash = None
    person.locale = None
    person.manager_id = None
    person.is_admin = False
    person.active = False
    person.deactivated_at = person.deactivated_at or now
    person.erased_at = now
    person.end_sessions()
    db.session.execute(insert(AuditEvent).values(
        at=now, actor_id=actor.id, action="person.erased", object_type="user", object_id=person.id,
        detail=f"conversations={erased}"))
    return erased
