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

from lms.courses.statements import courses_prefix, parse_activity_iri
from lms.db import among, get_session, utcnow
from lms.errors import ValidationError
from lms.people.models import OrgUnit, User
from lms.reports import summary
from lms.reports.models import (
    JpCourseCredit,
    JpCredit,
    Training,
    TrainingChange,
    TrainingChangeKind,
    TrainingKind,
    TrainingParticipant,
)
from lms.reports.scope import Scope, employee_in_scope
from lms.web import MAX_URL_INT

try:
    from lms.xapi.consumers import StatementConsumer, StoredStatement
    from lms.xapi.launch import origin_of
    from lms.xapi.validation.agents import agent_key
    from lms.xapi.validation.common import statement_time
except ImportError:  # pragma: no cover - the LRS is part of Lentera
    StatementConsumer = object  # type: ignore[assignment,misc]
    StoredStatement = Any  # type: ignore[assignment,misc]

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
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
    """The id of the recorded training ``iri`` names, else None. Only an id a training can
    have: ASCII digits (``str.isdigit`` also takes ``²`` and other scripts' digits, which
    ``int`` refuses) up to what the id column holds (a larger one, sent by anyone with a
    key, failed the consumers that looked it up)."""
    prefix = f"{base_url()}/training/"
    if not iri.startswith(prefix):
        return None
    digits = iri[len(prefix):]
    if digits.isascii() and digits.isdigit() and len(digits) <= 10 \
            and 0 < int(digits) <= MAX_URL_INT:
        return int(digits)
    return None


def completable_iri(iri: str | None) -> bool:
    """Whether ``iri`` names something whose completion Lentera keeps: a course itself
    (not one of its modules or questions) or a recorded training. Reads no database: for
    a statement consumer's ``relevant``, from a statement's indexed activity column."""
    if not iri:
        return False
    parsed = parse_activity_iri(iri)
    if parsed is not None:
        return parsed[1] is None
    return parse_training_iri(iri) is not None


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


def _validated(spec: TrainingSpec) -> dict[str, Any]:
    """The training's fields from ``spec``, checked (ValidationError names the field)."""
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
    return {"title": title[:300], "kind": kind, "provider": provider[:300],
            "start_date": spec.start_date, "end_date": spec.end_date, "jp": float(spec.jp),
            "competencies": parse_competencies(spec.competencies),
            "description": (spec.description or "").strip()}


def create_training(spec: TrainingSpec, *, created_by: User | None, org_unit: OrgUnit | None,
                    certificate: FileStorage | None = None) -> Training:
    """Record a training (without participants yet) and the evidence rules for the
    competencies it develops. Flushes; the caller commits."""
    values = _validated(spec)
    session = get_session()
    training = Training(
        **values, created_by_id=created_by.id if created_by else None,
        org_unit_id=org_unit.id if org_unit else None)
    session.add(training)
    session.flush()
    if certificate is not None and certificate.filename:
        save_certificate(training, certificate)
    _create_rules(training, created_by)
    _log(training, TrainingChangeKind.CREATED, created_by, {})
    return training


def _log(training: Training, kind: TrainingChangeKind, by: User | None,
         detail: dict[str, Any]) -> TrainingChange:
    change = TrainingChange(training_id=training.id, user_id=by.id if by else None,
                            user_name=by.name if by else "", kind=kind, detail=detail)
    get_session().add(change)
    get_session().flush()
    return change


def competencies_text(items: list[dict[str, Any]]) -> str:
    """``[{"code": "M.03", "level": 2}]`` -> ``"M.03:2"`` (the form's way of writing them)."""
    return ", ".join(f"{item['code']}:{item['level']}" for item in items)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, TrainingKind):
        return value.value
    if isinstance(value, list):
        return competencies_text(value)
    return value


#: Fields that are written into the participants' statements (or decide their evidence).
STATEMENT_FIELDS = ("title", "kind", "provider", "start_date", "end_date", "jp",
                    "competencies", "description")


def _ensure_open(training: Training) -> None:
    if training.voided:
        raise ValidationError(_("This training was voided; it can no longer be changed."))


def update_training(training: Training, spec: TrainingSpec, *, by: User | None,
                    certificate: FileStorage | None = None) -> TrainingChange | None:
    """Correct a recorded training. When anything its statements say changes (or the
    competencies it develops), every participant's statement is voided and a corrected
    one is sent, so the consumers withdraw the old JP and evidence and credit the new;
    the evidence rules follow the new competencies. Returns the change recorded (None:
    nothing changed). Flushes; the caller commits."""
    _ensure_open(training)
    values = _validated(spec)
    changed = {name: [_plain(getattr(training, name)), _plain(value)]
               for name, value in values.items()
               if _plain(getattr(training, name)) != _plain(value)}
    replaced_file = certificate is not None and bool(certificate.filename)
    if not changed and not replaced_file:
        return None
    old_competencies = list(training.competencies or [])
    for name, value in values.items():
        setattr(training, name, value)
    training.updated_at = utcnow()
    get_session().flush()
    if replaced_file:
        save_certificate(training, certificate)  # type: ignore[arg-type]
        changed["certificate_file"] = [None, training.certificate_file]
    if "competencies" in changed:
        _sync_rules(training, old_competencies, by)
    counts = {"voided": 0, "sent": 0}
    if any(name in changed for name in STATEMENT_FIELDS):
        counts = _reissue(training, list(training.participants), by)
    return _log(training, TrainingChangeKind.EDITED, by,
                {"fields": changed, "statements": counts})


