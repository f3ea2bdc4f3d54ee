"""Employee import from CSV: a preview that lists every bad row, then an all-or-nothing apply.

Columns (header names in English or Indonesian, any order, comma or semicolon separated):
``nip``, ``name``/``nama``, ``email``, ``org_unit``/``unit_kerja`` (the path from the Pemda
down, parts separated by ``/`` or ``>``), ``position``/``jabatan`` and, optionally,
``position_kind``/``jenis_jabatan`` for positions that do not exist yet.

Re-importing a file updates people by NIP; it never duplicates them. Missing org units and
positions are created, and the preview lists them so typos are caught before applying.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from lms import signals
from lms.db import get_session
from lms.errors import ValidationError
from lms.people.models import (
    OrgUnit,
    Position,
    PositionAssignment,
    PositionKind,
    Role,
    User,
    UserRole,
)
from lms.people.nip import parse_nip
from lms.people.service import create_org_unit, normalize_email

HEADER_ALIASES = {
    "nip": "nip",
    "name": "name",
    "nama": "name",
    "nama_lengkap": "name",
    "email": "email",
    "e_mail": "email",
    "surel": "email",
    "org_unit": "org_unit",
    "org_unit_path": "org_unit",
    "unit_kerja": "org_unit",
    "unit": "org_unit",
    "unit_organisasi": "org_unit",
    "position": "position",
    "jabatan": "position",
    "position_kind": "position_kind",
    "jenis_jabatan": "position_kind",
}
REQUIRED = ("nip", "name", "email", "org_unit", "position")
KIND_ALIASES = {
    "jpt": PositionKind.JPT,
    "jabatan pimpinan tinggi": PositionKind.JPT,
    "administrator": PositionKind.ADMINISTRATOR,
    "pengawas": PositionKind.PENGAWAS,
    "pelaksana": PositionKind.PELAKSANA,
    "fungsional": PositionKind.FUNGSIONAL,
}
_PATH_SPLIT = re.compile(r"\s*[/>]\s*")


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class EmployeeRow:
    line: int
    nip: str
    name: str
    email: str | None
    unit_path: tuple[str, ...]
    position: str
    position_kind: PositionKind | None


@dataclass
class ImportPreview:
    """What an import would do. ``errors`` non-empty means it cannot be applied."""

    rows: list[EmployeeRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    creates: int = 0
    updates: int = 0
    unchanged: int = 0
    new_units: list[str] = field(default_factory=list)
    new_positions: list[str] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    units_created: int
    positions_created: int
    #: Ids of the users the import created (receivers may credit their earlier learning).
    created_user_ids: list[int] = field(default_factory=list)


def decode_csv(data: bytes) -> str:
    """Decode an uploaded file: UTF-8 (with or without BOM), else Windows-1252 (old Excel)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_rows(text: str) -> tuple[list[EmployeeRow], list[RowError]]:
    """Parse CSV text into rows, collecting an error for every bad line."""
    errors: list[RowError] = []
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = re.sub(r"[^a-z0-9]+", "_", raw.strip().lower()).strip("_")
        if key in HEADER_ALIASES:
            columns.setdefault(HEADER_ALIASES[key], index)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ValidationError(
            _(
                "Line 1 must be a header with the columns nip, name, email, org_unit and "
                "position; missing: %(missing)s (found: %(found)s).",
                missing=", ".join(missing),
                found=", ".join(h.strip() for h in header) or "-",
            )
        )
    max_rows = current_app.config["IMPORT_MAX_ROWS"]
    rows: list[EmployeeRow] = []
    seen_nip: dict[str, int] = {}
    seen_email: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(errors) >= max_rows:
            raise ValidationError(
                _("The file has more than %(n)d rows; split it into smaller files.", n=max_rows)
            )

        def get(name: str, values: list[str] = values) -> str:
            index = columns.get(name)
            return values[index].strip() if index is not None and index < len(values) else ""

        problems: list[str] = []
        try:
            nip = parse_nip(get("nip")).value
        except ValidationError as exc:
            nip = ""
            problems.append(str(exc.message))
        name = " ".join(get("name").split())
        if not name:
            problems.append(_("Name is required."))
        email: str | None = None
        try:
            email = normalize_email(get("email"))
        except ValidationError as exc:
            problems.append(str(exc.message))
        unit_path = tuple(p for p in _PATH_SPLIT.split(get("org_unit")) if p)
        if not unit_path:
            problems.append(_("The org unit is required (e.g. Pemda / OPD / Bidang)."))
        elif len(unit_path) > 4:
            problems.append(
                _("The org unit path has more than 4 levels (Pemda / OPD / bidang / seksi).")
            )
        position = " ".join(get("position").split())
        if not position:
            problems.append(_("The position (jabatan) is required."))
        kind_text = get("position_kind").lower()
        kind: PositionKind | None = None
        if kind_text:
            kind = KIND_ALIASES.get(kind_text)
            if kind is None:
                problems.append(
                    _(
                        "Unknown position kind %(kind)s; use JPT, administrator, pengawas, "
                        "pelaksana or fungsional.",
                        kind=get("position_kind"),
                    )
                )
        if nip and nip in seen_nip:
            problems.append(
                _("NIP %(nip)s already appears on line %(line)d.", nip=nip, line=seen_nip[nip])
            )
        if email and email in seen_email:
            problems.append(
                _(
                    "E-mail %(email)s already appears on line %(line)d.",
                    email=email,
                    line=seen_email[email],
                )
            )
        if problems:
            errors.append(RowError(line, " ".join(problems)))
            continue
        seen_nip[nip] = line
        if email:
            seen_email[email] = line
        rows.append(EmployeeRow(line, nip, name, email, unit_path, position, kind))
    return rows, errors


