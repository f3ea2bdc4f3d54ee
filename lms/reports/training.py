"""Offline and external learning: HR records it, the LRS stores it, consumers count it.

A recorded training is the activity ``{BASE_URL}/training/{id}``. Each participant gets
one ``completed`` statement with the learner's account actor, ``result.duration`` and
the JP in the result extension :func:`jp_extension`, and context extensions for the
provider (:func:`provider_extension`) and the kind of learning
(:func:`kind_extension`). Nothing else is written about the learning itself:

- JP: :class:`JpLedger` (a statement consumer named ``jp-credits``) credits the JP of
  every ``completed`` statement that carries the JP extension about an activity that is
  not a Lentera course (the courses ledger credits those). So other platforms can report
  external learning with the same extension and it counts too.
- Competencies: the evidence rules this module creates through the competency service
  (criterion *completed* on the training's IRI) let the profile engine derive evidence,
  exactly as for course activities.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from lms.db import get_session
from lms.errors import ValidationError
from lms.people.models import OrgUnit, User
from lms.reports.models import JpCredit, Training, TrainingKind, TrainingParticipant
from lms.reports.scope import Scope, employee_in_scope

try:
    from lms.xapi.consumers import StatementConsumer, StoredStatement
except ImportError:  # pragma: no cover - the LRS is part of Lentera
    StatementConsumer = object  # type: ignore[assignment,misc]
    StoredStatement = Any  # type: ignore[assignment,misc]

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
#: Minutes in one JP (jam pelajaran), for result.duration.
JP_MINUTES = 45
MAX_JP = 1000
CERTIFICATE_TYPES = {".pdf", ".png", ".jpg", ".jpeg"}
MAX_CERTIFICATE_BYTES = 10 * 1024 * 1024

ACTIVITY_TYPES = {
    TrainingKind.CLASSROOM: "http://adlnet.gov/expapi/activities/course",
    TrainingKind.SEMINAR: "http://adlnet.gov/expapi/activities/meeting",
    TrainingKind.WORKSHOP: "http://adlnet.gov/expapi/activities/meeting",
    TrainingKind.COACHING: "http://adlnet.gov/expapi/activities/meeting",
    TrainingKind.MENTORING: "http://adlnet.gov/expapi/activities/meeting",
    TrainingKind.SECONDMENT: "http://adlnet.gov/expapi/activities/performance",
    TrainingKind.UNIVERSITY: "http://adlnet.gov/expapi/activities/course",
    TrainingKind.PRIVATE: "http://adlnet.gov/expapi/activities/course",
    TrainingKind.ELEARNING: "http://adlnet.gov/expapi/activities/course",
}


# --- IRIs -----------------------------------------------------------------------------------


def base_url() -> str:
    return str(current_app.config["BASE_URL"])


def training_iri(training_id: int) -> str:
    return f"{base_url()}/training/{training_id}"


def jp_extension() -> str:
    """Result extension: JP (jam pelajaran) earned, a number."""
    return f"{base_url()}/xapi/extensions/jp"


def provider_extension() -> str:
    """Context extension: who provided the learning (a name)."""
    return f"{base_url()}/xapi/extensions/provider"


def kind_extension() -> str:
    """Context extension: the kind of learning (see :class:`TrainingKind`)."""
    return f"{base_url()}/xapi/extensions/learning-type"


def parse_training_iri(iri: str) -> int | None:
    prefix = f"{base_url()}/training/"
    if iri.startswith(prefix) and iri[len(prefix):].isdigit():
        return int(iri[len(prefix):])
    return None


def iso_duration(jp: float) -> str:
    minutes = round(jp * JP_MINUTES)
    hours, minutes = divmod(minutes, 60)
    return f"PT{hours}H{minutes}M" if minutes else f"PT{hours}H"


# --- recording ------------------------------------------------------------------------------

_COMPETENCY_ITEM = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:[:=]\s*([1-5]))?\s*$")


def parse_competencies(text: str) -> list[dict[str, Any]]:
    """``"M.03:2, T.SPBE:3"`` -> ``[{"code": "M.03", "level": 2}, ...]`` (known codes only)."""
    from lms.competency.models import Competency

    items: dict[str, int] = {}
    for part in re.split(r"[,;\n]", text or ""):
        if not part.strip():
            continue
        match = _COMPETENCY_ITEM.match(part)
        if not match:
            raise ValidationError(
                _("Write competencies as CODE:LEVEL, for example M.03:2, T.SPBE:3."),
                field="competencies")
        code, level = match.group(1).upper(), int(match.group(2) or 1)
        items[code] = max(level, items.get(code, 0))
    if not items:
        return []
    known = set(get_session().scalars(sa.select(Competency.code).where(
        Competency.code.in_(list(items)))))
    unknown = sorted(set(items) - known)
    if unknown:
        raise ValidationError(_("Unknown competency code: %(codes)s.", codes=", ".join(unknown)),
                              field="competencies")
    return [{"code": code, "level": level} for code, level in sorted(items.items())]


@dataclass
class TrainingSpec:
    """What HR types about a training (plain values)."""

    title: str
    kind: str
    provider: str
    start_date: dt.date | None
    end_date: dt.date | None
    jp: float | None
    competencies: str = ""
    description: str = ""


def create_training(spec: TrainingSpec, *, created_by: User | None, org_unit: OrgUnit | None,
                    certificate: FileStorage | None = None) -> Training:
    """Record a training (without participants yet) and the evidence rules for the
    competencies it develops. Flushes; the caller commits."""
    title = " ".join((spec.title or "").split())
    if not title:
        raise ValidationError(_("Title is required."), field="title")
    provider = " ".join((spec.provider or "").split())
    if not provider:
        raise ValidationError(_("Provider is required."), field="provider")
    try:
        kind = TrainingKind(spec.kind)
    except ValueError:
        raise ValidationError(_("Choose the kind of learning."), field="kind") from None
    if spec.start_date is None or spec.end_date is None:
        raise ValidationError(_("Give the start and end dates."), field="start_date")
    if spec.end_date < spec.start_date:
        raise ValidationError(_("The end date cannot be before the start date."),
                              field="end_date")
    if spec.jp is None or not 0 < spec.jp <= MAX_JP:
        raise ValidationError(_("JP must be more than 0 and at most %(max)d.", max=MAX_JP),
                              field="jp")
    competencies = parse_competencies(spec.competencies)
    session = get_session()
    training = Training(
        title=title[:300], kind=kind, provider=provider[:300], start_date=spec.start_date,
        end_date=spec.end_date, jp=float(spec.jp), competencies=competencies,
        description=(spec.description or "").strip(),
        created_by_id=created_by.id if created_by else None,
        org_unit_id=org_unit.id if org_unit else None)
    session.add(training)
    session.flush()
    if certificate is not None and certificate.filename:
        save_certificate(training, certificate)
    _create_rules(training, created_by)
    return training


def _create_rules(training: Training, created_by: User | None) -> None:
    """One evidence rule per competency: completing the training proves the level."""
    from lms.competency import service as competency
    from lms.competency.models import Competency

    session = get_session()
    for item in training.competencies:
        found = session.scalar(sa.select(Competency).where(Competency.code == item["code"]))
        if found is None:
            continue
        competency.create_rule(competency.RuleSpec(
            name=training.title, activity_iri=training_iri(training.id), match="exact",
            criterion="completed", competency_id=found.id, level=int(item["level"]),
            source="external"), created_by=created_by)


def upload_dir(training: Training) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "training" / str(training.id)


def save_certificate(training: Training, upload: FileStorage) -> None:
    """Keep an optional certificate (PDF or image) with the training."""
    name = secure_filename(upload.filename or "")
    suffix = Path(name).suffix.lower()
    if suffix not in CERTIFICATE_TYPES:
        raise ValidationError(_("The certificate must be a PDF, PNG or JPEG file."),
                              field="certificate")
    data = upload.read(MAX_CERTIFICATE_BYTES + 1)
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise ValidationError(_("The certificate file is larger than 10 MB."),
                              field="certificate")
    if not data:
        raise ValidationError(_("The certificate file is empty."), field="certificate")
    folder = upload_dir(training)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"certificate{suffix}").write_bytes(data)
    training.certificate_file = f"certificate{suffix}"
    get_session().flush()


@dataclass
class ParticipantRow:
    line: int
    nip: str
    certificate_number: str = ""
    user: User | None = None
    error: str | None = None


@dataclass
class ParticipantPreview:
    rows: list[ParticipantRow] = field(default_factory=list)

    @property
    def good(self) -> list[ParticipantRow]:
        return [r for r in self.rows if r.error is None]

    @property
    def bad(self) -> list[ParticipantRow]:
        return [r for r in self.rows if r.error is not None]


MAX_PARTICIPANT_ROWS = 5000


def read_participants(text: str) -> list[tuple[int, str, str]]:
    """``(line, nip, certificate number)`` from a CSV (a ``nip`` column, optionally
    ``certificate_number``; comma or semicolon) or from one NIP per line."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise ValidationError(_("Give at least one participant NIP."), field="participants")
    sample = "\n".join(lines[:5])
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = list(reader)
    header = [h.strip().lower() for h in rows[0]] if rows else []
    out: list[tuple[int, str, str]] = []
    if "nip" in header:
        nip_col = header.index("nip")
        cert_col = header.index("certificate_number") if "certificate_number" in header else (
            header.index("nomor_sertifikat") if "nomor_sertifikat" in header else None)
        for number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            nip = row[nip_col].strip() if nip_col < len(row) else ""
            cert = row[cert_col].strip() if cert_col is not None and cert_col < len(row) else ""
            out.append((number, nip, cert))
    else:
        for number, row in enumerate(rows, start=1):
            if not any(cell.strip() for cell in row):
                continue
            out.append((number, row[0].strip(), row[1].strip() if len(row) > 1 else ""))
    if len(out) > MAX_PARTICIPANT_ROWS:
        raise ValidationError(_("At most %(n)d participants per upload.",
                                n=MAX_PARTICIPANT_ROWS), field="participants")
    return out


