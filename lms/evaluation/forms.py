"""Forms of the evaluation pages (the Likert answers are plain radio inputs ``q_<id>``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class AnswerForm(FlaskForm):
    comment = TextAreaField(_l("Comments (optional)"), validators=[Optional(), Length(max=2000)])


class ResultForm(FlaskForm):
    indicator = StringField(_l("Indicator"), validators=[DataRequired(), Length(max=300)],
                            description=_l("e.g. Community satisfaction index (IKM) of the "
                                           "service unit"))
    unit = StringField(_l("Unit of measure"), validators=[Optional(), Length(max=50)],
                       description=_l("e.g. points, percent, days"))
    baseline = FloatField(_l("Before (baseline)"), validators=[Optional()])
    value = FloatField(_l("After (value)"), validators=[InputRequired(message=_l(
        "Enter the measured figure."))])
    measured_on = DateField(_l("Measured on"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])


class ActionForm(FlaskForm):
    """A button (CSRF only)."""
