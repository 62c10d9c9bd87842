"""People: the administrators' list of people, CSV import, password links; everyone's profile."""
from flask import Blueprint

# Administrators only: everyone else gets 404 on every route (see routes.admins_only).
bp = Blueprint("people", __name__, url_prefix="/admin/people")
# Every signed-in person's own profile, and the signed-out "forgot password" page.
profile_bp = Blueprint("profile", __name__)

from . import routes  # noqa: E402,F401  (registers the routes on both blueprints)
