"""Sessions that really end: per-person tokens, idle and absolute lifetimes."""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ..database import ONE_READ
from ..extensions import db, login_manager
from ..i18n import SESSION_KEY as LOCALE_SESSION_KEY
from ..models import User

SIGNED_IN_AT = "signed_in_at"
REMEMBERED = "remembered"
SEEN_AT = "seen_at"
# Refresh the idle clock at most this often, so polling does not rewrite the cookie each time.
SEEN_RESOLUTION = 60


@dataclass(frozen=True)
class Claim:
    """Who a session id says is signed in; true only if `token` is the person's current one."""

    user_id: int
    token: str
    issued: int

    def holds_for(self, user: User | None) -> bool:
        return user is not None and user.active and user.session_token == self.token


def parse_claim(user_id: str) -> Claim | None:
    """Read Flask-Login's user id "id:token:sign-in time"; None when malformed or too old."""
    ident, token, issued = (user_id.split(":") + ["", ""])[:3]
    if not ident.isdigit() or not token or not issued.isdigit():
        return None
    now = time.time()
    longest = current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
    if not (now - longest <= int(issued) <= now + 60):
        return None  # older than any sign-in may live (a replayed cookie), or forged
    return Claim(int(ident), token, int(issued))


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session token and the sign-in time."""
    claim = parse_claim(user_id)
    if claim is None:
        return None
    user = _load_person(claim.user_id)
    if not claim.holds_for(user):
        return None
    g.signed_in_at = claim.issued
    return user


@cache
def _person_statement():
    users = User.__table__
    return select(users).where(users.c.id == bindparam("user_id"))


def _load_person(user_id: int) -> User | None:
    """The person as `Session.get` would load them, at half the cost, on every signed-in request.

    One plain row on a connection of its own, made into a User of the request's
    session as if the session had loaded it (changes to it are saved as usual).
    """
    existing = db.session.identity_map.get(identity_key(User, user_id))
    if existing is not None:
        return existing
    with db.engine.connect().execution_options(**{ONE_READ: True}) as connection:
        row = connection.execute(_person_statement(), {"user_id": user_id}).one_or_none()
    if row is None:
        return None
    user = User(**row._mapping)
    make_transient_to_detached(user)
    db.session.add(user)
    return user


def quiet_claim() -> Claim | None:
    """The session's claim when serving the request in full would neither end nor change
    the session: signed in by this session (not restored from a remember cookie), within
    its lifetimes, idle clock fresh, same client as far as session protection can tell.

    Lets a hot path (the idle poll) answer without loading the person through
    Flask-Login; it must still check the claim against the database (`Claim.holds_for`,
    or the same columns in its own query). None: take the full path.
    """
    user_id = session.get("_user_id")
    if user_id is None or SIGNED_IN_AT not in session or "_remember" in session:
        return None
    if _lifetime(int(time.time())) != CURRENT:
        return None
    if session.get("_fresh") is not False and session.get("_id") != login_manager._session_identifier_generator():
        return None  # Flask-Login would mark the session not fresh (a change to save)
    return parse_claim(user_id)


def start_session(user: User, remember: bool = False) -> None:
    """Sign in with a fresh session (no data carried over from before sign-in)."""
    locale = session.get(LOCALE_SESSION_KEY)
    session.clear()
    if locale:
        session[LOCALE_SESSION_KEY] = locale
    login_user(user, remember=remember)
    now = int(time.time())
    session[SIGNED_IN_AT], session[REMEMBERED], session[SEEN_AT] = now, bool(remember), now


def end_session() -> None:
    """Sign out here: drop the session and have the browser forget the remember cookie."""
    locale = session.get(LOCALE_SESSION_KEY)
    logout_user()
    session.clear()
    session["_remember"] = "clear"  # Flask-Login deletes the remember cookie on this response
    if locale:
        session[LOCALE_SESSION_KEY] = locale


# What _lifetime says about a signed-in session.
CURRENT, STALE_SEEN, ENDED = "current", "stale_seen", "ended"


def _lifetime(now: int) -> str:
    """ENDED past the idle or absolute lifetime; STALE_SEEN when the idle clock is due a refresh."""
    config = current_app.config
    remembered = session.get(REMEMBERED, False)
    limit = (config["REMEMBER_COOKIE_DURATION"].total_seconds() if remembered
             else config["SESSION_ABSOLUTE_HOURS"] * 3600)
    idle = now - session.get(SEEN_AT, now)
    if now - session[SIGNED_IN_AT] > limit or (not remembered and idle > config["SESSION_IDLE_MINUTES"] * 60):
        return ENDED
    return STALE_SEEN if idle >= SEEN_RESOLUTION else CURRENT


def check_lifetimes() -> None:
    """End a session that has been idle too long or has reached its absolute lifetime."""
    if not current_user.is_authenticated:
        return
    now = int(time.time())
    if SIGNED_IN_AT not in session:  # restored from the remember cookie in a new browser session
        session[SIGNED_IN_AT] = getattr(g, "signed_in_at", now)
        session[REMEMBERED] = True
        session[SEEN_AT] = now
    lifetime = _lifetime(now)
    if lifetime == ENDED:
        end_session()
        flash(_("Your session has ended. Please sign in again."), "info")
    elif lifetime == STALE_SEEN:
        session[SEEN_AT] = now


def unauthorized():
    """Not signed in. A page goes to the sign-in form; an htmx request gets 401 instead of a
    redirect that htmx would swap into the page (and that would hide an unsaved answer)."""
    if request.headers.get("HX-Request") == "true":
        headers = {}
        if request.method == "GET":
            headers["HX-Redirect"] = url_for(login_manager.login_view, next=request.full_path.rstrip("?"))
        return _("You are signed out. Sign in again (in another tab) and retry."), 401, headers
    flash(str(login_manager.login_message), login_manager.login_message_category)
    return redirect(url_for(login_manager.login_view, next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    app.before_request(check_lifetimes)
