"""Question templates: the administrators' question lists that conversations copy when planned."""
from flask import Blueprint

# Administrators only: everyone else gets 404 on every route (see routes.admins_only).
bp = Blueprint("questions", __name__, url_prefix="/admin/templates")

from . import routes  # noqa: F401
