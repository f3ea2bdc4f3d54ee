"""Forms of the credentials pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length, Optional


class VerifyForm(FlaskForm):
    token = TextAreaField(
        _l("Badge (the content of the .jwt file)"), validators=[Optional(), Length(max=200_000)]
    )
    file = FileField(_l("or choose the .jwt file"), validators=[FileAllowed(["jwt", "txt"])])
    submit = SubmitField(_l("Check"))


class CaseImportForm(FlaskForm):
    file = FileField(_l("CASE JSON file"), validators=[FileRequired(), FileAllowed(["json"])])
    submit = SubmitField(_l("Import"))
