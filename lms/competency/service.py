"""Operations on frameworks, position standards and evidence rules, and the read side of
profiles (levels against standards, gaps, evidence, recommendations).

Plain values in, models out; functions flush and never commit (see STYLE.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import orm

from lms.competency.models import (
    MAX_LEVEL,
    Competency,
    CompetencyType,
    CourseCompetency,
    CoursePublication,
    Criterion,
    Evidence,
    EvidenceRule,
    EvidenceSource,
    Framework,
    PositionRequirement,
    ProficiencyLevel,
    UserCompetency,
)
from lms.competency.policy import (
    METHODS,
    PRECEDENCES,
    SOURCES,
    normalize_policy,
)
from lms.competency.rules import default_bands
from lms.db import get_session, utcnow
from lms.errors import NotFound, ValidationError
from lms.people.models import MANAGERIAL_KINDS, OrgUnit, Position, PositionAssignment, User
from lms.xapi.actors import actor_keys

DATA_DIR = Path(__file__).parent / "data"
FRAMEWORK_FILES = ("asn-manajerial-sosiokultural.json", "teknis-contoh-pemda.json")
FRAMEWORK_FORMAT = "lentera-competency-framework/1"
CSV_FIELDS = ["framework", "code", "name", "type", "description", "iri", "level",
              "level_description", "indicators"]
#: The framework CSV in Bahasa Indonesia (what the export writes); the import reads these
#: and the English names alike.
CSV_HEADERS_ID = ["kerangka", "kode", "nama", "jenis", "deskripsi", "iri", "tingkat",
                  "deskripsi_tingkat", "indikator"]
_CSV_ALIASES = dict(zip(CSV_HEADERS_ID, CSV_FIELDS, strict=True))


# --- frameworks ----------------------------------------------------------------------------


def competency_iri(code: str) -> str:
    """The IRI a new competency gets: a page of this site that describes it."""
    return f"{current_app.config['BASE_URL']}/competency/c/{code}"


def list_frameworks() -> list[Framework]:
    """Every framework, national first (by code)."""
    return list(get_session().scalars(sa.select(Framework).order_by(Framework.id)))


def get_framework(code: str) -> Framework:
    framework = get_session().scalar(sa.select(Framework).where(Framework.code == code))
    if framework is None:
        raise NotFound(_("There is no competency framework %(code)s.", code=code))
    return framework


def get_competency(code: str) -> Competency:
    competency = get_session().scalar(sa.select(Competency).where(Competency.code == code))
    if competency is None:
        raise NotFound(_("There is no competency %(code)s.", code=code))
    return competency


def all_competencies() -> list[Competency]:
    """Every competency, in framework then display order."""
    return list(get_session().scalars(
        sa.select(Competency).join(Framework)
        .order_by(Framework.id, Competency.sort_order, Competency.code)))


def _text(value: Any, name: str, *, required: bool = True, limit: int | None = None) -> str:
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise ValidationError(_("%(name)s is missing.", name=name), field=name)
    if limit and len(text) > limit:
        raise ValidationError(_("%(name)s is longer than %(n)d characters.", name=name,
                                n=limit), field=name)
    return text


def _check_framework(data: Any) -> dict[str, Any]:
    """A cleaned copy of a framework document, or ValidationError naming what is wrong."""
    if not isinstance(data, dict):
        raise ValidationError(_("A framework file must be a JSON object."))
    clean: dict[str, Any] = {
        "code": _text(data.get("code"), "code", limit=50),
        "name": _text(data.get("name"), "name", limit=200),
        "description": _text(data.get("description"), "description", required=False),
        "source": _text(data.get("source"), "source", required=False, limit=300),
        "policy": normalize_policy(data.get("policy") if isinstance(data.get("policy"), dict)
                                   else None),
        "competencies": [],
    }
    competencies = data.get("competencies")
    if not isinstance(competencies, list) or not competencies:
        raise ValidationError(_("The framework lists no competencies."), field="competencies")
    seen: set[str] = set()
    types = {t.value for t in CompetencyType}
    for i, item in enumerate(competencies, start=1):
        if not isinstance(item, dict):
            raise ValidationError(_("Competency %(n)d is not an object.", n=i))
        code = _text(item.get("code"), "code", limit=50)
        if code in seen:
            raise ValidationError(_("Competency %(code)s appears twice.", code=code))
        seen.add(code)
        kind = str(item.get("type") or "").strip()
        if kind not in types:
            raise ValidationError(_("Competency %(code)s: the type must be one of %(types)s.",
                                    code=code, types=", ".join(sorted(types))), field="type")
        levels: list[dict[str, Any]] = []
        for row in item.get("levels") or []:
            try:
                level = int(row.get("level"))
            except (TypeError, ValueError, AttributeError):
                raise ValidationError(_("Competency %(code)s: a level is not a number from 1 "
                                        "to 5.", code=code), field="level") from None
            if not 1 <= level <= MAX_LEVEL:
                raise ValidationError(_("Competency %(code)s: a level is not a number from 1 "
                                        "to 5.", code=code), field="level")
            indicators = row.get("indicators") or []
            if isinstance(indicators, str):
                indicators = [p.strip() for p in indicators.split("|")]
            levels.append({"level": level,
                           "description": _text(row.get("description"), "description",
                                                required=False),
                           "indicators": [str(p).strip() for p in indicators if str(p).strip()]})
        if sorted(row["level"] for row in levels) != list(range(1, MAX_LEVEL + 1)):
            raise ValidationError(_("Competency %(code)s must describe each level from 1 to 5 "
                                    "exactly once.", code=code), field="levels")
        clean["competencies"].append({
            "code": code, "name": _text(item.get("name"), "name", limit=200), "type": kind,
            "description": _text(item.get("description"), "description", required=False),
            "iri": _text(item.get("iri"), "iri", required=False, limit=500),
            "levels": sorted(levels, key=lambda r: r["level"]),
        })
    return clean


def import_framework(data: Any) -> tuple[Framework, int, int]:
    """Create or update a framework from its JSON document; return (framework, created,
    updated competencies). Competencies keep their IRI once they have one; a competency
    code that belongs to another framework is refused."""
    clean = _check_framework(data)
    session = get_session()
    framework = session.scalar(sa.select(Framework).where(Framework.code == clean["code"]))
    if framework is None:
        framework = Framework(code=clean["code"], name=clean["name"])
        session.add(framework)
    framework.name = clean["name"]
    framework.description = clean["description"]
    framework.source = clean["source"]
    framework.policy = clean["policy"]
    session.flush()
    codes = [c["code"] for c in clean["competencies"]]
    existing = {c.code: c for c in session.scalars(
        sa.select(Competency).where(Competency.code.in_(codes)))}
    created = updated = 0
    for order, item in enumerate(clean["competencies"], start=1):
        competency = existing.get(item["code"])
        if competency is not None and competency.framework_id != framework.id:
            raise ValidationError(_("Competency %(code)s belongs to another framework.",
                                    code=item["code"]), field="code")
        if competency is None:
            iri = item["iri"] or competency_iri(item["code"])
            if session.scalar(sa.select(Competency.id).where(Competency.iri == iri)):
                raise ValidationError(_("The IRI %(iri)s is used by another competency.",
                                        iri=iri), field="iri")
            competency = Competency(framework=framework, code=item["code"], iri=iri,
                                    name=item["name"], type=CompetencyType(item["type"]))
            session.add(competency)
            created += 1
        else:
            updated += 1
        competency.name = item["name"]
        competency.type = CompetencyType(item["type"])
        competency.description = item["description"]
        competency.sort_order = order
        rows = {row.level: row for row in competency.levels}
        for level in item["levels"]:
            row = rows.get(level["level"])
            if row is None:
                row = ProficiencyLevel(level=level["level"])
                competency.levels.append(row)
            row.description = level["description"]
            row.indicators = level["indicators"]
    session.flush()
    if created:
        _rederive_courses({c["code"] for c in clean["competencies"]})
    return framework, created, updated


def _rederive_courses(codes: set[str]) -> None:
    """Derive again the rules of courses published before these competencies existed."""
    for kept in get_session().scalars(sa.select(CoursePublication)
                                      .order_by(CoursePublication.course_iri)):
        payload = kept.payload or {}
        named = {str(t.get("competency")) for t in payload.get("targets") or []}
        named |= {str(q.get("competency")) for quiz in payload.get("quizzes") or []
                  for q in quiz.get("questions") or [] if q.get("competency")}
        if named & codes:
            apply_course_publication(payload)


def export_framework(framework: Framework) -> dict[str, Any]:
    """The framework as a JSON document that :func:`import_framework` reads back."""
    return {
        "format": FRAMEWORK_FORMAT,
        "code": framework.code,
        "name": framework.name,
        "description": framework.description,
        "source": framework.source,
        "policy": normalize_policy(framework.policy),
        "competencies": [{
            "code": c.code, "name": c.name, "type": c.type.value, "iri": c.iri,
            "description": c.description,
            "levels": [{"level": r.level, "description": r.description,
                        "indicators": list(r.indicators or [])} for r in c.levels],
        } for c in framework.competencies],
    }


def framework_csv(framework: Framework) -> str:
    """One row per competency level; indicators joined with " | "."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    csv.writer(out, lineterminator="\n").writerow(CSV_HEADERS_ID)
    for c in framework.competencies:
        for r in c.levels:
            writer.writerow({"framework": framework.code, "code": c.code, "name": c.name,
                             "type": c.type.value, "description": c.description, "iri": c.iri,
                             "level": r.level, "level_description": r.description,
                             "indicators": " | ".join(r.indicators or [])})
    return out.getvalue()


