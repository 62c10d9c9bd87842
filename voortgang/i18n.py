"""Locale selection and the language names shown in the switch."""
from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

from .config import LOCALES

# Each language named in itself, so a person can find their own in any interface.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
SESSION_KEY = "locale"


def select_locale() -> str:
    """Saved preference, else the choice made while signed out, else Accept-Language, else default."""
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get(SESSION_KEY)
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or current_app.config["DEFAULT_LOCALE"]
