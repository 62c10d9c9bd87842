"""The stored facts of the administrator's overview (records/facts.py: person_facts and
agreements.is_current) always equal what the conversations say: checked after every
step of real work through the app, so a write path that forgot to refresh them fails
here; plus the rebuild and check commands and the migration's backfill."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import column, delete, insert, select, table, text

from voortgang.database import writing
from voortgang.extensions import db
from voortgang.models import Agreement, Conversation, PersonFacts, User
from voortgang.records.facts import stored_and_derived

from .helpers import new_id, plan, question_ids, save
from .test_records import complete
from .test_retention import left

PAST = (date.today() - timedelta(days=20)).isoformat()
FUTURE = (date.today() + timedelta(days=60)).isoformat()


def assert_facts_agree(app, step: str) -> tuple[list, list]:
    with app.app_context():
        stored, derived = stored_and_derived()
        db.session.rollback()
    assert stored == derived, step
    return stored, derived


def facts_of(app, person_id: int) -> tuple | None:
    with app.app_context():
        row = db.session.get(PersonFacts, person_id)
        result = None if row is None else (row.last_completed_at is not None, row.next_evaluation, row.current_id,
                                           row.open_agreements, row.first_due)
        db.session.rollback()
    return result


def current_agreement_texts(app) -> list[str]:
    with app.app_context():
        texts = sorted(db.session.scalars(select(Agreement.text).where(Agreement.is_current.is_(True))))
        db.session.rollback()
    return texts


def test_the_stored_facts_follow_every_operation_through_the_app(app, team, people, login_as, runner):
    admin, mia, eva = login_as(team.admin), login_as(team.mia), login_as(team.eva)
    max_ = login_as(team.max)
    assert_facts_agree(app, "nothing yet")
    assert facts_of(app, team.eva.id) is None

    first = new_id(plan(mia, team.eva))
    assert_facts_agree(app, "planned")
    assert facts_of(app, team.eva.id) == (False, None, first, 0, None)

    save(eva, first, question_ids(app, first)[0], "Eva's words", 0)  # planned -> in progress (autosave)
    assert_facts_agree(app, "started by the autosave")
    mia.post(f"/conversations/{first}/talking-points", data={"phase": "looking_back", "text": "A point"})
    for text_, owner, due in (("Course", "employee", FUTURE), ("Coach", "organisation", PAST),
                              ("Someday", "manager", "")):
        mia.post(f"/conversations/{first}/agreements", data={"text": text_, "owner": owner, "due": due,
                                                             "status": "open"})
    assert_facts_agree(app, "agreements in an open conversation")
    assert current_agreement_texts(app) == []
    mia.post(f"/conversations/{first}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    mia.post(f"/conversations/{first}/propose-close")
    assert_facts_agree(app, "proposed to close")
    mia.post(f"/conversations/{first}/reopen")
    assert_facts_agree(app, "reopened")
    mia.post(f"/conversations/{first}/propose-close")
    eva.post(f"/conversations/{first}/sign")
    assert_facts_agree(app, "one signature")
    assert facts_of(app, team.eva.id) == (False, None, first, 0, None)
    mia.post(f"/conversations/{first}/sign")
    assert_facts_agree(app, "completed")
    assert facts_of(app, team.eva.id) == (True, date(2027, 6, 1), None, 3, date.fromisoformat(PAST))
    assert current_agreement_texts(app) == ["Coach", "Course", "Someday"]

    # The follow-up carries the open agreements; they stay current until it is completed.
    second = new_id(plan(mia, team.eva, when="2027-06-01T10:00", follows=first))
    assert_facts_agree(app, "follow-up planned")
    assert facts_of(app, team.eva.id)[2:] == (second, 3, date.fromisoformat(PAST))
    with app.app_context():
        carried = {a.text: a.id for a in db.session.scalars(select(Agreement).where(
            Agreement.conversation_id == second))}
    eva.post(f"/conversations/{second}/agreements/{carried['Course']}/review", data={"rating": "partly"})
    mia.post(f"/conversations/{second}/agreements/{carried['Coach']}/decision", data={"decision": "closed"})
    mia.post(f"/conversations/{second}/agreements/{carried['Someday']}/decision", data={"decision": "dropped"})
    assert_facts_agree(app, "carried agreements decided")

    # A new manager takes the open follow-up over (the administrator edits Eva).
    response = admin.post(f"/admin/people/{team.eva.id}", data={
        "name": "Eva", "email": team.eva.email, "manager": team.max.id, "locale": "nl"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Conversation, second).manager_id == team.max.id
    assert_facts_agree(app, "handed over")

    complete(app, max_, eva, second, agreements=[("Next course", "employee", FUTURE, "open")],
             next_evaluation="2028-01-01")
    assert_facts_agree(app, "follow-up completed")
    assert facts_of(app, team.eva.id)[1:] == (date(2028, 1, 1), None, 2, date.fromisoformat(FUTURE))
    assert current_agreement_texts(app) == ["Course", "Next course"]

    # Tom: a conversation with Max, then erased on request (the administrator).
    tom = login_as(team.tom)
    toms = new_id(plan(max_, team.tom))
    complete(app, max_, tom, toms, agreements=[("Tom's course", "employee", PAST, "open")])
    assert_facts_agree(app, "Tom's completed")
    assert "Tom's course" in current_agreement_texts(app)
    assert admin.post(f"/admin/people/{team.tom.id}/erase", data={"confirm": "yes"}).status_code == 303
    assert_facts_agree(app, "Tom erased")
    assert facts_of(app, team.tom.id) is None and "Tom's course" not in current_agreement_texts(app)

    # Eva left three years ago: retention erases her records.
    left(app, team.eva, 3)
    result = runner.invoke(args=["retention", "--apply"])
    assert result.exit_code == 0 and "Erased: Eva" in result.output, result.output
    assert_facts_agree(app, "retention")
    assert facts_of(app, team.eva.id) is None and current_agreement_texts(app) == []


def test_erasing_a_follow_up_alone_makes_the_agreements_it_took_up_current_again(app, team, login_as):
    from voortgang.records.retention import erase_conversations

    mia, eva = login_as(team.mia), login_as(team.eva)
    first = new_id(plan(mia, team.eva))
    complete(app, mia, eva, first, agreements=[("Course", "employee", FUTURE, "open")])
    second = new_id(plan(mia, team.eva, when="2027-06-01T10:00", follows=first))
    complete(app, mia, eva, second)  # the course is carried on, still open
    third = new_id(plan(mia, team.eva, when="2028-06-01T10:00", follows=second))
    with app.app_context():
        course_ids = set(db.session.scalars(select(Agreement.id).where(Agreement.is_current.is_(True))))
        assert db.session.scalar(select(Agreement.conversation_id).where(Agreement.id.in_(course_ids))) == second
    assert facts_of(app, team.eva.id)[2] == third
    with app.app_context(), writing():
        erase_conversations([second, third])
    stored, _derived = assert_facts_agree(app, "the follow-up erased")
    with app.app_context():
        assert db.session.scalar(select(Agreement.conversation_id).where(Agreement.is_current.is_(True))) == first
    assert facts_of(app, team.eva.id)[2:4] == (None, 1)


def test_the_check_command_finds_stale_facts_and_rebuild_repairs_them(app, team, login_as, runner):
    mia, eva = login_as(team.mia), login_as(team.eva)
    first = new_id(plan(mia, team.eva))
    complete(app, mia, eva, first, agreements=[("Course", "employee", PAST, "open")])
    result = runner.invoke(args=["facts", "check"])
    assert result.exit_code == 0 and "agree" in result.output, result.output
    with app.app_context(), writing():  # as if rows came back from elsewhere without their facts
        db.session.execute(delete(PersonFacts))
        db.session.execute(Agreement.__table__.update().values(is_current=False))
    assert runner.invoke(args=["facts", "check"]).exit_code == 1
    admin = login_as(team.admin)
    assert "Course" not in admin.get("/overview/agreements").get_data(as_text=True)  # it reads the stored flag
    result = runner.invoke(args=["facts", "rebuild"])
    assert result.exit_code == 0 and "Recomputed" in result.output, result.output
    assert runner.invoke(args=["facts", "check"]).exit_code == 0
    assert facts_of(app, team.eva.id)[3:] == (1, date.fromisoformat(PAST))
    page = admin.get("/overview/agreements").get_data(as_text=True)
    assert "Course" in page


def test_the_migration_fills_the_facts_as_the_app_computes_them(instance_path, tmp_path):
    from flask_migrate import downgrade, upgrade

    from voortgang import create_app
    from voortgang.records.facts import rebuild_facts

    from .conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    now = datetime.now(UTC).replace(microsecond=0)
    today = date.today()
    with app.app_context():
        upgrade(revision="2c5b2b297096")
        with writing():
            db.session.execute(insert(User), [
                {"id": n, "email": f"p{n}@example.org", "name": f"P{n}", "is_admin": False, "locale": "en",
                 "active": True, "session_token": f"t{n}", "created_at": now} for n in range(1, 6)])
            rows, agreements, aid = [], [], 0
            for employee in (2, 3, 4):
                previous = None
                for step, status in enumerate(("completed", "completed", "in_progress")[: employee - 1]):
                    cid = employee * 10 + step
                    rows.append({"id": cid, "employee_id": employee, "manager_id": 1, "follows_id": previous,
                                 "scheduled_at": now - timedelta(days=400 - 150 * step), "place": "", "purpose": "",
                                 "status": status, "next_evaluation": today + timedelta(days=step * 30 - 10),
                                 "revision": 1, "employee_comment": "", "manager_comment": "",
                                 "created_at": now, "updated_at": now})
                    for due in (today - timedelta(days=5 * employee), None, today + timedelta(days=step)):
                        aid += 1
                        agreements.append({"id": aid, "conversation_id": cid, "text": f"A{aid}",
                                           "owner": "employee", "due": due, "status": "open",
                                           "created_at": now, "updated_at": now})
                    previous = cid
            # (plain tables: the models have columns this revision does not)
            db.session.execute(insert(table("conversations", *map(column, rows[0]))), rows)
            db.session.execute(insert(table("agreements", *map(column, agreements[0]))), agreements)
        upgrade()
        migrated, derived = stored_and_derived()
        assert migrated == derived
        assert len(migrated) == 4 and len(migrated[-1][1]) > 0  # three people, and current agreements
        db.session.rollback()
        rebuild_facts()
        assert stored_and_derived()[0] == migrated
        db.session.rollback()
        downgrade(revision="2c5b2b297096")
        tables = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
        assert "person_facts" not in tables
        db.session.rollback()
        db.engine.dispose()
