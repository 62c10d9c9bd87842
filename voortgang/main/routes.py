from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import text
from flask_babel import gettext as _
from werkzeug import exceptions as http
from werkzeug.exceptions import HTTPException, SecurityError

from ..errors import Refusal, error_text

from ..extensions import db
from ..web import is_htmx
from . import bp


@bp.get("/")
@login_required
def index():
    from ..records.service import needs_attention
    from ..rounds.service import next_steps

    return render_template("main/index.html", needs=needs_attention(current_user), rounds=next_steps(current_user))


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    db.session.rollback()
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


def refuse_unknown_host(error: SecurityError):
    """A request for a host the app does not serve (TRUSTED_HOSTS, from VOORTGANG_BASE_URL):
    no page, since no link can be built for a host the app does not know."""
    return _("This address is not served here."), 400, {"Content-Type": "text/plain; charset=utf-8"}


def render_error(error: HTTPException):
    """Render a translated error page without details (no traceback, no data)."""
    code = error.code or 500
    if code < 400:  # routing redirects (e.g. a missing trailing slash) pass through
        return error
    if code >= 500:
        db.session.rollback()
    return render_template("errors/error.html", code=code), code


def refuse(refusal: Refusal):
    """A domain refusal that its view left to the app (registered for `Refusal`): NotFound
    is the 404 page, ReadOnly the 403 page (for htmx, its sentence where the write was),
    anything else the sentence with its status. Nothing the request did is kept."""
    db.session.rollback()
    if refusal.status == 404:
        return render_error(http.NotFound())
    if is_htmx():
        return render_template("conversations/_refused.html", message=error_text(refusal)), refusal.status
    if refusal.status == 403:
        return render_error(http.Forbidden())
    return render_template("errors/error.html", code=refusal.status, message=error_text(refusal)), refusal.status

