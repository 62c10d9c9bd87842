"""Small helpers the views of every area share."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence

from flask import Response, abort, make_response, request, stream_with_context
from flask_login import current_user

from .extensions import login_manager


def is_htmx() -> bool:
    """An htmx request that wants a fragment (not a boosted page load)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def parse_int(value: str | None) -> int | None:
    """An integer form or query value; None when empty or not a number."""
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def optional_id(value) -> int | None:
    """A form field's coerce for an optional choice of a row by id: None when empty,
    -1 (no such row, which the domain rules refuse) when not a number."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def signed_in_only():
    """A blueprint's before_request: every view of it needs a signed-in person (as
    Flask-Login's `login_required`, once for the whole blueprint)."""
    if request.method != "OPTIONS" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def admins_only():
    """A blueprint's before_request: sign-in first; then administrators only, 404 for anyone
    else (no hint that the page exists)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(404)
    return None


def pdf_response(body: bytes, filename: str):
    """A PDF document to download."""
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# Rows per piece of a streamed CSV: the whole list never sits in memory.
CSV_CHUNK = 500


def csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs cells that start with these as formulas: keep them text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_pieces(header: Sequence[str], rows: Iterable, cells: Callable[[object], Sequence]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(value) for value in cells(row)])
        if n % CSV_CHUNK == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def csv_response(header: Sequence[str], rows: Iterable, cells: Callable[[object], Sequence], filename: str):
    """A CSV to download, written a few hundred rows at a time while `rows` is read (in
    the request's context, so `cells` may translate)."""
    response = Response(stream_with_context(_csv_pieces(header, rows, cells)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
