"""Signing in and out, throttling, sessions, first-run setup, password links, CSRF."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from voortgang.auth.service import create_setup_token, make_password_token
from voortgang.extensions import db
from voortgang.models import LoginFailure, User
from voortgang.database import writing

from .conftest import PASSWORD, login

WRONG = "The email address or password is not correct."


def test_sign_in_success_redirects_home(client, people):
    people.add("eva@example.org", "Eva")
    response = login(client, "Eva@Example.org ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Welcome, Eva" in page


def test_wrong_password_and_unknown_email_get_the_same_message(client, people):
    people.add("eva@example.org")
    wrong = login(client, "eva@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in wrong.get_data(as_text=True)
    assert WRONG in unknown.get_data(as_text=True)
    # The typed address stays in the form; the password does not.
    assert 'value="nobody@example.org"' in unknown.get_data(as_text=True)
    assert "not the password" not in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivated_person_cannot_sign_in(client, people):
    people.add("gone@example.org", active=False)
    response = login(client, "gone@example.org")
    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)


def test_empty_form_is_refused_with_422(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)


def test_failed_sign_ins_are_throttled_per_account(client, people, app):
    people.add("eva@example.org")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert login(client, "eva@example.org", "wrong password").status_code == 401
    response = login(client, "eva@example.org")  # even the right password waits now
    assert response.status_code == 429
    assert "Too many failed sign-ins. Wait 15 minutes" in response.get_data(as_text=True)
    # Another account from the same address is not affected.
    people.add("mia@example.org")
    assert login(client, "mia@example.org").status_code == 303


def test_throttle_expires(client, people, app):
    people.add("eva@example.org")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        login(client, "eva@example.org", "wrong password")
    with app.app_context(), writing():
        for failure in db.session.scalars(select(LoginFailure)):
            failure.at = failure.at - timedelta(minutes=16)
    assert login(client, "eva@example.org").status_code == 303


def test_successful_sign_ins_do_not_count_per_address(app, people):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    people.add("eva@example.org")
    for _ in range(10):
        client = app.test_client()
        assert login(client, "eva@example.org").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_throttled_per_address(app, people):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    people.add("eva@example.org")
    client = app.test_client()
    for n in range(3):
        login(client, f"guess{n}@example.org", "wrong password")
    assert login(client, "eva@example.org").status_code == 429


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "http:/x"],
)
def test_unsafe_next_is_ignored(client, people, target):
    people.add("eva@example.org")
    response = login(client, "eva@example.org", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_safe_next_is_followed(client, people):
    people.add("eva@example.org")
    page = client.get("/login?next=/healthz").get_data(as_text=True)
    assert 'value="/healthz"' in page
    response = login(client, "eva@example.org", next="/healthz")
    assert response.headers["Location"] == "/healthz"


def test_sign_out_is_post_only_and_ends_the_session_for_replay(app, people):
    people.add("eva@example.org")
    client = app.test_client()
    login(client, "eva@example.org", remember="y")
    session_cookie = client.get_cookie("voortgang_session").value
    remember_cookie = client.get_cookie("voortgang_remember").value
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 303
    assert client.get("/").status_code == 302

    replay = app.test_client()
    replay.set_cookie("voortgang_session", session_cookie)
    assert replay.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("voortgang_remember", remember_cookie)
    assert replay.get("/").status_code == 302


def test_remember_cookie_restores_a_session(app, people):
    people.add("eva@example.org")
    client = app.test_client()
    login(client, "eva@example.org", remember="y")
    remember_cookie = client.get_cookie("voortgang_remember").value
    other = app.test_client()
    other.set_cookie("voortgang_remember", remember_cookie)
    assert other.get("/").status_code == 200


def test_session_is_renewed_at_sign_in(app, people):
    people.add("eva@example.org")
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "eva@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_cookies_are_httponly_and_samesite_lax(client, people):
    people.add("eva@example.org")
    response = login(client, "eva@example.org", remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_setup_link_creates_admin_exactly_once(app, client):
    with app.app_context():
        token = create_setup_token()
    assert client.get("/setup/wrong-token").status_code == 404
    assert client.get(f"/setup/{token}").status_code == 200
    form = {"name": "Hanna", "email": "hanna@example.org", "locale": "nl",
            "password": PASSWORD, "confirm": PASSWORD}
    response = client.post(f"/setup/{token}", data=form)
    assert response.status_code == 303
    with app.app_context():
        admin = db.session.scalar(select(User))
        assert admin.is_admin and admin.email == "hanna@example.org" and admin.locale == "nl"
    assert client.get("/").status_code == 200  # signed in

    again = app.test_client()
    assert again.get(f"/setup/{token}").status_code == 404
    assert again.post(f"/setup/{token}", data={**form, "email": "x@example.org"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        assert create_setup_token() is None  # not at all once someone exists


def test_setup_form_errors_keep_what_was_typed(app, client):
    with app.app_context():
        token = create_setup_token()
    response = client.post(f"/setup/{token}", data={
        "name": "Hanna", "email": "hanna@example.org", "locale": "en",
        "password": "short", "confirm": "short"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Use at least 8 characters." in page
    assert 'value="Hanna"' in page and 'value="hanna@example.org"' in page


def test_password_link_works_once(app, people):
    user = people.add("eva@example.org", password="old password 123")
    with app.app_context():
        token = make_password_token(db.session.get(User, user.id))
    client = app.test_client()
    assert client.get(f"/password/{token}").status_code == 200
    response = client.post(f"/password/{token}", data={"password": "new passphrase here", "confirm": "new passphrase here"})
    assert response.status_code == 303
    assert client.get("/").status_code == 200
    assert app.test_client().get(f"/password/{token}").status_code == 404
    assert login(app.test_client(), "eva@example.org", "new passphrase here").status_code == 303
    assert login(app.test_client(), "eva@example.org", "old password 123").status_code == 401


def test_password_link_expires(app, people, monkeypatch):
    import voortgang.auth.service as service

    user = people.add("eva@example.org")
    with app.app_context():
        token = make_password_token(db.session.get(User, user.id))
    monkeypatch.setattr(service, "PASSWORD_TOKEN_MAX_AGE", timedelta(seconds=-1))
    response = app.test_client().get(f"/password/{token}")
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(app, people):
    app.config["WTF_CSRF_ENABLED"] = True
    people.add("eva@example.org")
    client = app.test_client()
    response = login(client, "eva@example.org")
    assert response.status_code == 400
    assert client.get("/").status_code == 302

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert login(client, "eva@example.org", csrf_token=token).status_code == 303
    assert client.post("/logout").status_code == 400  # no token
    # The session (and with it the token) was renewed at sign-in: the old token is void.
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 400
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 303


def test_production_password_hash_is_argon2id_at_owasp_parameters(app, people):
    from voortgang.config import DEFAULTS

    for key in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM"):
        app.config[key] = DEFAULTS[key]
    user = people.add("eva@example.org")
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_old_hash_parameters_are_upgraded_at_sign_in(app, people, client):
    user = people.add("eva@example.org")
    old = user.password_hash
    app.config["ARGON2_TIME_COST"] = 2
    assert login(client, "eva@example.org").status_code == 303
    with app.app_context():
        assert db.session.get(User, user.id).password_hash != old


def test_idle_session_ends(app, people):
    people.add("eva@example.org")
    client = app.test_client()
    login(client, "eva@example.org")
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] -= app.config["SESSION_IDLE_MINUTES"] * 60 + 1
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/").status_code == 302  # it stays ended


def test_activity_keeps_the_session_alive(app, people):
    people.add("eva@example.org")
    client = app.test_client()
    login(client, "eva@example.org")
    with client.session_transaction() as session:
        session["seen_at"] -= app.config["SESSION_IDLE_MINUTES"] * 60 - 120
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] -= 180  # idle clock was refreshed by the request above
    assert client.get("/").status_code == 200


def test_absolute_lifetime_ends_even_an_active_session(app, people):
    people.add("eva@example.org")
    client = app.test_client()
    login(client, "eva@example.org")
    with client.session_transaction() as session:
        session["signed_in_at"] -= app.config["SESSION_ABSOLUTE_HOURS"] * 3600 + 1
    assert client.get("/").status_code == 302


def test_remembered_sign_in_survives_idle_but_not_its_lifetime(app, people):
    from datetime import timedelta as td

    people.add("eva@example.org")
    client = app.test_client()
    login(client, "eva@example.org", remember="y")
    remember_cookie = client.get_cookie("voortgang_remember").value
    with client.session_transaction() as session:
        session["seen_at"] -= app.config["SESSION_IDLE_MINUTES"] * 60 + 1
    assert client.get("/").status_code == 200  # remembered: idle does not end it
    # A remember cookie older than the remembered lifetime is refused server-side.
    app.config["REMEMBER_COOKIE_DURATION"] = td(seconds=-5)
    replay = app.test_client()
    replay.set_cookie("voortgang_remember", remember_cookie)
    assert replay.get("/").status_code == 302


def test_password_change_ends_other_sessions(app, people):
    user = people.add("eva@example.org", password="old password 123")
    other_device = app.test_client()
    login(other_device, "eva@example.org", "old password 123", remember="y")
    remember_cookie = other_device.get_cookie("voortgang_remember").value
    with app.app_context():
        token = make_password_token(db.session.get(User, user.id))
    client = app.test_client()
    client.post(f"/password/{token}", data={"password": "a new passphrase", "confirm": "a new passphrase"})
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("voortgang_remember", remember_cookie)
    assert replay.get("/").status_code == 302


def test_deactivation_ends_sessions_at_once(app, people):
    user = people.add("eva@example.org")
    client = app.test_client()
    login(client, "eva@example.org", remember="y")
    with app.app_context(), writing():
        db.session.get(User, user.id).active = False
    assert client.get("/").status_code == 302


def test_sign_out_tells_the_browser_to_drop_the_remember_cookie(app, people):
    people.add("eva@example.org")
    client = app.test_client()
    login(client, "eva@example.org", remember="y")
    response = client.post("/logout")
    assert any(c.startswith("voortgang_remember=;") for c in response.headers.getlist("Set-Cookie"))


def test_signed_out_htmx_request_gets_401_not_a_redirect(client, people):
    response = client.post("/conversations/1/answers/1", data={"body": "x", "version": 0},
                           headers={"HX-Request": "true"})
    assert response.status_code == 401 and "Location" not in response.headers
    page = client.get("/conversations/", headers={"HX-Request": "true"})
    assert page.status_code == 401 and page.headers["HX-Redirect"].startswith("/login?next=")
    assert client.get("/conversations/").status_code == 302  # a plain page still redirects
