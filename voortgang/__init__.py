"""Voortgang: the voortgangsgesprek, an equal two-way progress conversation."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_babel import get_locale
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import database  # noqa: F401  (registers the SQLite connection events)
from . import assets, labels, security, statistics
from .config import load_config
from .errors import Refusal
from .extensions import babel, compress, csrf, db, login_manager, migrate
from . import i18n
from .i18n import LANGUAGE_NAMES, select_locale
from .paths import MIGRATIONS_DIR, STATIC_DIR, TEMPLATES_DIR, TRANSLATIONS_DIR, default_instance_path
from .web import IdConverter


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: defaults, instance/config.py, VOORTGANG_* variables, then test_config."""
    instance_path = os.environ.get("VOORTGANG_INSTANCE_PATH") or default_instance_path()
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
        instance_path=str(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
    # Ids in URLs no larger than the database holds (before any route is added).
    app.url_map.converters["int"] = IdConverter
    load_config(app, test_config)

    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    statistics.init_app(app)  # PRAGMA optimize now and then (SQLite's planner statistics)
    csrf.init_app(app)
    compress.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
    # Before the login set-up's before-request functions: the idle poll of an open
    # conversation page is answered here when nothing changed, before Flask-Login loads
    # the person (conversations/live.py: answer_idle_poll, the live protocol's fast path).
    from .conversations.live import answer_idle_poll

    app.before_request(answer_idle_poll)
    i18n.init_app(app)
    labels.init_app(app)
    _init_login(app)
    security.init_app(app)

    from .auth import bp as auth_bp
    from .conversations import bp as conversations_bp
    from .main import bp as main_bp
    from .records import bp as records_bp
    from .main.routes import refuse, refuse_unknown_host, render_error

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(conversations_bp)
    app.register_blueprint(records_bp)
    # Blueprints of later areas are registered below this line.
    from .questions import bp as questions_bp
    app.register_blueprint(questions_bp)
    from .people import bp as people_bp, profile_bp

    app.register_blueprint(people_bp)
    app.register_blueprint(profile_bp)
    from .rounds import bp as rounds_bp

    app.register_blueprint(rounds_bp)
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(SecurityError, refuse_unknown_host)
    app.register_error_handler(Refusal, refuse)

    from .cli import register_commands

    register_commands(app)
    app.jinja_env.globals.update(LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale)
    assets.init_app(app)
    return app


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from .auth import sessions

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    sessions.init_app(app)
