"""Quiz tests use the mini course of the course tests (every question type)."""

from __future__ import annotations

from tests.courses.conftest import course, course_dir  # noqa: F401  (fixtures)
