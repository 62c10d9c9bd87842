"""What the other participant did, in words for the live view (the other labels are in
`voortgang/labels.py`)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# What the other participant did, as announced to screen readers by the live view.
CHANGE_KINDS = {
    "answer": _l("changed an answer"),
    "talking_point": _l("changed the talking points"),
    "agreement": _l("changed the agreements"),
    "next_evaluation": _l("set the next evaluation"),
    "signatures": _l("withdrew the signatures by changing the record"),
    "conversation.proposed_close": _l("proposed to close the conversation"),
    "conversation.reopened": _l("reopened the conversation"),
    "conversation.signed": _l("signed the record"),
    "conversation.completed": _l("completed the conversation"),
    "preparation.ready": _l("is ready to share the preparation"),
    "preparation.revealed": _l("shared the preparation: both preparations are now answers where there were none"),
}


def announcement(name: str, kinds: list[str]) -> str:
    """A short sentence such as "Mia changed an answer, changed the talking points"."""
    parts = [str(CHANGE_KINDS[kind]) for kind in kinds if kind in CHANGE_KINDS]
    if not parts:
        return ""
    return _("%(name)s %(changes)s.", name=name, changes=", ".join(parts))
