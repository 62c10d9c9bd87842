"""Views of the conversation: parse the request, call a domain function, render."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    get_template_attribute,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import PHASES, Conversation, ConversationQuestion
from ..web import is_htmx, parse_int
from . import bp, calendars, live, service
from .forms import PlanForm
from . import messages
from ..errors import Invalid, NotFound, error_text
from ..labels import ERRORS
from .answers import AnswerState, StaleVersion


def parse_date(value: str | None) -> date | None:
    """Return the date, None for empty input; raise Invalid('date_invalid') otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("date_invalid") from None


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def parse_datetime(value: str | None) -> datetime:
    """ISO 8601 date-time; without an offset it is read in the organisation's time zone."""
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise Invalid("datetime_invalid") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    return moment


def phase_url(conversation_id: int, phase: str, anchor: str | None = None) -> str:
    return url_for("conversations.phase", conversation_id=conversation_id, phase=phase,
                   _anchor=anchor)


def page_context(conversation: Conversation, phase: str, **extra) -> dict:
    """Everything the conversation page and its fragments need, for the signed-in viewer."""
    answers = service.answers_by_question(conversation)
    role = service.role_of(current_user, conversation)
    if "other_phase" not in extra:
        extra["other_phase"] = live.other_presence(conversation, role) if role else ""
    progress = service.progress(conversation, answers)
    return {
        "conversation": conversation,
        "phase": phase,
        "phases": PHASES,
        "role": role,
        "other_role": service.other_role(role) if role else None,
        "other_changes": live.other_changes(conversation, role) if role else 0,
        "heartbeat": live.HEARTBEAT_SECONDS,
        "can_write": role is not None and conversation.status != "completed",
        "answers": answers,
        "progress": progress,
        "progress_key": live.progress_key(progress),
        "locale": str(get_locale().language),
        "answer_limit": service.answer_limit(),
        "form_state": extra.pop("form_state", {}),
        **extra,
    }


def render_page(conversation: Conversation, phase: str, status: int = 200, **extra):
    """The phase as a full page, or as the fragment htmx swaps in place."""
    if not is_htmx():
        extra.setdefault("handed_over", service.handed_over(conversation))
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
        db.session.rollback()  # (the refused write was rolled back already: this ends the reads)
    conversation = service.get_visible(current_user, conversation_id)
    if not is_htmx():
        if status >= 400:
            return render_page(conversation, phase, status=status, **extra)
        return redirect(phase_url(conversation_id, phase, anchor), code=303)
    context = page_context(conversation, phase, **extra)
    body = render_template(fragment, **context) + render_template(
        "conversations/_status.html", oob=True, **context
    ) + render_template("conversations/_stepper.html", oob=True, **context)
    return body, status


# --- Lists and planning ----------------------------------------------------------


@bp.get("/")
@login_required
def index():
    conversations = service.conversations_for(current_user)
    groups = {status: [] for status in ("planned", "in_progress", "awaiting_signatures", "completed")}
    for conversation in conversations:
        groups[conversation.status].append(conversation)
    groups["planned"].reverse()  # the soonest first
    return render_template(
        "conversations/index.html",
        groups=groups,
        next_step=lambda c: service.next_step(current_user, c),
        role_of=lambda c: service.role_of(current_user, c),
    )


def _plan_form() -> PlanForm:
    form = PlanForm()
    employees = service.plannable_employees(current_user)
    form.employee.choices = [("", _("Choose a person"))] + [(u.id, u.name) for u in employees]
    managers = service.possible_managers() if current_user.is_admin else []
    form.manager.choices = [("", _("The employee's own manager"))] + [(u.id, u.name) for u in managers]
    return form


