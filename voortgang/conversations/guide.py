"""The guide for an equal conversation: a checklist before the meeting, and per phase a
few lines on its aim and on keeping it two-way. Each part can be closed, and stays
closed for that person (`GuideDismissal`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ..database import writing
from ..errors import NotFound
from ..extensions import db
from ..models import GuideDismissal, User
from ..vocabulary import Phase

BEFORE = "before"  # the checklist before the meeting

CHECKLIST = (
    _l("The purpose: what do we both want from this conversation?"),
    _l("The time and place: an hour without interruptions, somewhere you can talk freely."),
    _l("What do I want to bring in? Write it in my preparation, question by question."),
    _l("Am I ready to give feedback, and to receive it?"),
)

PHASE_AIMS = {
    Phase.LOOKING_BACK: (
        _l("Look back on the past period together: what went well, what was hard, and why."),
        _l("Both of you answer every question. Start with the employee's view, then the manager's, "
           "and ask about the other's example before you reply."),
    ),
    Phase.LOOKING_FORWARD: (
        _l("Look ahead: what does the employee want to achieve, and what is needed for it?"),
        _l("This includes what the manager and the organisation could do differently. "
           "Listen first, and ask what the other means before you weigh it."),
    ),
    Phase.AGREEMENTS: (
        _l("Turn the conversation into a few concrete agreements, each with an owner and a date."),
        _l("Agreements bind both sides: check that each of you can say in their own words "
           "what was agreed."),
    ),
}

PARTS = (BEFORE, *PHASE_AIMS)


def hidden_parts(user: User) -> frozenset[str]:
    """The parts of the guide this person closed (one query)."""
    return frozenset(db.session.scalars(select(GuideDismissal.part).where(GuideDismissal.user_id == user.id)))


def set_hidden(user: User, part: str, hidden: bool) -> None:
    """Close a part of the guide for this person, or open it again."""
    if part not in PARTS:
        raise NotFound()
    with writing():
        db.session.execute(delete(GuideDismissal).where(GuideDismissal.user_id == user.id,
                                                       GuideDismissal.part == part))
        if hidden:
            db.session.add(GuideDismissal(user_id=user.id, part=part))
