from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import text
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, SecurityError

from ..extensions import db
from . import bp


@bp.get("/")
@login_required
def index():
    from ..conversations.messages import OWNER_NAMES
    from ..records.service import needs_attention

    return render_template("main/index.html", needs=needs_attention(current_user), OWNER_NAMES=OWNER_NAMES)


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
