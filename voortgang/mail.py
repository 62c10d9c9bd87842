"""Optional e-mail: invitations, password links, notifications and reminders, each in the
recipient's language. Without VOORTGANG_SMTP_HOST nothing is sent and nothing fails.

Nothing is sent inside a request. `send` renders the message and adds it to the outbox in
the caller's transaction, so a mail exists exactly when what it tells about was committed;
after the commit the process's courier (a background thread) delivers it. A slow or
failing mail server therefore never holds up a request, and the time a request takes
shows nothing about whether a mail went out (forgot password). Delivery is retried with
growing pauses for about a day; a message is claimed (queued → sending) by one process
before it is handed to the SMTP server, and one whose process died while sending is
marked unknown rather than sent again: never twice. `voortgang remind` delivers what it
queued before it exits.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from .database import utcnow, writing
from .extensions import db
from .links import public_url, uid_domain
from .models import Conversation, OutgoingMail, SentReminder, User
from .vocabulary import ROLES, Owner, Phase, Status

log = logging.getLogger(__name__)
# Pauses before the next attempt after a failure; then the message is given up (failed).
RETRY_AFTER = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720)]
# A message this long in "sending" was left by a process that died mid-delivery.
ABANDONED_AFTER = timedelta(minutes=10)
# The courier looks at the outbox at least this often (retries), and at once after a commit.
SWEEP_SECONDS = 60
_QUEUED = "voortgang.outbox.queued"


def enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def _locale(user: User) -> str:
    return user.locale or current_app.config["DEFAULT_LOCALE"]


def send(user: User, template: str, subject_fn, attachments=(), **context) -> bool:
    """Render `mail/<template>.txt` in the recipient's language and put it in the outbox.

    Part of the caller's transaction: delivered after it commits, dropped if it rolls
    back. Returns True when queued; False when e-mail is off.
    """
    if not enabled():
        return False
    with force_locale(_locale(user)):
        subject = subject_fn()
        body = render_template(f"mail/{template}.txt", person=user, **context)
        extra = [(name, content_type, build()) for name, content_type, build in attachments]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config.get("SMTP_FROM") or "voortgang@localhost"
    message["To"] = formataddr((user.name, user.email))
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=uid_domain())
    message.set_content(body)
    for filename, content_type, content in extra:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    db.session.add(OutgoingMail(kind=template, user_id=user.id, to_address=user.email,
                                message=message.as_bytes(policy=SMTP_POLICY)))
    db.session.info[_QUEUED] = True
    return True


@event.listens_for(Session, "after_commit")
def _wake_courier(session) -> None:
    if session.info.pop(_QUEUED, False):
        courier(current_app._get_current_object()).wake()


@event.listens_for(Session, "after_rollback")
def _forget_queued(session) -> None:
    session.info.pop(_QUEUED, None)


# --- Delivery ---------------------------------------------------------------------------------


class PermanentFailure(Exception):
    """The mail server refused the message for good (a 5xx answer): do not retry."""


def _deliver(to_address: str, message: bytes) -> None:
    config = current_app.config
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587)
    timeout = float(config.get("SMTP_TIMEOUT") or 15)
    if config.get("SMTP_SSL"):
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    sender = parseaddr(config.get("SMTP_FROM") or "voortgang@localhost")[1]
    with client:
        if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
            client.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            client.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        try:
            client.sendmail(sender, [to_address], message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            code = getattr(error, "smtp_code", None) or min(
                (c for c, _m in getattr(error, "recipients", {}).values()), default=0)
            if code >= 500:
                raise PermanentFailure(str(error)) from error
            raise


def deliver_due(limit: int = 100) -> int:
    """Deliver the messages that are due, one claim at a time; return how many went out.

    Each claim, and each outcome, is a short transaction of its own: no lock is held
    while the mail server is talking.
    """
    if not enabled():
        return 0
    now = utcnow()
    with writing():
        abandoned = db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.state == "sending", OutgoingMail.claimed_at < now - ABANDONED_AFTER)
            .values(state="unknown", last_error="the process sending it stopped; not sent again")
        ).rowcount
        due = db.session.scalars(
            select(OutgoingMail.id).where(OutgoingMail.state == "queued", OutgoingMail.next_attempt_at <= now)
            .order_by(OutgoingMail.id).limit(limit)
        ).all()
    if abandoned:
        log.warning("outbox: %d message(s) left mid-delivery by a stopped process: not sent again", abandoned)
    sent = 0
    for mail_id in due:
        with writing():  # plain values read: nothing touches the database while sending
            claimed = db.session.execute(
                update(OutgoingMail).where(OutgoingMail.id == mail_id, OutgoingMail.state == "queued")
                .values(state="sending", claimed_at=utcnow(), attempts=OutgoingMail.attempts + 1)
            ).rowcount
            row = db.session.execute(
                select(OutgoingMail.kind, OutgoingMail.user_id, OutgoingMail.to_address, OutgoingMail.message,
                       OutgoingMail.attempts).where(OutgoingMail.id == mail_id)
            ).one() if claimed else None
        if row is None:
            continue  # another process took it
        outcome: dict = {"claimed_at": None}
        try:
            _deliver(row.to_address, row.message)
        except PermanentFailure as error:
            outcome.update(state="failed", last_error=str(error)[:1000])
            log.warning("outbox: message %d (%s) refused for good: %s", mail_id, row.kind, error)
        except (OSError, smtplib.SMTPException) as error:
            retry = row.attempts - 1 < len(RETRY_AFTER)
            outcome.update(state="queued" if retry else "failed", last_error=str(error)[:1000])
            if retry:
                outcome["next_attempt_at"] = utcnow() + RETRY_AFTER[row.attempts - 1]
            log.warning("outbox: message %d (%s) to user %s, attempt %d failed: %s", mail_id, row.kind,
                        row.user_id, row.attempts, error)
        else:
            outcome.update(state="sent", sent_at=utcnow(), last_error=None)
            sent += 1
            log.info("outbox: message %d (%s) sent to user %s", mail_id, row.kind, row.user_id)
        with writing():
            db.session.execute(update(OutgoingMail).where(OutgoingMail.id == mail_id).values(**outcome))
    return sent


def waiting() -> int:
    """Messages still queued for a retry."""
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(OutgoingMail).where(OutgoingMail.state == "queued"))


class Courier:
    """One background thread per process that delivers the outbox: woken after a commit
    that queued mail, and every SWEEP_SECONDS for retries."""

    def __init__(self, app: Flask):
        self.app = app
        self.wanted = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def wake(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.stopping.clear()
                self.thread = threading.Thread(target=self._run, name="voortgang-courier", daemon=True)
                self.thread.start()
        self.wanted.set()

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        self.wanted.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wanted.wait(SWEEP_SECONDS)
            self.wanted.clear()
            if self.stopping.is_set():
                break
            with self.app.app_context():
                try:
                    deliver_due()
                except Exception:  # the next round tries again; the thread must not die
                    log.exception("outbox: delivery round failed")
                    db.session.rollback()
                finally:
                    db.session.remove()


def courier(app: Flask) -> Courier:
    """The app's courier (created on first use, in the process that uses it)."""
    found = app.extensions.get("voortgang.courier")
    if found is None:
        found = app.extensions["voortgang.courier"] = Courier(app)
    return found


