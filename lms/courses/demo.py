"""Demo content: the sample courses in the repository's courses/ folder (idempotent)."""

from __future__ import annotations

from flask import current_app

from lms.config import PROJECT_ROOT
from lms.courses import service
from lms.courses.format import find_course_folders, load_course_folder


def load_demo() -> str:
    """Import every sample course; unchanged courses get no new version."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for folder in find_course_folders(PROJECT_ROOT / "courses"):
        loaded = load_course_folder(
            folder, current_app.config.get("EMBED_ALLOWED_HOSTS"), label=f"courses/{folder.name}"
        )
        counts[service.import_course(loaded, source=f"courses/{folder.name}").status] += 1
    return (
        f"Courses: {counts['created']} new, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged."
    )
