"""The conversation: planning, the three phases, autosave, talking points, agreements, sign-off."""
from flask import Blueprint

bp = Blueprint("conversations", __name__, url_prefix="/conversations")

from . import routes  # noqa: E402,F401
