"""Small helpers the views of every area share."""
from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from .extensions import login_manager


def is_htmx() -> bool:
    """An htmx request that wants a fragment (not a boosted page load)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def admins_only():
    """A blueprint's before_request: sign-in first; then administrators only, 404 for anyone
    else (no hint that the page exists)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(404)
    return None