@bp.get("/new")
@login_required
def new():
    form = _plan_form()
    form.employee.data = parse_int(request.args.get("employee")) or current_user.id
    follows_id = parse_int(request.args.get("follows"))
    if follows_id:
        # A follow-up: same two people, dated by default on the agreed next evaluation.
        try:
            previous = service.get_visible(current_user, follows_id)
        except NotFound:
            abort(404)
        form.follows.data = str(previous.id)
        form.employee.data = previous.employee_id
        form.manager.data = previous.manager_id
        if previous.next_evaluation:
            form.scheduled_at.data = datetime.combine(previous.next_evaluation, datetime.min.time()).replace(hour=10)
        form.place.data = previous.place
    return render_template("conversations/new.html", form=form)


@bp.post("/")
@login_required
def create():
    form = _plan_form()
    error = None
    if form.validate_on_submit() or _contract_post_valid(form):
        try:
            scheduled = parse_datetime(request.form.get("scheduled_at"))
            conversation = service.plan_conversation(
                current_user,
                employee_id=form.employee.data,
                manager_id=form.manager.data,
                scheduled_at=scheduled,
                place=form.place.data or "",
                purpose=form.purpose.data or "",
                follows_id=parse_int(form.follows.data),
            )
        except Invalid as refusal:
            error = error_text(refusal)
        else:
            return redirect(url_for("conversations.show", conversation_id=conversation.id), code=303)
    return render_template("conversations/new.html", form=form, error=error), 422


def _contract_post_valid(form: PlanForm) -> bool:
    """Scripts may post an ISO 8601 date-time with an offset, which the browser field cannot send."""
    if form.errors.keys() - {"scheduled_at"} or not request.form.get("scheduled_at"):
        return False
    try:
        parse_datetime(request.form.get("scheduled_at"))
    except Invalid:
        return False
    form.scheduled_at.errors = []
    return True


# --- The conversation page ----------------------------------------------------------


@bp.get("/<int:conversation_id>")
@login_required
def show(conversation_id: int):
    conversation = service.get_visible(current_user, conversation_id)
    return render_page(conversation, PHASES[0])


@bp.get("/<int:conversation_id>/phases/<phase>")
@login_required
def phase(conversation_id: int, phase: str):
    conversation = service.get_visible(current_user, conversation_id)
    if phase not in PHASES:
        abort(404)
    return render_page(conversation, phase)


@bp.get("/<int:conversation_id>/export.json")
@login_required
def export(conversation_id: int):
    conversation = service.get_visible(current_user, conversation_id)
    response = jsonify(service.export(conversation))
    response.headers["Content-Disposition"] = f'attachment; filename="voortgang-{conversation.id}.json"'
    return response


# --- The live view -------------------------------------------------------------------


@bp.get("/<int:conversation_id>/updates")
@login_required
def updates(conversation_id: int):
    """What changed since revision `since`: 204 when nothing (cheap), else out-of-band pieces."""
    state = live.poll_state(current_user, conversation_id)
    if state is None:
        abort(404)
    since = parse_int(request.args.get("since"))
    if live.unchanged(state, since, request.args.get("presence", "")):
        return live.nothing_new()
    phase = request.args.get("phase")
    if phase not in PHASES:
        phase = PHASES[0]
    conversation = service.get_visible(current_user, conversation_id)
    changed = state.other_changes != since
    # Only the pieces the other participant changed since the page last looked; without
    # that revision (an old page), all of them.
    seen = parse_int(request.args.get("seen"))
    changes = live.changes_by_other(conversation, seen, current_user) if changed and seen is not None else None
    announcement = None
    if changes and changes.kinds:
        name = changes.by or conversation.participant(service.other_role(state.role)).name
        announcement = messages.announcement(name, changes.kinds)
    status_changed = request.args.get("status") != state.status
    show = {
        "everything": changed and changes is None,
        "status": changed and (changes is None or status_changed
                               or changes.any("signatures", "next_evaluation", "conversation.proposed_close",
                                              "conversation.reopened", "conversation.signed",
                                              "conversation.completed")),
        "points": changed and (changes is None or changes.any("talking_point")),
        "agreements": changed and (changes is None or changes.any("agreement")),
        "next_evaluation": changed and (changes is None or changes.any("next_evaluation")),
    }
    moved = status_changed or state.other_phase != request.args.get("presence", "")
    context = None
    if changes is not None and set(changes.kinds) <= {"answer"} and not moved:
        # The usual change while typing together: answers only. Their texts, and the
        # counts to see whether the stepper moved, come from one query of plain rows.
        questions = live.question_answers(conversation.id)
        key = live.progress_key(service.tally_progress((q.phase, q.bodies) for q in questions))
        if key == request.args.get("progress"):
            other_role = service.other_role(state.role)
            context = {
                "conversation": conversation, "phase": phase, "role": state.role, "other_role": other_role,
                "other_phase": state.other_phase, "other_changes": state.other_changes, "progress_key": key,
                "live_questions": [q for q in questions if q.phase == phase and q.id in changes.question_ids],
                "answers": {q.id: {other_role: AnswerState(q.bodies.get(other_role, ""), 0, None)}
                            for q in questions if q.id in changes.question_ids},
            }
            show["stepper"] = False
    if context is None:
        context = page_context(conversation, phase, other_phase=state.other_phase)
        context["live_questions"] = [
            q for q in conversation.questions
            if q.phase == phase and (changes is None or q.id in changes.question_ids)]
        # The phases with their counts and who is where: only when one of them moved.
        show["stepper"] = changes is None or moved or request.args.get("progress") != context["progress_key"]
    html = render_template("conversations/_live_update.html", revision_changed=changed, show=show,
                           announcement=announcement, **context)
    return html, 200


