"""The domain's words, one spelling each: phases, roles, statuses and the like.

Each is a `StrEnum`, so its members are the strings stored in the database, sent in
forms and URLs, and shown in exports ("completed" == Status.COMPLETED). The translated
names people read are in `voortgang/labels.py`.
"""
from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """The three phases of a conversation, in order."""

    LOOKING_BACK = "looking_back"
    LOOKING_FORWARD = "looking_forward"
    AGREEMENTS = "agreements"


class Role(StrEnum):
    """Who someone is in a conversation."""

    EMPLOYEE = "employee"
    MANAGER = "manager"

    @property
    def other(self) -> Role:
        return Role.MANAGER if self is Role.EMPLOYEE else Role.EMPLOYEE


class Status(StrEnum):
    """Where a conversation is, in order."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    AWAITING_SIGNATURES = "awaiting_signatures"
    COMPLETED = "completed"


# A conversation that can still change.
OPEN_STATUSES = (Status.PLANNED, Status.IN_PROGRESS, Status.AWAITING_SIGNATURES)


class RoundState(StrEnum):
    """Where a person of a round is: to plan, or the status of the conversation that
    belongs to the round (rounds/figures.py)."""

    TO_PLAN = "to_plan"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    AWAITING_SIGNATURES = "awaiting_signatures"
    COMPLETED = "completed"


class RoundScope(StrEnum):
    """Who a round takes in when it starts."""

    EVERYONE = "everyone"  # every active person
    TEAM = "team"  # one manager's active reports
    CHOSEN = "chosen"  # the people chosen on the form


class Owner(StrEnum):
    """Who carries out an agreement."""

    EMPLOYEE = "employee"
    MANAGER = "manager"
    ORGANISATION = "organisation"


class AgreementStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class Rating(StrEnum):
    """How far a carried agreement got, said in the follow-up."""

    DONE = "done"
    PARTLY = "partly"
    NOT_DONE = "not_done"


class Decision(StrEnum):
    """What the follow-up decides about a carried agreement."""

    CLOSED = "closed"
    CARRIED = "carried"
    DROPPED = "dropped"


PHASES = tuple(Phase)
ROLES = tuple(Role)
STATUSES = tuple(Status)
ROUND_STATES = tuple(RoundState)
ROUND_SCOPES = tuple(RoundScope)
AGREEMENT_OWNERS = tuple(Owner)
AGREEMENT_STATUSES = tuple(AgreementStatus)
REVIEW_RATINGS = tuple(Rating)
REVIEW_DECISIONS = tuple(Decision)
