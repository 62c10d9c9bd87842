"""Views of the overview and the personal record: parse, ask the service, render."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import abort, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..conversations import access
from ..labels import FLAG_NAMES, STATUS_NAMES
from ..extensions import db
from . import bp, service

@bp.context_processor
def words() -> dict:
    return {"today": date.today()}


def may_see_overview() -> bool:
    """Administrators (whole organisation) and managers (their team)."""
    if current_user.is_admin:
        return True
    return db.session.execute(service.overview_people_query(current_user).limit(1)).first() is not None


FILTER_KEYS = ("team", "status", "overdue", "sort")


def _filter_args() -> dict:
    """The overview's filters as given, for links that keep them (and nothing else from the query)."""
    return {key: request.args[key] for key in FILTER_KEYS if request.args.get(key)}


def _filters() -> dict:
    team = request.args.get("team", "")
    return {
        "team": int(team) if team.isdigit() else None,
        "status": request.args.get("status") or None,
        "overdue": request.args.get("overdue") == "1",
        "sort": request.args.get("sort", "name"),
    }


@bp.get("/overview")
@login_required
def overview():
    if not may_see_overview():
        abort(404)
    filters = _filters()
    rows = service.overview(current_user, **filters)
    return render_template("records/overview.html", rows=rows, filters=filters, teams=service.teams(current_user),
                           filter_args=_filter_args())


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs cells that start with these as formulas: keep them text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/overview.csv")
@login_required
def overview_csv():
    if not may_see_overview():
        abort(404)
    rows = service.overview(current_user, **_filters())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Name"), _("Email"), _("Manager"), _("Last completed conversation"),
                     _("Current status"), _("Next evaluation"), _("Open agreements"),
                     _("Overdue agreements"), _("Needs attention")])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in (
            row.person.name, row.person.email, row.manager_name,
            row.last_completed.date().isoformat() if row.last_completed else "",
            STATUS_NAMES[row.current_status] if row.current_status else "",
            row.next_evaluation.isoformat() if row.next_evaluation else "",
            row.open_agreements, row.overdue_agreements,
            "; ".join(str(FLAG_NAMES[f]) for f in row.flags),
        )])
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="voortgang-overview-{date.today().isoformat()}.csv"'
    return response


@bp.get("/overview/agreements")
@login_required
def agreements():
    if not may_see_overview():
        abort(404)
    return render_template("records/agreements.html", items=service.open_agreements(current_user))


@bp.get("/people/<int:person_id>/record")
@login_required
def record(person_id: int):
    data = service.record(current_user, person_id)
    if data is None:
        abort(404)
    return render_template("records/record.html", **data, role_of=lambda c: access.role_of(current_user, c))


@bp.get("/me/export.json")
@login_required
def my_export():
    """Everything stored about the signed-in person (its format is part of the outside interface: keys are only ever added)."""
    data = service.personal_export(current_user)
    response = jsonify(data)
    response.headers["Content-Disposition"] = 'attachment; filename="voortgang-my-data.json"'
    return response