@bp.post("/<int:conversation_id>/presence")
@login_required
def presence(conversation_id: int):
    """The page says which phase it has open (or, with `left`, that it was closed)."""
    conversation = service.get_visible(current_user, conversation_id)
    if service.role_of(current_user, conversation) is None:
        abort(404)
    phase = None if request.form.get("left") else request.form.get("phase")
    live.record_presence(current_user, conversation, phase)
    return "", 204


# --- Autosave -------------------------------------------------------------------------


@bp.post("/<int:conversation_id>/answers/<int:question_id>")
@login_required
def save_answer(conversation_id: int, question_id: int):
    body = request.form.get("body", "")
    version = parse_int(request.form.get("version"))
    locale = str(get_locale().language)  # before the save, which expires what was loaded
    problem, status, saved = None, 200, None
    if version is None or version < 0:
        service.get_writable(current_user, conversation_id)  # 404 / 403 come first
        problem, status = {"kind": "error", "message": ERRORS["invalid"]}, 422
    else:
        try:
            saved = service.save_answer(current_user, conversation_id, question_id, body, version)
        except StaleVersion as stale:
            problem, status = {"kind": "conflict", "stale": stale}, 409
        except Invalid as refusal:
            problem, status = {"kind": "error", "message": error_text(refusal)}, 422
    if saved and is_htmx() and not saved.record_changed:
        # The usual autosave: nothing but this answer changed, so nothing more to load.
        return saved_answer_parts(question_id, saved.answer), status
    conversation = service.get_visible(current_user, conversation_id)
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
        role = service.role_of(current_user, conversation)
        html = render_template(
            "conversations/_answer_own.html", conversation=conversation, question=question, role=role,
            answers={}, response=True, drafts={question_id: body}, problems={question_id: problem},
            locale=locale)
    if saved:
        context = page_context(conversation, question.phase)
        html += render_template("conversations/_status.html", oob=True, **context)
        html += render_template("conversations/_stepper.html", oob=True, **context)
    return html, status


def saved_answer_parts(question_id: int, answer: AnswerState) -> str:
    """The autosave reply: the answer's version and save state, and its cleared problem,
    all out of band (the field itself is never replaced while its owner types). The
    macros of the answer form, called directly: the most frequent reply of all."""
    parts = "conversations/_answer_state.html"
    return str(get_template_attribute(parts, "version_input")(question_id, answer, None, True)
               + get_template_attribute(parts, "save_state")(question_id, answer, None, True)
               + get_template_attribute(parts, "problem_slot")(question_id, None, True))


# --- Talking points, agreements, next evaluation ------------------------------------------


