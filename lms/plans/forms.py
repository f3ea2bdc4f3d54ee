"""Forms of the plans module (CSRF through Flask-WTF; values are checked by the service)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class CsrfForm(FlaskForm):
    """A form with only the CSRF token."""
