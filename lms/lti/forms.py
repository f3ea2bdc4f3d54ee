"""Forms of the LTI admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.lti.models import MATCH_EMAIL, MATCH_NIP
from lms.web import select_choices


class PlatformForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("How the platform is shown here, e.g. Moodle BPSDM."))
    issuer = StringField(_l("Issuer (platform ID)"), validators=[DataRequired(),
                                                                  Length(max=500)],
                         description=_l("Moodle: the site address, e.g. "
                                        "https://elearning.bpsdm.example.go.id"))
    client_id = StringField(_l("Client ID"), validators=[DataRequired(), Length(max=255)],
                            description=_l("The client ID the platform gave Lentera."))
    deployment_ids = TextAreaField(_l("Deployment IDs (one per line)"),
                                   validators=[DataRequired(), Length(max=5000)])
    auth_url = StringField(_l("Authentication request URL"),
                           validators=[DataRequired(), Length(max=1000)],
                           description=_l("Moodle: …/mod/lti/auth.php"))
    token_url = StringField(_l("Access token URL"), validators=[Optional(), Length(max=1000)],
                            description=_l("Moodle: …/mod/lti/token.php (needed for grades "
                                           "and rosters)"))
    jwks_url = StringField(_l("Public keyset URL"), validators=[DataRequired(),
                                                                 Length(max=1000)],
                           description=_l("Moodle: …/mod/lti/certs.php"))
    frame_origins = TextAreaField(
        _l("Origins that may frame Lentera (one per line)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Empty: the origins of the issuer and of the authentication URL."))
    match_by = SelectField(_l("Match platform users to Lentera accounts by"),
                           default=MATCH_EMAIL)
    nip_claim = SelectField(_l("Where the platform sends the NIP"), default="custom.nip")
    create_users = BooleanField(_l("Create an account for a platform user Lentera does not "
                                   "know"), default=True)
    grant_trainer = BooleanField(_l("Platform instructors become Lentera trainers"))
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.match_by.choices = select_choices([
            (MATCH_EMAIL, _l("E-mail address (email claim)")),
            (MATCH_NIP, _l("NIP (the claim chosen below)")),
        ])
        self.nip_claim.choices = select_choices([
            ("custom.nip", _l("Custom parameter nip (e.g. nip=$User.username in Moodle)")),
            ("lis.person_sourcedid", _l("LIS person sourcedId (Moodle: ID number)")),
            ("preferred_username", _l("preferred_username")),
            ("sub", _l("The platform user ID (sub)")),
        ])


class InviteForm(FlaskForm):
    hours = DecimalField(_l("Valid for (hours)"), default=24, places=0,
                         validators=[DataRequired(), NumberRange(min=1, max=720)])


class ActionForm(FlaskForm):
    """An empty form: CSRF for the buttons."""