def preview_participants(training: Training, text: str, scope: Scope) -> ParticipantPreview:
    """Check every row: a valid NIP of an employee inside ``scope``, not a participant
    already, not twice in the file. Nothing is written."""
    from lms.people.nip import parse_nip

    session = get_session()
    already = set(session.scalars(sa.select(TrainingParticipant.user_id).where(
        TrainingParticipant.training_id == training.id)))
    preview = ParticipantPreview()
    seen: set[str] = set()
    for line, raw_nip, cert in read_participants(text):
        row = ParticipantRow(line=line, nip=raw_nip, certificate_number=cert[:100])
        preview.rows.append(row)
        digits = "".join(ch for ch in raw_nip if ch.isdigit())
        try:
            nip = parse_nip(digits).value
        except ValidationError as exc:
            row.error = exc.message if hasattr(exc, "message") else str(exc)
            continue
        row.nip = nip
        if nip in seen:
            row.error = _("This NIP appears twice in the list.")
            continue
        seen.add(nip)
        user = session.scalar(sa.select(User).where(User.nip == nip))
        if user is None:
            row.error = _("No employee has this NIP.")
        elif not employee_in_scope(scope, user):
            row.error = _("This employee is outside your reporting scope.")
        elif user.id in already:
            row.error = _("Already recorded as a participant.")
        else:
            row.user = user
    return preview


