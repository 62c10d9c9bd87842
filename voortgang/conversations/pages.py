"""The conversation page: its template context, and the responses that render it.

One context for the full page, the fragments htmx swaps in after a write, and the live
view's reply (`live.reply`): `viewer_context` is the part all of them share, among it
the live state the page polls with (`_live_state.html`), so that state is built in one
place only.
"""
from __future__ import annotations

from flask import make_response, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user

from ..extensions import db
from ..models import Conversation
from ..vocabulary import PHASES, Role, Status
from ..web import is_htmx
from . import access, guide, live_state
from .answers import answer_limit, answers_by_question
from .answers import progress as answers_progress
from .extras import PageExtras
from .planning import handed_over


def phase_url(conversation_id: int, phase: str, anchor: str | None = None) -> str:
    return url_for("conversations.phase", conversation_id=conversation_id, phase=phase,
                   _anchor=anchor)


def viewer_context(conversation: Conversation, phase: str, role: Role | None, other_phase: str,
                   other_changes: int, progress_key: str) -> dict:
    """Who views which phase, and what they have seen of the other participant: the
    values of the page's live state (`_live_state.html`) and of the other's column.
    Shared by `page_context` and the live reply built from plain rows (`live.reply`)."""
    return {
        "conversation": conversation,
        "phase": phase,
        "role": role,
        "other_role": role.other if role else None,
        "other_phase": other_phase,
        "other_changes": other_changes,
        "progress_key": progress_key,
    }


def page_context(conversation: Conversation, phase: str, **extra) -> dict:
    """Everything the conversation page and its fragments need, for the signed-in viewer.
    `other_phase` in `extra` stands for the other's presence (the live reply knows it)."""
    answers = answers_by_question(conversation)
    role = conversation.role_of(current_user.id)
    if "other_phase" in extra:
        other_phase = extra.pop("other_phase")
    else:
        other_phase = live_state.other_presence(conversation, role) if role else ""
    progress = answers_progress(conversation, answers)
    return {
        **viewer_context(conversation, phase, role, other_phase,
                         live_state.other_changes(conversation, role) if role else 0,
                         live_state.progress_key(progress)),
        "phases": PHASES,
        "heartbeat": live_state.HEARTBEAT_SECONDS,
        "can_write": role is not None and conversation.status != Status.COMPLETED,
        "answers": answers,
        "progress": progress,
        "locale": str(get_locale().language),
        "answer_limit": answer_limit(),
        "form_state": extra.pop("form_state", {}),
        "extras": PageExtras(current_user, conversation, role, answers),
        "guide": guide,
        **extra,
    }


def render_page(conversation: Conversation, phase: str, status: int = 200, **extra):
    """The phase as a full page, or as the fragment htmx swaps in place."""
    if not is_htmx():
        extra.setdefault("handed_over", handed_over(conversation))
        from ..rounds.service import rounds_of

        extra.setdefault("rounds", rounds_of(conversation, current_user))
        if current_user.is_admin:  # administrators see who changed what, when
            from ..records.trail import changes_of

            extra.setdefault("audit_trail", changes_of(conversation))
    context = page_context(conversation, phase, **extra)
    template = "conversations/_phase.html" if is_htmx() else "conversations/show.html"
    html = render_template(template, **context)
    if is_htmx():  # the status card sits outside the swapped phase: refresh it too
        html += render_template("conversations/_status.html", oob=True, **context)
    response = make_response(html, status)
    response.headers["Vary"] = "HX-Request"
    return response


def write_response(conversation_id: int, phase: str, fragment: str, anchor: str | None = None,
                   status: int = 200, **extra):
    """After a write: the fragment (with the status card out of band) for htmx, else PRG.
    After a refusal (status 400 and up), what the write did is dropped first."""
    if status >= 400:
        db.session.rollback()  # the refused write has rolled back already: this ends the reads
    conversation = access.get_visible(current_user, conversation_id)
    if not is_htmx():
        if status >= 400:
            return render_page(conversation, phase, status=status, **extra)
        return redirect(phase_url(conversation_id, phase, anchor), code=303)
    context = page_context(conversation, phase, **extra)
    body = render_template(fragment, **context) + render_template(
        "conversations/_status.html", oob=True, **context
    ) + render_template("conversations/_stepper.html", oob=True, **context)
    return body, status
