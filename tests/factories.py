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
