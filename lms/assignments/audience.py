"""Who is in an audience: rules on the org tree (unit with subtree, positions, position
kinds, grades), saved audiences, and NIP lists read from CSV with a preview of bad rows.

Everything is one SELECT of ``user_id`` over the people's *current* positions, always
cut to the HR scope the assignment was made in, so an HR user can never reach beyond it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.db import get_session
from lms.errors import ValidationError
from lms.people.models import OrgUnit, Position, PositionAssignment, PositionKind, User
from lms.reports.scope import Scope

MAX_NIPS = 200_000


def clean_rules(raw: dict[str, Any]) -> dict[str, Any]:
    """Rules with known keys and plain values only (ints for ids, strings otherwise)."""
    def ints(values: Any) -> list[int]:
        out = []
        for v in values or []:
            try:
                out.append(int(v))
            except (TypeError, ValueError):
                continue
        return sorted(set(out))

    kinds = {k.value for k in PositionKind}
    rules: dict[str, Any] = {
        "units": ints(raw.get("units")),
        "positions": ints(raw.get("positions")),
        "kinds": sorted({str(k) for k in raw.get("kinds") or [] if str(k) in kinds}),
        "grades": sorted({str(g).strip()[:50] for g in raw.get("grades") or [] if str(g).strip()}),
    }
    nips = raw.get("nips")
    if nips:
        rules["nips"] = sorted({str(n) for n in nips})[:MAX_NIPS]
    return rules


def has_rules(rules: dict[str, Any]) -> bool:
    return any(rules.get(k) for k in ("units", "positions", "kinds", "grades", "nips"))


def members_query(rules: dict[str, Any], scope: Scope) -> sa.Select:
    """``SELECT user_id`` of the active employees matching ``rules`` inside ``scope``."""
    query = (
        sa.select(PositionAssignment.user_id.label("user_id"))
        .join(Position, Position.id == PositionAssignment.position_id)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .join(User, User.id == PositionAssignment.user_id)
        .where(PositionAssignment.end_date.is_(None), User.active.is_(True))
    )
    if scope.path is not None:
        query = query.where(OrgUnit.path.like(scope.path + "%"))
    unit_ids = rules.get("units") or []
    if unit_ids:
        paths = get_session().scalars(sa.select(OrgUnit.path).where(OrgUnit.id.in_(unit_ids)))
        conditions = [OrgUnit.path.like(p + "%") for p in paths if p]
        query = query.where(sa.or_(*conditions) if conditions else sa.false())
    if rules.get("positions"):
        query = query.where(Position.id.in_(rules["positions"]))
    if rules.get("kinds"):
        query = query.where(Position.kind.in_([PositionKind(k) for k in rules["kinds"]]))
    if rules.get("grades"):
        query = query.where(Position.grade.in_(rules["grades"]))
    if rules.get("nips"):
        query = query.where(User.nip.in_(rules["nips"]))
    if not has_rules(rules):
        query = query.where(sa.false())
    return query


def count(rules: dict[str, Any], scope: Scope) -> int:
    sub = members_query(rules, scope).subquery()
    return get_session().scalar(sa.select(sa.func.count()).select_from(sub)) or 0


@dataclass
class BadRow:
    line: int
    value: str
    reason: str


@dataclass
class NipPreview:
    """A NIP list as read: the NIPs that name employees inside the scope, and the rows
    that do not (with why)."""

    nips: list[str] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def read_nips(data: bytes | str, scope: Scope) -> NipPreview:
    """Read a CSV (or plain list) of NIPs: the first column of each row, a header row
    allowed. Bad rows: not an 18-digit NIP, no such employee, outside the scope, twice."""
    from lms.people.nip import normalize_nip, parse_nip

    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text (save it as CSV UTF-8)."),
                                  field="nip_file") from None
    else:
        text = data
    preview = NipPreview()
    wanted: dict[str, int] = {}
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        value = (row[0] if row else "").strip()
        if not value:
            continue
        compact = value.replace(" ", "")
        if number == 1 and not compact.isdigit():
            continue  # a header row
        try:
            nip = normalize_nip(compact)
            parse_nip(nip)
        except ValidationError as exc:
            preview.bad.append(BadRow(number, value[:40], str(exc.message)))
            continue
        if nip in wanted:
            preview.bad.append(BadRow(number, value[:40],
                                      _("Listed twice (first on row %(row)d).",
                                        row=wanted[nip])))
            continue
        wanted[nip] = number
        if len(wanted) > MAX_NIPS:
            raise ValidationError(_("A list may name at most %(n)d employees.", n=MAX_NIPS),
                                  field="nip_file")
    if not wanted:
        if not preview.bad:
            raise ValidationError(_("The file lists no NIP."), field="nip_file")
        return preview
    session = get_session()
    known: dict[str, int] = {}
    for start in range(0, len(wanted), 5000):
        chunk = list(wanted)[start:start + 5000]
        known.update(session.execute(sa.select(User.nip, User.id).where(User.nip.in_(chunk))).all())
    inside: set[int] = set()
    if known:
        ids = list(known.values())
        for start in range(0, len(ids), 5000):
            sub = members_query({"nips": [n for n in list(known)[start:start + 5000]]}, scope)
            inside.update(session.scalars(sub))
    for nip, row in wanted.items():
        if nip not in known:
            preview.bad.append(BadRow(row, nip, _("No employee has this NIP.")))
        elif known[nip] not in inside:
            preview.bad.append(BadRow(row, nip, _("Outside your HR scope, or holds no "
                                                  "position now.")))
        else:
            preview.nips.append(nip)
    preview.bad.sort(key=lambda b: b.line)
    return preview
