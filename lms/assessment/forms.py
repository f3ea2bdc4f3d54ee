"""Forms of the assessment module (CSRF through Flask-WTF; the questionnaire and the
rater lists are hand-built tables of inputs read by the service)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class CsrfForm(FlaskForm):
    """A form with only the CSRF token."""
