"""The learner's panel on the home page: my courses, what to do next, JP this year."""

from __future__ import annotations

from typing import Any

from lms.courses import service
from lms.people.models import User


def learner_panel(user: User) -> tuple[str, dict[str, Any]] | None:
    """Home panel (see lms.web.register_home_panel) for anyone who learns."""
    items = service.my_courses(user)
    jp = service.jp_this_year(user)
    active = [i for i in items if i["completion"] is None]
    done = [i for i in items if i["completion"] is not None]
    suggestions = []
    if len(active) < 3:
        enrolled = {i["course"].id for i in items}
        suggestions = [c for c in service.search_catalog() if c.id not in enrolled][:3]
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
