"""Forms of the trainer pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from lms.web import select_choices

SLUG_RULE = Regexp(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$",
                   message=_l("Use lower-case letters, digits and '-' (3 to 80 characters)."))
CODE_RULE = Regexp(r"^[A-Z]{1,4}(\.[A-Z0-9]{1,8}){1,3}$",
                   message=_l("A competency code looks like M.03, SK.01 or T.KEU."))


def level_choices() -> list[object]:
    return select_choices([("dasar", _l("Basic")), ("menengah", _l("Intermediate")),
                           ("lanjut", _l("Advanced"))])


class CourseCreateForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Short name (in the address)"), validators=[DataRequired(), SLUG_RULE],
                       description=_l("e.g. etika-pelayanan; it cannot change later."))
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=1000)])
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=100)])
    jp = DecimalField(_l("Learning hours (JP)"), places=1,
                      validators=[DataRequired(), NumberRange(min=0.5, max=200)])
    competency = StringField(_l("Target competency"), default="M.01",
                             validators=[DataRequired(), CODE_RULE])
    competency_level = IntegerField(_l("Target level"), default=1,
                                    validators=[DataRequired(), NumberRange(min=1, max=5)])


class CourseSettingsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=1000)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Optional()])
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=100)])
    tags = StringField(_l("Tags (comma-separated)"), validators=[Optional(), Length(max=500)])
    jp = DecimalField(_l("Learning hours (JP)"), places=1,
                      validators=[DataRequired(), NumberRange(min=0.5, max=200)])
    level = SelectField(_l("Level"))
    competencies = TextAreaField(
        _l("Competency targets"), validators=[DataRequired()],
        description=_l("One per line: code and level, e.g. 'M.05 2'."))
    completion_quizzes = SelectField(_l("Quizzes to pass for completion"))
    completion_modules = SelectField(_l("Lessons to complete for completion"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.level.choices = level_choices()
        self.completion_quizzes.choices = select_choices(
            [("all", _l("All quizzes")), ("none", _l("None (quizzes are practice)"))])
        self.completion_modules.choices = select_choices(
            [("all", _l("All lessons")), ("none", _l("None"))])


class LessonForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"))
    minutes = IntegerField(_l("Study time (minutes)"),
                           validators=[Optional(), NumberRange(min=1, max=600)])
    video = StringField(_l("Video (a file uploaded below, or a YouTube/Vimeo link)"),
                        validators=[Optional(), Length(max=500)])
    embed = StringField(_l("Embedded page (https address on an allowed host)"),
                        validators=[Optional(), Length(max=500)])
    height = IntegerField(_l("Height of the embedded frame (pixels)"), default=480,
                          validators=[Optional(), NumberRange(min=200, max=2000)])
    h5p = StringField(_l("H5P package (an .h5p file uploaded below)"),
                      validators=[Optional(), Length(max=500)])
    body = TextAreaField(_l("Content (Markdown)"), validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = select_choices([("lesson", _l("Lesson")), ("video", _l("Video")),
                                            ("embed", _l("Embedded content")),
                                            ("h5p", _l("Interactive H5P package"))])


class QuizSettingsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Instructions"), validators=[Optional()])
    pass_mark = DecimalField(_l("Pass mark (%)"), places=0, default=70,
                             validators=[DataRequired(), NumberRange(min=0, max=100)])
    attempts = IntegerField(_l("Attempts allowed (0 = unlimited)"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=100)])
    time_limit_minutes = IntegerField(_l("Time limit (minutes, empty = none)"),
                                      validators=[Optional(), NumberRange(min=1, max=600)])
    shuffle_questions = BooleanField(_l("Shuffle questions"))
    shuffle_choices = BooleanField(_l("Shuffle choices"))
    feedback_passed = TextAreaField(_l("Message when passed"), validators=[Optional()])
    feedback_failed = TextAreaField(_l("Message when not passed"), validators=[Optional()])


class ModuleAddForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = select_choices([("lesson", _l("Lesson")), ("video", _l("Video")),
                                            ("embed", _l("Embedded content")),
                                            ("h5p", _l("Interactive H5P package")),
                                            ("quiz", _l("Quiz"))])


class TrainerForm(FlaskForm):
    user = StringField(_l("E-mail or NIP of the co-trainer"),
                       validators=[DataRequired(), Length(max=200)])


class PackageForm(FlaskForm):
    package = FileField(_l("Course package (.zip)"), validators=[FileRequired()])


class Cmi5Form(FlaskForm):
    package = FileField(_l("cmi5 package (.zip with cmi5.xml)"), validators=[FileRequired()])
    slug = StringField(_l("Short name (in the address)"), validators=[DataRequired(), SLUG_RULE])
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=100)])
    jp = DecimalField(_l("Learning hours (JP)"), places=1,
                      validators=[DataRequired(), NumberRange(min=0.5, max=200)])
    competency = StringField(_l("Target competency"), default="M.01",
                             validators=[DataRequired(), CODE_RULE])
    competency_level = IntegerField(_l("Target level"), default=1,
                                    validators=[DataRequired(), NumberRange(min=1, max=5)])


class UploadForm(FlaskForm):
    file = FileField(_l("Image, video or H5P package"), validators=[FileRequired()])


class CoverForm(FlaskForm):
    cover = FileField(_l("Cover image (PNG, JPEG, GIF, WebP or SVG; at most 1 MB)"))
    cover_alt = StringField(_l("What the image shows (for screen readers)"),
                            validators=[Length(max=300)])
