"""Every translated word the pages use for the domain's codes, in one module.

Templates get them through one context processor (`init_app`): `PHASE_TITLES[phase]`,
`STATUS_NAMES[status]` and so on, on every page and e-mail. Refusals' sentences are
`ERRORS[code]` (see `errors.error_text`).
"""
from __future__ import annotations

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
CONVERSATION_ERRORS = {
    "text_missing": _l("Write something first."),
    "preparation_empty": _l("There is no preparation for this question to use yet."),
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
    "manager_not_chosen": _l("Choose a manager."),
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

# Where a person of a round is (vocabulary.RoundState): to plan, or the conversation's status.
ROUND_STATE_NAMES = {"to_plan": _l("To plan"), **STATUS_NAMES}
ROUND_SCOPE_NAMES = {"everyone": _l("Everyone"), "team": _l("A team"), "chosen": _l("Chosen people")}

ROUND_ERRORS = {
    "round_name_missing": _l("Enter a name for the round, for example Spring 2027."),
    "round_name_too_long": _l("Use at most %(max)d characters for the name."),
    "round_start_missing": _l("Enter the first day of the round."),
    "round_end_missing": _l("Enter the last day of the round."),
    "round_period_order": _l("The last day cannot be before the first day."),
    "round_period_long": _l("A round lasts at most two years: check the dates."),
    "round_template_unknown": _l("Choose a question list."),
    "round_team_not_allowed": _l("You can start a round for your own team only."),
    "round_team_unknown": _l("Choose a manager whose team takes part."),
    "round_people_not_allowed": _l("Choose people from the list."),
    "round_people_missing": _l("Choose the people who take part."),
    "round_empty": _l("Nobody would take part in this round. Choose a team or people with someone in it."),
    "round_planned_already": _l("A conversation with this person is already planned in this round."),
    "round_outside_period": _l("Choose a date within the round: from %(start)s until %(end)s."),
    "round_closed": _l("This round is closed and can no longer be changed."),
    "round_close_not_allowed": _l("Only an administrator or the manager who runs this round can close it."),
}

FLAG_NAMES = {
    "no_conversation_this_year": _l("No completed conversation in the last 12 months"),
    "evaluation_overdue": _l("Next evaluation overdue"),
    "agreements_overdue": _l("Agreements overdue"),
}

PEOPLE_ERRORS = {
    "email_invalid": _l("Enter a valid email address, for example name@example.org."),
    "email_taken": _l("Someone with this email address exists already."),
    "name_missing": _l("Enter a name."),
    "name_invalid": _l("Use at most %(max)d characters on one line.", max=200),
    "locale_invalid": _l("Choose Nederlands or English."),
    "manager_unknown": _l("Choose a manager from the list."),
    "manager_self": _l("Nobody can be their own manager."),
    "manager_inactive": _l("%(name)s is deactivated and cannot be a manager."),
    "manager_cycle": _l(
        "%(manager)s already reports to this person (directly or through others): managers cannot go round in a circle."
    ),
    "last_admin": _l("You are the last active administrator. Make someone else administrator first."),
    "deactivate_self": _l("You cannot deactivate yourself."),
    "link_inactive": _l("%(name)s is deactivated. Reactivate them first, then make a password link."),
    "password_short": _l("Use at least %(min)d characters."),
    "password_long": _l("Use at most %(max)d characters."),
    "password_common": _l("This is one of the most common passwords. Choose another: a few words in a row work well."),
    "import_too_large": _l("The file is too large: at most %(limit)d kB."),
    "import_not_text": _l("This is not a CSV text file."),
    "import_not_csv": _l("The file could not be read as CSV."),
    "import_empty": _l("The file has no people in it."),
    "import_column_unknown": _l("Unknown column “%(column)s”. Use: email, name, manager email, language."),
    "import_column_twice": _l("The column “%(column)s” appears twice."),
    "import_email_column_missing": _l("The email column is missing."),
    "import_name_column_missing": _l("The name column is missing."),
    "import_too_many": _l("At most %(limit)d people at a time."),
    "import_too_many_values": _l("This line has more values than there are columns."),
    "import_locale_invalid": _l("Unknown language “%(value)s”: use nl or en."),
    "import_email_twice": _l("This email address is also on line %(line)d."),
    "import_manager_unknown": _l("Unknown manager %(email)s: not in Voortgang and not in this file."),
    "import_manager_cycle": _l("Managers in a circle: %(chain)s."),
    "import_invalid": _l("The file has problems, so nothing was imported. Check the list below."),
    "erase_self": _l("You cannot erase your own data."),
    "erase_has_reports": _l("People still report to %(name)s. Give them another manager first."),
    "erase_not_confirmed": _l("Tick the box to confirm that this data is erased for good."),
    "person_erased": _l("The data of this person was erased. Add them again as a new person instead."),
}

TEMPLATE_ERRORS = {
    "template_name_missing": _l("Enter a name for the template."),
    "template_name_too_long": _l("Use at most %(max)d characters for the name."),
    "text_nl_missing": _l("Enter the Dutch text."),
    "text_en_missing": _l("Enter the English text."),
    "text_too_long": _l("Shorten the text to at most %(max)d characters."),
    "copy_from_unknown": _l("Choose a template to copy from, or start empty."),
    "default_empty": _l("A template without questions cannot be the default. Add questions first."),
    "default_last_question": _l(
        "This is the only question of the default template, so it cannot be removed. "
        "Make another template the default first."
    ),
    "delete_default": _l("The default template cannot be deleted. Make another template the default first."),
}

ERRORS = {**PEOPLE_ERRORS, **TEMPLATE_ERRORS, **CONVERSATION_ERRORS, **ROUND_ERRORS}

# The audit trail of a conversation (conversations/changes.py: Event actions).
AUDIT_ACTIONS = {
    "conversation.planned": _l("planned the conversation"),
    "answer.saved": _l("changed an answer"),
    "talking_point.added": _l("added a talking point"),
    "talking_point.edited": _l("changed a talking point"),
    "talking_point.removed": _l("removed a talking point"),
    "agreement.added": _l("added an agreement"),
    "agreement.edited": _l("changed an agreement"),
    "agreement.reviewed": _l("rated a carried agreement"),
    "agreement.decided": _l("decided on a carried agreement"),
    "next_evaluation.set": _l("set the next evaluation"),
    "conversation.proposed_close": _l("proposed to close the conversation"),
    "conversation.reopened": _l("reopened the conversation"),
    "conversation.signed": _l("signed"),
    "conversation.completed": _l("completed the record (both signed)"),
    "signatures.withdrawn": _l("withdrew the signatures by changing the record"),
}
# In what capacity someone who is not a participant read a record (records/reads.py).
READER_CAPACITIES = {"administrator": _l("administrator"), "manager": _l("manager"), "other": _l("reader")}
READ_FORMS = {"page": _l("the page"), "json": _l("the JSON export"), "pdf": _l("the PDF")}

LABELS = {
    "PHASE_TITLES": PHASE_TITLES,
    "PHASE_SUBTITLES": PHASE_SUBTITLES,
    "ROLE_NAMES": ROLE_NAMES,
    "STATUS_NAMES": STATUS_NAMES,
    "OWNER_NAMES": OWNER_NAMES,
    "AGREEMENT_STATUS_NAMES": AGREEMENT_STATUS_NAMES,
    "RATING_NAMES": RATING_NAMES,
    "DECISION_NAMES": DECISION_NAMES,
    "NEXT_STEPS": NEXT_STEPS,
    "FLAG_NAMES": FLAG_NAMES,
    "ROUND_STATE_NAMES": ROUND_STATE_NAMES,
    "ROUND_SCOPE_NAMES": ROUND_SCOPE_NAMES,
    "AUDIT_ACTIONS": AUDIT_ACTIONS,
    "READER_CAPACITIES": READER_CAPACITIES,
    "READ_FORMS": READ_FORMS,
}


def init_app(app) -> None:
    """Give every template the translated names."""
    app.context_processor(lambda: LABELS)
