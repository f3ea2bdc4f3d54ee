"""Content types: the module kinds a course is made of (``lms.content_types`` group).

A content type names a module kind (``kind:`` of a module in a course) and says who plays
it. Lentera's own — ``lesson``, ``video``, ``embed`` and ``quiz`` (played by the course
player in :mod:`lms.courses.views`) and ``cmi5`` (played by :mod:`lms.authoring`) — are
declared in the group like a plugin's, so the registry below is the one list of kinds.
"""

from __future__ import annotations

from typing import Any


class ContentType:
    """One module kind. Subclass it and declare it in ``lms.content_types``:

    ``name``
        the module kind (``kind`` of a module in a course definition), equal to the
        entry-point name;
    ``label``
        what trainers and learners read (translate it with ``lazy_gettext``);
    ``self_paced``
        the learner marks a module of this kind done (lessons); ``False`` when the content
        reports its own completion (quizzes, cmi5 moveOn);
    ``player(slug, module)``
        the response for the module's page (``/courses/<slug>/modules/<id>``), called in
        the request with the course slug and the module's definition (a dict with ``id``,
        ``kind``, ``title`` and the kind's own fields). Types played by the course player
        itself leave it as ``None``.
    """

    name: str = ""
    label: Any = ""
    self_paced: bool = False
    player: Any = None

    def __repr__(self) -> str:
        return f"<ContentType {self.name}>"


#: name -> ContentType, filled by :func:`lms.plugins.init_app` from the group.
CONTENT_TYPES: dict[str, ContentType] = {}
#: Kinds the course player (lms.courses.views) plays itself.
PLAYED_BY_COURSES = frozenset({"lesson", "video", "embed", "quiz"})


def content_types() -> dict[str, ContentType]:
    """Every registered content type by name (built-in and plugin)."""
    return dict(CONTENT_TYPES)


def content_type(name: str) -> ContentType | None:
    return CONTENT_TYPES.get(name)


def content_type_label(name: str) -> str:
    """The label a content type declares, in the current language ("" for an unknown
    kind); templates call it as ``content_type_label(kind)``."""
    found = CONTENT_TYPES.get(name)
    return str(found.label) if found is not None and found.label else ""
