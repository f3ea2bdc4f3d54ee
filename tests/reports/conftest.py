"""Fixtures for HR reporting: two OPDs of one Pemda with employees, HR users scoped to
one OPD and to the whole Pemda, and statement helpers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from lms.competency import service as competency
from lms.db import get_session
from lms.people import service as people
from lms.people.models import PositionKind
from tests import factories
from tests.helpers import actor, send  # noqa: F401  (shared helpers)

BASE = "http://lentera.test"


def completed_with_jp(user: Any, activity: str, jp: float, when: dt.datetime | None = None,
                      **extra: Any) -> dict[str, Any]:
    """A completed statement carrying the documented JP result extension."""
    data = {
        "id": str(uuid.uuid4()), "actor": actor(user),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                 "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": activity,
                   "definition": {"name": {"en-US": "External course"}}},
        "result": {"completion": True, "extensions": {f"{BASE}/xapi/extensions/jp": jp}},
        "timestamp": (when or dt.datetime.now(dt.UTC)).isoformat(),
    }
    data.update(extra)
    return data


@pytest.fixture
def org(app: Any, users: dict[str, Any]) -> dict[str, Any]:
    """Pemda > {Dinas A > Bidang A1, Dinas B}; two employees in each OPD; the ``hr`` user
    works in Dinas A (default scope: Dinas A); ``hr_all`` is scoped to the Pemda."""
    competency.load_shipped_frameworks()
    pemda = factories.make_org_unit("Pemkab Uji")
    dinas_a = factories.make_org_unit("Dinas A", pemda)
    bidang_a1 = factories.make_org_unit("Bidang A1", dinas_a)
    dinas_b = factories.make_org_unit("Dinas B", pemda)
    staff_a = factories.make_position(bidang_a1, name="Analis A", kind=PositionKind.PELAKSANA)
    staff_b = factories.make_position(dinas_b, name="Analis B", kind=PositionKind.FUNGSIONAL)
    hr_pos = factories.make_position(dinas_a, name="Analis SDM", kind=PositionKind.FUNGSIONAL)
    start = dt.date(2024, 1, 1)
    a1 = factories.make_user(name="Ani Dinas A")
    a2 = factories.make_user(name="Budi Dinas A")
    b1 = factories.make_user(name="Citra Dinas B")
    b2 = factories.make_user(name="Dedi Dinas B")
    for user, position in ((a1, staff_a), (a2, staff_a), (b1, staff_b), (b2, staff_b),
                           (users["hr"], hr_pos)):
        people.assign_position(user, position, start)
    hr_all = factories.make_user(name="HR Pemda", roles=["hr"], email="hrall@test.lentera.local",
                                 password=factories.PASSWORD)
    from lms.reports.scope import set_scope

    set_scope(hr_all, pemda)
    codes = {c.code: c for c in competency.all_competencies()}
    competency.set_requirements(staff_a, {codes["M.03"].id: 2, codes["M.05"].id: 1})
    competency.set_requirements(staff_b, {codes["M.03"].id: 3})
    get_session().commit()
    return {"pemda": pemda, "dinas_a": dinas_a, "bidang_a1": bidang_a1, "dinas_b": dinas_b,
            "staff_a": staff_a, "staff_b": staff_b, "a1": a1, "a2": a2, "b1": b1, "b2": b2,
            "hr_all": hr_all, "codes": codes}


@pytest.fixture
def as_user(client: Any) -> Any:
    """Sign the test client in as any user."""

    def login(user: Any) -> Any:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return login
