"""The `voortgang` command line."""
import os
import sqlite3
import stat
import subprocess
import sys

from sqlalchemy import func, select

from voortgang.extensions import db
from voortgang.models import User

from .conftest import login


def count_people(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_user_add_with_password_from_stdin(runner, app):
    result = runner.invoke(
        args=["user", "add", "--email", "Hanna@Example.org", "--name", "Hanna", "--admin",
              "--locale", "nl", "--password-stdin"],
        input="a long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.name, user.is_admin, user.locale) == ("hanna@example.org", "Hanna", True, "nl")
    assert login(app.test_client(), "hanna@example.org", "a long passphrase").status_code == 303


def test_user_add_without_password_prints_a_one_time_link(runner, app, people):
    boss = people.add("mia@example.org")
    result = runner.invoke(args=["user", "add", "--email", "eva@example.org", "--name", "Eva",
                                 "--manager", "MIA@example.org"])
    assert result.exit_code == 0, result.output
    link = [line for line in result.output.splitlines() if "/password/" in line][0]
    path = link[link.index("/password/"):]
    client = app.test_client()
    assert client.get(path).status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "eva@example.org"))
        assert user.manager_id == boss.id and user.password_hash is None


def _refused(result, message):
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert message in lines[0]


def test_user_add_refuses_bad_input_and_changes_nothing(app, runner, people):
    people.add("eva@example.org")
    before = count_people(app)
    _refused(runner.invoke(args=["user", "add", "--email", "EVA@example.org", "--name", "Eva 2"]),
             "already exists")
    _refused(runner.invoke(args=["user", "add", "--email", "new@example.org", "--name", "New",
                                 "--manager", "nobody@example.org"]), "no person with email")
    _refused(runner.invoke(args=["user", "add", "--email", "new@example.org", "--name", "New",
                                 "--locale", "de"]), "unknown locale 'de'")
    _refused(runner.invoke(args=["user", "add", "--email", "not-an-address", "--name", "New"]),
             "not a valid email address")
    _refused(runner.invoke(args=["user", "add", "--email", "new@example.org", "--name", "New",
                                 "--password-stdin"], input="short\n"), "at least 8 characters")
    assert count_people(app) == before


def test_backup_writes_a_consistent_private_copy(runner, people, tmp_path, app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    people.add("eva@example.org")
    target = tmp_path / "copy.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT email FROM users").fetchall() == [("eva@example.org",)]
    copy.close()
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "exists already" in again.output


def test_voortgang_command_lists_contract_commands(tmp_path):
    env = {**os.environ, "VOORTGANG_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "voortgang"), "--help"],
                            capture_output=True, text=True, env=env, check=True)
    for command in ("db", "user", "demo", "serve", "backup", "retention"):
        assert f"  {command} " in result.stdout
