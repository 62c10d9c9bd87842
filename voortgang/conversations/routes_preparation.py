"""Views of the preparation before the meeting (preparation.py) and of the guide (guide.py)."""
from __future__ import annotations

from flask import abort, redirect, render_template, request
from flask_babel import get_locale
from flask_login import current_user

from ..errors import Invalid, error_text
from ..vocabulary import PHASES
from ..web import is_htmx
from . import access, bp, guide, preparation
from .pages import page_context, phase_url, render_page, write_response
from .routes_answers import autosave, saved_answer_parts


def _phase_arg(default: str) -> str:
    phase = request.form.get("phase", "")
    return phase if phase in PHASES else default


@bp.post("/<int:conversation_id>/preparation/<int:question_id>")
def save_preparation(conversation_id: int, question_id: int):
    """The autosave of the person's private preparation: as the answer's, seen by nobody else."""
    body = request.form.get("body", "")
    locale = str(get_locale().language)
    saved, problem, status = autosave(conversation_id, lambda text, version: preparation.save_preparation(
        current_user, conversation_id, question_id, text, version))
    if saved and is_htmx():
        return saved_answer_parts(question_id, saved, "prep"), status
    conversation = access.get_visible(current_user, conversation_id)
    question = next((q for q in conversation.questions if q.id == question_id), None)
    if question is None:
        abort(404)
    if not is_htmx():
        if status == 200:
            return redirect(phase_url(conversation_id, question.phase, f"q-{question_id}"), code=303)
        return render_page(conversation, question.phase, status=status,
                           prep_drafts={question_id: body}, prep_problems={question_id: problem})
    context = page_context(conversation, question.phase)
    context.update(question=question, response=True, locale=locale, prep_drafts={question_id: body},
                   prep_problems={question_id: problem})
    return render_template("conversations/_preparation_own.html", **context), status


@bp.post("/<int:conversation_id>/preparation/share")
def share_preparation(conversation_id: int):
    """Ready to share; when both are, the preparations become answers (never overwriting)."""
    phase = _phase_arg(PHASES[0])
    preparation.share(current_user, conversation_id)
    if not is_htmx():
        return redirect(phase_url(conversation_id, phase, "preparation"), code=303)
    conversation = access.get_visible(current_user, conversation_id)
    context = page_context(conversation, phase)
    # The panel in place (the focus stays near it); the phase, with any revealed answers,
    # and the status card out of band.
    return (render_template("conversations/_preparation_status.html", **context)
            + render_template("conversations/_phase.html", oob=True, **context)
            + render_template("conversations/_status.html", oob=True, **context))


@bp.post("/<int:conversation_id>/preparation/<int:question_id>/use")
def use_preparation(conversation_id: int, question_id: int):
    """Copy the person's preparation into their answer to this question."""
    conversation = access.get_visible(current_user, conversation_id)
    question = next((q for q in conversation.questions if q.id == question_id), None)
    if question is None:
        abort(404)
    phase = question.phase
    try:
        preparation.use_preparation(current_user, conversation_id, question_id)
    except Invalid as refusal:
        return write_response(conversation_id, phase, "conversations/_question.html", status=422,
                              question=question, problems={question_id: {"kind": "error",
                                                                         "message": error_text(refusal)}})
    return write_response(conversation_id, phase, "conversations/_question.html", anchor=f"q-{question_id}",
                          question=question)


@bp.post("/<int:conversation_id>/guide/<part>")
def guide_part(conversation_id: int, part: str):
    """Close a part of the guide (remembered for this person), or show it again."""
    conversation = access.get_visible(current_user, conversation_id)
    if access.role_of(current_user, conversation) is None:
        abort(404)
    hidden = request.form.get("hidden", "1") != "0"
    phase = _phase_arg(part if part in PHASES else PHASES[0])
    guide.set_hidden(current_user, part, hidden)
    if not is_htmx():
        return redirect(phase_url(conversation_id, phase, f"guide-{part}"), code=303)
    conversation = access.get_visible(current_user, conversation_id)
    context = page_context(conversation, phase)
    return render_template("conversations/_guide_reply.html", part=part, hidden=hidden, **context)
