"""Content types: the module kinds a course is made of (``lms.content_types`` group).

A content type names a module kind (``kind:`` of a module in a course) and says who plays
it. Lentera's own — ``lesson``, ``video``, ``embed`` and ``quiz`` (played by the course
player in :mod:`lms.courses.views`) and ``cmi5`` (played by :mod:`lms.authoring`) — are
declared in the group like a plugin's, so the registry below is the one list of kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lms.plugins.registry import Registry, registry


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
    ``url(slug, module)``
        the address of a module of this kind when it has pages of its own (a quiz's intro
        page); ``None`` (the default): the module page ``/courses/<slug>/modules/<id>``.
    ``package_max_bytes``, ``check_package(data)``
        for a kind played from a package file of the course (an .h5p): its size limit
        (``None``: the kind has no package) and a check that raises
        :class:`lms.errors.LmsError` when the file cannot be played (the course format
        and the editor call it before a file is kept);
    ``preview(path, title)``
        markup of a trainer's preview of such a package (``None``: no preview).
    """

    name: str = ""
    label: Any = ""
    self_paced: bool = False
    player: Any = None
    package_max_bytes: int | None = None

    def url(self, slug: str, module: dict[str, Any]) -> str | None:
        return None

    def check_package(self, data: bytes) -> None:
        return None

    def preview(self, path: Path, title: str) -> Any:
        return None

    def __repr__(self) -> str:
        return f"<ContentType {self.name}>"


#: name -> ContentType (the ``content_types`` registry), filled by
#: :func:`lms.plugins.init_app` from the group.
CONTENT_TYPES: Registry[ContentType] = registry("content_types")
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
