"""Quiz delivery and grading through the question-type registry (lms.quizzes.grading).

The quiz pages are part of the course player (lms.courses.views); this package holds the
question types, attempts, saved answers and grading, which know nothing of Flask's
request, and the closing of attempts whose time ran out (:mod:`lms.quizzes.expiry`, with
``lms quizzes close-expired`` and the ``lms.quizzes.close_expired`` task).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The quiz pages, the CLI group, the Celery task, and the templates of plugin
    question types."""
    from lms.quizzes import tasks  # noqa: F401  (registers the Celery task)
    from lms.quizzes.cli import quizzes_group
    from lms.quizzes.views import quizzes_bp

    app.register_blueprint(quizzes_bp)
    app.cli.add_command(quizzes_group)
    _add_plugin_templates(app)


def _add_plugin_templates(app: Flask) -> None:
    """Plugin question types keep their templates in their own ``template_folder``."""
    from pathlib import Path

    from jinja2 import ChoiceLoader, FileSystemLoader

    from lms.quizzes.grading import plugin_question_types

    folders: list[str] = []
    for qt in plugin_question_types().values():
        folder = getattr(qt, "template_folder", None)
        if folder and str(Path(folder)) not in folders:
            folders.append(str(Path(folder)))
    if folders:
        assert app.jinja_loader is not None
        app.jinja_loader = ChoiceLoader([app.jinja_loader,
                                         *(FileSystemLoader(f) for f in folders)])
