"""Locale selection and the language names shown in the switch."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app, request, session
from flask_babel import format_date, format_datetime, format_number, get_timezone
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


# Dates and times as people write them, in the reader's language: no seconds, the
# weekday and month abbreviated ("di 1 dec 2026, 10:00", "Tue 1 Dec 2026, 10:00").
MOMENT_PATTERN = "EEE d MMM y, HH:mm"
DAY_PATTERN = "d MMM y"


def moment(value: datetime) -> str:
    """A date and time, in the reader's time zone; the zone is named only when it is not
    the organisation's (BABEL_DEFAULT_TIMEZONE)."""
    text = format_datetime(value, MOMENT_PATTERN)
    if str(get_timezone()) != current_app.config["BABEL_DEFAULT_TIMEZONE"]:
        text += " " + format_datetime(value, "zzz")
    return text


def day(value: date | datetime) -> str:
    """A date: "1 dec 2026", "1 Dec 2026"."""
    return format_date(value, DAY_PATTERN)


def init_app(app) -> None:
    app.jinja_env.filters.update(moment=moment, day=day)
    app.jinja_env.globals["format_number"] = format_number  # "10,000", "10.000"
