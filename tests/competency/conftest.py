"""Fixtures for the competency tests: the shipped frameworks, statement builders."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from lms.competency import service
from lms.db import get_session
from tests.helpers import actor, send, statement, void  # noqa: F401  (shared helpers)

BASE = "http://lentera.test"
ADL = "http://adlnet.gov/expapi/verbs/"
COURSE = f"{BASE}/courses/etika-pelayanan"
QUIZ = f"{COURSE}/quizzes/kuis"


@pytest.fixture
def frameworks(app: Any) -> dict[str, Any]:
    """The shipped frameworks, committed; competencies by code."""
    service.load_shipped_frameworks()
    get_session().commit()
    return {c.code: c for c in service.all_competencies()}


def completed(user: Any, activity: str = COURSE, **extra: Any) -> dict[str, Any]:
    return statement(user, "completed", activity, **extra)


def answered(user: Any, question: str, success: bool, registration: str,
             quiz: str = QUIZ) -> dict[str, Any]:
    return statement(user, "answered", question, result={"success": success},
                     context={"registration": registration, "contextActivities": {
                         "parent": [{"objectType": "Activity", "id": quiz}]}})


def quiz_result(user: Any, scaled: float, registration: str, quiz: str = QUIZ
                ) -> dict[str, Any]:
    verb = "passed" if scaled >= 0.7 else "failed"
    return statement(user, verb, quiz, result={"score": {"scaled": scaled},
                                               "success": scaled >= 0.7},
                     context={"registration": registration})


def level_of(user: Any, code: str) -> int:
    from lms.competency.models import Competency, UserCompetency

    return get_session().scalar(
        sa.select(UserCompetency.level).join(Competency)
        .where(UserCompetency.user_id == user.id, Competency.code == code)) or 0


def publish(course_iri: str = COURSE, *, targets: list[dict[str, Any]] | None = None,
            questions: list[dict[str, Any]] | None = None, version: int = 1,
            slug: str = "etika-pelayanan") -> dict[str, Any]:
    """Send ``course_version_published`` as the courses module does, and commit."""
    from flask import current_app

    from lms.signals import course_version_published

    payload = {
        "iri": course_iri, "slug": slug, "title": "Etika Pelayanan Publik",
        "version": version, "jp": 4,
        "targets": targets if targets is not None else [{"competency": "M.05", "level": 2}],
        "modules": [],
        "quizzes": [{"iri": f"{course_iri}/quizzes/kuis", "title": "Kuis",
                     "questions": questions or []}],
    }
    course_version_published.send(current_app._get_current_object(), course=payload)
    get_session().commit()
    return payload
