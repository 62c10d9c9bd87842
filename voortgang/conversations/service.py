"""Temporary: the conversation's rules by their old names while the views move to the modules."""
from ..errors import Invalid, NotFound, ReadOnly  # noqa: F401
from .access import conversations_for, get_visible, get_writable, may_view, next_step, role_of  # noqa: F401
from .answers import (  # noqa: F401
    AnswerState, SavedAnswer, StaleVersion, answer_limit, answers_by_question, progress, save_answer, tally_progress,
)
from .changes import MAX_TEXT_LENGTH, without_nul  # noqa: F401
from .export import export  # noqa: F401
from .planning import (  # noqa: F401
    HANDED_OVER, MAX_PLACE_LENGTH, default_template, hand_over_open_conversations, handed_over, plan_conversation,
    plannable_employees, possible_managers,
)
from .points import (  # noqa: F401
    add_agreement, add_talking_point, decide_agreement, edit_agreement, edit_talking_point, mark_discussed,
    remove_talking_point, review_agreement, set_next_evaluation,
)
from .signoff import propose_close, reopen, sign  # noqa: F401
from ..errors import Refusal as ConversationError  # noqa: F401


def other_role(role):
    from ..vocabulary import Role

    return Role(role).other
