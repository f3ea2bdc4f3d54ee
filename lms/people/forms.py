"""Forms of the people module (all CSRF-protected through Flask-WTF)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.validators import ValidationError as FormValidationError

from lms.errors import ValidationError
from lms.people.models import POSITION_KIND_LABELS, ROLE_LABELS, PositionKind, Role
from lms.people.nip import parse_nip
from lms.web import select_choices


def nip_check(_form: Any, field: Any) -> None:
    """WTForms validator: the NIP structure rules, with their own messages."""
    if field.data:
        try:
            field.data = parse_nip(field.data).value
        except ValidationError as exc:
            raise FormValidationError(str(exc.message)) from None


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LoginForm(FlaskForm):
    identifier = StringField(
        _l("NIP or e-mail"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=10, message=_l("Use at least 10 characters."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(FlaskForm):
    identifier = StringField(_l("NIP or e-mail"), validators=[DataRequired(), Length(max=300)],
                             render_kw={"autocomplete": "username"})
    submit = SubmitField(_l("Send me a link"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=10, message=_l("Use at least 10 characters."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set password"))


class UserForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    nip = StringField(
        _l("NIP"),
        validators=[Optional(), nip_check],
        description=_l("18 digits; leave empty for staff without a NIP."),
    )
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=select_choices((r.value, ROLE_LABELS[r]) for r in Role),
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )
    position_id = SelectField(_l("Current position"), coerce=int, validate_choice=True)
    active = BooleanField(_l("Active (may sign in)"), default=True)
    invite = BooleanField(_l("E-mail an invitation to set a password"), default=True)
    password = PasswordField(
        _l("New password"),
        validators=[Optional()],
        description=_l("Leave empty to keep the current password."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save"))


class OrgUnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    code = StringField(_l("Code"), validators=[Optional(), Length(max=50)])
    parent_id = SelectField(_l("Parent unit"), coerce=int)
    submit = SubmitField(_l("Save"))


class PositionForm(FlaskForm):
    name = StringField(_l("Position name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"), choices=select_choices((k.value, POSITION_KIND_LABELS[k]) for k in PositionKind)
    )
    grade = StringField(
        _l("Grade"),
        validators=[Optional(), Length(max=50)],
        description=_l("For example Ahli Muda, Terampil or Pratama."),
    )
    org_unit_id = SelectField(_l("Org unit"), coerce=int)
    submit = SubmitField(_l("Save"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(message=_l("Choose a CSV file.")),
            FileAllowed(["csv", "txt"], _l("Only .csv files can be imported.")),
        ],
    )
    submit = SubmitField(_l("Check the file"))


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    invite = BooleanField(_l("E-mail an invitation to each new employee"), default=True)
    submit = SubmitField(_l("Import"))


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired()])
    next = HiddenField()