def _training_rules(training: Training) -> dict[int, Any]:
    """The newest version of each evidence rule on the training's IRI, by competency id."""
    from lms.competency import service as competency

    iri = training_iri(training.id)
    return {rule.competency_id: rule for rule in competency.current_rules()
            if rule.activity_iri == iri and rule.match == "exact"}


def _sync_rules(training: Training, old: list[dict[str, Any]], by: User | None) -> None:
    """Make the training's evidence rules say what its competencies now say: a new
    version for a changed level, switched off for a competency no longer listed, a new
    rule for a new one. New versions judge the corrected statements sent after them."""
    from lms.competency import service as competency
    from lms.competency.models import Competency

    session = get_session()
    rules = _training_rules(training)
    wanted: dict[int, int] = {}
    for item in training.competencies:
        found = session.scalar(sa.select(Competency.id).where(Competency.code == item["code"]))
        if found is not None:
            wanted[found] = int(item["level"])
    for competency_id, rule in rules.items():
        if competency_id not in wanted:
            if rule.active:
                competency.set_rule_active(rule.rule_key, False, created_by=by)
        elif not rule.active or rule.level != wanted[competency_id]:
            spec = competency.RuleSpec(
                name=training.title, activity_iri=training_iri(training.id), match="exact",
                criterion="completed", competency_id=competency_id,
                level=wanted[competency_id], source="external")
            if not rule.active:
                competency.set_rule_active(rule.rule_key, True, created_by=by)
            competency.update_rule(rule.rule_key, spec, created_by=by)
    for competency_id, level in wanted.items():
        if competency_id not in rules:
            competency.create_rule(competency.RuleSpec(
                name=training.title, activity_iri=training_iri(training.id), match="exact",
                criterion="completed", competency_id=competency_id, level=level,
                source="external"), created_by=by)


def _voiding(statement_id: str, by: User | None) -> dict[str, Any]:
    from lms.xapi.actors import actor_for

    actor = actor_for(by) if by is not None else {
        "objectType": "Agent", "name": "Lentera",
        "account": {"homePage": base_url(), "name": "lentera"}}
    return {"id": str(uuid.uuid4()), "actor": actor,
            "verb": {"id": VOIDED, "display": {"en-US": "voided", "id-ID": "membatalkan"}},
            "object": {"objectType": "StatementRef", "id": statement_id}}


def _reissue(training: Training, participants: list[TrainingParticipant],
             by: User | None) -> dict[str, int]:
    """Void each participant's statement, then send the corrected one (two LRS calls in
    this transaction, so the consumers see every voiding before the new statements)."""
    from lms.xapi.service import store_statements

    if not participants:
        return {"voided": 0, "sent": 0}
    session = get_session()
    store_statements([_voiding(p.statement_id, by) for p in participants])
    fresh = []
    for participant in participants:
        participant.statement_id = str(uuid.uuid4())
        user = session.get(User, participant.user_id)
        assert user is not None  # the participant row goes with its user (ON DELETE CASCADE)
        fresh.append(participant_statement(training, user, participant.statement_id))
    session.flush()
    store_statements(fresh)
    return {"voided": len(participants), "sent": len(fresh)}


def remove_participant(training: Training, user: User, *, by: User | None) -> TrainingChange:
    """Take ``user`` off the training: their statement is voided (JP and evidence
    withdrawn) and the participant row goes. Flushes; the caller commits."""
    from lms.xapi.service import store_statements

    _ensure_open(training)
    session = get_session()
    participant = session.scalar(sa.select(TrainingParticipant).where(
        TrainingParticipant.training_id == training.id,
        TrainingParticipant.user_id == user.id))
    if participant is None:
        raise ValidationError(_("%(name)s is not a participant of this training.",
                                name=user.name))
    store_statements([_voiding(participant.statement_id, by)])
    detail = {"participants": [{"nip": user.nip, "name": user.name,
                                "statement": participant.statement_id}]}
    training.participants.remove(participant)
    session.flush()
    return _log(training, TrainingChangeKind.PARTICIPANT_REMOVED, by, detail)