def participant_statement(training: Training, user: User, statement_id: str) -> dict[str, Any]:
    """The ``completed`` statement that records ``user``'s participation."""
    from lms.people.actors import actor_for

    finished = dt.datetime.combine(training.end_date, dt.time(16, 0), LOCAL_TZ)
    definition: dict[str, Any] = {
        "name": {"id-ID": training.title},
        "type": ACTIVITY_TYPES[TrainingKind(training.kind)],
    }
    if training.description:
        definition["description"] = {"id-ID": training.description[:1000]}
    return {
        "id": statement_id,
        "actor": actor_for(user),
        "verb": {"id": COMPLETED, "display": {"en-US": "completed", "id-ID": "menyelesaikan"}},
        "object": {"objectType": "Activity", "id": training_iri(training.id),
                   "definition": definition},
        "result": {"completion": True, "duration": iso_duration(training.jp),
                   "extensions": {jp_extension(): training.jp}},
        "context": {
            "platform": "Lentera",
            "language": "id-ID",
            "extensions": {
                provider_extension(): training.provider,
                kind_extension(): TrainingKind(training.kind).value,
                f"{base_url()}/xapi/extensions/dates": {
                    "start": training.start_date.isoformat(),
                    "end": training.end_date.isoformat()},
            },
        },
        "timestamp": finished.isoformat(),
    }


