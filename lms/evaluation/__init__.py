"""Training evaluation on four levels (see docs/evaluation.md and
:mod:`lms.evaluation.service`): reaction surveys, learning from quizzes, supervisor
follow-ups with e-mail reminders, and results HR links to a course or training."""

from __future__ import annotations

from flask import Flask

DEFAULTS = {
    "EVALUATION_FOLLOWUP_WEEKS": 6,  # level 3 falls due this long after the completion
    "EVALUATION_REMINDER_DAYS": 7,  # between e-mails to a supervisor
    "EVALUATION_MAX_REMINDERS": 3,
}


def init_app(app: Flask) -> None:
    # The ``evaluation`` statement consumer registers through the lms.statement_consumers
    # entry-point group (pyproject.toml), like every built-in consumer.
    from lms.evaluation import tasks  # noqa: F401  (registers the Celery task)
    from lms.evaluation.cli import evaluation_group
    from lms.evaluation.views import evaluation_bp, home_panel
    from lms.web import register_home_panel

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(evaluation_bp)
    app.cli.add_command(evaluation_group)
    from flask_babel import lazy_gettext as _l

    from lms.mail import register_category

    register_category("evaluation", _l("Training follow-up: does your employee apply what "
                                       "they learned?"), _l("Supervisors"),
                      description=_l("A few weeks after an employee of yours completes a "
                                     "training, with reminders."))
    register_home_panel(home_panel)
    app.jinja_env.globals["evaluation_open_for_course"] = open_for_course


def open_for_course(course_id: int) -> object:
    """The signed-in learner's open reaction survey of a course, or None (for the course
    page: ``{% include "evaluation/_course.html" ignore missing %}``)."""
    from flask_login import current_user

    from lms.evaluation.service import open_reaction

    if not getattr(current_user, "is_authenticated", False):
        return None
    return open_reaction(current_user, course_id)