def _phase_arg() -> str:
    phase = request.form.get("phase", "")
    if phase not in PHASES:
        abort(400)
    return phase


@bp.post("/<int:conversation_id>/talking-points")
@login_required
def add_talking_point(conversation_id: int):
    phase = _phase_arg()
    text = request.form.get("text", "")
    try:
        service.add_talking_point(current_user, conversation_id, phase, text)
    except Invalid as refusal:
        return write_response(conversation_id, phase, "conversations/_talking_points.html",
                              status=422, form_state={"key": f"tp-new-{phase}", "text": text,
                                                      "error": error_text(refusal)})
    return write_response(conversation_id, phase, "conversations/_talking_points.html",
                          anchor=f"talking-points-{phase}")


@bp.post("/<int:conversation_id>/talking-points/<int:point_id>")
@login_required
def edit_talking_point(conversation_id: int, point_id: int):
    text = request.form.get("text", "")
    phase = _phase_arg()
    try:
        point = service.edit_talking_point(current_user, conversation_id, point_id, text)
    except Invalid as refusal:
        return write_response(conversation_id, phase, "conversations/_talking_points.html",
                              status=422, form_state={"key": f"tp-{point_id}", "text": text,
                                                      "error": error_text(refusal)})
    return write_response(conversation_id, point.phase, "conversations/_talking_points.html",
                          anchor=f"tp-{point_id}")


@bp.post("/<int:conversation_id>/talking-points/<int:point_id>/delete")
@login_required
def remove_talking_point(conversation_id: int, point_id: int):
    phase = service.remove_talking_point(current_user, conversation_id, point_id)
    return write_response(conversation_id, phase, "conversations/_talking_points.html",
                          anchor=f"talking-points-{phase}")


@bp.post("/<int:conversation_id>/talking-points/<int:point_id>/discussed")
@login_required
def mark_discussed(conversation_id: int, point_id: int):
    discussed = request.form.get("discussed") == "1"
    point = service.mark_discussed(current_user, conversation_id, point_id, discussed)
    return write_response(conversation_id, point.phase, "conversations/_talking_points.html",
                          anchor=f"tp-{point_id}")


def _agreement_input() -> dict:
    return {
        "text": request.form.get("text", ""),
        "owner": request.form.get("owner", ""),
        "due": request.form.get("due", ""),
        "status": request.form.get("status", "open"),
    }


@bp.post("/<int:conversation_id>/agreements")
@login_required
def add_agreement(conversation_id: int):
    values = _agreement_input()
    try:
        service.add_agreement(current_user, conversation_id, text=values["text"], owner=values["owner"],
                              due=parse_date(values["due"]), status=values["status"])
    except Invalid as refusal:
        return write_response(conversation_id, "agreements", "conversations/_agreements.html", status=422,
                              form_state={"key": "agreement-new", **values, "error": error_text(refusal)})
    return write_response(conversation_id, "agreements", "conversations/_agreements.html",
                          anchor="agreements")


@bp.post("/<int:conversation_id>/agreements/<int:agreement_id>")
@login_required
def edit_agreement(conversation_id: int, agreement_id: int):
    values = _agreement_input()
    try:
        service.edit_agreement(current_user, conversation_id, agreement_id, text=values["text"],
                               owner=values["owner"], due=parse_date(values["due"]), status=values["status"])
    except Invalid as refusal:
        return write_response(conversation_id, "agreements", "conversations/_agreements.html", status=422,
                              form_state={"key": f"agreement-{agreement_id}", **values,
                                          "error": error_text(refusal)})
    return write_response(conversation_id, "agreements", "conversations/_agreements.html",
                          anchor=f"agreement-{agreement_id}")


@bp.post("/<int:conversation_id>/next-evaluation")
@login_required
def set_next_evaluation(conversation_id: int):
    raw = request.form.get("next_evaluation", "")
    try:
        service.set_next_evaluation(current_user, conversation_id, parse_date(raw))
    except Invalid as refusal:
        return write_response(conversation_id, "agreements", "conversations/_next_evaluation.html",
                              status=422, form_state={"key": "next-evaluation", "value": raw,
                                                      "error": error_text(refusal)})
    return write_response(conversation_id, "agreements", "conversations/_next_evaluation.html",
                          anchor="next-evaluation")


