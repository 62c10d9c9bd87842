"""Calendar files (RFC 5545) for a planned conversation and for the next evaluation."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event

from ..database import utcnow
from ..links import public_url, uid_domain
from ..models import Conversation
from ..vocabulary import ROLES

DURATION = timedelta(hours=1)


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Voortgang//voortgang//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    return calendar


def _event(conversation: Conversation, uid: str, summary: str, description: str) -> Event:
    event = Event()
    # The same UID on every download, and a rising SEQUENCE: a calendar updates the
    # event it imported before instead of adding a second one.
    event.add("uid", uid)
    event.add("sequence", conversation.revision)
    event.add("dtstamp", utcnow())
    event.add("last-modified", conversation.updated_at)
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", public_url("conversations.show", conversation_id=conversation.id))
    return event


def conversation_event(conversation: Conversation) -> bytes:
    """The planned conversation as an event, in the downloader's language."""
    names = {role: conversation.participant(role).name for role in ROLES}
    description = conversation.purpose or _("A progress conversation: looking back, looking forward and making agreements.")
    event = _event(
        conversation,
        f"voortgang-conversation-{conversation.id}@{uid_domain()}",
        _("Progress conversation: %(employee)s and %(manager)s", **names),
        description,
    )
    event.add("dtstart", conversation.scheduled_at)
    event.add("dtend", conversation.scheduled_at + DURATION)
    if conversation.place:
        event.add("location", conversation.place)
    calendar = _calendar()
    calendar.add_component(event)
    return calendar.to_ical()


def next_evaluation_event(conversation: Conversation) -> bytes:
    """The agreed next evaluation as an all-day event."""
    names = {role: conversation.participant(role).name for role in ROLES}
    event = _event(
        conversation,
        f"voortgang-next-evaluation-{conversation.id}@{uid_domain()}",
        _("Next evaluation: %(employee)s and %(manager)s", **names),
        _("The next progress conversation, as agreed in the previous one."),
    )
    event.add("dtstart", conversation.next_evaluation)
    event.add("dtend", conversation.next_evaluation + timedelta(days=1))
    calendar = _calendar()
    calendar.add_component(event)
    return calendar.to_ical()
