"""Configuration: defaults, then instance/config.py, then VOORTGANG_* variables, then a test mapping."""
from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

ENV_PREFIX = "VOORTGANG_"
SECRET_KEY_FILE = "secret_key"  # a file name  # nosec B105
MIN_SECRET_KEY_LENGTH = 32
LOCALES = ("nl", "en")

# Environment variables whose names differ from the config key they set.
ENV_ALIASES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECURE_COOKIES": "SESSION_COOKIE_SECURE",
}
# Every other VOORTGANG_X sets config key X; these are parsed from text.
BOOL_KEYS = {"SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", "WTF_CSRF_ENABLED", "SMTP_STARTTLS", "SMTP_SSL"}
INT_KEYS = {
    "PROXY_FIX",
    "LOGIN_MAX_FAILURES_PER_ACCOUNT",
    "LOGIN_MAX_FAILURES_PER_ADDRESS",
    "LOGIN_THROTTLE_MINUTES",
    "SESSION_IDLE_MINUTES",
    "SESSION_ABSOLUTE_HOURS",
    "REMEMBER_DAYS",
    "ANSWER_MAX_LENGTH",
    "SMTP_PORT",
    "SMTP_TIMEOUT",
    "RETENTION_YEARS",
}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says why."""


DEFAULTS: dict[str, Any] = {
    "DEFAULT_LOCALE": "nl",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
    "SQLALCHEMY_DATABASE_URI": None,  # filled in from the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": {},  # completed per database in load_config
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "voortgang_session",
    "REMEMBER_COOKIE_NAME": "voortgang_remember",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # "Keep me signed in": how long a remembered sign-in lasts (REMEMBER_COOKIE_DURATION).
    "REMEMBER_DAYS": 14,
    # A CSRF token lives as long as the session, so a long meeting can still save.
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_ENABLED": True,
    # Number of reverse proxies in front of the app whose X-Forwarded-* to trust.
    "PROXY_FIX": 0,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 50,
    "LOGIN_THROTTLE_MINUTES": 15,
    # A sign-in without "keep me signed in" ends after this long without any request
    # (an open conversation page polls, so a meeting never hits it) ...
    "SESSION_IDLE_MINUTES": 120,
    # ... and after this long in any case.
    "SESSION_ABSOLUTE_HOURS": 12,
    "ANSWER_MAX_LENGTH": 10_000,
    # The largest request body; larger ones are refused (413) before they are parsed. The
    # CSV import (people/imports.py MAX_IMPORT_BYTES, 256 KiB) is the largest thing anyone
    # sends, and pasted text travels url-encoded (up to three times its size), so its own
    # clear message answers files up to here.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Public address for links printed by the CLI and sent by e-mail (e.g. https://voortgang.example.org).
    "BASE_URL": None,
    # E-mail is optional: without SMTP_HOST nothing is sent and the app shows links instead.
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_USERNAME": None,

    "SMTP_FROM": None,
    "SMTP_STARTTLS": True,
    "SMTP_SSL": False,
    "SMTP_TIMEOUT": 15,
    # Where the fingerprinted, compressed copies of static/ are kept (assets.py);
    # unset: "assets" in the instance folder.
    "ASSETS_FOLDER": None,
    # Responses worth compressing (Flask-Compress); brotli, else gzip, as the browser accepts.
    "COMPRESS_MIMETYPES": ["text/html", "application/json", "text/csv", "text/calendar", "text/plain"],
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
    # Records of people who left (were deactivated) are erased this many whole years later
    # by `voortgang retention --apply` (records/retention.py); the Dutch data protection
    # authority's guidance for personnel files: in general two years after employment ends.
    "RETENTION_YEARS": 2,
    # The organisation's name, at the top of every PDF document of a record.
    "ORGANISATION_NAME": "",
    # argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
    "ARGON2_TIME_COST": 2,
    "ARGON2_MEMORY_COST": 19 * 1024,
    "ARGON2_PARALLELISM": 1,
}


def _parse(name: str, key: str, raw: str) -> Any:
    if key in BOOL_KEYS:
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name}: expected true or false, got {raw!r}")
    if key in INT_KEYS:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    return raw


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Return the config keys set by VOORTGANG_* variables."""
    settings: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "INSTANCE_PATH":
            continue
        key = name[len(ENV_PREFIX):]
        key = ENV_ALIASES.get(key, key)
        settings[key] = _parse(name, key, raw)
    return settings


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config in order of precedence and check it."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment(os.environ))
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'voortgang.db'}"
    keep_private(instance, app.config["SQLALCHEMY_DATABASE_URI"])
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from .database import SerialWriteConnection

        # A file next to the app never drops a connection: no ping before each use.
        options.setdefault("pool_pre_ping", False)
        options["connect_args"] = {"factory": SerialWriteConnection, **options.get("connect_args", {})}
    else:
        # A database server may have closed an idle connection (restart, timeout).
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(instance)
    check_config(app.config)
    # The remember cookie is as secure as the session cookie, however that was set.
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config["SESSION_COOKIE_SECURE"])
    if app.config.get("TRUSTED_HOSTS") is None:
        from .links import trusted_hosts

        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config.get("BASE_URL"))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_DAYS"])


def check_config(config: dict[str, Any]) -> None:
    """Refuse settings the app cannot run safely with."""
    key = config["SECRET_KEY"]
    if not isinstance(key, (str, bytes)) or len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 10:
        raise ConfigError(
            f"{ENV_PREFIX}SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random "
            "characters, or unset it to have one generated in the instance folder"
        )
    if config["DEFAULT_LOCALE"] not in LOCALES:
        raise ConfigError(f"{ENV_PREFIX}DEFAULT_LOCALE must be one of {', '.join(LOCALES)}")
    years = config.get("RETENTION_YEARS")
    if not isinstance(years, int) or isinstance(years, bool) or not 0 <= years <= 100:
        raise ConfigError(f"{ENV_PREFIX}RETENTION_YEARS must be a whole number from 0 to 100 (got {years!r})")
    base = config.get("BASE_URL")
    if base:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"{ENV_PREFIX}BASE_URL must be the app's public address, "
                              f"like https://voortgang.example.org (got {base!r})")
    elif config.get("SMTP_HOST"):
        raise ConfigError(f"{ENV_PREFIX}BASE_URL must be set when e-mail is on ({ENV_PREFIX}SMTP_HOST): "
                          "the links in e-mails need the app's public address")


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def keep_private(instance: Path, database_uri: str) -> None:
    """The instance folder (0700) and the SQLite database (0600): personnel records are for
    the app's own user only, not for every local account.

    A new database file is created empty with mode 0600 before SQLite opens it; SQLite
    gives its -wal and -shm files the mode of the database file. Existing files that
    are readable by others are tightened (when this user owns them).
    """
    instance.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(instance, PRIVATE_DIR)
    if not database_uri.startswith("sqlite"):
        return
    from sqlalchemy.engine import make_url

    name = make_url(database_uri).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if not path.exists() and path.parent.is_dir():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        except FileExistsError:
            pass  # another process was first
    for file in (path, Path(f"{name}-wal"), Path(f"{name}-shm"), Path(f"{name}-writer.lock")):
        _tighten(file, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o777 & ~mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass


def instance_secret_key(instance: Path) -> str:
    """Return the instance's secret key, creating it (mode 0600) on first start."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / SECRET_KEY_FILE
    if not path.exists():
        # Write a complete file aside, then link it into place: processes starting
        # at the same moment all end up with the one key that won.
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret-")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text(encoding="ascii").strip()