def preview_import(data: bytes | str) -> ImportPreview:
    """Check a CSV file against the rules and the database; change nothing."""
    text = data if isinstance(data, str) else decode_csv(data)
    rows, errors = parse_rows(text)
    preview = ImportPreview(rows=rows, errors=errors)
    if not rows and not errors:
        preview.errors.append(RowError(2, _("The file has a header but no employees.")))
        return preview
    session = get_session()
    by_nip = {
        u.nip: u
        for u in session.execute(
            sa.select(User.id, User.nip, User.name, User.email).where(User.nip.is_not(None))
        )
    }
    email_owner = dict(
        session.execute(sa.select(User.email, User.nip).where(User.email.is_not(None))).all()
    )
    units = _unit_paths()
    positions = _position_keys()
    current_positions = _current_positions()
    new_units: set[tuple[str, ...]] = set()
    new_positions: dict[tuple[tuple[str, ...], str], int] = {}
    for row in rows:
        owner = email_owner.get(row.email) if row.email else None
        if row.email and owner is not None and owner != row.nip:
            preview.errors.append(
                RowError(
                    row.line,
                    _(
                        "E-mail %(email)s belongs to another employee (NIP %(nip)s).",
                        email=row.email,
                        nip=owner or "-",
                    ),
                )
            )
            continue
        for depth in range(1, len(row.unit_path) + 1):
            if row.unit_path[:depth] not in units:
                new_units.add(row.unit_path[:depth])
        unit_id = units.get(row.unit_path)
        key = (row.unit_path, row.position)
        position_id = positions.get((unit_id, row.position)) if unit_id else None
        if position_id is None and key not in new_positions:
            new_positions[key] = row.line
            if row.position_kind is None:
                preview.warnings.append(
                    RowError(
                        row.line,
                        _(
                            "New position %(name)s has no kind; it will be created as pelaksana.",
                            name=row.position,
                        ),
                    )
                )
        existing = by_nip.get(row.nip)
        if existing is None:
            preview.creates += 1
        elif (existing.name, existing.email) != (row.name, row.email) or (
            position_id is None or current_positions.get(existing.id) != position_id
        ):
            preview.updates += 1
        else:
            preview.unchanged += 1
    preview.new_units = [" / ".join(p) for p in sorted(new_units, key=lambda p: (len(p), p))]
    preview.new_positions = [f"{' / '.join(p)}: {n}" for p, n in sorted(new_positions)]
    return preview


