"""The learner's panel on the home page: my courses, what to do next, JP this year."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.courses import service
from lms.courses.content_types import module_url
from lms.courses.models import ModuleProgress
from lms.db import get_session
from lms.people.models import User


def _add_next_steps(user: User, items: list[dict[str, Any]]) -> None:
    """Give each course in progress its next module (title and link): what to do next."""
    if not items:
        return
    rows: dict[int, dict[str, ModuleProgress]] = {}
    for row in get_session().scalars(
        sa.select(ModuleProgress).where(
            ModuleProgress.user_id == user.id,
            ModuleProgress.course_id.in_([i["course"].id for i in items]),
        )
    ):
        rows.setdefault(row.course_id, {})[row.module_id] = row
    versions = service.pinned_versions([item["enrollment"] for item in items])
    for item in items:
        course = item["course"]
        version = versions.get(item["enrollment"].id)
        if version is None:
            continue
        definition = service.definition_of(version)
        module = service.next_module(definition, rows.get(course.id, {}))
        if module is None:
            continue
        item["next"] = {"title": module["title"], "url": module_url(course.slug, module)}


def learner_panel(user: User) -> tuple[str, dict[str, Any]] | None:
    """Home panel (see lms.web.register_home_panel) for anyone who learns."""
    items = service.my_courses(user)
    from lms.plugins.registry import JP

    jp = JP["jp_total"](user, JP["this_year"]())
    active = [i for i in items if i["completion"] is None][:4]
    _add_next_steps(user, active)
    done = [i for i in items if i["completion"] is not None]
    suggestions = []
    if len(active) < 3:
        enrolled = {i["course"].id for i in items}
        suggestions = [c for c in service.catalog_listing() if c.id not in enrolled][:3]
    target = service.JP_TARGET_PER_YEAR
    return "courses/_panel.html", {
        "active": active,
        "done": done[:5],
        "jp": jp,
        "target": target,
        "jp_percent": min(100, round(100 * jp / target)) if target else 100,
        "suggestions": suggestions,
        "year": service.local_year(service.utcnow()),
    }
