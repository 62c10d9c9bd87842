"""Views of the conversation: the lists, planning, the page, its JSON and calendars.

Every view of this blueprint needs a signed-in person (`bp.before_request` below). The
answers and the live view are in `routes_answers.py`; talking points, agreements and
the sign-off in `routes_record.py`; the page's context and replies in `pages.py`.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import Invalid, NotFound, error_text
from ..records import document, reads
from ..vocabulary import PHASES, STATUSES, Status
from ..web import parse_int, pdf_response, signed_in_only
from . import access, bp, calendars, planning, preparation
from . import export as export_json
from .forms import PlanForm
from .pages import render_page

bp.before_request(signed_in_only)


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


# --- Lists and planning ----------------------------------------------------------


@bp.get("/")
def index():
    conversations = access.conversations_for(current_user)
    groups = {status: [] for status in STATUSES}
    for conversation in conversations:
        groups[conversation.status].append(conversation)
    groups[Status.PLANNED].reverse()  # the soonest first
    return render_template(
        "conversations/index.html",
        groups=groups,
        next_step=lambda c: access.next_step(current_user, c),
        role_of=lambda c: access.role_of(current_user, c),
        prepared=preparation.preparation_progress(
            current_user, [c.id for c in conversations if c.status != Status.COMPLETED]),
    )


def _plan_form(employee_id: int | None = None, manager_id: int | None = None, query: str = "") -> PlanForm:
    """The form with its choices: for an administrator the people matching `query` (at
    most planning.CHOICES) plus the chosen or pre-selected employee and manager."""
    form = PlanForm()
    if request.method == "POST":
        employee_id, manager_id = parse_int(request.form.get("employee")), parse_int(request.form.get("manager"))
    employees, total = planning.plannable_employees(current_user, query, include=(employee_id,))
    form.employee.choices = [("", _("Choose a person"))] + [(u.id, u.name) for u in employees]
    form.employee_total = total
    managers = planning.possible_managers(include=(manager_id,)) if current_user.is_admin else []
    form.manager.choices = [("", _("The employee's own manager"))] + [(u.id, u.name) for u in managers]
    return form


@bp.get("/new")
def new():
    query = request.args.get("q", "").strip()[:200] if current_user.is_admin else ""
    employee_id = parse_int(request.args.get("employee"))
    if employee_id is None and not query:
        employee_id = current_user.id
    manager_id = None
    follows_id = parse_int(request.args.get("follows"))
    previous = None
    if follows_id:
        # A follow-up: same two people, dated by default on the agreed next evaluation.
        try:
            previous = access.get_visible(current_user, follows_id)
        except NotFound:
            abort(404)
        employee_id, manager_id = previous.employee_id, previous.manager_id
    form = _plan_form(employee_id, manager_id, query)
    form.employee.data = employee_id
    if employee_id is None and query and len(form.employee.choices) == 2:
        form.employee.data = form.employee.choices[1][0]  # the one match
    if previous is not None:
        form.follows.data = str(previous.id)
        form.manager.data = previous.manager_id
        if previous.next_evaluation:
            form.scheduled_at.data = datetime.combine(previous.next_evaluation, datetime.min.time()).replace(hour=10)
        form.place.data = previous.place
    return render_template("conversations/new.html", form=form, query=query, choices=planning.CHOICES)


@bp.post("/")
def create():
    form = _plan_form()
    error = None
    if form.validate_on_submit() or _contract_post_valid(form):
        try:
            scheduled = parse_datetime(request.form.get("scheduled_at"))
            conversation = planning.plan_conversation(
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
    return render_template("conversations/new.html", form=form, error=error, query="",
                           choices=planning.CHOICES), 422


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


# A completed record opened by someone who is not a participant is logged once it is
# read and rendered (records/reads.py: note_read); the participants' views never are.


@bp.get("/<int:conversation_id>")
def show(conversation_id: int):
    conversation = access.get_visible(current_user, conversation_id)
    response = render_page(conversation, PHASES[0])
    reads.note_read(current_user, conversation, "page")
    return response


@bp.get("/<int:conversation_id>/phases/<phase>")
def phase(conversation_id: int, phase: str):
    conversation = access.get_visible(current_user, conversation_id)
    if phase not in PHASES:
        abort(404)
    response = render_page(conversation, phase)
    reads.note_read(current_user, conversation, "page")
    return response


@bp.get("/<int:conversation_id>/export.json")
def export(conversation_id: int):
    conversation = access.get_visible(current_user, conversation_id)
    data = export_json.export(conversation)
    # The viewer's own private preparation, and only theirs (nobody else's, ever).
    data["my_preparation"] = preparation.my_preparation(current_user, conversation)
    response = jsonify(data)
    response.headers["Content-Disposition"] = f'attachment; filename="voortgang-{conversation.id}.json"'
    reads.note_read(current_user, conversation, "json")
    return response


@bp.get("/<int:conversation_id>/record.pdf")
def record_pdf(conversation_id: int):
    """The conversation as a PDF document, in the viewer's language or `?lang=`."""
    conversation = access.get_visible(current_user, conversation_id)
    locale = document.document_locale(request.args.get("lang"), str(get_locale().language))
    body = document.conversation_pdf(conversation, locale)
    reads.note_read(current_user, conversation, "pdf")
    return pdf_response(body, f"voortgang-{conversation_id}-{locale}.pdf")

# --- Calendar ---------------------------------------------------------------------------


@bp.get("/<int:conversation_id>/calendar.ics")
def calendar(conversation_id: int):
    conversation = access.get_visible(current_user, conversation_id)
    return _ics_response(calendars.conversation_event(conversation), f"voortgang-{conversation.id}.ics")


@bp.get("/<int:conversation_id>/next-evaluation.ics")
def next_evaluation_calendar(conversation_id: int):
    conversation = access.get_visible(current_user, conversation_id)
    if conversation.next_evaluation is None:
        abort(404)
    return _ics_response(calendars.next_evaluation_event(conversation),
                         f"voortgang-{conversation.id}-next-evaluation.ics")


def _ics_response(body: bytes, filename: str):
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response



from . import routes_answers, routes_preparation, routes_record  # noqa: E402,F401  (their views join this blueprint)
