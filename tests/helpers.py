"""Helpers shared by the tests of the conversation (the `team` fixture lives in conftest)."""
import re
from contextlib import contextmanager

from sqlalchemy import event, select

from voortgang.extensions import db
from voortgang.models import Conversation, ConversationQuestion, Template, User

HX = {"HX-Request": "true"}


def plan(client, employee, when="2026-12-01T10:00", **extra):
    """Post the plan form; return the response (for tests of the answer itself)."""
    return client.post("/conversations/", data={"employee": employee.id, "scheduled_at": when,
                                                "place": "Room 2", "purpose": "Yearly conversation", **extra})


def id_in(location: str) -> int:
    """The id a redirect ends in: `/conversations/7` -> 7."""
    return int(location.rstrip("/").rsplit("/", 1)[1])


def new_id(response) -> int:
    """The id of what a form just created: asserts the 303 and reads the id from its Location."""
    assert response.status_code == 303, (response.status_code, response.get_data(as_text=True)[:500])
    return id_in(response.headers["Location"])


def planned(client, employee, when="2026-12-01T10:00", **extra) -> int:
    """Plan a conversation through the form (asserting the 303); return its id."""
    return new_id(plan(client, employee, when, **extra))


def question_ids(app, conversation_id, phase=None):
    with app.app_context():
        query = select(ConversationQuestion.id).where(ConversationQuestion.conversation_id == conversation_id)
        if phase:
            query = query.where(ConversationQuestion.phase == phase)
        return list(db.session.scalars(query.order_by(ConversationQuestion.phase_order, ConversationQuestion.position)))


def save(client, cid, qid, body, version, **headers):
    return client.post(f"/conversations/{cid}/answers/{qid}", data={"body": body, "version": version},
                       headers={**HX, **headers})


@contextmanager
def counting_statements(app):
    """Collect the SQL statements run inside the block (transaction control left out)."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


NOT_PAGES = (".json", ".csv", ".ics", ".pdf", "/healthz", "/updates", "/static/")


def page_paths(app, viewer_email):
    """Every GET page of the url map, with ids the viewer may see filled in."""
    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.email == viewer_email))
        conversations = [c.id for c in db.session.scalars(select(Conversation)) if viewer.id in (c.employee_id, c.manager_id)
                         or (viewer.is_admin and c.status == "completed")]
        ids = {"conversation_id": conversations[0], "person_id": viewer.id, "user_id": viewer.id,
               "template_id": db.session.scalar(select(Template.id)), "phase": "agreements"}
        has_team = db.session.scalar(select(User.id).where(User.manager_id == viewer.id).limit(1)) is not None
        from voortgang.rounds.service import rounds_for

        rounds = rounds_for(viewer) if viewer.is_admin or has_team else []
        ids["round_id"] = rounds[0].id if rounds else None
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if any(part in rule.rule for part in ("<token>", "<int:question_id>", "<int:point_id>", "<int:agreement_id>")):
            continue
        if rule.rule.startswith("/admin") and not viewer.is_admin:
            continue
        if rule.rule.startswith(("/overview", "/rounds")) and not (viewer.is_admin or has_team):
            continue  # 404 for them, tested elsewhere
        if "<int:round_id>" in rule.rule and ids["round_id"] is None:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        if not any(part in path for part in NOT_PAGES):
            paths.add(path)
    for cid in conversations:
        for phase in ("looking_back", "looking_forward", "agreements"):
            paths.add(f"/conversations/{cid}/phases/{phase}")
    return sorted(paths)
