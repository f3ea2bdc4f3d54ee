"""Forms of assignments and learning programs (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.assignments.models import PROGRAM_RULES, RULE_ALL, RULE_IN_ORDER, RULE_N_OF_M
from lms.people.models import POSITION_KIND_LABELS
from lms.web import select_choices

RULE_LABELS = {
    RULE_ALL: _l("All parts"),
    RULE_N_OF_M: _l("N of the parts"),
    RULE_IN_ORDER: _l("All parts, in order"),
}


class CsrfForm(FlaskForm):
    """Only the CSRF token (buttons)."""


class AssignmentForm(FlaskForm):
    target = SelectField(_l("What to assign"), validators=[DataRequired()],
                         description=_l("A course, a learning program or a recorded offline "
                                        "training."))
    title = StringField(_l("Title (optional)"), validators=[Optional(), Length(max=200)],
                        description=_l("Shown to learners; the course or program title when "
                                       "left empty."))
    audience = SelectField(_l("Saved audience"), coerce=str, validators=[Optional()])
    units = SelectMultipleField(_l("Org units (with their sub-units)"), coerce=str,
                                validators=[Optional()])
    kinds = SelectMultipleField(
        _l("Position kinds"), coerce=str, validators=[Optional()],
        choices=select_choices((k.value, v) for k, v in POSITION_KIND_LABELS.items()))
    positions = SelectMultipleField(_l("Positions"), coerce=str, validators=[Optional()])
    grades = StringField(_l("Grades"), validators=[Optional(), Length(max=500)],
                         description=_l("Separated by commas, e.g. Ahli Pertama, Ahli Muda"))
    nip_file = FileField(_l("List of NIPs (CSV)"),
                         validators=[Optional(), FileAllowed(["csv", "txt"],
                                                             _l("A CSV or text file."))],
                         description=_l("One NIP per row in the first column; you see the "
                                        "rows that cannot be used before saving."))
    nips = HiddenField()
    due_kind = RadioField(_l("Due"), choices=select_choices(
        [("fixed", _l("On a date")), ("relative", _l("Days after joining"))]),
        default="fixed")
    due_date = DateField(_l("Due date"), validators=[Optional()])
    due_days = IntegerField(_l("Days after joining the audience"),
                            validators=[Optional(), NumberRange(min=1, max=3650)])
    yearly = BooleanField(_l("Every year again"))
    enrol_now = BooleanField(_l("Enrol them at once"), default=True)
    remind_before = StringField(_l("Remind days before"), default="7,1",
                                validators=[Optional(), Length(max=50)])
    remind_on_due = BooleanField(_l("Remind on the due date"), default=True)
    remind_after = StringField(_l("Remind days after"), default="3,14",
                               validators=[Optional(), Length(max=50)])
    escalate_after = IntegerField(_l("Tell the supervisor after (days overdue)"), default=7,
                                  validators=[Optional(), NumberRange(min=0, max=365)])
    submit = SubmitField(_l("Preview"))


class AssignmentEditForm(FlaskForm):
    """What HR may change in an open assignment (not what or who: close it and make a
    new one for that)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    due_kind = RadioField(_l("Due"), choices=select_choices(
        [("fixed", _l("On a date")), ("relative", _l("Days after joining"))]),
        default="fixed")
    due_date = DateField(_l("Due date"), validators=[Optional()])
    due_days = IntegerField(_l("Days after joining the audience"),
                            validators=[Optional(), NumberRange(min=1, max=3650)])
    remind_before = StringField(_l("Remind days before"),
                                validators=[Optional(), Length(max=50)])
    remind_on_due = BooleanField(_l("Remind on the due date"))
    remind_after = StringField(_l("Remind days after"),
                               validators=[Optional(), Length(max=50)])
    escalate_after = IntegerField(_l("Tell the supervisor after (days overdue)"),
                                  validators=[Optional(), NumberRange(min=0, max=365)])
    submit = SubmitField(_l("Save changes"))


class AudienceForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    units = SelectMultipleField(_l("Org units (with their sub-units)"), coerce=str,
                                validators=[Optional()])
    kinds = SelectMultipleField(
        _l("Position kinds"), coerce=str, validators=[Optional()],
        choices=select_choices((k.value, v) for k, v in POSITION_KIND_LABELS.items()))
    positions = SelectMultipleField(_l("Positions"), coerce=str, validators=[Optional()])
    grades = StringField(_l("Grades"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save audience"))


class ProgramForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    items = SelectMultipleField(_l("Parts"), coerce=str, validators=[DataRequired()],
                                description=_l("Courses (also cmi5 and SCORM content) and "
                                               "offline trainings, in the order chosen."))
    order = StringField(_l("Order"), validators=[Optional(), Length(max=2000)],
                        description=_l("Optional: the parts' codes in order, separated by "
                                       "commas (as listed above)."))
    rule = SelectField(_l("Completed when"),
                       choices=select_choices((r, RULE_LABELS[r]) for r in PROGRAM_RULES))
    required_count = IntegerField(_l("N (for N of the parts)"),
                                  validators=[Optional(), NumberRange(min=1, max=100)])
    validity_months = IntegerField(_l("Valid for (months)"),
                                   validators=[Optional(), NumberRange(min=1, max=120)],
                                   description=_l("Empty: for ever. Otherwise the program "
                                                  "must be completed again."))
    reopen_days = IntegerField(_l("Reopens days before it lapses"), default=30,
                               validators=[Optional(), NumberRange(min=0, max=365)])
    submit = SubmitField(_l("Save program"))