# --- Messages ---------------------------------------------------------------------------------


def password_link(user: User, link: str, invitation: bool) -> bool:
    return send(user, "invitation" if invitation else "password_link",
                (lambda: _("You are invited to Voortgang")) if invitation else (lambda: _("Set your Voortgang password")),
                link=link)


def _calendar_attachment(conversation: Conversation):
    from .conversations.calendars import conversation_event

    return ("voortgang.ics", "text/calendar", lambda: conversation_event(conversation))


def conversation_planned(conversation: Conversation, actor: User) -> None:
    """Tell both participants (but the one who planned it) that a conversation is planned."""
    if not enabled():
        return
    for person in (conversation.employee, conversation.manager):
        if person.id == actor.id or not person.active:
            continue
        other = conversation.manager if person.id == conversation.employee_id else conversation.employee
        send(person, "conversation_planned",
             lambda other=other: _("Progress conversation planned with %(name)s", name=other.name),
             attachments=[_calendar_attachment(conversation)],
             conversation=conversation, other=other,
             link=public_url("conversations.show", conversation_id=conversation.id))


def signature_needed(conversation: Conversation, actor: User) -> None:
    """Tell the participants who have not signed yet (but the actor) that the record awaits them."""
    if not enabled():
        return
    for role in ROLES:
        person = conversation.participant(role)
        if person.id == actor.id or conversation.signed_at(role) or not person.active:
            continue
        send(person, "signature_needed",
             lambda: _("Your signature is needed on a progress conversation"),
             conversation=conversation, other=actor,
             link=public_url("conversations.show", conversation_id=conversation.id))


# --- Reminders (`voortgang remind`, run daily from cron) ----------------------------------------


def _already_sent(kind: str, object_id: int, user_id: int) -> bool:
    return db.session.scalar(select(SentReminder.id).where(
        SentReminder.kind == kind, SentReminder.object_id == object_id, SentReminder.user_id == user_id)) is not None