def void_training(training: Training, *, by: User | None, reason: str = "") -> TrainingChange:
    """Void a training recorded by mistake: every participant's statement is voided, its
    evidence rules are switched off, and it stays listed as voided with its history.
    Flushes; the caller commits."""
    from lms.competency import service as competency
    from lms.xapi.service import store_statements

    _ensure_open(training)
    participants = list(training.participants)
    if participants:
        store_statements([_voiding(p.statement_id, by) for p in participants])
    for rule in _training_rules(training).values():
        if rule.active:
            competency.set_rule_active(rule.rule_key, False, created_by=by)
    training.voided_at = utcnow()
    training.voided_by_id = by.id if by else None
    get_session().flush()
    return _log(training, TrainingChangeKind.VOIDED, by, {
        "reason": " ".join((reason or "").split())[:500],
        "statements": {"voided": len(participants), "sent": 0}})


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
    from lms.xapi.actors import actor_for

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


def record_participants(training: Training, rows: Iterable[ParticipantRow], *,
                        by: User | None = None) -> int:
    """Store one statement per participant (in one LRS call) and remember who was
    recorded. Returns the number recorded. Flushes; the caller commits, and the
    consumers then credit JP and evidence."""
    from lms.xapi.service import store_statements

    _ensure_open(training)
    session = get_session()
    statements = []
    added = []
    rows_done: list[User] = []
    for row in rows:
        if row.user is None:
            continue
        rows_done.append(row.user)
        statement_id = str(uuid.uuid4())
        statements.append(participant_statement(training, row.user, statement_id))
        session.add(TrainingParticipant(
            training_id=training.id, user_id=row.user.id, statement_id=statement_id,
            certificate_number=row.certificate_number or None))
        added.append({"nip": row.user.nip, "name": row.user.name})
    if not statements:
        raise ValidationError(_("There is no valid participant to record."),
                              field="participants")
    store_statements(statements)
    session.flush()
    session.expire(training, ["participants"])
    _log(training, TrainingChangeKind.PARTICIPANTS_ADDED, by, {"participants": added})
    from lms.reports.notify import training_recorded

    for row in rows_done:
        training_recorded(training, row)
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


