from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..i18n import LANGUAGE_NAMES
from ..errors import Invalid, error_text
from ..people.service import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, check_password_rules


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


def password_rules(form, field) -> None:
    """The people rules for a new password (common passwords refused), once the length is right."""
    if field.errors or not field.data:
        return
    try:
        check_password_rules(field.data)
    except Invalid as error:
        raise ValidationError(error_text(error)) from None


def _password_field(label):
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            ),
            password_rules,
        ],
        description=_l("At least %(min)d characters; a few words in a row make a good one.", min=MIN_PASSWORD_LENGTH),
    )


class SetPasswordForm(FlaskForm):
    password = _password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords are not the same."))],
    )


class SetupForm(SetPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(), Length(max=254)])
    locale = RadioField(
        _l("Language"),
        choices=[SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()],
        validators=[DataRequired()],
    )
