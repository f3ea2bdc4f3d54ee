"""Helpers for evaluation tests: a course, an org unit with a supervisor, completions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from lms.courses.statements import course_iri
from lms.db import get_session
from lms.people import service as people
from lms.people.models import PositionKind
from lms.xapi.actors import actor_for
from lms.xapi.service import store_statements
from tests import factories

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def complete(user: Any, iri: str, when: dt.datetime, statement_id: str | None = None) -> str:
    """Store (and commit) a ``completed`` statement of ``user`` about ``iri``."""
    sid = statement_id or str(uuid.uuid4())
    store_statements([{"id": sid, "actor": actor_for(user),
                       "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
                       "object": {"objectType": "Activity", "id": iri},
                       "result": {"completion": True}, "timestamp": iso(when)}])
    get_session().commit()
    return sid


@pytest.fixture
def course(app: Any) -> Any:
    return factories.import_sample_course("komunikasi-efektif", ["youtube.com"])


@pytest.fixture
def team(app: Any, users: Any) -> dict[str, Any]:
    """An OPD with a head of section (supervisor) and the test learner as staff; the HR
    user works in the same OPD (so it is in their scope)."""
    pemda = factories.make_org_unit("Pemkab Uji")
    opd = factories.make_org_unit("Dinas Komunikasi", parent=pemda)
    section = factories.make_org_unit("Seksi Layanan", parent=opd)
    boss = factories.make_user(name="Bu Kepala Seksi", email="kasi@contoh.go.id",
                               password=factories.PASSWORD)
    people.assign_position(boss, factories.make_position(section, kind=PositionKind.PENGAWAS),
                           dt.date(2024, 1, 1))
    people.assign_position(users["learner"], factories.make_position(section),
                           dt.date(2024, 1, 1))
    people.assign_position(users["hr"], factories.make_position(opd), dt.date(2024, 1, 1))
    get_session().commit()
    return {"pemda": pemda, "opd": opd, "section": section, "boss": boss,
            "learner": users["learner"]}


@pytest.fixture
def completed(course: Any, team: Any) -> dict[str, Any]:
    when = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)
    sid = complete(team["learner"], course_iri(course.slug), when)
    return {**team, "course": course, "when": when, "statement_id": sid}
