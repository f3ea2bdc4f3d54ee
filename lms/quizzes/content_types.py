"""The ``quiz`` module kind (declared in ``lms.content_types``): its pages are the
quiz's own (:mod:`lms.quizzes.views`), not the course player's module page."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from lms.plugins.content import ContentType


class Quiz(ContentType):
    name = "quiz"
    label = _l("Quiz")
    self_paced = False
    #: Only registered when this module is part of the app (lms.MODULES).
    module = "lms.quizzes"

    def url(self, slug: str, module: dict[str, Any]) -> str | None:
        return url_for("quizzes.quiz", slug=slug, quiz_id=module["id"])
