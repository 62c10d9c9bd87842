"""Optional e-mail: invitations, password links, notifications and reminders, each in the
recipient's language. Without VOORTGANG_SMTP_HOST nothing is sent and nothing fails."""
from __future__ import annotations

import smtplib
import ssl
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from contextlib import nullcontext

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .extensions import db
from .models import Conversation, SentReminder, User


def enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def _locale(user: User) -> str:
    return user.locale or current_app.config["DEFAULT_LOCALE"]


def _deliver(message: EmailMessage) -> None:
    config = current_app.config
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587)
    timeout = float(config.get("SMTP_TIMEOUT") or 15)
    if config.get("SMTP_SSL"):
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
            client.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            client.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        client.send_message(message)


def _url_context():
    """Links need a request; outside one (CLI, cron) build them for VOORTGANG_BASE_URL."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=current_app.config.get("BASE_URL") or "http://localhost")


def send(user: User, template: str, subject_fn, attachments=(), **context) -> bool:
    """Render `mail/<template>.txt` in the recipient's language and send it.

    Returns True when it was handed to the SMTP server; False when e-mail is off or
    failed (logged: a mail problem never breaks what the person was doing).
    """
    if not enabled():
        return False
    with _url_context(), force_locale(_locale(user)):
        subject = subject_fn()
        body = render_template(f"mail/{template}.txt", person=user, **context)
        extra = [(name, content_type, build()) for name, content_type, build in attachments]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config.get("SMTP_FROM") or "voortgang@localhost"
    message["To"] = formataddr((user.name, user.email))
    message["Message-ID"] = make_msgid(domain="voortgang")
    message.set_content(body)
    for filename, content_type, content in extra:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    try:
        _deliver(message)
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning("e-mail to user %s (%s) failed: %s", user.id, template, error)
        return False
    current_app.logger.info("e-mail %s sent to user %s", template, user.id)
    return True


def _link(endpoint: str, **values) -> str:
    base = current_app.config.get("BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


# --- Messages ---------------------------------------------------------------------------------


def password_link(user: User, link: str, invitation: bool) -> bool:
    return send(user, "invitation" if invitation else "password_link",
                (lambda: _("You are invited to Voortgang")) if invitation else (lambda: _("Set your Voortgang password")),
                link=link)


def _calendar_attachment(conversation: Conversation, host: str):
    from .conversations.calendars import conversation_event

    return ("voortgang.ics", "text/calendar", lambda: conversation_event(conversation, host))


def conversation_planned(conversation: Conversation, actor: User) -> None:
    """Tell both participants (but the one who planned it) that a conversation is planned."""
    if not enabled():
        return
    with _url_context():
        _conversation_planned(conversation, actor)


def _conversation_planned(conversation: Conversation, actor: User) -> None:
    host = (current_app.config.get("BASE_URL") or "voortgang").split("//")[-1].strip("/") or "voortgang"
    for person in (conversation.employee, conversation.manager):
        if person.id == actor.id or not person.active:
            continue
        other = conversation.manager if person.id == conversation.employee_id else conversation.employee
        send(person, "conversation_planned",
             lambda other=other: _("Progress conversation planned with %(name)s", name=other.name),
             attachments=[_calendar_attachment(conversation, host)],
             conversation=conversation, other=other,
             link=_link("conversations.show", conversation_id=conversation.id))


def signature_needed(conversation: Conversation, actor: User) -> None:
    """Tell the participants who have not signed yet (but the actor) that the record awaits them."""
    if not enabled():
        return
    with _url_context():
        _signature_needed(conversation, actor)


def _signature_needed(conversation: Conversation, actor: User) -> None:
    for role in ("employee", "manager"):
        person = conversation.participant(role)
        if person.id == actor.id or conversation.signed_at(role) or not person.active:
            continue
        send(person, "signature_needed",
             lambda: _("Your signature is needed on a progress conversation"),
             conversation=conversation, other=actor,
             link=_link("conversations.show", conversation_id=conversation.id))


# --- Reminders (`voortgang remind`, run daily from cron) ----------------------------------------


def _already_sent(kind: str, object_id: int, user_id: int) -> bool:
    return db.session.scalar(select(SentReminder.id).where(
        SentReminder.kind == kind, SentReminder.object_id == object_id, SentReminder.user_id == user_id)) is not None


def _remind(kind: str, object_id: int, user: User, template: str, subject_fn, **context) -> bool:
    if not user.active or _already_sent(kind, object_id, user.id):
        return False
    if not send(user, template, subject_fn, **context):
        return False
    db.session.add(SentReminder(kind=kind, object_id=object_id, user_id=user.id))
    db.session.commit()
    return True


def due_reminders(today: date) -> int:
    """Send the reminders that are due and not sent before; return how many went out."""
    from .models import Agreement
    from .records.service import current_open_agreements

    sent = 0
    tomorrow = today + timedelta(days=1)
    for conversation in db.session.scalars(select(Conversation).where(Conversation.status == "planned")):
        local_day = conversation.scheduled_at.astimezone(_zone()).date()
        if local_day != tomorrow:
            continue
        for person in (conversation.employee, conversation.manager):
            other = conversation.manager if person.id == conversation.employee_id else conversation.employee
            sent += _remind("conversation_tomorrow", conversation.id, person, "reminder_tomorrow",
                            lambda other=other: _("Tomorrow: your progress conversation with %(name)s", name=other.name),
                            conversation=conversation, other=other,
                            link=_link("conversations.show", conversation_id=conversation.id))

    soon = today + timedelta(days=14)
    followed = select(Conversation.follows_id).where(Conversation.follows_id.is_not(None))
    for conversation in db.session.scalars(select(Conversation).where(
            Conversation.status == "completed", Conversation.next_evaluation.is_not(None),
            Conversation.next_evaluation <= soon, Conversation.next_evaluation >= today,
            Conversation.id.not_in(followed))):
        for person in (conversation.employee, conversation.manager):
            sent += _remind("next_evaluation", conversation.id, person, "reminder_next_evaluation",
                            lambda: _("The next progress conversation is due soon"),
                            conversation=conversation,
                            link=_link("conversations.new", follows=conversation.id))

    for agreement, conversation in db.session.execute(
            current_open_agreements().add_columns(Conversation).where(Agreement.due < today)):
        person = conversation.employee if agreement.owner == "employee" else conversation.manager
        sent += _remind("agreement_overdue", agreement.id, person, "reminder_agreement",
                        lambda: _("An agreement is overdue"),
                        agreement=agreement, conversation=conversation,
                        link=_link("conversations.phase", conversation_id=conversation.id, phase="agreements"))
    return sent


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
