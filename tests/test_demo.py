"""`voortgang demo`: a bilingual demo organisation in an empty database, and nothing otherwise."""
import re

from sqlalchemy import func, select

from voortgang.extensions import db
from voortgang.models import Conversation, User

from .conftest import login


def test_demo_fills_an_empty_database_and_every_account_signs_in(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    accounts = re.findall(r"^\s+(\S+@demo\.example)\s+(\S+)\s+", result.output, re.M)
    assert len(accounts) == 8
    for email, password in accounts:
        client = app.test_client()
        assert login(client, email, password).status_code == 303, email
        assert client.get("/").status_code == 200
    with app.app_context():
        users = list(db.session.scalars(select(User)))
        assert sum(u.is_admin for u in users) == 1
        assert {u.locale for u in users} == {"nl", "en"}
        managers = {u.manager_id for u in users if u.manager_id}
        assert len(managers) == 2 and len([u for u in users if u.manager_id]) == 5
        statuses = [c.status for c in db.session.scalars(select(Conversation))]
        assert set(statuses) == {"planned", "in_progress", "awaiting_signatures", "completed"}
        follow_up = db.session.scalar(select(Conversation).where(Conversation.follows_id.is_not(None)))
        assert follow_up.status == "planned" and follow_up.follows.status == "completed"
        assert [a.text for a in follow_up.agreements] == ["Cursus presenteren volgen", "Monthly 30-minute check-in"]
        # Believable: every answer says something of its own, in its writer's language.
        from voortgang.models import Answer

        bodies = list(db.session.scalars(select(Answer.body)))
        assert len(bodies) > 50 and len(set(bodies)) > 0.9 * len(bodies)


def test_demo_has_someone_overdue_for_their_yearly_conversation(app, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        from voortgang.records.service import overview

        hanna = db.session.scalar(select(User).where(User.email == "hanna@demo.example"))
        flagged = {row.person.name: row.flags for row in overview(hanna)}
    assert "no_conversation_this_year" in flagged["Tom Walker"]
    assert "evaluation_overdue" in flagged["Tom Walker"]


def test_demo_refuses_a_non_empty_database_and_changes_nothing(app, runner, people):
    people.add("someone@example.org")
    with app.app_context():
        before = (db.session.scalar(select(func.count()).select_from(User)),
                  db.session.scalar(select(func.count()).select_from(Conversation)))
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert [line for line in result.output.splitlines() if line.strip()] == [
        "Error: the database is not empty: `voortgang demo` only fills an empty one"]
    with app.app_context():
        after = (db.session.scalar(select(func.count()).select_from(User)),
                 db.session.scalar(select(func.count()).select_from(Conversation)))
    assert after == before
