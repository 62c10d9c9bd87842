"""Views of the conversation: parse the request, call a domain function, render."""
from __future__ import annotations

from datetime import date, datetime
from functools import wraps
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

from ..database import reads_first, refused
from ..extensions import db
from ..models import PHASES, ConversationQuestion
from ..web import is_htmx, parse_int
from . import bp, calendars, live, live_state, service
from .forms import PlanForm
from . import messages
from .messages import ERRORS
from .pages import page_context, phase_url, render_page, write_response
from .service import AnswerState, ConversationError, Invalid, NotFound, ReadOnly, StaleVersion


def error_text(error: ConversationError) -> str:
    return str(ERRORS.get(error.code, ERRORS["invalid"])) % error.details if error.details else str(
        ERRORS.get(error.code, ERRORS["invalid"])
    )


def refusals(view):
    """Turn the domain's NotFound and ReadOnly into 404 and 403 for every route."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except NotFound:
            refused()
            abort(404)
        except ReadOnly as error:
            refused()
            if is_htmx():
                return render_template("conversations/_refused.html", message=error_text(error)), 403
            abort(403)

    return wrapper


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


@bp.context_processor
def conversation_words() -> dict:
    return {
        "PHASE_TITLES": messages.PHASE_TITLES,
        "PHASE_SUBTITLES": messages.PHASE_SUBTITLES,
        "ROLE_NAMES": messages.ROLE_NAMES,
        "STATUS_NAMES": messages.STATUS_NAMES,
        "OWNER_NAMES": messages.OWNER_NAMES,
        "AGREEMENT_STATUS_NAMES": messages.AGREEMENT_STATUS_NAMES,
        "NEXT_STEPS": messages.NEXT_STEPS,
        "RATING_NAMES": messages.RATING_NAMES,
        "DECISION_NAMES": messages.DECISION_NAMES,
    }


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
    refused()  # nothing was planned: render the form again while reading only
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
@refusals
def show(conversation_id: int):
    conversation = service.get_visible(current_user, conversation_id)
    return render_page(conversation, PHASES[0])


@bp.get("/<int:conversation_id>/phases/<phase>")
@login_required
@refusals
def phase(conversation_id: int, phase: str):
    conversation = service.get_visible(current_user, conversation_id)
    if phase not in PHASES:
        abort(404)
    return render_page(conversation, phase)


@bp.get("/<int:conversation_id>/export.json")
@login_required
@refusals
def export(conversation_id: int):
    conversation = service.get_visible(current_user, conversation_id)
    response = jsonify(service.export(conversation))
    response.headers["Content-Disposition"] = f'attachment; filename="voortgang-{conversation.id}.json"'
    return response


# --- The live view -------------------------------------------------------------------


@bp.get("/<int:conversation_id>/updates")
@login_required
@refusals
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
@login_required
@refusals
@reads_first
def presence(conversation_id: int):
    """The page says which phase it has open (or, with `left`, that it was closed)."""
    conversation = service.get_visible(current_user, conversation_id)
    if service.role_of(current_user, conversation) is None:
        abort(404)
    phase = None if request.form.get("left") else request.form.get("phase")
    live_state.record_presence(current_user, conversation, phase)
    return "", 204


# --- Autosave -------------------------------------------------------------------------


@bp.post("/<int:conversation_id>/answers/<int:question_id>")
@login_required
@refusals
@reads_first
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
@refusals
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
@refusals
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
@refusals
def remove_talking_point(conversation_id: int, point_id: int):
    phase = service.remove_talking_point(current_user, conversation_id, point_id)
    return write_response(conversation_id, phase, "conversations/_talking_points.html",
                          anchor=f"talking-points-{phase}")


@bp.post("/<int:conversation_id>/talking-points/<int:point_id>/discussed")
@login_required
@refusals
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
@refusals
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
@refusals
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
@refusals
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
@refusals
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
@refusals
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
@refusals
def calendar(conversation_id: int):
    conversation = service.get_visible(current_user, conversation_id)
    return _ics_response(calendars.conversation_event(conversation), f"voortgang-{conversation.id}.ics")


@bp.get("/<int:conversation_id>/next-evaluation.ics")
@login_required
@refusals
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
@refusals
def propose_close(conversation_id: int):
    try:
        service.propose_close(current_user, conversation_id)
    except Invalid as refusal:
        return _status_response(conversation_id, status=422,
                                form_state={"key": "status", "error": error_text(refusal)})
    return _status_response(conversation_id)


@bp.post("/<int:conversation_id>/reopen")
@login_required
@refusals
def reopen(conversation_id: int):
    service.reopen(current_user, conversation_id)
    return _status_response(conversation_id)


@bp.post("/<int:conversation_id>/sign")
@login_required
@refusals
def sign(conversation_id: int):
    comment = request.form.get("comment", "")
    try:
        service.sign(current_user, conversation_id, comment)
    except Invalid as refusal:
        return _status_response(conversation_id, status=422,
                                form_state={"key": "status", "comment": comment, "error": error_text(refusal)})
    return _status_response(conversation_id)
