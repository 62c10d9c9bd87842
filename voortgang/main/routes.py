from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

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


def render_error(error: HTTPException):
    """Render a translated error page without details (no traceback, no data)."""
    code = error.code or 500
    if code < 400:  # routing redirects (e.g. a missing trailing slash) pass through
        return error
    if code >= 500:
        db.session.rollback()
    return render_template("errors/error.html", code=code), code
