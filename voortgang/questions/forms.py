"""Forms of the question templates, and the words for the refusals of service.py."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..web import optional_id
from .service import MAX_NAME_LENGTH, MAX_QUESTION_LENGTH, TemplateError

ERRORS = {
    "name_missing": _l("Enter a name for the template."),
    "name_too_long": _l("Use at most %(max)d characters for the name."),
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


def error_text(error: TemplateError) -> str:
    message = ERRORS.get(error.code)
    if message is None:
        return str(_l("This could not be saved."))
    return str(message) % error.details if error.details else str(message)


def _clean(value):
    """Strip, with Unix line ends: browsers send CRLF, and the limit counts characters."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _name_field() -> StringField:
    return StringField(
        _l("Name"), filters=[_clean],
        validators=[DataRequired(message=ERRORS["name_missing"]),
                    Length(max=MAX_NAME_LENGTH, message=ERRORS["name_too_long"])],
    )


class TemplateForm(FlaskForm):
    """A new template, empty or as a copy of another."""

    name = _name_field()
    copy_from = SelectField(
        _l("Copy the questions from"), coerce=optional_id,
        validate_choice=False,  # the rules decide (the template may be gone by now)
    )


class RenameForm(FlaskForm):
    name = _name_field()


class QuestionForm(FlaskForm):
    """Both texts of a question; the page renders the fields itself (one form per question)."""

    text_nl = TextAreaField(
        _l("Dutch"), filters=[_clean],
        validators=[DataRequired(message=ERRORS["text_nl_missing"]),
                    Length(max=MAX_QUESTION_LENGTH, message=ERRORS["text_too_long"])],
    )
    text_en = TextAreaField(
        _l("English"), filters=[_clean],
        validators=[DataRequired(message=ERRORS["text_en_missing"]),
                    Length(max=MAX_QUESTION_LENGTH, message=ERRORS["text_too_long"])],
    )
