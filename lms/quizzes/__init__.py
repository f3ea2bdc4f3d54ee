"""Quiz delivery and grading through the question-type registry (lms.quizzes.grading).

The quiz pages are part of the course player (lms.courses.views); this package holds the
question types, attempts, saved answers and grading, which know nothing of Flask's
request, and the closing of attempts whose time ran out (:mod:`lms.quizzes.expiry`, with
``lms quizzes close-expired`` and the ``lms.quizzes.close_expired`` task).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The CLI group and the Celery task (the pages live in the course blueprint)."""
    from lms.quizzes import tasks  # noqa: F401  (registers the Celery task)
    from lms.quizzes.cli import quizzes_group

    app.cli.add_command(quizzes_group)
