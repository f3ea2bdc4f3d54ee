"""Fixtures of the assessment tests: a small unit with a supervisor, staff and HR."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from lms.competency import service as competency
from lms.competency.models import Competency, UserCompetency
from lms.db import get_session
from lms.people import service as people
from lms.people.models import PositionKind
from tests import factories
from tests.helpers import login  # noqa: F401  (shared helper)


@pytest.fixture
def org(app: Any) -> dict[str, Any]:
    """Frameworks; an OPD with a bidang led by a pengawas; two staff and HR; a second OPD
    with an outsider and an HR officer scoped to it."""
    competency.load_shipped_frameworks()
    opd = factories.make_org_unit("Dinas Uji")
    bidang = factories.make_org_unit("Bidang Uji", opd)
    other_opd = factories.make_org_unit("Dinas Lain")
    lead_pos = factories.make_position(bidang, name="Kepala Bidang", kind=PositionKind.PENGAWAS)
    staff_pos = factories.make_position(bidang, name="Analis", kind=PositionKind.PELAKSANA)
    other_pos = factories.make_position(other_opd, name="Pengelola", kind=PositionKind.PELAKSANA)
    hr_pos = factories.make_position(opd, name="Analis SDM", kind=PositionKind.FUNGSIONAL)
    hr_other_pos = factories.make_position(other_opd, name="Analis SDM Lain",
                                           kind=PositionKind.FUNGSIONAL)
    made = {}
    for key, pos, roles in (("employee", staff_pos, ["learner"]), ("peer", staff_pos, ["learner"]),
                            ("peer2", staff_pos, ["learner"]),
                            ("supervisor", lead_pos, ["learner"]),
                            ("outsider", other_pos, ["learner"]), ("hr", hr_pos, ["hr"]),
                            ("hr_other", hr_other_pos, ["hr"])):
        user = factories.make_user(roles=roles, password=factories.PASSWORD,
                                   email=f"{key}@assess.lentera.local", name=f"Orang {key}")
        people.assign_position(user, pos, dt.date(2024, 1, 1))
        made[key] = user
    admin = factories.make_user(roles=["admin"], email="admin@assess.lentera.local", nip=None)
    made["admin"] = admin
    ids = {c.code: c.id for c in competency.all_competencies()}
    competency.set_requirements(staff_pos, {ids["M.01"]: 3, ids["M.03"]: 2})
    get_session().commit()
    return made


def answers_for(codes: dict[str, int]) -> dict[str, str]:
    """Form data that answers the questionnaire so that each code reaches its level."""
    data: dict[str, str] = {}
    for code, target in codes.items():
        competency_row = get_session().scalar(sa.select(Competency).where(Competency.code == code))
        for level in competency_row.levels:
            for i, _text in enumerate(level.indicators):
                data[f"a-{code}-{level.level}.{i}"] = "3" if level.level <= target else "0"
    return data


def level_of(user: Any, code: str) -> int:
    get_session().expire_all()
    row = get_session().scalar(
        sa.select(UserCompetency).join(Competency)
        .where(UserCompetency.user_id == user.id, Competency.code == code))
    return row.level if row else 0
