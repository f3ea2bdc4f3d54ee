"""The package import form (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.authoring.forms import SLUG_RULE


class PackageImportForm(FlaskForm):
    package = FileField(_l("SCORM package (.zip with imsmanifest.xml)"),
                        validators=[FileRequired()])
    slug = StringField(_l("Short name (in the address)"), validators=[DataRequired(), SLUG_RULE],
                       description=_l("e.g. etika-pelayanan. Import a package again under the "
                                      "same short name to publish a new version."))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)],
                        description=_l("Leave empty to use the title in the package."))
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=1000)],
                            description=_l("Leave empty to use the description in the package."))
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=100)])
    jp = DecimalField(_l("Learning hours (JP)"), places=1,
                      validators=[DataRequired(), NumberRange(min=0.5, max=200)])
    competencies = TextAreaField(_l("Target competencies"), default="M.01 1",
                                 validators=[DataRequired(), Length(max=2000)],
                                 description=_l("One per line: a code and a level 1-5, "
                                                "e.g. 'M.05 2'."))
    cover = FileField(_l("Cover image (PNG, JPEG, GIF or WebP; at most 1 MB)"))
    cover_alt = StringField(_l("What the image shows (for screen readers)"),
                            validators=[Optional(), Length(max=300)])


class PackageSettingsForm(FlaskForm):
    """The settings of a SCORM course, saved as a new version with the same package."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=1000)])
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=100)])
    jp = DecimalField(_l("Learning hours (JP)"), places=1,
                      validators=[DataRequired(), NumberRange(min=0.5, max=200)])
    competencies = TextAreaField(_l("Target competencies"),
                                 validators=[DataRequired(), Length(max=2000)],
                                 description=_l("One per line: a code and a level 1-5, "
                                                "e.g. 'M.05 2'."))
    cover = FileField(_l("New cover image (PNG, JPEG, GIF or WebP; at most 1 MB)"),
                      description=_l("Leave empty to keep the current cover."))
    cover_alt = StringField(_l("What the image shows (for screen readers)"),
                            validators=[Optional(), Length(max=300)])
    remove_cover = BooleanField(_l("Remove the cover"))