# --- Follow-up: reviewing the agreements carried from the previous conversation -------


@bp.post("/<int:conversation_id>/agreements/<int:agreement_id>/review")
@login_required
def review_agreement(conversation_id: int, agreement_id: int):
    rating, comment = request.form.get("rating", ""), request.form.get("comment", "")
    try:
        service.review_agreement(current_user, conversation_id, agreement_id, rating, comment)
    except Invalid as refusal:
        return write_response(conversation_id, "looking_back", "conversations/_carried.html", status=422,
                              form_state={"key": f"review-{agreement_id}", "rating": rating,
                                          "comment": comment, "error": error_text(refusal)})
    return write_response(conversation_id, "looking_back", "conversations/_carried.html",
                          anchor=f"carried-{agreement_id}")


@bp.post("/<int:conversation_id>/agreements/<int:agreement_id>/decision")
@login_required
def decide_agreement(conversation_id: int, agreement_id: int):
    try:
        service.decide_agreement(current_user, conversation_id, agreement_id, request.form.get("decision", ""))
    except Invalid as refusal:
        return write_response(conversation_id, "looking_back", "conversations/_carried.html", status=422,
                              form_state={"key": f"decision-{agreement_id}", "error": error_text(refusal)})
    return write_response(conversation_id, "looking_back", "conversations/_carried.html",
                          anchor=f"carried-{agreement_id}")


# --- Calendar ---------------------------------------------------------------------------


@bp.get("/<int:conversation_id>/calendar.ics")
@login_required
def calendar(conversation_id: int):
    conversation = service.get_visible(current_user, conversation_id)
    return _ics_response(calendars.conversation_event(conversation), f"voortgang-{conversation.id}.ics")


@bp.get("/<int:conversation_id>/next-evaluation.ics")
@login_required
def next_evaluation_calendar(conversation_id: int):
    conversation = service.get_visible(current_user, conversation_id)
    if conversation.next_evaluation is None:
        abort(404)
    return _ics_response(calendars.next_evaluation_event(conversation),
                         f"voortgang-{conversation.id}-next-evaluation.ics")


def _ics_response(body: bytes, filename: str):
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Sign-off ----------------------------------------------------------------------------


def _status_response(conversation_id: int, status: int = 200, **extra):
    phase = request.form.get("phase") if request.form.get("phase") in PHASES else PHASES[-1]
    if is_htmx():
        # Completing changes the whole page (it becomes read-only): swap the phase view too.
        conversation = service.get_visible(current_user, conversation_id)
        context = page_context(conversation, phase, **extra)
        html = render_template("conversations/_status.html", **context)
        html += render_template("conversations/_phase.html", oob=True, **context)
        if conversation.status == "completed":
            html += '<div id="live" hx-swap-oob="delete"></div>'  # nothing changes any more: stop polling
        return html, status
    return write_response(conversation_id, phase, "conversations/_status.html", anchor="status",
                          status=status, **extra)


@bp.post("/<int:conversation_id>/propose-close")
@login_required
def propose_close(conversation_id: int):
    try:
        service.propose_close(current_user, conversation_id)
    except Invalid as refusal:
        return _status_response(conversation_id, status=422,
                                form_state={"key": "status", "error": error_text(refusal)})
    return _status_response(conversation_id)


@bp.post("/<int:conversation_id>/reopen")
@login_required
def reopen(conversation_id: int):
    service.reopen(current_user, conversation_id)
    return _status_response(conversation_id)


@bp.post("/<int:conversation_id>/sign")
@login_required
def sign(conversation_id: int):
    comment = request.form.get("comment", "")
    try:
        service.sign(current_user, conversation_id, comment)
    except Invalid as refusal:
        return _status_response(conversation_id, status=422,
                                form_state={"key": "status", "comment": comment, "error": error_text(refusal)})
    return _status_response(conversation_id)
