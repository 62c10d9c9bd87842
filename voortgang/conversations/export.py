"""A conversation as JSON: an outside interface that scripts rely on (keys are only ever added)."""
from __future__ import annotations

from datetime import datetime

from ..models import Conversation, User
from ..vocabulary import PHASES, ROLES
from .answers import AnswerState, answers_by_question


def _person(user: User) -> dict:
    return {"id": user.id, "name": user.name, "email": user.email}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export(conversation: Conversation, answers: dict[int, dict[str, AnswerState]] | None = None) -> dict:
    """The conversation as JSON: an outside interface that scripts rely on (keys are only ever added).

    answers: {question id: {role: answer}} when the caller loaded them already."""
    if answers is None:
        answers = answers_by_question(conversation)
    phases = []
    for phase in PHASES:
        questions = []
        for question in conversation.questions:
            if question.phase != phase:
                continue
            by_role = answers.get(question.id, {})
            questions.append({
                "id": question.id,
                "text": {"nl": question.text_nl, "en": question.text_en},
                "answers": {
                    role: (
                        {"body": a.body, "version": a.version, "updated_at": _iso(a.updated_at)}
                        if (a := by_role.get(role)) else None
                    )
                    for role in ROLES
                },
            })
        phases.append({"key": phase, "questions": questions})
    return {
        "id": conversation.id,
        "status": conversation.status,
        "employee": _person(conversation.employee),
        "manager": _person(conversation.manager),
        "scheduled_at": _iso(conversation.scheduled_at),
        "place": conversation.place,
        "purpose": conversation.purpose,
        "follows": conversation.follows_id,
        "next_evaluation": conversation.next_evaluation.isoformat() if conversation.next_evaluation else None,
        "revision": conversation.revision,
        "phases": phases,
        "talking_points": [
            {"id": p.id, "author": p.author_role, "phase": p.phase, "text": p.text, "discussed": p.discussed}
            for p in conversation.talking_points
        ],
        "agreements": [
            {"id": a.id, "text": a.text, "owner": a.owner,
             "due": a.due.isoformat() if a.due else None, "status": a.status,
             "carried_from": a.carried_from_id, "decision": a.decision,
             "reviews": {role: ({"rating": r.rating, "comment": r.comment} if (r := a.review(role)) else None)
                         for role in ROLES}}
            for a in conversation.agreements
        ],
        "signatures": {
            "employee": _iso(conversation.employee_signed_at),
            "manager": _iso(conversation.manager_signed_at),
        },
        "closing_comments": {
            "employee": conversation.employee_comment or None,
            "manager": conversation.manager_comment or None,
        },
    }
