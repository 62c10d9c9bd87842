"""The organisation's overview and each person's record."""
from flask import Blueprint

bp = Blueprint("records", __name__)

from . import routes  # noqa: E402,F401
