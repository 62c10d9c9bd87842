"""Signing in and out, first-run setup, setting a password, choosing a language."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import routes  # noqa: E402,F401  (registers the routes on bp)
