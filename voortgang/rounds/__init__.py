"""Rounds: "have all conversations been held, and what was agreed?" for one period.

For administrators and managers; everyone else gets 404 on every route."""
from flask import Blueprint

bp = Blueprint("rounds", __name__, url_prefix="/rounds")

from . import routes  # noqa: E402,F401
