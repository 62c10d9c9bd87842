"""What an outside look found: links, tokens, files and edge cases, each closed and kept closed."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select

from voortgang import create_app
from voortgang.config import ConfigError
from voortgang.extensions import db
from voortgang.models import OutgoingMail
from voortgang.database import writing

from .conftest import BASE_CONFIG, PASSWORD, login, sqlite_only
from .helpers import planned
from .servers import VOORTGANG, server_env

# E-mail on, with a mail server nobody reaches (port 9): what is queued stays in the outbox.
MAIL = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 9, "SMTP_STARTTLS": False,
        "BASE_URL": "https://voortgang.example.org"}


@pytest.fixture
def make_app():
    """create_app for a test that needs its own configuration; its connections are closed
    and its courier stopped afterwards (PostgreSQL warns about connections left open)."""
    made = []

    def make(config):
        made.append(create_app(config))
        return made[-1]

    yield make
    from voortgang.mail import courier

    for app in made:
        courier(app).stop()
        with app.app_context():
            db.engine.dispose()


def queued(app) -> list[OutgoingMail]:
    with app.app_context():
        rows = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
        db.session.expunge_all()
        return rows


# --- 1. Links come from VOORTGANG_BASE_URL, never from the Host header ----------------------------


def test_with_a_base_url_only_its_host_and_loopback_are_accepted(database_url, team, make_app):
    app = make_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **MAIL})
    client = app.test_client()
    assert client.get("/login").status_code == 200  # localhost
    assert client.get("/login", headers={"Host": "voortgang.example.org"}).status_code == 200
    assert client.get("/login", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    response = client.post("/forgot-password", data={"email": "eva@example.org"},
                           headers={"Host": "attacker.example"})
    assert response.status_code == 400
    assert queued(app) == []


def test_mailed_links_use_the_base_url_whatever_the_host_header(database_url, team, make_app):
    # Even where any host is accepted (TRUSTED_HOSTS emptied), the link does not follow it.
    app = make_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **MAIL, "TRUSTED_HOSTS": []})
    response = app.test_client().post("/forgot-password", data={"email": "eva@example.org"},
                                      headers={"Host": "attacker.example"})
    assert response.status_code == 303
    [message] = queued(app)
    text = message.message.decode()
    assert "https://voortgang.example.org/password/" in text and "attacker.example" not in text


def test_e_mail_without_a_base_url_refuses_to_start(database_url, instance_path, tmp_path):
    with pytest.raises(ConfigError, match="BASE_URL must be set when e-mail is on"):
        create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "SMTP_HOST": "mail.example.org"})
    with pytest.raises(ConfigError, match="BASE_URL must be the app's public address"):
        create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "BASE_URL": "voortgang.example.org"})
    env = server_env(tmp_path, VOORTGANG_SMTP_HOST="mail.example.org")
    result = subprocess.run([VOORTGANG, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "voortgang: configuration error: VOORTGANG_BASE_URL must be set when e-mail is on "
        "(VOORTGANG_SMTP_HOST): the links in e-mails need the app's public address"]


def test_calendar_uid_does_not_depend_on_the_host_header(app, team, login_as):
    from voortgang.conversations import calendars
    from voortgang.models import Conversation

    mia = login_as(team.mia)
    cid = planned(mia, team.eva)
    assert mia.get(f"/conversations/{cid}/calendar.ics").status_code == 200
    uids = set()
    for host in ("localhost", "calendar.example", "attacker.example"):
        with app.test_request_context(f"/conversations/{cid}/calendar.ics", base_url=f"http://{host}"):
            event = Calendar.from_ical(calendars.conversation_event(db.session.get(Conversation, cid)))
            uids.add(str(event.walk("VEVENT")[0]["uid"]))
    assert uids == {f"voortgang-conversation-{cid}@voortgang"}


# --- 2. A new e-mail address ends earlier password links and sessions -------------------------------


def new_password_link_path(admin, person_id: int) -> str:
    """Have the administrator make a password link for the person; return its path."""
    admin.post(f"/admin/people/{person_id}/password-link")
    page = admin.get(f"/admin/people/{person_id}").get_data(as_text=True)
    return "/" + re.search(r'id="password-link-url" value="([^"]+)"', page).group(1).split("/", 3)[3]


def test_changing_an_address_invalidates_password_links_and_sessions(app, team, login_as):
    admin, eva = login_as(team.admin), login_as(team.eva)
    path = new_password_link_path(admin, team.eva.id)
    assert app.test_client().get(path).status_code == 200
    response = admin.post(f"/admin/people/{team.eva.id}", data={
        "email": "eva.zuidema@example.org", "name": "Eva", "manager": str(team.mia.id), "locale": "nl"})
    assert response.status_code == 303
    assert app.test_client().get(path).status_code == 404  # the link mailed to the old address
    assert eva.get("/").status_code == 302  # signed out: the account changed hands (or back)
    assert login(app.test_client(), "eva.zuidema@example.org").status_code == 303


def test_other_changes_keep_password_links_working(app, team, login_as):
    admin = login_as(team.admin)
    path = new_password_link_path(admin, team.eva.id)
    admin.post(f"/admin/people/{team.eva.id}", data={
        "email": "eva@example.org", "name": "Eva Zuidema", "manager": str(team.mia.id), "locale": "en"})
    assert app.test_client().get(path).status_code == 200


# --- 4. Throttling cannot lock an office out; the hash check holds no lock -------------------------


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_MAX_FAILURES_PER_ADDRESS": 5}


def test_forgot_password_requests_do_not_lock_an_address_out_of_signing_in(app, team):
    client = app.test_client()
    for n in range(12):  # from one office address, for many people
        client.post("/forgot-password", data={"email": f"someone{n}@example.org"})
    assert login(app.test_client(), "eva@example.org").status_code == 303


@pytest.mark.slow
@sqlite_only("SQLite's one write lock")
def test_password_check_holds_no_write_lock(app, team, database_url):
    """A slow (production-strength) hash check runs while other writers get through."""
    app.config.update(ARGON2_TIME_COST=12, ARGON2_MEMORY_COST=64 * 1024)
    with app.app_context(), writing():  # give Eva a hash with these parameters
        from voortgang.auth.service import hash_password
        from voortgang.models import User

        db.session.get(User, team.eva.id).password_hash = hash_password(PASSWORD)
    result = {}

    def sign_in():
        started = time.monotonic()
        result["status"] = login(app.test_client(), "eva@example.org").status_code
        result["took"] = time.monotonic() - started

    thread = threading.Thread(target=sign_in)
    thread.start()
    time.sleep(0.05)
    waits = []
    import sqlite3

    path = database_url.removeprefix("sqlite:///")
    while thread.is_alive():
        connection = sqlite3.connect(path, isolation_level=None, timeout=10)
        started = time.monotonic()
        connection.execute("BEGIN IMMEDIATE")
        waits.append(time.monotonic() - started)
        connection.execute("ROLLBACK")
        connection.close()
        time.sleep(0.02)
    thread.join()
    assert result["status"] == 303
    assert result["took"] > 0.2, "the hash check was too quick to show anything"
    assert len(waits) >= 3 and max(waits) < 0.1, (result, waits)


# --- 6. The overview's CSV link passes only its filters ---------------------------------------------


def test_overview_ignores_unknown_query_arguments(app, team, login_as):
    admin = login_as(team.admin)
    for argument in ("endpoint=x", "_method=POST", "_external=1", "_anchor=x", "team=abc&status=planned"):
        response = admin.get(f"/overview?{argument}")
        assert response.status_code == 200, argument
    page = admin.get("/overview?status=planned&endpoint=x&_external=1").get_data(as_text=True)
    link = re.search(r'href="([^"]*overview\.csv[^"]*)"', page).group(1)
    assert link == "/overview.csv?status=planned"


# --- 7. Files are for the app's own user --------------------------------------------------------------


def test_instance_folder_and_database_files_are_private(tmp_path):
    instance = tmp_path / "fresh-instance"
    env = server_env(instance)
    old = os.umask(0o022)
    try:
        subprocess.run([VOORTGANG, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
        subprocess.run([VOORTGANG, "user", "add", "--email", "a@example.org", "--name", "A", "--admin",
                        "--password-stdin"], env=env, input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True, timeout=60)
    finally:
        os.umask(old)
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    files = [p for p in instance.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"voortgang.db", "secret_key"}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


@sqlite_only("SQLite files")
def test_existing_database_readable_by_others_is_tightened(tmp_path, database_url, make_app):
    path = Path(database_url.removeprefix("sqlite:///"))
    path.chmod(0o644)
    make_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- 8. Cookies, HSTS and request size -----------------------------------------------------------------


def test_remember_cookie_follows_a_secure_session_cookie_from_the_instance_config(instance_path, database_url, team,
                                                                               make_app):
    (instance_path / "config.py").write_text("SESSION_COOKIE_SECURE = True\n")
    app = make_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    client = app.test_client()
    response = client.post("/login", data={"email": "eva@example.org", "password": PASSWORD, "remember": "y"},
                           base_url="https://localhost")
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert "Secure" in cookies["voortgang_remember"] and "Secure" in cookies["voortgang_session"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_without_secure_cookies(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_upload_larger_than_the_import_limit_is_refused_before_it_is_parsed(app, team, login_as):
    admin = login_as(team.admin)
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\nemail,name\r\n").encode()
    body += b"x" * app.config["MAX_CONTENT_LENGTH"] + f"\r\n--{boundary}--\r\n".encode()
    response = admin.post("/admin/people/import", data=body,
                          content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "larger than this page accepts" in response.get_data(as_text=True)


# --- 10. Unique ids on every page -----------------------------------------------------------------------


def test_profile_page_ids_are_unique(app, team, login_as):
    page = login_as(team.eva).get("/profile").get_data(as_text=True)
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [name for name, count in ids.items() if count > 1] == []
