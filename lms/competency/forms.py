"""Forms of the competency module (all CSRF-protected through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.competency.models import CRITERION_LABELS, SOURCE_LABELS
from lms.web import select_choices

METHOD_LABELS = {
    "highest": _l("Highest level proven"),
    "latest": _l("Latest result"),
    "mastery": _l("Proven several times (n-times mastery)"),
    "decay": _l("Decaying average"),
}
PRECEDENCE_LABELS = {
    "combine": _l("Combine all counted sources"),
    "rank": _l("Highest-ranked source decides"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CsrfForm(FlaskForm):
    """A form with only the CSRF token (buttons, hand-built tables of inputs)."""


class UploadForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired(), FileAllowed(["json", "csv"])])
    submit = SubmitField(_l("Import"))


class PolicyForm(FlaskForm):
    method = SelectField(_l("How evidence combines into a level"),
                         choices=select_choices(METHOD_LABELS.items()))
    mastery_count = IntegerField(_l("Times a level must be proven (n-times mastery)"),
                                 validators=[NumberRange(1, 10)], default=2)
    half_life_days = IntegerField(_l("Half-life of evidence, in days (decaying average)"),
                                  validators=[NumberRange(1, 3650)], default=365)
    precedence = SelectField(_l("Sources"), choices=select_choices(PRECEDENCE_LABELS.items()))
    counted_sources = MultiCheckboxField(_l("Sources that count"),
                                         choices=select_choices(
                                             (k.value, v) for k, v in SOURCE_LABELS.items()))
    source_order = StringField(_l("Rank of sources, highest first (comma-separated)"),
                               validators=[DataRequired(), Length(max=200)])
    supervisor_validation = BooleanField(
        _l("A supervisor's assessment counts only after HR validates it"))
    submit = SubmitField(_l("Save policy"))


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    activity_iri = StringField(_l("Activity IRI"), validators=[DataRequired(), Length(max=2048)],
                               description=_l("The activity of the statements, e.g. "
                                              "https://elearning.example.go.id/course/12"))
    match = SelectField(_l("Match"), choices=select_choices(
        [("exact", _l("Exactly this IRI")), ("prefix", _l("Every IRI starting with it"))]))
    criterion = SelectField(_l("Criterion"), choices=select_choices(
        (k.value, v) for k, v in CRITERION_LABELS.items()))
    threshold = DecimalField(_l("Minimum scaled score (0 to 1)"), places=None,
                             validators=[Optional(), NumberRange(0, 1)])
    bands = StringField(_l("Score bands"), validators=[Optional(), Length(max=200)],
                        description=_l("For score bands: e.g. 60%=2, 80%=3"))
    items = TextAreaField(_l("Question IRIs (one per line)"), validators=[Optional()],
                          description=_l("For tagged quiz items: the questions that measure "
                                         "this competency"))
    competency_id = SelectField(_l("Competency"), coerce=int)
    level = IntegerField(_l("Level proven"), validators=[NumberRange(1, 5)], default=1)
    weight = DecimalField(_l("Weight toward that level"), places=None, default=1,
                          validators=[NumberRange(0.01, 5)],
                          description=_l("1 proves the level on its own; 0.5 needs two such "
                                         "results"))
    source = SelectField(_l("Source"), choices=select_choices(
        (k.value, v) for k, v in SOURCE_LABELS.items()))
    retroactive = BooleanField(_l("Also judge statements stored before this version"))
    submit = SubmitField(_l("Save rule"))
