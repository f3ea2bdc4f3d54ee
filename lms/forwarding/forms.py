"""Forms of the forwarding admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from lms.web import select_choices

VERSIONS = [("1.0.3", "xAPI 1.0.3"), ("2.0.0", "xAPI 2.0")]


class _LrsForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    endpoint = StringField(_l("LRS endpoint"), validators=[DataRequired(), URL(require_tld=False)],
                           description=_l("The xAPI base URL, e.g. https://lrs.example.go.id/xapi/"))
    username = StringField(_l("Key (user name)"), validators=[DataRequired(), Length(max=500)])
    password = PasswordField(_l("Secret (password)"), validators=[DataRequired(),
                                                                   Length(max=500)],
                             description=_l("Stored encrypted; never shown again."))
    version = SelectField(_l("xAPI version"), default="1.0.3")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.version.choices = select_choices(VERSIONS)


class TargetForm(_LrsForm):
    verbs = TextAreaField(_l("Only these verbs (one IRI per line; empty: all)"),
                          validators=[Optional()])
    activity_prefixes = TextAreaField(
        _l("Only activities starting with (one per line; empty: all)"), validators=[Optional()])
    from_start = BooleanField(_l("Also send every statement stored before today"))


class SourceForm(_LrsForm):
    since = StringField(_l("Only statements stored after (ISO 8601, optional)"),
                        validators=[Optional()])
    interval_seconds = IntegerField(_l("Pull every (seconds)"), default=300,
                                    validators=[NumberRange(min=10, max=86400)])


class ConnectionForm(FlaskForm):
    """Where and how an existing target or source is reached. The password is never shown
    back: empty keeps the stored one."""

    endpoint = _LrsForm.endpoint
    username = _LrsForm.username
    password = PasswordField(_l("New secret (password)"), validators=[Optional(),
                                                                       Length(max=500)],
                             description=_l("Leave empty to keep the stored secret. It is "
                                            "stored encrypted and never shown again."))
    version = SelectField(_l("xAPI version"), default="1.0.3")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.version.choices = select_choices(VERSIONS)


class ActionForm(FlaskForm):
    """A button that posts (CSRF only)."""
