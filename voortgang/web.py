"""Small helpers the views of every area share."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence

from flask import Response, abort, make_response, request, stream_with_context
from flask_login import current_user

from werkzeug.routing import IntegerConverter

from .extensions import login_manager


def is_htmx() -> bool:
    """An htmx request that wants a fragment (not a boosted page load)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


# The largest value an integer column holds (PostgreSQL's integer; also every id).
LARGEST_INT = 2**31 - 1


def parse_int(value: str | None) -> int | None:
    """An integer form or query value; None when empty, not a number in ASCII digits, or
    beyond what the database's integer columns hold (such a value matches no row)."""
    digits = value[1:] if value and value.startswith("-") else value
    if not digits or not digits.isascii() or not digits.isdecimal():
        return None
    number = int(value)
    return number if -LARGEST_INT <= number <= LARGEST_INT else None


def parse_id(value: str | None) -> int | None:
    """A row's id from a form or query value: a positive integer, else None."""
    number = parse_int(value)
    return number if number is not None and number > 0 else None


def optional_id(value) -> int | None:
    """A form field's coerce for an optional choice of a row by id: None when empty,
    -1 (no such row, which the domain rules refuse) when not an id."""
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    number = parse_id(str(value))
    return -1 if number is None else number


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


class IdConverter(IntegerConverter):
    """`<int:...>` in URLs: at most what an id can be, so /rounds/99999999999999999999 is
    a 404 like any id that does not exist, not an overflow in the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_INT)
        super().__init__(map, *args, **kwargs)


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