def apply_import(
    preview: ImportPreview, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Write a previewed import in the caller's transaction (all rows or, on error, none).

    ``progress`` is called with the number of rows done since the last call.
    """
    if preview.errors:
        raise ValidationError(_("The file has errors; fix them and upload it again."))
    session = get_session()
    units = _unit_paths()
    units_created = 0
    for path in sorted({r.unit_path for r in preview.rows}, key=len):
        for depth in range(1, len(path) + 1):
            sub = path[:depth]
            if sub not in units:
                parent = session.get(OrgUnit, units[sub[:-1]]) if depth > 1 else None
                units[sub] = create_org_unit(sub[-1], parent).id
                units_created += 1
    positions = _position_keys()
    positions_created = 0
    kinds = {(r.unit_path, r.position): r.position_kind for r in preview.rows}
    for (path, name), kind in sorted(kinds.items(), key=lambda kv: kv[0]):
        unit_id = units[path]
        if (unit_id, name) not in positions:
            position = Position(name=name, kind=kind or PositionKind.PELAKSANA, org_unit_id=unit_id)
            session.add(position)
            session.flush()
            positions[(unit_id, name)] = position.id
            positions_created += 1

    existing = {
        nip: (uid, name, email)
        for uid, nip, name, email in session.execute(
            sa.select(User.id, User.nip, User.name, User.email).where(User.nip.is_not(None))
        )
    }
    inserts, updates = [], []
    for row in preview.rows:
        found = existing.get(row.nip)
        if found is None:
            inserts.append(
                {
                    "nip": row.nip,
                    "name": row.name,
                    "email": row.email,
                    "session_token": secrets.token_hex(16),
                    "active": True,
                }
            )
        elif (found[1], found[2]) != (row.name, row.email):
            updates.append({"id": found[0], "name": row.name, "email": row.email})
    created = len(inserts)
    for chunk in _chunks(inserts, 1000):
        session.execute(sa.insert(User), chunk)
        if progress:
            progress(len(chunk) // 2)
    for chunk in _chunks(updates, 1000):
        session.execute(sa.update(User), chunk)
    ids: dict[Any, int] = dict(
        session.execute(sa.select(User.nip, User.id).where(User.nip.is_not(None))).all())
    new_ids = [ids[r["nip"]] for r in inserts]
    for chunk in _chunks(new_ids, 1000):
        session.execute(sa.insert(UserRole), [{"user_id": i, "role": Role.LEARNER} for i in chunk])

    current = _current_assignments()
    today = dt.date.today()
    ended, started = [], []
    moved = set()
    for row in preview.rows:
        user_id = ids[row.nip]
        position_id = positions[(units[row.unit_path], row.position)]
        assignment = current.get(user_id)
        if assignment is not None and assignment[1] == position_id:
            continue
        if assignment is not None:
            ended.append({"id": assignment[0], "end_date": today})
        started.append({"user_id": user_id, "position_id": position_id, "start_date": today})
        moved.add(user_id)
    for chunk in _chunks(ended, 1000):
        session.execute(sa.update(PositionAssignment), chunk)
    for chunk in _chunks(started, 1000):
        session.execute(sa.insert(PositionAssignment), chunk)
        if progress:
            progress(len(chunk) // 2)
    session.flush()
    # Users loaded before the bulk statements would show stale attributes.
    session.expire_all()
    updated_ids = {u["id"] for u in updates} | (moved - set(new_ids))
    result = ImportResult(
        created=created,
        updated=len(updated_ids),
        unchanged=len(preview.rows) - created - len(updated_ids),
        units_created=units_created,
        positions_created=positions_created,
        created_user_ids=new_ids,
    )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    signals.employees_imported.send(app, result=result)
    return result


def _chunks(items: list, size: int):  # type: ignore[no-untyped-def]
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unit_paths() -> dict[tuple[str, ...], int]:
    rows = get_session().execute(sa.select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.name)).all()
    by_id = {r.id: r for r in rows}
    paths: dict[tuple[str, ...], int] = {}
    for r in rows:
        names: list[str] = []
        node: Any = r
        while node is not None:
            names.append(node.name)
            node = by_id.get(node.parent_id) if node.parent_id else None
        paths[tuple(reversed(names))] = r.id
    return paths


def _position_keys() -> dict[tuple[int, str], int]:
    rows = get_session().execute(sa.select(Position.id, Position.org_unit_id, Position.name))
    return {(r.org_unit_id, r.name): r.id for r in rows}


def _current_assignments() -> dict[int, tuple[int, int]]:
    rows = get_session().execute(
        sa.select(
            PositionAssignment.id, PositionAssignment.user_id, PositionAssignment.position_id
        ).where(PositionAssignment.end_date.is_(None))
    )
    return {r.user_id: (r.id, r.position_id) for r in rows}


def _current_positions() -> dict[int, int]:
    return {uid: pid for uid, (_aid, pid) in _current_assignments().items()}