class JpLedger(StatementConsumer):  # type: ignore[misc,valid-type]
    """Credits JP from ``completed`` statements that carry :func:`jp_extension` about an
    activity outside Lentera's course IRIs. One credit per person and activity (the first
    statement wins, as for course completions); voiding withdraws it.

    It also keeps the per-employee, per-year summary (:mod:`lms.reports.summary`) of every
    JP-earning record, Lentera's course completions included, in the same transaction as
    its cursor; a replay rebuilds both."""

    name = "jp-credits"
    shares_statements = True  # reads statements, never changes them

    def __init__(self) -> None:
        self._course_ids: dict[str, int] = {}

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        # Only completions and passes credit anything (and voiding withdraws): the rest of
        # a batch is passed over without being parsed.
        from lms.xapi.consumers import with_verbs

        return with_verbs(statements, (COMPLETED, PASSED))

    def handle_batch(self, statements: list[StoredStatement]) -> None:
        """The batch in stored order, after the summary locks of every employee it may
        credit or withdraw from are taken at once, in id order (a bulk enrolment takes
        them in that order too; taken one by one in statement order they could deadlock
        with it)."""
        courses = courses_prefix()
        credits = [None if stored.verb_id == VOIDED else self._credits(stored.data, courses)
                   for stored in statements]
        summary.lock_employees(self._employees(statements, credits))
        for stored, credit in zip(statements, credits, strict=True):
            if stored.verb_id == VOIDED:
                self.handle_voiding(stored.voided_id, stored)
            else:
                self._handle(stored, credit)

    def _employees(self, statements: list[StoredStatement],
                   credits: list[str | None]) -> set[int]:
        """The employees whose summary the batch may change: the actors of the statements
        :meth:`handle` may credit (``credits``: what :meth:`_credits` says of each; each
        actor looked up once) and the holders of the credits it voids."""
        from lms.courses.ledger import completed_course_slug
        from lms.xapi.actors import remember_users, user_for_actor

        users: set[int] = set()
        voided: list[str] = []
        actors: list[Any] = []
        for stored, credit in zip(statements, credits, strict=True):
            if stored.verb_id == VOIDED:
                voided.append(stored.voided_id)
            elif credit == "jp" or (credit == "course"
                                    and completed_course_slug(stored.data) is not None):
                actors.append(stored.data.get("actor"))
        remember_users(actors)  # a query per kind of key, not one per learner
        looked: set[str] = set()
        for actor in actors:
            key = agent_key(actor) if isinstance(actor, dict) else None
            if key is None or key in looked:
                continue
            looked.add(key)
            user = user_for_actor(actor)
            if user is not None:
                users.add(user.id)
        if voided:
            session = get_session()
            for model in (JpCredit, JpCourseCredit):
                users.update(session.scalars(sa.select(model.user_id).where(
                    among(model.statement_id, voided))))
        return users

    @staticmethod
    def _credits(data: dict[str, Any], courses: str) -> str | None:
        """What :meth:`handle` makes of a statement before it looks for the person:
        ``"course"`` (a candidate completion of a Lentera course: its object is under
        ``courses``, the courses' IRI prefix), ``"jp"`` (a completion elsewhere with a
        valid JP extension), or None (nothing)."""
        obj = data.get("object") or {}
        if obj.get("objectType", "Activity") != "Activity":
            return None
        if origin_of(data) is not None:
            # Written with a launch credential, which the learner's browser holds: its JP
            # extension is the learner's word. Launched content earns JP through the
            # course completion Lentera records itself (the cmi5 consumer).
            return None
        if str(obj.get("id") or "").startswith(courses):
            # The courses ledger credits Lentera's own courses; the summary counts them.
            return "course"
        if (data.get("verb") or {}).get("id") != COMPLETED:
            return None
        jp = ((data.get("result") or {}).get("extensions") or {}).get(jp_extension())
        if isinstance(jp, bool) or not isinstance(jp, int | float) or not 0 < jp <= MAX_JP:
            return None
        return "jp"

    def handle(self, statement: StoredStatement) -> None:
        self._handle(statement, self._credits(statement.data, courses_prefix()))

    def _handle(self, statement: StoredStatement, credit: str | None) -> None:
        if credit == "course":
            self._course_completion(statement)
        if credit != "jp":
            return
        data = statement.data
        obj = data["object"]
        iri = str(obj.get("id") or "")
        jp = data["result"]["extensions"][jp_extension()]
        from lms.xapi.actors import user_for_actor

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
        completed_at = statement_time(data.get("timestamp"), statement.stored)
        session.add(JpCredit(
            user_id=user.id, activity_iri=iri[:2048], training_id=parse_training_iri(iri),
            title=_title(obj.get("definition") or {}, iri),
            kind=str(kind)[:50] if isinstance(kind, str) else "",
            provider=str(provider)[:300] if isinstance(provider, str) else "",
            jp=float(jp), completed_at=completed_at, statement_id=statement.id.lower()))
        summary.credit_added(user.id, completed_at, float(jp))

    def _course(self, slug: str) -> Any:
        from lms.courses.models import Course

        session = get_session()
        course_id = self._course_ids.get(slug)
        if course_id is not None:
            course = session.get(Course, course_id)
            if course is not None and course.slug == slug:
                return course
        course = session.scalar(sa.select(Course).where(Course.slug == slug))
        if course is not None:
            self._course_ids[slug] = course.id
        return course

    def _course_completion(self, statement: StoredStatement) -> None:
        """Count a course completion as the courses ledger credits it (see
        :mod:`lms.courses.ledger`): the first per person and course, with the JP of the
        version the statement names."""
        from lms.courses.ledger import completed_course_slug, named_version

        data = statement.data
        slug = completed_course_slug(data)
        if slug is None:
            return
        from lms.xapi.actors import user_for_actor

        user = user_for_actor(data.get("actor"))
        if user is None:
            return
        course = self._course(slug)
        if course is None:
            return
        session = get_session()
        exists = session.scalar(sa.select(JpCourseCredit.id).where(
            JpCourseCredit.user_id == user.id, JpCourseCredit.course_id == course.id))
        if exists is not None:
            return
        version = named_version(course, data)
        jp = float(version.definition["jp"]) if version else float(course.jp)
        completed_at = statement_time(data.get("timestamp"), statement.stored)
        session.add(JpCourseCredit(user_id=user.id, course_id=course.id, jp=jp,
                                   completed_at=completed_at,
                                   statement_id=statement.id.lower()))
        summary.credit_added(user.id, completed_at, jp)
        # The enrolment counts as completed in the row of the year it was made.
        summary.course_completion_changed(user.id, course.id, 1)

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        session = get_session()
        voided_id = voided_id.lower()
        for model in (JpCredit, JpCourseCredit):
            course = JpCourseCredit.course_id if model is JpCourseCredit else sa.null()
            found = session.execute(sa.select(model.user_id, model.completed_at, model.jp,
                                              course).where(
                model.statement_id == voided_id)).first()
            if found is None:
                continue
            user_id, completed_at, jp, course_id = found
            session.execute(sa.delete(model).where(model.statement_id == voided_id))
            summary.credit_removed(user_id, completed_at, jp)
            if course_id is not None:
                summary.course_completion_changed(user_id, course_id, -1)
        session.flush()

    def reset(self) -> None:
        session = get_session()
        session.execute(sa.delete(JpCredit))
        summary.delete_all()
        summary.fill_enrolments()
        session.flush()
