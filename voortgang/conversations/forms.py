from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..web import optional_id
from .changes import MAX_TEXT_LENGTH
from .planning import MAX_PLACE_LENGTH


class PlanForm(FlaskForm):
    # The first choice is an empty placeholder ("choose a person"), as HTML wants for a
    # required list: the person is then chosen, or pre-selected, never a silent default.
    employee = SelectField(_l("Employee"), coerce=optional_id, validators=[DataRequired()])
    manager = SelectField(
        _l("Manager"), coerce=optional_id,
        validators=[Optional()],
        validate_choice=False,  # the domain rules decide who may be the manager
        description=_l("Leave empty for the employee's own manager."),
    )
    scheduled_at = DateTimeLocalField(
        _l("Date and time"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[DataRequired(message=_l("Enter a date and time, for example 2027-03-01 10:00."))],
    )
    place = StringField(_l("Place"), validators=[Optional(), Length(max=MAX_PLACE_LENGTH)],
                        description=_l("A quiet room where you will not be disturbed."))
    purpose = TextAreaField(_l("Purpose"), validators=[Optional(), Length(max=MAX_TEXT_LENGTH)],
                            description=_l("What do you both want from this conversation?"))
    follows = HiddenField()
