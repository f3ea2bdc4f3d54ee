"""Fixtures of assignments: the HR reporting organisation (two OPDs, scoped HR users), a
course, and helpers that complete courses and trainings through the LRS."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tests.reports.conftest import BASE, actor, completed_with_jp, org, send  # noqa: F401


def course_completed(user: Any, slug: str, when: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()), "actor": actor(user),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                 "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": f"{BASE}/courses/{slug}"},
        "result": {"completion": True},
        "timestamp": (when or dt.datetime.now(dt.UTC)).isoformat(),
    }


@pytest.fixture
def course(app: Any) -> Any:
    from tests import factories

    return factories.import_sample_course("integritas-antikorupsi")
