"""Views of the rounds: parse, ask rounds/service.py, render. Administrators and managers
only; everyone else gets 404 on every route (no hint that rounds exist)."""
from __future__ import annotations

from flask import abort, jsonify, redirect, render_template, request, url_for
from babel.numbers import get_group_symbol
from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..conversations import access
from ..conversations.routes import parse_date, parse_datetime
from ..errors import Invalid, NotFound, error_text
from ..extensions import db, login_manager
from ..labels import ROUND_STATE_NAMES
from ..models import Conversation
from ..records.paging import page_number
from ..vocabulary import RoundScope
from ..web import csv_response, parse_id, parse_int
from . import bp, service
from . import figures as round_figures
from .forms import RoundForm


@bp.before_request
def managers_and_administrators_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not service.may_use_rounds(current_user):
        abort(404)
    return None


@bp.context_processor
def words() -> dict:
    # `count` writes a whole number as format_number does ("10.000", "10,000"), with the
    # locale's group symbol looked up once: the team table has a cell per team and state.
    group = get_group_symbol(get_locale())
    return {"format_number": format_number, "count": lambda n: f"{n:,}".replace(",", group)}


@bp.get("/")
def index():
    rounds = service.rounds_for(current_user)
    return render_template("rounds/index.html", rounds=rounds, progress=round_figures.progress_of(current_user, rounds))


def _round_form() -> RoundForm:
    form = RoundForm()
    scopes = [(RoundScope.TEAM, _("A team")), (RoundScope.CHOSEN, _("Chosen people"))]
    if current_user.is_admin:
        scopes.insert(0, (RoundScope.EVERYONE, _("Everyone")))
        form.team.choices = [("", _("Choose a manager"))] + [
            (manager_id, _("Team of %(name)s", name=name)) for manager_id, name in service.teams()]
    else:
        form.team.choices = [(current_user.id, _("Team of %(name)s", name=current_user.name))]
    form.scope.choices = scopes
    form.people.choices = [(person_id, name) for person_id, name in service.choosable_people(current_user)]
    form.template.choices = [(t.id, t.name + (" " + _("(default)") if t.is_default else ""))
                             for t in service.templates()]
    return form


@bp.get("/new")
def new():
    form = _round_form()
    form.scope.data = RoundScope.EVERYONE if current_user.is_admin else RoundScope.TEAM
    if not current_user.is_admin:
        form.team.data = current_user.id
    return render_template("rounds/new.html", form=form)


@bp.post("/")
def create():
    form = _round_form()
    # (CSRFProtect has checked the token; the domain rules check the rest.)
    scope = form.chosen_scope()
    try:
        starts_on = _date(form.starts_on)
        ends_on = _date(form.ends_on)
        round_ = service.start_round(
            current_user, name=form.name.data or "", starts_on=starts_on, ends_on=ends_on,
            team_id=form.team.data if scope == RoundScope.TEAM else None,
            person_ids=[p for p in form.people.data or [] if p is not None] if scope == RoundScope.CHOSEN else None,
            template_id=form.template.data, scope=scope,
        )
    except Invalid as refusal:
        field = getattr(form, refusal.field, None) if refusal.field else None
        if field is not None:
            field.errors = [error_text(refusal)]
            error = None
        else:
            error = error_text(refusal)
        return render_template("rounds/new.html", form=form, error=error), 422
    return redirect(url_for("rounds.show", round_id=round_.id), code=303)


def _date(field):
    try:
        return parse_date(field.data)
    except Invalid as refusal:
        refusal.field = field.name
        raise


def _team() -> int | None:
    """The team filter of the people still to plan (`team`: a manager's id)."""
    return parse_id(request.values.get("team"))


def _page_context(round_, number: int, **extra) -> dict:
    team = _team()
    return {
        "round": round_,
        "figures": round_figures.figures(round_, current_user),
        "page": round_figures.to_plan_page(round_, current_user, number, team),
        "team": team,
        "page_args": {"round_id": round_.id, **({"team": team} if team is not None else {})},
        "team_of": _("Team of %(name)s", name="%(name)s"),
        "may_close": service.may_close(current_user, round_),
        **extra,
    }


@bp.get("/<int:round_id>")
def show(round_id: int):
    round_ = service.get_visible(current_user, round_id)
    planned = None
    planned_id = parse_int(request.args.get("planned"))
    if planned_id:
        conversation = db.session.get(Conversation, planned_id)
        if conversation is not None and access.may_view(current_user, conversation):
            planned = conversation
    return render_template("rounds/show.html",
                           **_page_context(round_, page_number(request.args.get("page")), planned=planned))


@bp.post("/<int:round_id>/plan")
def plan(round_id: int):
    """Plan one person's conversation from the round's page (date and time, place)."""
    person_id = parse_int(request.form.get("person"))
    number = page_number(request.form.get("page"))
    try:
        if person_id is None:
            raise NotFound()
        scheduled_at = parse_datetime(request.form.get("scheduled_at"))
        conversation = service.plan_in_round(current_user, round_id, person_id=person_id,
                                             scheduled_at=scheduled_at, place=request.form.get("place", ""))
    except Invalid as refusal:
        round_ = service.get_visible(current_user, round_id)
        typed = {"scheduled_at": request.form.get("scheduled_at", ""), "place": request.form.get("place", "")}
        return render_template("rounds/show.html", **_page_context(
            round_, number, plan_error={"person": person_id, "message": error_text(refusal), **typed})), 422
    return redirect(url_for("rounds.show", round_id=round_id, page=number if number > 1 else None,
                            team=_team(), planned=conversation.id), code=303)


@bp.post("/<int:round_id>/close")
def close(round_id: int):
    service.close_round(current_user, round_id)
    return redirect(url_for("rounds.show", round_id=round_id), code=303)


@bp.get("/<int:round_id>/export.json")
def export(round_id: int):
    """The round as JSON (part of the outside interface: keys are only ever added)."""
    round_ = service.get_visible(current_user, round_id)
    response = jsonify(round_figures.export(round_, current_user))
    response.headers["Content-Disposition"] = f'attachment; filename="voortgang-round-{round_.id}.json"'
    return response


def _round_cells(row) -> list:
    return [row.name, row.email, row.manager_name, ROUND_STATE_NAMES[row.state],
            row.scheduled_at.astimezone(service.zone()).strftime("%Y-%m-%d %H:%M") if row.scheduled_at else "",
            row.conversation_id or ""]


@bp.get("/<int:round_id>/export.csv")
def export_csv(round_id: int):
    """Every person of the viewer's part of the round, with state and conversation."""
    round_ = service.get_visible(current_user, round_id)
    header = [_("Name"), _("Email"), _("Manager"), _("State"), _("Date"), _("Conversation")]
    return csv_response(header, round_figures.all_people(round_, current_user), _round_cells,
                        f"voortgang-round-{round_.id}.csv")
