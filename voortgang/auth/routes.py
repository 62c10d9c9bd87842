from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..config import LOCALES
from ..i18n import SESSION_KEY as LOCALE_SESSION_KEY
from ..people.service import set_locale
from . import bp
from .sessions import end_session, start_session
from .forms import LoginForm, SetPasswordForm, SetupForm
from .service import (
    AuthError,
    authenticate,
    complete_setup,
    end_sessions,
    set_password,
    setup_token_valid,
    user_for_password_token,
)


def safe_next(target: str | None) -> str | None:
    """Return `target` when it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, request.remote_addr or "-")
        except AuthError:
            minutes = current_app.config["LOGIN_THROTTLE_MINUTES"]
            flash(
                _("Too many failed sign-ins. Wait %(minutes)d minutes and try again.", minutes=minutes),
                "error",
            )
            status = 429
        else:
            if user is None:
                # The same words for an unknown address, a wrong password and a deactivated account.
                flash(_("The email address or password is not correct."), "error")
                status = 401
            else:
                start_session(user, remember=form.remember.data)
                return redirect(safe_next(form.next.data) or url_for("main.index"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        end_sessions(current_user)
    end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str):
    if not setup_token_valid(token):
        abort(404)
    form = SetupForm()
    if request.method == "GET":
        form.locale.data = session.get(LOCALE_SESSION_KEY) or request.accept_languages.best_match(
            LOCALES
        ) or current_app.config["DEFAULT_LOCALE"]
    if form.validate_on_submit():
        try:
            user = complete_setup(
                token,
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                locale=form.locale.data,
            )
        except AuthError:
            abort(404)
        start_session(user)
        flash(_("Welcome! You are the administrator of this Voortgang."), "success")
        return redirect(url_for("main.index"), code=303)
    return render_template("auth/setup.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/password/<token>", methods=["GET", "POST"])
def set_password_with_token(token: str):
    user = user_for_password_token(token)
    if user is None:
        return render_template("auth/link_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        set_password(user, form.password.data)
        end_session()
        start_session(user)
        flash(_("Your password is set."), "success")
        return redirect(url_for("main.index"), code=303)
    return (
        render_template("auth/set_password.html", form=form, person=user),
        422 if form.is_submitted() else 200,
    )


@bp.post("/language")
def set_language():
    locale = request.form.get("locale")
    if locale not in LOCALES:
        abort(400)
    if current_user.is_authenticated:
        set_locale(current_user, locale)
    else:
        session[LOCALE_SESSION_KEY] = locale
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"), code=303)