def _remind(kind: str, object_id: int, user: User, template: str, subject_fn, **context) -> bool:
    # The reminder and the record that it went out: one write, so each goes once.
    with writing():
        if not user.active or _already_sent(kind, object_id, user.id):
            return False
        if not send(user, template, subject_fn, **context):
            return False
        db.session.add(SentReminder(kind=kind, object_id=object_id, user_id=user.id))
    return True


def organisation_today() -> date:
    """Today in the organisation's time zone (the server's clock may run on UTC): the day
    reminders are worked out for, as the pages show dates in that zone."""
    return datetime.now(_zone()).date()


def due_reminders(today: date) -> int:
    """Queue the reminders that are due and not sent before; return how many."""
    from .conversations.preparation import preparation_progress
    from .models import Agreement
    from .records.service import current_open_agreements

    sent = 0
    tomorrow = today + timedelta(days=1)
    for conversation in db.session.scalars(select(Conversation).where(Conversation.status == Status.PLANNED)):
        local_day = conversation.scheduled_at.astimezone(_zone()).date()
        if local_day != tomorrow:
            continue
        for person in (conversation.employee, conversation.manager):
            other = conversation.manager if person.id == conversation.employee_id else conversation.employee
            prepared = preparation_progress(person, [conversation.id]).get(conversation.id, (0, 0))
            sent += _remind("conversation_tomorrow", conversation.id, person, "reminder_tomorrow",
                            lambda other=other: _("Tomorrow: your progress conversation with %(name)s", name=other.name),
                            conversation=conversation, other=other, prepared=prepared,
                            link=public_url("conversations.show", conversation_id=conversation.id))

    soon = today + timedelta(days=14)
    followed = select(Conversation.follows_id).where(Conversation.follows_id.is_not(None))
    for conversation in db.session.scalars(select(Conversation).where(
            Conversation.status == Status.COMPLETED, Conversation.next_evaluation.is_not(None),
            Conversation.next_evaluation <= soon, Conversation.next_evaluation >= today,
            Conversation.id.not_in(followed))):
        for person in (conversation.employee, conversation.manager):
            sent += _remind("next_evaluation", conversation.id, person, "reminder_next_evaluation",
                            lambda: _("The next progress conversation is due soon"),
                            conversation=conversation,
                            link=public_url("conversations.new", follows=conversation.id))

    for agreement, conversation in db.session.execute(
            current_open_agreements().add_columns(Conversation).where(Agreement.due < today)):
        person = conversation.employee if agreement.owner == Owner.EMPLOYEE else conversation.manager
        sent += _remind("agreement_overdue", agreement.id, person, "reminder_agreement",
                        lambda: _("An agreement is overdue"),
                        agreement=agreement, conversation=conversation,
                        link=public_url("conversations.phase", conversation_id=conversation.id, phase=Phase.AGREEMENTS))

    sent += _round_reminders(today)
    return sent


# A round's reminders to managers with people still to plan (each once per round and
# manager): once a week while more than ROUND_ENDING_DAYS are left (`round_week_<n>`, the
# n-th week since the round's first day), then once that it ends soon (`round_ending`).
ROUND_ENDING_DAYS = 7


def round_week_kind(round_, today: date) -> str:
    return f"round_week_{(today - round_.starts_on).days // 7}"


def _round_reminders(today: date) -> int:
    from .models import Round
    from .rounds.service import to_plan_by_manager

    due = to_plan_by_manager()
    if not due:
        return 0
    rounds = {r.id: r for r in db.session.scalars(select(Round).where(Round.id.in_({r for r, _m, _n in due})))}
    managers = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({m for _r, m, _n in due})))}
    sent = 0
    for round_id, manager_id, number in sorted(due):
        round_, manager = rounds[round_id], managers[manager_id]
        if not round_.starts_on <= today <= round_.ends_on:
            continue
        link = public_url("rounds.show", round_id=round_.id)
        if (round_.ends_on - today).days <= ROUND_ENDING_DAYS:
            sent += _remind("round_ending", round_.id, manager, "reminder_round_ending",
                            lambda round_=round_: _("Round %(name)s ends soon: conversations still to plan",
                                                    name=round_.name),
                            round=round_, count=number, link=link)
        else:
            sent += _remind(round_week_kind(round_, today), round_.id, manager, "reminder_round",
                            lambda round_=round_: _("Round %(name)s: conversations still to plan", name=round_.name),
                            round=round_, count=number, link=link)
    return sent


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
