"""Forms of the client key pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, SubmitField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from lms.xapi.auth import SCOPES

SCOPE_LABELS = {
    "statements/write": _l("Write statements"),
    "statements/read/mine": _l("Read the statements this key wrote"),
    "statements/read": _l("Read all statements"),
    "state": _l("Read and write the State resource"),
    "define": _l("Define activities"),
    "profile": _l("Read and write activity and agent profiles"),
    "all/read": _l("Read everything in the LRS"),
    "all": _l("Everything in the LRS"),
    "api:read": _l("Read the JSON API (/api/v1)"),
    "api:write": _l("Write through the JSON API (/api/v1)"),
    "monitor": _l("Read the health of the statement consumers (monitoring)"),
}


class ClientForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("Who uses this key, e.g. the name of the platform."))
    scopes = SelectMultipleField(
        _l("Scopes"), choices=[SelectChoice(s, SCOPE_LABELS[s]) for s in SCOPES],
        validators=[DataRequired(message=_l("Choose at least one scope."))],
        option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False))
    submit = SubmitField(_l("Create key"))


class RevokeForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))


class ActionForm(FlaskForm):
    """A button that posts (retry, skip): carries the CSRF token."""

    submit = SubmitField(_l("Go"))