def record_participants(training: Training, rows: Iterable[ParticipantRow]) -> int:
    """Store one statement per participant (in one LRS call) and remember who was
    recorded. Returns the number recorded. Flushes; the caller commits, and the
    consumers then credit JP and evidence."""
    from lms.xapi.service import store_statements

    session = get_session()
    statements = []
    for row in rows:
        if row.user is None:
            continue
        statement_id = str(uuid.uuid4())
        statements.append(participant_statement(training, row.user, statement_id))
        session.add(TrainingParticipant(
            training_id=training.id, user_id=row.user.id, statement_id=statement_id,
            certificate_number=row.certificate_number or None))
    if not statements:
        raise ValidationError(_("There is no valid participant to record."),
                              field="participants")
    store_statements(statements)
    session.flush()
    return len(statements)


# --- the JP ledger for learning outside Lentera's courses ------------------------------------


def _title(definition: dict[str, Any], iri: str) -> str:
    names = definition.get("name") or {}
    for lang in ("id-ID", "id", "en-US", "en"):
        if isinstance(names.get(lang), str) and names[lang].strip():
            return names[lang].strip()[:300]
    for value in names.values():
        if isinstance(value, str) and value.strip():
            return value.strip()[:300]
    return iri[:300]


def _parse_time(value: Any, fallback: dt.datetime) -> dt.datetime:
    fallback = fallback if fallback.tzinfo else fallback.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return fallback


class JpLedger(StatementConsumer):  # type: ignore[misc,valid-type]
    """Credits JP from ``completed`` statements that carry :func:`jp_extension` about an
    activity outside Lentera's course IRIs. One credit per person and activity (the first
    statement wins, as for course completions); voiding withdraws it."""

    name = "jp-credits"

    def handle(self, statement: StoredStatement) -> None:
        data = statement.data
        if (data.get("verb") or {}).get("id") != COMPLETED:
            return
        obj = data.get("object") or {}
        if obj.get("objectType", "Activity") != "Activity":
            return
        iri = str(obj.get("id") or "")
        if iri.startswith(f"{base_url()}/courses/"):
            return  # the courses ledger credits Lentera's own courses
        jp = ((data.get("result") or {}).get("extensions") or {}).get(jp_extension())
        if isinstance(jp, bool) or not isinstance(jp, int | float) or not 0 < jp <= MAX_JP:
            return
        from lms.people.actors import user_for_actor

        user = user_for_actor(data.get("actor"))
        if user is None:
            return
        session = get_session()
        exists = session.scalar(sa.select(JpCredit.id).where(
            JpCredit.user_id == user.id, JpCredit.activity_iri == iri).limit(1))
        if exists is not None:
            return
        extensions = (data.get("context") or {}).get("extensions") or {}
        provider = extensions.get(provider_extension())
        kind = extensions.get(kind_extension())
        session.add(JpCredit(
            user_id=user.id, activity_iri=iri[:2048], training_id=parse_training_iri(iri),
            title=_title(obj.get("definition") or {}, iri),
            kind=str(kind)[:50] if isinstance(kind, str) else "",
            provider=str(provider)[:300] if isinstance(provider, str) else "",
            jp=float(jp), completed_at=_parse_time(data.get("timestamp"), statement.stored),
            statement_id=statement.id.lower()))
        session.flush()

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        session = get_session()
        session.execute(sa.delete(JpCredit).where(JpCredit.statement_id == voided_id.lower()))
        session.flush()

    def reset(self) -> None:
        session = get_session()
        session.execute(sa.delete(JpCredit))
        session.flush()
