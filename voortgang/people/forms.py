from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..auth.forms import SetPasswordForm
from ..i18n import LANGUAGE_NAMES
from ..web import optional_id
from .service import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH


class PersonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=MAX_NAME_LENGTH)])
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(message=_l("Enter a valid email address, for example name@example.org.")),
                    Length(max=MAX_EMAIL_LENGTH)],
        description=_l("The person signs in with this address."),
    )
    manager = SelectField(
        _l("Manager"), coerce=optional_id, validators=[Optional()],
        validate_choice=False,  # the rules decide who may be the manager
    )
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("Not chosen: the browser's language"))]
        + [SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()],
        validate_choice=False,
    )
    is_admin = BooleanField(
        _l("Administrator"),
        description=_l("Administrators manage people and see the status of every conversation."),
    )


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))
    csv_text = TextAreaField(
        _l("Or paste the text of the file"),
        validators=[Optional()],
    )


class LanguageForm(FlaskForm):
    locale = RadioField(
        _l("Show Voortgang in"),
        choices=[SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()],
        validators=[DataRequired()],
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(message=_l("Enter your email address.")), Length(max=MAX_EMAIL_LENGTH)],
    )
