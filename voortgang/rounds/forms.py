from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Optional

from ..vocabulary import RoundScope
from ..web import optional_id
from .service import MAX_NAME_LENGTH

class RoundForm(FlaskForm):
    """Starting a round. The domain rules (service.start_round) check everything; the form
    keeps what was typed. Scripts post name, starts_on, ends_on and optionally team."""

    name = StringField(_l("Name"), description=_l("For example: Spring 2027"),
                       render_kw={"maxlength": MAX_NAME_LENGTH})
    # Dates are read by the view (an ISO date, or the refusal `date_invalid`).
    starts_on = StringField(_l("From"), render_kw={"type": "date"})
    ends_on = StringField(_l("Until"), render_kw={"type": "date"},
                          description=_l("The conversations are held within these days (both included)."))
    scope = RadioField(_l("Who takes part"), choices=[], validators=[Optional()], validate_choice=False)
    team = SelectField(_l("Team"), coerce=optional_id, validators=[Optional()], validate_choice=False)
    people = SelectMultipleField(_l("Chosen people"), coerce=optional_id, validators=[Optional()],
                                 validate_choice=False,
                                 description=_l("Hold Ctrl (or Cmd) to choose more than one."))
    template = SelectField(_l("Question list"), coerce=optional_id, validators=[Optional()],
                           validate_choice=False)

    def chosen_scope(self) -> str:
        """The radio's choice; a script that leaves it out chooses by what it sends."""
        if self.scope.data in tuple(RoundScope):
            return self.scope.data
        if self.people.data:
            return RoundScope.CHOSEN
        return RoundScope.TEAM if self.team.data else RoundScope.EVERYONE
