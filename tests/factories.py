"""Test helpers that make valid objects with sensible defaults and ``**overrides``."""

from __future__ import annotations

import itertools
from typing import Any

from lms.people import service
from lms.people.models import OrgUnit, Position, PositionKind, User

PASSWORD = "secret-pass-1"
_seq = itertools.count(1)


def make_nip(sequence: int | None = None, gender: str = "1") -> str:
    """A structurally valid NIP, unique per call unless ``sequence`` is given."""
    n = sequence if sequence is not None else next(_seq)
    day = 1 + n % 28
    return f"1990{(n % 12) + 1:02d}{day:02d}201503{gender}{n % 1000 or 1:03d}"


def make_user(**overrides: Any) -> User:
    n = next(_seq)
    fields: dict[str, Any] = {
        "name": f"Pegawai {n}",
        "email": f"pegawai{n}@test.lentera.local",
        "nip": make_nip(n),
        "roles": ["learner"],
    }
    fields.update(overrides)
    return service.create_user(**fields)


def make_org_unit(name: str | None = None, parent: OrgUnit | None = None, **kw: Any) -> OrgUnit:
    return service.create_org_unit(name or f"Unit {next(_seq)}", parent, **kw)


def make_position(org_unit: OrgUnit | None = None, **overrides: Any) -> Position:
    unit = org_unit or make_org_unit()
    fields: dict[str, Any] = {"name": f"Jabatan {next(_seq)}", "kind": PositionKind.PELAKSANA}
    fields.update(overrides)
    return service.create_position(fields.pop("name"), fields.pop("kind"), unit, **fields)


def import_sample_course(name: str = "komunikasi-efektif", hosts: Any = None) -> Any:
    """Import one of the shipped sample courses (``courses/<name>``) and commit; the
    Course. ``hosts``: embed hosts allowed (default: the app's)."""
    from pathlib import Path

    from flask import current_app

    from lms.courses import service as courses
    from lms.courses.format import load_course_folder
    from lms.db import get_session

    folder = Path(__file__).resolve().parents[1] / "courses" / name
    allowed = current_app.config["EMBED_ALLOWED_HOSTS"] if hosts is None else hosts
    outcome = courses.import_course(load_course_folder(folder, allowed, label=name),
                                    source="test")
    get_session().commit()
    return outcome.course


# --- one maker per module: the main object, valid and committed-ready -----------------------
# Each flushes what it makes into the test's session (the caller commits when a request
# must see it); ``**overrides`` change the defaults.


def make_frameworks() -> dict[str, Any]:
    """competency: the shipped frameworks (committed); competencies by code."""
    from lms.competency import service
    from lms.db import get_session

    service.load_shipped_frameworks()
    get_session().commit()
    return {c.code: c for c in service.all_competencies()}


def make_enrollment(user: User | None = None, course: Any = None) -> Any:
    """courses: ``user`` enrolled in ``course`` (default: a new learner, the sample
    course)."""
    from lms.courses import service as courses

    enrollment, _created = courses.enrol(user or make_user(),
                                         course or import_sample_course())
    return enrollment


def make_client_key(scopes: str = "statements/write statements/read",
                    name: str = "test client") -> tuple[str, str]:
    """xapi: a client key with ``scopes`` (committed); (key, secret)."""
    from lms.db import get_session
    from lms.xapi import auth

    credential, secret = auth.create_credential(name, scopes)
    get_session().commit()
    return credential.key, secret


def make_statement(user: User | None = None, verb: str = "completed",
                   activity: str = "http://lentera.test/courses/contoh", **extra: Any) -> str:
    """xapi: one statement stored through the LRS and committed (consumers run); its id."""
    from tests.helpers import send, statement

    return send(statement(user or make_user(), verb, activity, **extra))[0]


def make_self_assessment(employee: User | None = None, codes: list[str] | None = None) -> Any:
    """assessment: a self-assessment round of ``employee``; its rater entry."""
    from lms.assessment import service

    employee = employee or make_user()
    return service.start_self(employee, codes or service.default_codes(employee)
                              or ["M.01"])


def make_mail(to: Any = None, **overrides: Any) -> Any:
    """mail: a message in the outbox."""
    from lms.mail import queue_mail

    fields: dict[str, Any] = {"subject": "Uji", "text": "Isi pesan uji."}
    fields.update(overrides)
    return queue_mail(to or make_user(), fields.pop("subject"), fields.pop("text"), **fields)


def make_job(kind: str, params: dict[str, Any] | None = None, user: User | None = None,
             commit: bool = False) -> Any:
    """jobs: a job of a registered ``kind`` (not started unless ``commit``)."""
    from lms.jobs.service import submit_job

    return submit_job(kind, params or {}, user=user or make_user(), commit=commit)


def make_forward_target(**overrides: Any) -> Any:
    """forwarding: a target LRS (nothing listens at its address)."""
    from lms.forwarding.service import create_target

    fields: dict[str, Any] = {"name": f"LRS {next(_seq)}",
                              "endpoint": "http://127.0.0.1:9/xapi/",
                              "username": "kunci", "password": "rahasia"}
    fields.update(overrides)
    return create_target(fields.pop("name"), fields.pop("endpoint"), fields.pop("username"),
                         fields.pop("password"), **fields)


def make_topic(by: User | None = None, title: str | None = None) -> Any:
    """community: a topic space (by an admin unless ``by``)."""
    from lms.community import service

    return service.create_topic(title or f"Topik {next(_seq)}", "Ruang diskusi uji.",
                                by or make_user(roles=["admin"]))


def make_plan(employee: User, creator: User, year: int = 2026) -> Any:
    """plans: a draft development plan from the employee's gaps."""
    from lms.plans import service

    return service.create_from_gaps(employee, creator, year)


def make_lti_key() -> Any:
    """lti: the tool's signing key."""
    from lms.lti.keys import create_key

    return create_key()
