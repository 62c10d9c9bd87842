"""Translated words for the codes the conversation's domain rules use."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

PHASE_TITLES = {
    "looking_back": _l("Looking back"),
    "looking_forward": _l("Looking forward"),
    "agreements": _l("Agreements"),
}
PHASE_SUBTITLES = {
    "looking_back": _l("Results of the goals"),
    "looking_forward": _l("Personal development"),
    "agreements": _l("Actions"),
}
ROLE_NAMES = {"employee": _l("employee"), "manager": _l("manager")}
STATUS_NAMES = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "awaiting_signatures": _l("Awaiting signatures"),
    "completed": _l("Completed"),
}
OWNER_NAMES = {"employee": _l("Employee"), "manager": _l("Manager"), "organisation": _l("Organisation")}
AGREEMENT_STATUS_NAMES = {"open": _l("Open"), "done": _l("Done"), "dropped": _l("Dropped")}
RATING_NAMES = {"done": _l("Done"), "partly": _l("Partly done"), "not_done": _l("Not done")}
DECISION_NAMES = {
    "closed": _l("Closed: done"),
    "carried": _l("Carried on to the next period"),
    "dropped": _l("Dropped"),
}
NEXT_STEPS = {
    "prepare": _l("Prepare: read the questions and note your points"),
    "continue": _l("Continue the conversation"),
    "sign": _l("Sign the record"),
    "wait_signature": _l("Waiting for the other signature"),
    "completed": _l("Completed"),
}
ERRORS = {
    "text_missing": _l("Write something first."),
    "too_long": _l("Not saved: the text has %(length)s characters; the limit is %(limit)s. Shorten it and save again."),
    "phase_unknown": _l("Unknown phase."),
    "owner_unknown": _l("Choose who carries out the agreement."),
    "status_unknown": _l("Choose a status."),
    "date_invalid": _l("Enter a date, for example 2027-03-01."),
    "datetime_invalid": _l("Enter a date and time, for example 2027-03-01 10:00."),
    "next_evaluation_past": _l("The next evaluation cannot be before this conversation."),
    "next_evaluation_required": _l("Set the date of the next evaluation first (phase 3)."),
    "not_awaiting_signatures": _l("Propose to close the conversation before signing."),
    "employee_unknown": _l("Choose an employee."),
    "manager_missing": _l("This employee has no manager: choose one."),
    "manager_unknown": _l("Choose a manager."),
    "same_person": _l("The employee and the manager must be two different people."),
    "not_allowed": _l("You can plan conversations for yourself and your team only."),
    "not_their_manager": _l("The manager must be the employee's own manager."),
    "follows_unknown": _l("The conversation to follow up was not found."),
    "follows_not_completed": _l("Only a completed conversation can be followed up."),
    "rating_unknown": _l("Choose done, partly or not done."),
    "decision_unknown": _l("Choose to close, carry on or drop the agreement."),
    "no_template": _l("There is no default question template."),
    "read_only": _l("This conversation is completed and can no longer be changed."),
    "invalid": _l("This could not be saved."),
}

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
}


def announcement(name: str, kinds: list[str]) -> str:
    """A short sentence such as "Mia changed an answer, changed the talking points"."""
    parts = [str(CHANGE_KINDS[kind]) for kind in kinds if kind in CHANGE_KINDS]
    if not parts:
        return ""
    return _("%(name)s %(changes)s.", name=name, changes=", ".join(parts))
