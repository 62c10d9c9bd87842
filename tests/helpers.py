"""Helpers shared by the tests of the conversation (the `team` fixture lives in conftest)."""
from contextlib import contextmanager

from sqlalchemy import event, select

from voortgang.extensions import db
from voortgang.models import ConversationQuestion

HX = {"HX-Request": "true"}


def plan(client, employee, when="2026-12-01T10:00", **extra):
    return client.post("/conversations/", data={"employee": employee.id, "scheduled_at": when,
                                                "place": "Room 2", "purpose": "Yearly conversation", **extra})


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
