"""Fixtures of the plans tests: the assessment tests' small organisation, a course that
closes M.01 and a coaching route that closes M.03."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from lms.competency import service as competency
from lms.db import get_session
from lms.reports.needs import RouteSpec, add_route
from tests.assessment.conftest import login, org  # noqa: F401  (fixture)
from tests.helpers import send  # noqa: F401  (shared helper)

BASE = "http://lentera.test"
COURSE = f"{BASE}/courses/integritas-asn"


@pytest.fixture
def catalog(org: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    competency.apply_course_publication({
        "iri": COURSE, "slug": "integritas-asn", "title": "Integritas ASN", "jp": 8,
        "version": 1, "targets": [{"competency": "M.01", "level": 3}]})
    route = add_route(RouteSpec(competency_code="M.03", kind="coaching",
                                title="Coaching komunikasi", provider="BKPSDM", jp=6, level=2,
                                cost_per_jp=150000))
    get_session().commit()
    return {"course": COURSE, "route": route}


def completed(user: Any, activity: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": BASE, "name": user.nip}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"objectType": "Activity", "id": activity}}


__all__ = ["login", "org"]