def framework_from_csv(text: str, name: str | None = None,
                       policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """A framework document from CSV (the :func:`framework_csv` layout, with the Indonesian
    or the English column names). The framework's name and policy are kept from the
    existing framework when it exists."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames:
        reader.fieldnames = [_CSV_ALIASES.get(f.strip().lower(), f.strip().lower())
                             for f in reader.fieldnames]
    missing = [CSV_HEADERS_ID[CSV_FIELDS.index(f)]
               for f in ("framework", "code", "name", "type", "level")
               if f not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(_("The CSV file lacks the column(s): %(cols)s.",
                                cols=", ".join(missing)))
    codes: set[str] = set()
    competencies: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, start=2):
        codes.add((row.get("framework") or "").strip())
        code = (row.get("code") or "").strip()
        if not code:
            raise ValidationError(_("Line %(line)d: the competency code is missing.", line=line))
        item = competencies.setdefault(code, {
            "code": code, "name": row.get("name"), "type": (row.get("type") or "").strip(),
            "description": row.get("description") or "", "iri": row.get("iri") or "",
            "levels": []})
        item["levels"].append({"level": row.get("level"),
                               "description": row.get("level_description") or "",
                               "indicators": row.get("indicators") or ""})
    codes.discard("")
    if len(codes) != 1:
        raise ValidationError(_("The CSV file must describe exactly one framework."))
    code = codes.pop()
    existing = get_session().scalar(sa.select(Framework).where(Framework.code == code))
    return {"code": code, "name": name or (existing.name if existing else code),
            "description": existing.description if existing else "",
            "source": existing.source if existing else "",
            "policy": policy or (existing.policy if existing else None),
            "competencies": list(competencies.values())}


def load_shipped_frameworks() -> list[Framework]:
    """Import the frameworks that ship with Lentera (idempotent)."""
    return [import_framework(json.loads((DATA_DIR / name).read_text("utf-8")))[0]
            for name in FRAMEWORK_FILES]


def set_policy(framework: Framework, policy: dict[str, Any]) -> int:
    """Change a framework's aggregation policy and recompute the affected profiles;
    return how many profile rows were recomputed."""
    from lms.competency.engine import get_engine

    if policy.get("method") not in METHODS or policy.get("precedence") not in PRECEDENCES:
        raise ValidationError(_("Choose a known method and precedence."), field="method")
    if not set(policy.get("counted_sources") or []) <= set(SOURCES):
        raise ValidationError(_("Unknown evidence source."), field="counted_sources")
    framework.policy = normalize_policy(policy)
    session = get_session()
    session.flush()
    pairs: set[tuple[int, int]] = {(user_id, competency_id) for user_id, competency_id in
                                   session.execute(
        sa.select(Evidence.user_id, Evidence.competency_id).join(Competency)
        .where(Competency.framework_id == framework.id).distinct())}
    engine = get_engine()
    engine.forget_configuration()
    try:
        engine.load_configuration(session)
        engine.recompute(pairs)
    finally:
        engine.forget_configuration()  # do not keep this transaction's policy cached
    return len(pairs)


# --- position standards --------------------------------------------------------------------


def requirements_for(position: Position | None) -> dict[int, int]:
    """competency id -> required level for ``position`` (its Standar Kompetensi Jabatan)."""
    if position is None:
        return {}
    return dict(get_session().execute(
        sa.select(PositionRequirement.competency_id, PositionRequirement.level)
        .where(PositionRequirement.position_id == position.id)).all())


def set_requirements(position: Position, levels: dict[int, int]) -> None:
    """Set the required levels of ``position`` (competency id -> level; 0 removes)."""
    session = get_session()
    known = set(session.scalars(sa.select(Competency.id)))
    current = {r.competency_id: r for r in session.scalars(
        sa.select(PositionRequirement).where(PositionRequirement.position_id == position.id))}
    for competency_id, level in levels.items():
        if competency_id not in known:
            raise ValidationError(_("Unknown competency."), field="competency")
        if not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
            raise ValidationError(_("A required level must be a number from 0 to 5."),
                                  field="level")
        row = current.get(competency_id)
        if level == 0:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(PositionRequirement(position_id=position.id,
                                            competency_id=competency_id, level=level))
        else:
            row.level = level
    session.flush()


def standard_defaults() -> dict[str, Any]:
    defaults: dict[str, Any] = json.loads(
        (DATA_DIR / "standard-defaults.json").read_text("utf-8"))
    return defaults


def default_levels(position: Position) -> dict[str, int]:
    """competency code -> level suggested for ``position`` by its kind and grade."""
    defaults = standard_defaults()
    kind = defaults["kinds"].get(position.kind.value, {})
    base = kind.get("default", 1)
    grade_text = f"{position.grade or ''} {position.name}".lower()
    for grade, level in sorted(kind.get("grades", {}).items(), key=lambda g: -len(g[0])):
        if grade.lower() in grade_text:
            base = level
            break
    session = get_session()
    codes = session.scalars(sa.select(Competency.code).join(Framework).where(
        Framework.code.in_(defaults["frameworks"])).order_by(Competency.code)).all()
    overrides = kind.get("competencies", {})
    return {code: max(base, overrides.get(code, 0)) for code in codes}


def _positions_under(unit_path: str | None) -> sa.Select[Position]:
    """Positions whose org unit lies under the materialised path ``unit_path`` (every
    position when None): how an HR user's scope reaches the position standards."""
    query = sa.select(Position).join(OrgUnit, OrgUnit.id == Position.org_unit_id)
    if unit_path is not None:
        query = query.where(OrgUnit.path.startswith(unit_path, autoescape=True))
    return query


def apply_default_standards(positions: Iterable[Position] | None = None, *,
                            overwrite: bool = False, unit_path: str | None = None) -> int:
    """Give positions without a standard (or every position, with ``overwrite``) the
    default levels of their kind; return how many positions changed. ``unit_path`` limits
    it to the positions of that part of the organisation."""
    session = get_session()
    if positions is None:
        positions = session.scalars(_positions_under(unit_path).order_by(Position.id)).all()
    ids = {c.code: c.id for c in session.scalars(sa.select(Competency))}
    with_standard = set(session.scalars(sa.select(PositionRequirement.position_id).distinct()))
    changed = 0
    for position in positions:
        if position.id in with_standard and not overwrite:
            continue
        levels = {ids[code]: level for code, level in default_levels(position).items()
                  if code in ids}
        if levels:
            set_requirements(position, levels)
            changed += 1
    return changed


STANDARD_FIELDS = ["position_id", "org_unit", "position", "competency", "level"]
#: The standards CSV in Bahasa Indonesia (what the export writes); the import reads these
#: and the English names alike.
STANDARD_HEADERS_ID = ["id_jabatan", "unit_kerja", "jabatan", "kompetensi", "tingkat"]
_STANDARD_ALIASES = dict(zip(STANDARD_HEADERS_ID, STANDARD_FIELDS, strict=True))


def standards_csv(unit_path: str | None = None) -> str:
    """Every position's required levels, one row per (position, competency); only the
    positions under ``unit_path`` when given."""
    session = get_session()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STANDARD_HEADERS_ID)
    rows = session.execute(
        sa.select(Position.id, OrgUnit.name, Position.name, Competency.code,
                  PositionRequirement.level)
        .join(PositionRequirement, PositionRequirement.position_id == Position.id)
        .join(Competency, Competency.id == PositionRequirement.competency_id)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .where(sa.true() if unit_path is None
               else OrgUnit.path.startswith(unit_path, autoescape=True))
        .order_by(Position.id, Competency.code))
    for row in rows:
        writer.writerow(list(row))
    return out.getvalue()


