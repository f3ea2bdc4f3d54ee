"""The content types the course player plays itself, declared in ``lms.content_types``
(see :mod:`lms.plugins.content`); ``quiz`` is declared by :mod:`lms.quizzes`, ``cmi5`` by
:mod:`lms.authoring`. :func:`module_url` is where a module of any kind is opened."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from lms.plugins.content import CONTENT_TYPES, ContentType


def module_url(slug: str, module: dict[str, Any]) -> str:
    """Where a learner opens ``module`` of course ``slug``: its kind's own page, or the
    course player's module page."""
    kind = CONTENT_TYPES.get(module["kind"])
    own = kind.url(slug, module) if kind is not None else None
    return own or url_for("courses.module", slug=slug, module_id=module["id"])


class _Courses(ContentType):
    #: Only registered when this module is part of the app (lms.MODULES).
    module = "lms.courses"


class Lesson(_Courses):
    name = "lesson"
    label = _l("Lesson")
    self_paced = True


class Video(_Courses):
    name = "video"
    label = _l("Video")
    self_paced = True


class Embed(_Courses):
    name = "embed"
    label = _l("Embedded content")
    self_paced = True
