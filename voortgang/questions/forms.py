"""Forms of the question templates."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..web import optional_id
from ..labels import ERRORS
from .service import MAX_NAME_LENGTH, MAX_QUESTION_LENGTH

def _clean(value):
    """Strip, with Unix line ends: browsers send CRLF, and the limit counts characters."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _name_field() -> StringField:
    return StringField(
        _l("Name"), filters=[_clean],
        validators=[DataRequired(message=ERRORS["template_name_missing"]),
                    Length(max=MAX_NAME_LENGTH, message=ERRORS["template_name_too_long"])],
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
