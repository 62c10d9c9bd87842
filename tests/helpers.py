"""Helpers shared by the tests of the conversation (the `team` fixture lives in conftest)."""
from sqlalchemy import select

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
