"""The content types the course player plays itself, declared in ``lms.content_types``
(see :mod:`lms.plugins.content`). ``cmi5`` is declared by :mod:`lms.authoring`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.plugins.content import ContentType


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


class Quiz(_Courses):
    name = "quiz"
    label = _l("Quiz")
    self_paced = False
