"""Views of the overview and the personal record: parse, ask the service, render."""
from __future__ import annotations

from datetime import date

from flask import abort, jsonify, render_template, request
from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..conversations import access
from ..labels import FLAG_NAMES, STATUS_NAMES
from ..web import csv_response, parse_id, pdf_response, signed_in_only
from . import agreements as agreements_service
from . import bp, document, reads, service
from . import overview as overview_service
from .paging import page_number

bp.before_request(signed_in_only)


@bp.context_processor
def words() -> dict:
    return {"today": date.today(), "format_number": format_number}


@bp.app_context_processor
def navigation() -> dict:
    """For the navigation on every page: whether to offer the overview and the rounds."""
    return {"leads_people": service.leads_people}


def may_see_overview() -> bool:
    """Administrators (whole organisation) and managers (their team)."""
    return service.leads_people(current_user)


FILTER_KEYS = ("team", "status", "overdue", "sort")
AGREEMENT_FILTER_KEYS = ("team", "owner", "overdue")


def _filter_args(keys=FILTER_KEYS) -> dict:
    """The filters as given, for links that keep them (and nothing else from the query)."""
    return {key: request.args[key] for key in keys if request.args.get(key)}


def _team() -> int | None:
    return parse_id(request.args.get("team"))


def _teams() -> dict:
    """The team filter's choices (administrators: every manager), the label translated once."""
    return {"teams": overview_service.teams(current_user), "team_of": _("Team of %(name)s", name="%(name)s")}


def _filters() -> overview_service.Filters:
    return overview_service.Filters.of(team=_team(), status=request.args.get("status") or None,
                               overdue=request.args.get("overdue") == "1", sort=request.args.get("sort"))


@bp.get("/overview")
def overview():
    if not may_see_overview():
        abort(404)
    filters = _filters()
    page = overview_service.overview_page(current_user, filters, page_number(request.args.get("page")))
    return render_template("records/overview.html", page=page, filters=filters, filter_args=_filter_args(),
                           **_teams())


def _overview_cells(row) -> list:
    return [row.name, row.email, row.manager_name,
            row.last_completed.date().isoformat() if row.last_completed else "",
            STATUS_NAMES[row.current_status] if row.current_status else "",
            row.next_evaluation.isoformat() if row.next_evaluation else "",
            row.open_agreements, row.overdue_agreements,
            "; ".join(str(FLAG_NAMES[f]) for f in row.flags)]


@bp.get("/overview.csv")
def overview_csv():
    """Every row of the overview with its filters and sort, streamed (one statement, read in chunks)."""
    if not may_see_overview():
        abort(404)
    header = [_("Name"), _("Email"), _("Manager"), _("Last completed conversation"), _("Current status"),
              _("Next evaluation"), _("Open agreements"), _("Overdue agreements"), _("Needs attention")]
    return csv_response(header, overview_service.all_rows(current_user, _filters()), _overview_cells,
                        f"voortgang-overview-{date.today().isoformat()}.csv")


@bp.get("/overview/agreements")
def agreements():
    if not may_see_overview():
        abort(404)
    filters = agreements_service.AgreementFilters.of(
        team=_team(), owner=request.args.get("owner") or None, overdue=request.args.get("overdue") == "1")
    page = agreements_service.agreements_page(current_user, filters, page_number(request.args.get("page")))
    return render_template("records/agreements.html", page=page, filters=filters,
                           filter_args=_filter_args(AGREEMENT_FILTER_KEYS), **_teams())


def may_see_reads(person_id: int) -> bool:
    """Who read a record: the person themselves, and administrators."""
    return current_user.id == person_id or current_user.is_admin


@bp.get("/people/<int:person_id>/record")
def record(person_id: int):
    data = service.record(current_user, person_id)
    if data is None:
        abort(404)
    record_reads = reads.reads_of(person_id) if may_see_reads(person_id) else None
    return render_template("records/record.html", **data, record_reads=record_reads,
                           role_of=lambda c: access.role_of(current_user, c))


@bp.get("/people/<int:person_id>/record.pdf")
def record_pdf(person_id: int):
    """The person's record (completed conversations, agreements' history) as one PDF."""
    locale = document.document_locale(request.args.get("lang"), str(get_locale().language))
    made = document.record_pdf(current_user, person_id, locale)
    if made is None:
        abort(404)
    body, conversations = made
    reads.note_reads(current_user, conversations, "pdf")
    return pdf_response(body, f"voortgang-record-{person_id}-{locale}.pdf")


@bp.get("/me/export.json")
def my_export():
    """Everything stored about the signed-in person (its format is part of the outside interface: keys are only ever added)."""
    data = service.personal_export(current_user)
    response = jsonify(data)
    response.headers["Content-Disposition"] = 'attachment; filename="voortgang-my-data.json"'
    return response
