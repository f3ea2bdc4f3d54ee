"""Courses and the learner's journey: the courses/ format, catalog, enrolment, module
player, progress and completion (derived from xAPI), certificates and transcripts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.courses import api  # noqa: F401  (adds /api/v1 routes before lms.api registers)
    from lms.courses.cli import course_schema_command, import_courses_command
    from lms.courses.dashboard import learner_panel
    from lms.courses.issuers import issuers_bp
    from lms.courses.views import courses_bp, verify_bp
    from lms.web import register_home_panel

    app.config.setdefault("EMBED_ALLOWED_HOSTS", [])
    # Who issues certificates when Administration -> Certificates says nothing (per field).
    for key in ("ISSUER_NAME", "AGENCY_NAME", "SIGNATORY_NAME", "SIGNATORY_NIP",
                "SIGNATORY_TITLE", "PLACE", "LOGO"):
        app.config.setdefault(f"CERTIFICATE_{key}", "")
    app.register_blueprint(courses_bp)
    app.register_blueprint(issuers_bp)
    app.register_blueprint(verify_bp)
    app.cli.add_command(import_courses_command)
    app.cli.add_command(course_schema_command)
    register_home_panel(learner_panel)
    from lms.courses.notify import register

    register()  # its kind of e-mail (lms.mail)
    # The learning ledger (statement consumer "courses"), the content types lesson, video,
    # embed and quiz, and the certificate and transcript jobs are declared in the
    # entry-point groups of pyproject.toml and registered by lms.plugins.
