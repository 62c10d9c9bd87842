"""Translated words for the codes the people rules use."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ERRORS = {
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
}


def error_text(error) -> str:
    """The translated sentence for a PeopleError."""
    message = ERRORS.get(error.code)
    if message is None:
        return str(error)
    details = getattr(error, "details", None) or {}
    return str(message) % details if details else str(message)