@dataclass
class StandardImport:
    """What a standards CSV would change: errors stop the whole import."""

    changes: dict[int, dict[int, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rows: int = 0


def import_standards_csv(content: bytes, *, apply: bool = True,
                         unit_path: str | None = None) -> StandardImport:
    """Read required levels from CSV (position_id, or org_unit + position; competency code;
    level 0..5). Nothing is written when any row is wrong. With ``unit_path`` only the
    positions under that part of the organisation can be named: any other is unknown."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text. Save it as CSV UTF-8.")) from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames:
        reader.fieldnames = [_STANDARD_ALIASES.get(f.strip().lower(), f.strip().lower())
                             for f in reader.fieldnames]
    fields = set(reader.fieldnames or [])
    if not {"competency", "level"} <= fields or not (
            "position_id" in fields or "position" in fields):
        raise ValidationError(_("The CSV file needs the columns competency, level and "
                                "position_id (or position with org_unit)."))
    session = get_session()
    competencies = {c.code: c.id for c in session.scalars(sa.select(Competency))}
    query = sa.select(Position.id, Position.name, OrgUnit.name).join(OrgUnit)
    if unit_path is not None:
        query = query.where(OrgUnit.path.startswith(unit_path, autoescape=True))
    positions = session.execute(query).all()
    by_id = {p.id for p in positions}
    by_name: dict[str, list[int]] = defaultdict(list)
    by_unit_name: dict[tuple[str, str], int] = {}
    for pid, pname, uname in positions:
        by_name[pname.strip().lower()].append(pid)
        by_unit_name[(uname.strip().lower(), pname.strip().lower())] = pid
    result = StandardImport()
    for line, row in enumerate(reader, start=2):
        result.rows += 1
        raw_id = (row.get("position_id") or "").strip()
        pname = (row.get("position") or "").strip().lower()
        uname = (row.get("org_unit") or "").strip().lower()
        position_id = None
        if raw_id:
            if raw_id.isdigit() and int(raw_id) in by_id:
                position_id = int(raw_id)
            else:
                result.errors.append(_("Line %(line)d: no position has id %(id)s.", line=line,
                                       id=raw_id))
                continue
        elif uname and (uname, pname) in by_unit_name:
            position_id = by_unit_name[(uname, pname)]
        elif len(by_name.get(pname, [])) == 1:
            position_id = by_name[pname][0]
        else:
            result.errors.append(
                _("Line %(line)d: position %(name)s is unknown or not unique; give "
                  "position_id or org_unit.", line=line, name=row.get("position") or ""))
            continue
        code = (row.get("competency") or "").strip()
        if code not in competencies:
            result.errors.append(_("Line %(line)d: unknown competency %(code)s.", line=line,
                                   code=code))
            continue
        level_text = (row.get("level") or "").strip()
        if not level_text.isdigit() or not 0 <= int(level_text) <= MAX_LEVEL:
            result.errors.append(_("Line %(line)d: the level must be a number from 0 to 5.",
                                   line=line))
            continue
        result.changes.setdefault(position_id, {})[competencies[code]] = int(level_text)
    if apply and not result.errors:
        for position_id, levels in result.changes.items():
            position = session.get(Position, position_id)
            if position is not None:  # checked above; a position deleted meanwhile is left
                set_requirements(position, levels)
    return result


# --- evidence rules ------------------------------------------------------------------------


@dataclass
class RuleSpec:
    """What defines a rule version (what people edit)."""

    name: str
    activity_iri: str
    match: str
    criterion: str
    competency_id: int
    level: int = 1
    weight: float = 1.0
    source: str = EvidenceSource.EXTERNAL.value
    threshold: float | None = None
    bands: list[list[float]] | None = None
    items: list[str] | None = None


def _check_rule(spec: RuleSpec) -> RuleSpec:
    session = get_session()
    spec.name = _text(spec.name, "name", limit=300)
    spec.activity_iri = _text(spec.activity_iri, "activity_iri", limit=2048)
    if ":" not in spec.activity_iri:
        raise ValidationError(_("The activity must be an IRI, such as https://..."),
                              field="activity_iri")
    if spec.match not in ("exact", "prefix"):
        raise ValidationError(_("Match exactly or by prefix."), field="match")
    try:
        criterion = Criterion(spec.criterion)
    except ValueError:
        raise ValidationError(_("Unknown criterion."), field="criterion") from None
    if session.get(Competency, spec.competency_id) is None:
        raise ValidationError(_("Choose a competency."), field="competency_id")
    if not 1 <= int(spec.level) <= MAX_LEVEL:
        raise ValidationError(_("The level must be a number from 1 to 5."), field="level")
    if not 0 < float(spec.weight) <= 5:
        raise ValidationError(_("The weight must be more than 0 and at most 5."),
                              field="weight")
    if spec.source not in {s.value for s in EvidenceSource}:
        raise ValidationError(_("Unknown evidence source."), field="source")
    if criterion == Criterion.SCORE_MIN and (spec.threshold is None
                                             or not 0 <= spec.threshold <= 1):
        raise ValidationError(_("Give the minimum scaled score, from 0 to 1."),
                              field="threshold")
    if criterion in (Criterion.SCORE_BANDS, Criterion.ITEMS):
        bands = spec.bands or []
        try:
            bands = [[float(b[0]), int(b[1])] for b in bands]
        except (TypeError, ValueError, IndexError):
            raise ValidationError(_("Bands are pairs of a minimum score and a level."),
                                  field="bands") from None
        if not bands or any(not 0 <= b[0] <= 1 or not 1 <= b[1] <= MAX_LEVEL for b in bands):
            raise ValidationError(_("Give at least one band: a minimum score from 0 to 1 and "
                                    "a level from 1 to 5."), field="bands")
        spec.bands = sorted(bands)
        spec.level = max(int(b[1]) for b in bands)
    else:
        spec.bands = None
    if criterion != Criterion.SCORE_MIN:
        spec.threshold = None
    if criterion == Criterion.ITEMS:
        if not spec.items:
            raise ValidationError(_("List the question IRIs of the quiz."), field="items")
        spec.items = sorted(set(spec.items))
    else:
        spec.items = None
    spec.level, spec.weight = int(spec.level), float(spec.weight)
    return spec


def parse_bands(text: str) -> list[list[float]]:
    """Bands written as "60%=2, 80%=3" (or "0.6=2, 0.8=3")."""
    bands = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        score, sep, level = part.partition("=")
        if not sep:
            score, sep, level = part.partition("->")
        score = score.strip()
        try:
            value = float(score.rstrip("%")) / 100 if score.endswith("%") else float(score)
            bands.append([value, int(level.strip())])
        except ValueError:
            raise ValidationError(_("Write bands like 60%%=2, 80%%=3."), field="bands") from None
    return bands


def format_bands(bands: list[list[float]] | None) -> str:
    return ", ".join(f"{round(b[0] * 100):g}%={int(b[1])}" for b in bands or [])


def _latest(key: str) -> EvidenceRule | None:
    return get_session().scalar(sa.select(EvidenceRule).where(EvidenceRule.rule_key == key)
                                .order_by(EvidenceRule.version.desc()).limit(1))


def current_rules(origin: str | None = None) -> list[EvidenceRule]:
    """The newest version of every rule (active or not)."""
    session = get_session()
    newest = (sa.select(EvidenceRule.rule_key, sa.func.max(EvidenceRule.version).label("v"))
              .group_by(EvidenceRule.rule_key).subquery())
    query = (sa.select(EvidenceRule).join(newest, sa.and_(
        newest.c.rule_key == EvidenceRule.rule_key, newest.c.v == EvidenceRule.version))
        .order_by(EvidenceRule.origin, EvidenceRule.rule_key))
    if origin:
        query = query.where(EvidenceRule.origin == origin)
    return list(session.scalars(query))


def rule_versions(key: str) -> list[EvidenceRule]:
    rows = list(get_session().scalars(sa.select(EvidenceRule).where(EvidenceRule.rule_key == key)
                                      .order_by(EvidenceRule.version.desc())))
    if not rows:
        raise NotFound(_("There is no such evidence rule."))
    return rows


def _add_version(key: str, spec: RuleSpec, *, origin: str, active: bool = True,
                 retroactive: bool = False, created_by: User | None = None,
                 course_iri: str | None = None, derived_hash: str | None = None
                 ) -> EvidenceRule:
    session = get_session()
    previous = _latest(key)
    rule = EvidenceRule(
        rule_key=key, version=(previous.version + 1) if previous else 1, name=spec.name,
        activity_iri=spec.activity_iri, match=spec.match, criterion=Criterion(spec.criterion),
        threshold=spec.threshold, bands=spec.bands, items=spec.items,
        competency_id=spec.competency_id, level=spec.level, weight=spec.weight,
        source=EvidenceSource(spec.source), origin=origin, course_iri=course_iri,
        derived_hash=derived_hash, active=active,
        # The first version (and a retroactive one) also judges statements stored before it.
        effective_from=None if previous is None or retroactive else utcnow(),
        created_by_id=created_by.id if created_by else None)
    session.add(rule)
    session.flush()
    if rule.effective_from is None:
        _reprocess([(rule.match, rule.activity_iri)] + (
            [(previous.match, previous.activity_iri)] if previous else []))
    return rule


def _reprocess(patterns: list[tuple[str, str]]) -> None:
    from lms.competency.engine import get_engine

    get_engine().reprocess_activity(patterns)


def create_rule(spec: RuleSpec, created_by: User | None = None) -> EvidenceRule:
    """Add a rule (version 1). It also judges statements stored before it, so evidence
    from earlier learning appears at once."""
    spec = _check_rule(spec)
    key = "manual:" + hashlib.sha256(
        f"{spec.activity_iri}|{spec.criterion}|{spec.competency_id}|{utcnow().isoformat()}"
        .encode()).hexdigest()[:24]
    return _add_version(key, spec, origin="manual", created_by=created_by)


def update_rule(key: str, spec: RuleSpec, *, retroactive: bool = False,
                created_by: User | None = None) -> EvidenceRule:
    """Add a new version of rule ``key``. It judges statements stored from now on, or
    every statement with ``retroactive`` (earlier evidence is then judged again)."""
    previous = rule_versions(key)[0]
    spec = _check_rule(spec)
    return _add_version(key, spec, origin=previous.origin, retroactive=retroactive,
                        created_by=created_by, course_iri=previous.course_iri,
                        derived_hash=previous.derived_hash)


def set_rule_active(key: str, active: bool, *, retroactive: bool = False,
                    created_by: User | None = None) -> EvidenceRule:
    """Switch a rule off (or on again) as a new version."""
    previous = rule_versions(key)[0]
    spec = _spec_of(previous)
    return _add_version(key, spec, origin=previous.origin, active=active,
                        retroactive=retroactive, created_by=created_by,
                        course_iri=previous.course_iri, derived_hash=previous.derived_hash)


def _spec_of(rule: EvidenceRule) -> RuleSpec:
    return RuleSpec(name=rule.name, activity_iri=rule.activity_iri, match=rule.match,
                    criterion=rule.criterion.value, competency_id=rule.competency_id,
                    level=rule.level, weight=rule.weight, source=rule.source.value,
                    threshold=rule.threshold, bands=rule.bands, items=rule.items)


# --- courses -------------------------------------------------------------------------------


def _derive(course: dict[str, Any], competencies: dict[str, Competency]
            ) -> tuple[dict[str, RuleSpec], list[str]]:
    """The rules a course publication implies, by key; and unknown competency codes."""
    unknown: list[str] = []
    specs: dict[str, RuleSpec] = {}
    iri, title = str(course["iri"]), str(course.get("title") or course.get("slug") or "")
    targets: dict[str, int] = {}
    for target in course.get("targets") or []:
        code = str(target.get("competency") or "")
        if code not in competencies:
            unknown.append(code)
            continue
        try:
            level = max(1, min(MAX_LEVEL, int(target.get("level") or 1)))
        except (TypeError, ValueError):
            level = 1
        targets[code] = max(level, targets.get(code, 0))
        specs[f"course:{iri}:completed:{code}"] = RuleSpec(
            name=title, activity_iri=iri, match="exact", criterion=Criterion.COMPLETED.value,
            competency_id=competencies[code].id, level=targets[code],
            source=EvidenceSource.COURSE.value)
    for quiz in course.get("quizzes") or []:
        tagged: dict[str, list[str]] = defaultdict(list)
        for question in quiz.get("questions") or []:
            code = question.get("competency")
            if not code:
                continue
            if code not in competencies:
                unknown.append(str(code))
                continue
            tagged[code].append(str(question["iri"]))
        for code, questions in tagged.items():
            bands = default_bands(targets.get(code))
            specs[f"quiz:{quiz['iri']}:items:{code}"] = RuleSpec(
                name=f"{title}: {quiz.get('title') or quiz['iri']}",
                activity_iri=str(quiz["iri"]), match="exact", criterion=Criterion.ITEMS.value,
                competency_id=competencies[code].id, level=max(int(b[1]) for b in bands),
                source=EvidenceSource.COURSE.value, bands=bands, items=sorted(questions))
    return specs, sorted(set(unknown))


def _spec_hash(spec: RuleSpec) -> str:
    return hashlib.sha256(json.dumps(spec.__dict__, sort_keys=True).encode()).hexdigest()


def apply_course_publication(course: dict[str, Any]) -> dict[str, int]:
    """Create or version the evidence rules a course implies, and keep its targets for
    recommendations. Rules already matching the publication are left alone; rules the
    course no longer implies are switched off (as new versions)."""
    session = get_session()
    iri = str(course["iri"])
    kept = session.get(CoursePublication, iri)
    if kept is None:
        session.add(CoursePublication(course_iri=iri, version=int(course.get("version") or 1),
                                      payload=course))
    else:
        kept.version, kept.payload = int(course.get("version") or 1), course
    competencies = {c.code: c for c in session.scalars(sa.select(Competency))}
    specs, unknown = _derive(course, competencies)
    counts = {"created": 0, "versioned": 0, "deactivated": 0, "unknown": len(unknown)}
    existing = {r.rule_key: r for r in current_rules(origin="course") if r.course_iri == iri}
    for key, spec in sorted(specs.items()):
        spec = _check_rule(spec)
        digest = _spec_hash(spec)
        old = existing.get(key)
        if old is not None and old.derived_hash == digest and old.active:
            continue
        _add_version(key, spec, origin="course", course_iri=iri, derived_hash=digest)
        counts["versioned" if old else "created"] += 1
    for key, old in existing.items():
        if key not in specs and old.active:
            _add_version(key, _spec_of(old), origin="course", active=False, course_iri=iri,
                         derived_hash=old.derived_hash)
            counts["deactivated"] += 1
    session.execute(sa.delete(CourseCompetency).where(CourseCompetency.course_iri == iri))
    seen: dict[int, int] = {}
    for target in course.get("targets") or []:
        competency = competencies.get(str(target.get("competency") or ""))
        if competency is None:
            continue
        try:
            level = max(1, min(MAX_LEVEL, int(target.get("level") or 1)))
        except (TypeError, ValueError):
            level = 1
        seen[competency.id] = max(level, seen.get(competency.id, 0))
    for competency_id, level in seen.items():
        session.add(CourseCompetency(
            course_iri=iri, competency_id=competency_id, level=level,
            slug=str(course.get("slug") or ""), title=str(course.get("title") or iri)[:300],
            jp=float(course.get("jp") or 0), version=int(course.get("version") or 1)))
    session.flush()
    if unknown:
        current_app.logger.warning("course %s names unknown competencies: %s", iri,
                                   ", ".join(unknown))
    return counts


# --- people --------------------------------------------------------------------------------


def supervisors_of(employee: User) -> list[User]:
    """Holders of a managerial position (JPT, administrator, pengawas) in the employee's
    org unit or an ancestor unit, nearest unit first; the employee is left out."""
    position = employee.position
    if position is None:
        return []
    path = position.org_unit.path or ""
    ancestors = [int(p) for p in path.strip("/").split("/") if p.isdigit()]
    if not ancestors:
        return []
    session = get_session()
    rows = session.execute(
        sa.select(User, OrgUnit.path)
        .join(PositionAssignment, PositionAssignment.user_id == User.id)
        .join(Position, Position.id == PositionAssignment.position_id)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .where(PositionAssignment.end_date.is_(None), Position.kind.in_(MANAGERIAL_KINDS),
               Position.org_unit_id.in_(ancestors), User.id != employee.id,
               User.active.is_(True))).all()
    ordered = sorted(rows, key=lambda r: (-len(r[1] or ""), r[0].name))
    return [user for user, _path in ordered]


def is_supervisor_of(viewer: User, employee: User) -> bool:
    """Whether ``viewer`` holds a managerial position over ``employee``'s unit."""
    mine = viewer.position
    theirs = employee.position
    if mine is None or theirs is None or mine.kind not in MANAGERIAL_KINDS:
        return False
    return bool(viewer.id != employee.id and (theirs.org_unit.path or "").startswith(
        mine.org_unit.path or "\0"))


def can_view_profile(viewer: User, employee: User) -> bool:
    """The employee, HR, administrators and the employee's supervisors."""
    from lms.people.models import Role

    return (viewer.id == employee.id or viewer.has_role(Role.HR, Role.ADMIN)
            or is_supervisor_of(viewer, employee))


def search_employees(query: str, limit: int = 25, unit_path: str | None = None) -> list[User]:
    """Employees whose NIP, name or e-mail contains ``query`` (case-insensitive)."""
    session = get_session()
    text = (query or "").strip().lower()
    stmt = sa.select(User).where(User.nip.is_not(None)).order_by(User.name).limit(limit)
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(User.nip.like(like, escape="\\"),
                                 sa.func.lower(User.name).like(like, escape="\\"),
                                 sa.func.lower(User.email).like(like, escape="\\")))
    if unit_path:
        stmt = (stmt.join(PositionAssignment, sa.and_(PositionAssignment.user_id == User.id,
                                                      PositionAssignment.end_date.is_(None)))
                .join(Position).join(OrgUnit).where(OrgUnit.path.like(unit_path + "%")))
    return list(session.scalars(stmt))


def subordinates(viewer: User, limit: int = 200) -> list[User]:
    """Employees in the units a managerial viewer leads (their unit and below)."""
    position = viewer.position
    if position is None or position.kind not in MANAGERIAL_KINDS:
        return []
    return [u for u in search_employees("", limit=limit, unit_path=position.org_unit.path)
            if u.id != viewer.id]


# --- profiles (read side) -----------------------------------------------------------------

#: Job-person match categories (Peraturan BKN 26/2019 practice; see docs/competency.md).
JPM_OPTIMAL = 90
JPM_CUKUP = 78


@dataclass
class ProfileRow:
    competency: Competency
    required: int
    level: int
    progress: int
    evidence_count: int
    achieved_at: Any
    achieved_statement_id: str | None
    courses: list[CourseCompetency] = field(default_factory=list)

    @property
    def gap(self) -> int:
        """Levels still missing to the position's standard (0: met or none required)."""
        return max(0, self.required - self.level)

    def raised_by(self, level: int) -> bool:
        """Whether reaching ``level`` (a course's or a route's) narrows this gap."""
        return self.gap > 0 and level > self.level


@dataclass
class Profile:
    user: User
    position: Position | None
    rows: list[ProfileRow]
    jpm: int | None

    @property
    def jpm_category(self) -> str | None:
        if self.jpm is None:
            return None
        if self.jpm >= JPM_OPTIMAL:
            return "optimal"
        return "cukup" if self.jpm >= JPM_CUKUP else "kurang"

    @property
    def gaps(self) -> list[ProfileRow]:
        """The rows with a gap, biggest gap first (then by competency code): the order
        recommendations, plans and the profile page all use."""
        return sorted((row for row in self.rows if row.gap > 0),
                      key=lambda r: (-r.gap, r.competency.code))


def job_person_match(rows: Iterable[ProfileRow]) -> int | None:
    """Σ min(level, required) / Σ required over the position's standard, in percent."""
    required = [(min(r.level, r.required), r.required) for r in rows if r.required > 0]
    total = sum(req for _l, req in required)
    if not total:
        return None
    return int(sum(level for level, _r in required) * 100 // total)


def build_profile(user: User) -> Profile:
    """The employee's levels against the standard of their current position, with the
    courses that close each gap."""
    session = get_session()
    position = user.position
    required = requirements_for(position)
    # This runs on the home page and the catalog of every learner: only the competencies
    # the profile shows, and their level descriptions only if a page asks for them.
    current = {r.competency_id: r for r in session.scalars(
        sa.select(UserCompetency).where(UserCompetency.user_id == user.id)
        .options(orm.lazyload(UserCompetency.competency)))}
    wanted = set(required) | set(current)
    competencies = list(session.scalars(
        sa.select(Competency).join(Framework).where(Competency.id.in_(wanted))
        .options(orm.lazyload(Competency.levels))
        .order_by(Framework.id, Competency.sort_order, Competency.code))) if wanted else []
    courses: dict[int, list[CourseCompetency]] = defaultdict(list)
    for row in session.scalars(sa.select(CourseCompetency).where(
            CourseCompetency.competency_id.in_(wanted))
            .options(orm.joinedload(CourseCompetency.competency).lazyload(Competency.levels))
            .order_by(CourseCompetency.level, CourseCompetency.title)) if wanted else ():
        courses[row.competency_id].append(row)
    rows = []
    for competency in competencies:
        mine = current.get(competency.id)
        level = mine.level if mine else 0
        need = required.get(competency.id, 0)
        closing = [c for c in courses.get(competency.id, []) if c.level > level]
        rows.append(ProfileRow(
            competency=competency, required=need, level=level,
            progress=mine.progress if mine else 0,
            evidence_count=mine.evidence_count if mine else 0,
            achieved_at=mine.achieved_at if mine else None,
            achieved_statement_id=mine.achieved_statement_id if mine else None,
            courses=closing if need > level else []))
    return Profile(user=user, position=position, rows=rows, jpm=job_person_match(rows))


def evidence_for(user: User, competency: Competency | None = None) -> list[Evidence]:
    """The employee's evidence (newest first), withdrawn included."""
    query = sa.select(Evidence).where(Evidence.user_id == user.id).order_by(
        Evidence.statement_seq.desc(), Evidence.id.desc())
    if competency is not None:
        query = query.where(Evidence.competency_id == competency.id)
    return list(get_session().scalars(query))


def recommended_courses(user: User, limit: int = 6) -> list[dict[str, Any]]:
    """Courses that close the employee's gaps, biggest gap first, one entry per course."""
    profile = build_profile(user)
    picked: dict[str, dict[str, Any]] = {}
    for row in profile.gaps:
        for course in row.courses:
            entry = picked.setdefault(course.course_iri, {
                "iri": course.course_iri, "slug": course.slug, "title": course.title,
                "jp": course.jp, "competencies": []})
            entry["competencies"].append({"code": row.competency.code,
                                          "name": row.competency.name,
                                          "level": course.level})
    return list(picked.values())[:limit]


def profile_dump(user_ids: Iterable[int] | None = None) -> str:
    """A canonical JSON text of profiles and evidence (no surrogate ids), for comparing a
    rebuild with the incremental path byte for byte."""
    session = get_session()
    codes = dict(session.execute(sa.select(Competency.id, Competency.code)).all())
    keys = dict(session.execute(sa.select(EvidenceRule.id, EvidenceRule.rule_key)).all())
    versions = dict(session.execute(sa.select(EvidenceRule.id, EvidenceRule.version)).all())
    nips = dict(session.execute(sa.select(User.id, User.nip)).all())
    q_profiles = sa.select(UserCompetency)
    q_evidence = sa.select(Evidence.user_id, Evidence.competency_id, Evidence.level,
                           Evidence.weight, Evidence.source, Evidence.rule_id,
                           Evidence.statement_id, Evidence.occurred, Evidence.score,
                           Evidence.withdrawn, Evidence.withdrawn_by)
    if user_ids is not None:
        ids = list(user_ids)
        q_profiles = q_profiles.where(UserCompetency.user_id.in_(ids))
        q_evidence = q_evidence.where(Evidence.user_id.in_(ids))
    out: dict[str, Any] = defaultdict(lambda: {"levels": {}, "evidence": []})
    for row in session.scalars(q_profiles):
        out[nips.get(row.user_id) or str(row.user_id)]["levels"][codes[row.competency_id]] = [
            row.level, row.progress, row.evidence_count, row.achieved_statement_id,
            row.achieved_at.isoformat() if row.achieved_at else None]
    for ev in session.execute(q_evidence):
        out[nips.get(ev.user_id) or str(ev.user_id)]["evidence"].append([
            ev.statement_id, keys[ev.rule_id], versions[ev.rule_id],
            codes[ev.competency_id], ev.level, ev.weight, str(ev.source),
            ev.occurred.isoformat() if ev.occurred else None, ev.score,
            ev.withdrawn, ev.withdrawn_by])
    for value in out.values():
        value["evidence"].sort(key=lambda e: (e[0], e[1]))
    return json.dumps(out, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def credit_earlier_statements(user: User) -> int:
    """Judge the statements stored before ``user`` existed (by their NIP account, e-mail
    and its hash) so their profile is what a rebuild would give. Returns how many."""
    from lms.competency.engine import get_engine

    return get_engine().reprocess_actor_keys(actor_keys(user))


def credit_earlier_statements_of(user_ids: list[int]) -> int:
    """:func:`credit_earlier_statements` for many users at once (an employee import):
    one statement lookup per few thousand actor keys instead of one per user."""
    from lms.competency.engine import get_engine

    session = get_session()
    keys: list[str] = []
    for start in range(0, len(user_ids), 1000):
        rows = session.execute(sa.select(User.id, User.nip, User.email).where(
            User.id.in_(user_ids[start:start + 1000])))
        for row in rows:
            keys.extend(actor_keys(row))
    engine = get_engine()
    return sum(engine.reprocess_actor_keys(keys[start:start + 4000])
               for start in range(0, len(keys), 4000))


def rebuild_profiles(progress: Callable[[int], Any] | None = None) -> int:
    """Delete every derived row and replay all statements through the engine; return the
    number of statements handled. Levels reached again are not announced again."""
    from lms.competency.engine import CONSUMER_NAME, get_engine
    from lms.xapi.consumers import replay

    engine = get_engine()
    engine.quiet = True
    try:
        return replay(CONSUMER_NAME, progress=progress)
    finally:
        engine.quiet = False


# --- rules owned by other modules ----------------------------------------------------------


def ensure_rule(key: str, spec: RuleSpec, *, origin: str,
                created_by: User | None = None) -> EvidenceRule:
    """The newest version of rule ``key``, made from ``spec`` when missing (version 1,
    which also judges earlier statements) or versioned when ``spec`` differs from it.

    For modules that own a family of rules with stable keys (the assessment module's
    ``assessment:<competency>:<role>`` rules), so that their evidence is judged by the same
    engine, the same versioning and the framework's aggregation policy as any other."""
    spec = _check_rule(spec)
    previous = _latest(key)
    if previous is not None and previous.active and _spec_of(previous) == spec:
        return previous
    return _add_version(key, spec, origin=origin, created_by=created_by)
