"""Retention (`voortgang retention [--apply]`), erasure on request, deactivation dates."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from voortgang.database import utcnow, writing
from voortgang.extensions import db
from voortgang.models import AuditEvent, Conversation, User
from voortgang.records import retention

from .helpers import new_id, plan, question_ids, save
from .test_records import complete


def row_counts(app) -> dict[str, int]:
    """Rows in every table of the schema."""
    with app.app_context():
        tables = db.metadata.sorted_tables
        return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in tables}


def left(app, person, years_ago: float) -> None:
    """Deactivate the person as of `years_ago` years back."""
    with app.app_context(), writing():
        user = db.session.get(User, person.id)
        user.active = False
        user.deactivated_at = utcnow() - timedelta(days=365.25 * years_ago)


@pytest.fixture
def world(app, team, people, login_as):
    """Mia manages Eva and Ed; each has a completed conversation with Mia (Eva's with a
    follow-up), plus a carried agreement and the reads of an administrator."""
    ed = people.add("ed@example.org", "Ed", manager=team.mia)
    mia, eva, ed_client = login_as(team.mia), login_as(team.eva), login_as(ed)
    eva_first = new_id(plan(mia, team.eva))
    save(eva, eva_first, question_ids(app, eva_first)[0], "Eva's own words", 0)
    eva.post(f"/conversations/{eva_first}/talking-points", data={"phase": "looking_back", "text": "Eva's point"})
    complete(app, mia, eva, eva_first, agreements=[("Eva's course", "employee", "2027-03-01", "open")])
    eva_second = new_id(plan(mia, team.eva, when="2027-06-01T10:00", follows=eva_first))
    ed_first = new_id(plan(mia, ed))
    save(ed_client, ed_first, question_ids(app, ed_first)[0], "Ed's own words", 0)
    complete(app, mia, ed_client, ed_first, agreements=[("Ed's course", "employee", "2027-03-01", "open")])
    admin = login_as(team.admin)
    assert admin.get(f"/conversations/{eva_first}/record.pdf").status_code == 200
    return {"ed": ed, "eva": [eva_first, eva_second], "ed_conversations": [ed_first]}


def conversations_of(app, person_id) -> list[int]:
    with app.app_context():
        return sorted(db.session.scalars(select(Conversation.id).where(Conversation.employee_id == person_id)))


def test_deactivation_records_its_date_and_reactivation_clears_it(app, team, login_as):
    admin = login_as(team.admin)
    before = utcnow()
    assert admin.post(f"/admin/people/{team.tom.id}/deactivate").status_code == 303
    with app.app_context():
        assert db.session.get(User, team.tom.id).deactivated_at >= before
    assert admin.post(f"/admin/people/{team.tom.id}/reactivate").status_code == 303
    with app.app_context():
        assert db.session.get(User, team.tom.id).deactivated_at is None


def test_a_dry_run_lists_and_changes_nothing(app, world, team, runner):
    left(app, team.eva, 3)
    before = row_counts(app)
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Would erase: Eva" in result.output and "2 conversation(s)" in result.output
    assert "Ed" not in result.output
    assert row_counts(app) == before


def test_apply_erases_exactly_the_due_conversations_and_is_idempotent(app, world, team, runner, login_as):
    left(app, team.eva, 3)
    left(app, world["ed"], 1)  # left, but less than two years ago: kept
    result = runner.invoke(args=["retention", "--apply"])
    assert result.exit_code == 0, result.output
    assert "Erased: Eva" in result.output and "Ed" not in result.output
    assert conversations_of(app, team.eva.id) == []
    assert conversations_of(app, world["ed"].id) == world["ed_conversations"]  # a colleague's, same manager
    with app.app_context():
        texts = db.session.execute(text("SELECT body FROM answers")).scalars().all()
        assert texts == ["Ed's own words"]
        assert db.session.execute(text("SELECT text FROM agreements")).scalars().all() == ["Ed's course"]
        assert db.session.execute(text("SELECT count(*) FROM talking_points")).scalar() == 0
        assert db.session.execute(text("SELECT count(*) FROM record_reads")).scalar() == 0
        assert db.session.execute(text("SELECT count(*) FROM conversation_questions "
                                        "WHERE conversation_id IN (%s)" % ",".join(map(str, world["eva"])))).scalar() == 0
        entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.erased")).one()
        assert (entry.object_type, entry.object_id, entry.detail, entry.conversation_id) == (
            "user", team.eva.id, "conversations=2", None)
        assert db.session.get(User, team.eva.id).name == "Eva"  # the account stays, deactivated
    # Ed's record is whole and readable.
    assert login_as(team.mia).get(f"/conversations/{world['ed_conversations'][0]}/record.pdf").status_code == 200
    before = row_counts(app)
    again = runner.invoke(args=["retention", "--apply"])
    assert again.exit_code == 0 and "Nothing to erase" in again.output
    assert row_counts(app) == before


def test_the_retention_period_is_configurable(app, world, team, runner):
    left(app, team.eva, 0.01)
    assert "Nothing to erase" in runner.invoke(args=["retention"]).output
    app.config["RETENTION_YEARS"] = 0
    assert "Would erase: Eva" in runner.invoke(args=["retention"]).output


def test_retention_years_must_be_a_sensible_number(app_config, instance_path):
    from voortgang import create_app
    from voortgang.config import ConfigError

    for bad in (-1, 101, "2"):
        with pytest.raises(ConfigError, match="RETENTION_YEARS"):
            create_app({**app_config, "RETENTION_YEARS": bad})


def test_the_people_page_shows_who_is_due_and_when(app, world, team, login_as):
    left(app, team.eva, 3)
    left(app, world["ed"], 1)
    page = login_as(team.admin).get("/admin/people/").get_data(as_text=True)
    assert "record due for erasure" in page
    with app.app_context():
        due = retention.years_after(db.session.get(User, world["ed"].id).deactivated_at, 2)
    due = due.astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]))  # the page's days are local
    assert f"record erased after {due.day} {due:%b %Y}" in page


# --- Erasure on request ------------------------------------------------------------------------


def test_erasure_asks_for_confirmation_naming_what_goes(app, world, team, login_as):
    admin = login_as(team.admin)
    page = admin.get(f"/admin/people/{team.eva.id}/erase").get_data(as_text=True)
    assert "2 conversations in which Eva was the employee" in page
    before = row_counts(app)
    refused = admin.post(f"/admin/people/{team.eva.id}/erase", data={})
    assert refused.status_code == 422 and "Tick the box" in refused.get_data(as_text=True)
    assert row_counts(app) == before


def test_erasure_takes_the_employee_record_and_account_and_keeps_the_managers_conversations(
        app, world, team, login_as, people):
    admin = login_as(team.admin)
    # Mia is erased: first her team needs another manager.
    refused = admin.post(f"/admin/people/{team.mia.id}/erase", data={"confirm": "yes"})
    assert refused.status_code == 422 and "Give them another manager first" in refused.get_data(as_text=True)
    for person in (team.eva, world["ed"]):
        with app.app_context(), writing():
            db.session.get(User, person.id).manager_id = team.max.id
    response = admin.post(f"/admin/people/{team.mia.id}/erase", data={"confirm": "yes"})
    assert response.status_code == 303
    with app.app_context():
        mia = db.session.get(User, team.mia.id)
        assert (mia.name, mia.email, mia.password_hash, mia.active) == ("Mia", f"erased-{mia.id}@erased.invalid",
                                                                        None, False)
        assert mia.erased_at is not None
    # Eva's and Ed's records, with Mia as their manager, stay whole.
    assert conversations_of(app, team.eva.id) == world["eva"]
    pdf = admin.get(f"/conversations/{world['eva'][0]}/record.pdf")
    assert pdf.status_code == 200
    # Mia can no longer sign in, and her page says what happened.
    assert login_as_fails(app, team.mia)
    page = admin.get(f"/admin/people/{team.mia.id}").get_data(as_text=True)
    assert "was erased on" in page and "mia@example.org" not in page


def login_as_fails(app, person) -> bool:
    from .conftest import login

    return login(app.test_client(), person.email).status_code != 303


def test_erasing_an_employee_erases_their_conversations_only(app, world, team, login_as):
    admin = login_as(team.admin)
    assert admin.post(f"/admin/people/{team.eva.id}/erase", data={"confirm": "yes"}).status_code == 303
    assert conversations_of(app, team.eva.id) == []
    assert conversations_of(app, world["ed"].id) == world["ed_conversations"]
    with app.app_context():
        entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.erased")).one()
        assert (entry.actor_id, entry.object_id, entry.detail) == (team.admin.id, team.eva.id, "conversations=2")
    assert admin.post(f"/admin/people/{team.eva.id}/reactivate").status_code == 422


def test_nobody_erases_themselves_and_only_administrators_erase(app, world, team, login_as):
    admin = login_as(team.admin)
    before = row_counts(app)
    assert admin.post(f"/admin/people/{team.admin.id}/erase", data={"confirm": "yes"}).status_code == 422
    assert login_as(team.mia).post(f"/admin/people/{team.eva.id}/erase", data={"confirm": "yes"}).status_code == 404
    assert login_as(team.mia).get(f"/admin/people/{team.eva.id}/erase").status_code == 404
    assert row_counts(app) == before


def test_the_migration_dates_people_deactivated_before_it(instance_path, tmp_path):
    """People deactivated before the deactivation date existed count from the migration."""
    import sqlite3

    from flask_migrate import upgrade

    from voortgang import create_app

    from .conftest import BASE_CONFIG

    path = tmp_path / "old.db"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade(revision="c15a7e0d9b42")
        db.engine.dispose()
    conn = sqlite3.connect(path)
    for n, active in enumerate((1, 0)):
        conn.execute("INSERT INTO users (email, name, is_admin, active, session_token, created_at) "
                     "VALUES (?, ?, 0, ?, 'token', '2020-01-01 00:00:00')", (f"p{n}@example.org", f"P{n}", active))
    conn.commit()
    conn.close()
    before = utcnow()
    with app.app_context():
        upgrade()
        dates = {u.email: u.deactivated_at for u in db.session.scalars(select(User))}
        db.session.remove()
        db.engine.dispose()
    assert dates["p0@example.org"] is None
    assert dates["p1@example.org"] >= before.replace(microsecond=0)


def test_erasure_and_retention_take_private_preparation_along(app, world, team, login_as, runner):
    """Erasing a person deletes their private preparation everywhere (here: Mia's, as the
    manager of Eva's open follow-up, which stays); retention takes the preparation of the
    conversations it erases."""
    from voortgang.models import Preparation

    from .test_preparation import prepare

    follow_up = world["eva"][1]
    qid = question_ids(app, follow_up)[0]
    assert prepare(login_as(team.mia), follow_up, qid, "Mia's private notes").status_code == 200
    assert prepare(login_as(team.eva), follow_up, qid, "Eva's private notes").status_code == 200
    for person in (team.eva, world["ed"]):
        with app.app_context(), writing():
            db.session.get(User, person.id).manager_id = team.max.id
    admin = login_as(team.admin)
    assert admin.post(f"/admin/people/{team.mia.id}/erase", data={"confirm": "yes"}).status_code == 303
    with app.app_context():
        authors = sorted(db.session.scalars(select(Preparation.author_id)))
    assert authors == [team.eva.id]
    assert conversations_of(app, team.eva.id) == world["eva"]
    left(app, team.eva, years_ago=3)
    assert runner.invoke(args=["retention", "--apply"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Preparation)) == 0
    assert conversations_of(app, team.eva.id) == []
