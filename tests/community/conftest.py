"""Fixtures for the community: a course with an enrolled learner and its trainer, two
OPDs, and a record of the e-mails the community queues."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lms.courses import service as courses
from lms.courses.format import load_course_folder
from lms.db import get_session
from lms.people import service as people
from lms.people.models import PositionKind
from tests import factories
from tests.courses.conftest import FIXTURES, HOSTS
from tests.helpers import login  # noqa: F401  (shared helper)


@pytest.fixture
def mails(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every mail the community queues, as ``{"to", "subject", "text"}`` (still passed on
    to the outbox)."""
    from lms.community import notify

    sent: list[dict[str, Any]] = []
    original = notify._queue_mail

    def record(to: Any, subject: str, text: str) -> Any:
        sent.append({"to": to.email, "subject": subject, "text": text})
        return original(to, subject, text)

    monkeypatch.setattr(notify, "_queue_mail", record)
    return sent


@pytest.fixture
def community(app: Any, users: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    """The mini course (published, with a space), its trainer (``users["trainer"]``), an
    enrolled learner in Dinas A, an enrolled colleague in Dinas B and an outsider."""
    import shutil

    from lms.authoring import service as authoring

    target = tmp_path / "mini-kursus"
    shutil.copytree(FIXTURES / "mini-kursus", target)
    loaded = load_course_folder(target, HOSTS, label="mini-kursus")
    course = courses.import_course(loaded, source="test").course
    pemda = factories.make_org_unit("Pemkab Uji")
    dinas_a = factories.make_org_unit("Dinas Kominfo", pemda)
    bidang = factories.make_org_unit("Bidang Aplikasi", dinas_a)
    dinas_b = factories.make_org_unit("DPMPTSP", pemda)
    pos_a = factories.make_position(bidang, name="Pranata Komputer", kind=PositionKind.FUNGSIONAL)
    pos_b = factories.make_position(dinas_b, name="Analis Perizinan", kind=PositionKind.PELAKSANA)
    learner = users["learner"]
    people.assign_position(learner, pos_a, dt.date(2024, 1, 1))
    colleague = factories.make_user(name="Budi Colleague", email="budi@test.lentera.local")
    people.assign_position(colleague, pos_b, dt.date(2024, 1, 1))
    outsider = factories.make_user(name="Outsider", email="outsider@test.lentera.local")
    courses.enrol(learner, course)
    courses.enrol(colleague, course)
    authoring.adopt_course(course, users["trainer"])
    get_session().commit()
    return {
        "course": course,
        "learner": learner,
        "colleague": colleague,
        "outsider": outsider,
        "trainer": users["trainer"],
        "admin": users["admin"],
        "hr": users["hr"],
    }

