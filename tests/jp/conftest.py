"""Fixtures for the JP module: a Pemda with two OPDs, a head of Bidang A1 (the supervisor of
its staff), employees, and HR scoped to Dinas A; helpers to submit learning."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

from lms.db import get_session
from lms.people import service as people
from lms.people.models import PositionKind
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def org(app: Any, users: dict[str, Any]) -> dict[str, Any]:
    from lms.competency import service as competency

    competency.load_shipped_frameworks()
    pemda = factories.make_org_unit("Pemkab Uji")
    dinas_a = factories.make_org_unit("Dinas A", pemda)
    bidang_a1 = factories.make_org_unit("Bidang A1", dinas_a)
    dinas_b = factories.make_org_unit("Dinas B", pemda)
    head_pos = factories.make_position(bidang_a1, name="Kepala Bidang",
                                       kind=PositionKind.ADMINISTRATOR)
    staff_a = factories.make_position(bidang_a1, name="Analis A", kind=PositionKind.PELAKSANA)
    staff_b = factories.make_position(dinas_b, name="Analis B", kind=PositionKind.FUNGSIONAL)
    hr_pos = factories.make_position(dinas_a, name="Analis SDM", kind=PositionKind.FUNGSIONAL)
    start = dt.date(2024, 1, 1)
    head = factories.make_user(name="Kepala Bidang A1", email="head@test.lentera.local",
                               password=factories.PASSWORD)
    a1 = factories.make_user(name="Ani Dinas A", email="ani@test.lentera.local",
                             password=factories.PASSWORD)
    a2 = factories.make_user(name="Budi Dinas A")
    b1 = factories.make_user(name="Citra Dinas B", email="citra@test.lentera.local")
    for user, position in ((head, head_pos), (a1, staff_a), (a2, staff_a), (b1, staff_b),
                           (users["hr"], hr_pos)):
        people.assign_position(user, position, start)
    get_session().commit()
    return {"pemda": pemda, "dinas_a": dinas_a, "dinas_b": dinas_b, "head": head, "a1": a1,
            "a2": a2, "b1": b1, "hr": users["hr"]}


def sign_in(client: Any, user: Any) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def form(**overrides: Any) -> dict[str, Any]:
    today = dt.date.today()
    data: dict[str, Any] = {
        "title": "Seminar Nasional Transformasi Digital", "type_id": "9",
        "provider": "Kementerian PANRB", "start_date": today.isoformat(),
        "end_date": today.isoformat(), "amount": "6", "unit": "hours",
        "certificate_number": "SEM-2026-001", "certificate_url": "",
        "competencies": "", "certificate": (io.BytesIO(PDF), "sertifikat.pdf"),
    }
    data.update(overrides)
    return data
