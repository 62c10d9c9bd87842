"""The record as a printable A4 document (PDF): one conversation, or a person's whole record.

The document is HTML rendered from `templates/records/document.html` with the data the
pages use (the conversation, `answers_by_question`, `service.record`'s agreement
histories), in the language asked for, and turned into PDF by WeasyPrint: no browser.
WeasyPrint fetches nothing: no fonts, images or stylesheets from the network or the
disk (`_NoFetching`); the fonts are the system's (DejaVu, Liberation) through
fontconfig, the stylesheet is `static/css/document.css`, given as text.

Rendering takes a few hundred milliseconds: views call it outside any write, and log
the read (reads.py) afterwards.
"""
from __future__ import annotations

from functools import cache

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import subqueryload

from ..config import LOCALES
from ..conversations.answers import answers_by_question
from ..database import utcnow
from ..extensions import db
from ..models import Agreement, Conversation, ConversationQuestion, User
from ..paths import STATIC_DIR
from ..vocabulary import PHASES, Status
from . import service

STYLESHEET = STATIC_DIR / "css" / "document.css"


def document_locale(asked: str | None, fallback: str) -> str:
    """The language asked for (`?lang=nl|en`), else the viewer's."""
    return asked if asked in LOCALES else fallback


@cache
def _fetcher():
    import weasyprint

    class NoFetching(weasyprint.URLFetcher):
        """Refuse every URL: the document is made from its own text and the system's fonts."""

        def fetch(self, url, headers=None):
            raise ValueError(f"the record's document fetches nothing ({url})")

    return NoFetching()


@cache
def _stylesheet():
    import weasyprint

    return weasyprint.CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=_fetcher())


def to_pdf(html: str) -> bytes:
    """Turn the document's HTML into PDF (A4, by the stylesheet)."""
    import weasyprint

    return weasyprint.HTML(string=html, url_fetcher=_fetcher()).write_pdf(stylesheets=[_stylesheet()])


def _part(conversation: Conversation, answers=None) -> dict:
    """What the document shows of one conversation."""
    if answers is None:
        answers = answers_by_question(conversation)
    return {"conversation": conversation, "answers": answers,
            "draft": conversation.status != Status.COMPLETED}


def _render(locale: str, **context) -> str:
    with force_locale(locale):
        return render_template("records/document.html", locale=locale, phases=PHASES,
                               organisation=current_app.config.get("ORGANISATION_NAME") or "",
                               made_at=utcnow(), **context)


def conversation_html(conversation: Conversation, locale: str) -> str:
    return _render(locale, parts=[_part(conversation)], person=None,
                   draft=conversation.status != Status.COMPLETED)


def conversation_pdf(conversation: Conversation, locale: str) -> bytes:
    """One conversation (visible to the viewer: the caller checked) as PDF; a draft
    until it is completed, marked so on every page."""
    return to_pdf(conversation_html(conversation, locale))


def record_parts(viewer: User, person_id: int) -> dict | None:
    """The person's completed conversations as employee that the viewer may read, with
    every part loaded (a fixed number of queries), and their agreements' histories;
    None when the viewer may not see the record."""
    data = service.record(viewer, person_id)
    if data is None:
        return None
    person = data["person"]
    ids = [c.id for c in data["conversations"] if c.employee_id == person.id and c.status == Status.COMPLETED]
    conversations = db.session.scalars(
        select(Conversation).where(Conversation.id.in_(ids)).order_by(Conversation.scheduled_at, Conversation.id)
        .options(*service.PARTICIPANTS,
                 subqueryload(Conversation.questions).subqueryload(ConversationQuestion.answers),
                 subqueryload(Conversation.talking_points),
                 subqueryload(Conversation.agreements).subqueryload(Agreement.reviews))
    ).all() if ids else []
    parts = [_part(c, {q.id: {a.role: a for a in q.answers} for q in c.questions}) for c in conversations]
    histories = []
    for history in data["histories"]:  # only what was signed: completed conversations
        steps = [step for step in history.steps if step.conversation.status == Status.COMPLETED]
        if steps:
            histories.append(service.AgreementHistory(steps))
    return {"person": person, "parts": parts, "histories": histories}


def record_pdf(viewer: User, person_id: int, locale: str) -> tuple[bytes, list[Conversation]] | None:
    """The person's record (completed conversations and agreements' history) as one PDF,
    with the conversations it holds (to log the read); None: 404."""
    data = record_parts(viewer, person_id)
    if data is None:
        return None
    html = _render(locale, draft=False, **data)
    return to_pdf(html), [part["conversation"] for part in data["parts"]]
