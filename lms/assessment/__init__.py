"""Competency assessment: questionnaires built from the behaviour indicators of each
competency level; self, supervisor and 360 rounds; assessment-centre results. Every
result is an xAPI statement that the competency engine turns into evidence.

- :mod:`lms.assessment.models`, :mod:`lms.assessment.scoring` (pure),
  :mod:`lms.assessment.service`, :mod:`lms.assessment.views` (``/assessment``),
  :mod:`lms.assessment.demo`. See docs/assessment.md.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint (the models are imported for the migrations)."""
    from lms.assessment import models  # noqa: F401
    from lms.assessment.notify import register
    from lms.assessment.views import assessment_bp, home_panel
    from lms.web import register_home_panel

    app.register_blueprint(assessment_bp)
    register_home_panel(home_panel)
    register()  # its kinds of e-mail (lms.mail)
