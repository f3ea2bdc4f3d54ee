"""Forms of the community pages (all CSRF-protected through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.community.models import REPORT_REASON_LABELS, THREAD_KIND_LABELS
from lms.community.service import BODY_MAX, REASON_MAX, TITLE_MAX
from lms.web import select_choices

MARKDOWN_HINT = _l("Markdown works: **bold**, *italic*, lists, `code`, [links](https://...).")


class CsrfForm(FlaskForm):
    """Only the CSRF token (buttons)."""


class ThreadForm(FlaskForm):
    kind = RadioField(
        _l("Kind"),
        default="question",
        choices=select_choices((k.value, v) for k, v in THREAD_KIND_LABELS.items()),
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(min=5, max=TITLE_MAX)],
        description=_l("A question or a short summary of the practice."),
    )
    body = TextAreaField(
        _l("Text"), validators=[DataRequired(), Length(max=BODY_MAX)], description=MARKDOWN_HINT
    )


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"),
        validators=[DataRequired(), Length(max=BODY_MAX)],
        description=MARKDOWN_HINT,
    )


class ReportForm(FlaskForm):
    reason = SelectField(
        _l("Reason"), choices=select_choices((k.value, v) for k, v in REPORT_REASON_LABELS.items())
    )
    detail = TextAreaField(
        _l("Explanation (optional)"), validators=[Optional(), Length(max=REASON_MAX)]
    )


class ModerateForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=REASON_MAX)],
        description=_l("Recorded in the moderation log."),
    )


class TopicForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=2000)], description=MARKDOWN_HINT
    )


class ModeratorForm(FlaskForm):
    user = StringField(_l("E-mail or NIP"), validators=[DataRequired(), Length(max=254)])


class SettingsForm(FlaskForm):
    email_opt_out = BooleanField(_l("Do not send me community e-mails"))
