"""Views of the answers and the live view: autosave, the poll, presence."""
from __future__ import annotations

from flask import abort, get_template_attribute, redirect, render_template, request
from flask_babel import get_locale
from flask_login import current_user

from ..errors import error_text
from ..extensions import db
from ..labels import ERRORS
from ..models import ConversationQuestion
from ..web import is_htmx, parse_int
from . import access, answers, bp, live, live_state
from .answers import AnswerState, Invalid, StaleVersion
from .pages import page_context, phase_url, render_page


# --- The live view -------------------------------------------------------------------


@bp.get("/<int:conversation_id>/updates")
def updates(conversation_id: int):
    """The live view's poll (live.py): 204 when the page is up to date, else what changed."""
    poll = live.Poll.from_args(request.args)
    state = live.poll_state(current_user, conversation_id)
    if state is None:
        abort(404)
    if poll.up_to_date(state):
        return live.nothing_new()
    return live.reply(current_user, conversation_id, poll, state), 200


@bp.post("/<int:conversation_id>/presence")
def presence(conversation_id: int):
    """The page says which phase it has open (or, with `left`, that it was closed)."""
    conversation = access.get_visible(current_user, conversation_id)
    if access.role_of(current_user, conversation) is None:
        abort(404)
    phase = None if request.form.get("left") else request.form.get("phase")
    live_state.record_presence(current_user, conversation, phase)
    return "", 204



# --- Autosave -------------------------------------------------------------------------


def autosave(conversation_id: int, save):
    """Run a versioned autosave (an answer, or a private preparation) of the posted body
    and version: `save(body, version)`. Returns (what it saved or None, the problem for
    the field or None, the status); 404 / 403 are raised as for every write."""
    version = parse_int(request.form.get("version"))
    if version is None or version < 0:
        access.get_writable(current_user, conversation_id)  # 404 / 403 come first
        return None, {"kind": "error", "message": ERRORS["invalid"]}, 422
    try:
        return save(request.form.get("body", ""), version), None, 200
    except StaleVersion as stale:
        return None, {"kind": "conflict", "stale": stale}, 409
    except Invalid as refusal:
        return None, {"kind": "error", "message": error_text(refusal)}, 422


@bp.post("/<int:conversation_id>/answers/<int:question_id>")
def save_answer(conversation_id: int, question_id: int):
    body = request.form.get("body", "")
    locale = str(get_locale().language)  # before the save, which expires what was loaded
    saved, problem, status = autosave(conversation_id, lambda text, version: answers.save_answer(
        current_user, conversation_id, question_id, text, version))
    if saved and is_htmx() and not saved.record_changed:
        # The usual autosave: nothing but this answer changed, so nothing more to load.
        return saved_answer_parts(question_id, saved.answer), status
    conversation = access.get_visible(current_user, conversation_id)
    question = db.session.get(ConversationQuestion, question_id)
    if question is None or question.conversation_id != conversation.id:
        abort(404)
    if not is_htmx():
        if status == 200:
            return redirect(phase_url(conversation_id, question.phase, f"q-{question_id}"), code=303)
        return render_page(conversation, question.phase, status=status,
                           drafts={question_id: body}, problems={question_id: problem})
    # The autosave reply: this field's version, save state and problem, out of band (a
    # refused save comes back whole, the text sent included); the status card and the
    # stepper too when the save changed them.
    if saved:
        html = saved_answer_parts(question_id, saved.answer)
    else:
        role = access.role_of(current_user, conversation)
        html = render_template(
            "conversations/_answer_own.html", conversation=conversation, question=question, role=role,
            answers={}, response=True, drafts={question_id: body}, problems={question_id: problem},
            locale=locale)
    if saved:
        context = page_context(conversation, question.phase)
        html += render_template("conversations/_status.html", oob=True, **context)
        html += render_template("conversations/_stepper.html", oob=True, **context)
    return html, status


def saved_answer_parts(question_id: int, answer: AnswerState, prefix: str = "answer") -> str:
    """The autosave reply: the field's version and save state, and its cleared problem,
    all out of band (the field itself is never replaced while its owner types). The
    macros of the answer form, called directly: the most frequent reply of all.
    `prefix`: "answer", or "prep" for a private preparation's field."""
    parts = "conversations/_answer_state.html"
    return str(get_template_attribute(parts, "version_input")(question_id, answer, None, True, prefix)
               + get_template_attribute(parts, "save_state")(question_id, answer, None, True, prefix)
               + get_template_attribute(parts, "problem_slot")(question_id, None, True, prefix))


