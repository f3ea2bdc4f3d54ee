"""Fixtures for the credentials tests: a course completion with a certificate."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from lms.competency import service as competency_service
from lms.courses.models import Completion, Course
from lms.db import get_session
from tests import factories


@pytest.fixture
def frameworks(app: Any) -> dict[str, Any]:
    competency_service.load_shipped_frameworks()
    get_session().commit()
    return {c.code: c for c in competency_service.all_competencies()}


@pytest.fixture
def certificate(app: Any, users: dict[str, Any], frameworks: dict[str, Any]) -> Completion:
    """The learner completed "Komunikasi Publik" (4 JP) proving M.03 level 2, M.05 level 1."""
    factories.make_org_unit("Pemerintah Kabupaten Sukamaju")
    session = get_session()
    course = Course(
        slug="komunikasi-publik",
        title="Komunikasi Publik",
        summary="Berkomunikasi dengan warga secara jelas dan santun.",
        jp=4,
        competencies=[{"code": "M.03", "level": 2}, {"code": "M.05", "level": 1}],
    )
    session.add(course)
    session.flush()
    completion = Completion(
        user_id=users["learner"].id,
        course_id=course.id,
        course_version=1,
        course_title=course.title,
        jp=4.0,
        competencies=course.competencies,
        completed_at=dt.datetime(2026, 3, 2, 4, 5, 6, tzinfo=dt.UTC),
        statement_id=str(uuid.uuid4()),
        certificate_number="LEN-2026-000123",
    )
    session.add(completion)
    session.commit()
    return completion
