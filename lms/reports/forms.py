"""Forms of HR reporting (all CSRF-protected through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.reports.models import TRAINING_KIND_LABELS
from lms.web import select_choices


def kind_choices() -> list[object]:
    return select_choices((k.value, v) for k, v in TRAINING_KIND_LABELS.items())


class CsrfForm(FlaskForm):
    """Only the CSRF token (buttons)."""


class TrainingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind of learning"), choices=kind_choices())
    provider = StringField(_l("Provider"), validators=[DataRequired(), Length(max=300)],
                           description=_l("E.g. BPSDM Provinsi, a university, a private "
                                          "training institute"))
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    end_date = DateField(_l("End date"), validators=[DataRequired()])
    jp = DecimalField(_l("JP (lesson hours of 45 minutes)"), places=None,
                      validators=[DataRequired(), NumberRange(0.5, 1000)])
    competencies = StringField(
        _l("Competencies developed"), validators=[Optional(), Length(max=500)],
        description=_l("Codes with the level reached, e.g. M.03:2, T.SPBE:3. Completing the "
                       "training then counts as evidence of that level."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    certificate = FileField(_l("Certificate or attendance list (optional)"),
                            validators=[FileAllowed(["pdf", "png", "jpg", "jpeg"])])
    submit = SubmitField(_l("Save training"))


class VoidTrainingForm(FlaskForm):
    reason = StringField(_l("Why is it voided?"), validators=[DataRequired(), Length(max=500)],
                         description=_l("E.g. recorded twice, the training did not take "
                                        "place. Kept in the history."))
    submit = SubmitField(_l("Void training"))


class ParticipantsForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileAllowed(["csv", "txt"])],
                     description=_l("A column named nip (and optionally "
                                    "certificate_number), or one NIP per line."))
    nips = TextAreaField(_l("Or type NIPs, one per line"), validators=[Optional()])
    submit = SubmitField(_l("Check participants"))


class ConfirmParticipantsForm(FlaskForm):
    rows = HiddenField()
    submit = SubmitField(_l("Record participants"))


class ScopeForm(FlaskForm):
    user = StringField(_l("HR user (NIP or e-mail)"), validators=[DataRequired(),
                                                                 Length(max=254)])
    org_unit = SelectField(_l("Org unit"), coerce=int)
    submit = SubmitField(_l("Save scope"))


class TargetForm(FlaskForm):
    position = SelectField(_l("Target position"), coerce=int)
    submit = SubmitField(_l("Save target position"))


class RouteForm(FlaskForm):
    competency = SelectField(_l("Competency"))
    level = IntegerField(_l("Level reached"), default=2, validators=[NumberRange(1, 5)])
    kind = SelectField(_l("Route"), choices=kind_choices())
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    provider = StringField(_l("Provider"), validators=[Optional(), Length(max=300)])
    jp = DecimalField(_l("JP"), places=None, validators=[DataRequired(), NumberRange(0.5, 1000)])
    schedule = StringField(_l("Schedule"), validators=[Optional(), Length(max=200)],
                           description=_l("E.g. March 2027, quarterly"))
    cost_per_jp = DecimalField(_l("Cost per JP per participant (Rp, optional)"), places=None,
                               validators=[Optional(), NumberRange(0, 1e9)])
    submit = SubmitField(_l("Add route"))
