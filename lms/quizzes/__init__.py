"""Quiz delivery and grading through the question-type registry (lms.quizzes.grading).

The quiz pages are part of the course player (lms.courses.views); this package holds the
question types, attempts and grading, which know nothing of Flask's request.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to wire: quiz pages live in the course blueprint."""
