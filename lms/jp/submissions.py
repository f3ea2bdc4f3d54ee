"""Learning done elsewhere, submitted by the employee, confirmed by the supervisor and
verified by HR; and the JP conversion table.

Every step stores an xAPI statement through the LRS (:func:`lms.xapi.service.store_statements`)
about the submission's activity ``{BASE_URL}/jp/submissions/{id}``:

| step | actor | verb |
| --- | --- | --- |
| submitted (or submitted again) | employee | ``http://activitystrea.ms/schema/1.0/submit`` |
| confirmed by the supervisor | supervisor | ``http://activitystrea.ms/schema/1.0/confirm`` |
| returned with a reason | supervisor or HR | ``http://activitystrea.ms/schema/1.0/reject`` |
| verified by HR | HR | ``http://activitystrea.ms/schema/1.0/approve`` |
| ... and the learning itself | employee | ``completed``, JP in the result extension |
| voided by HR | HR | ``voided`` (of the ``completed`` statement) |

Only the ``completed`` statement carries JP: the ``jp-credits`` consumer credits it (and the
competency engine derives evidence from the rules made for the submission's competencies),
so nothing counts before HR verified it, and voiding takes it back.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from lms.db import get_session, utcnow
from lms.errors import Conflict, Forbidden, ValidationError
from lms.jp import kinds
from lms.jp.models import (
    JpConversion,
    JpSubmission,
    JpSubmissionStep,
    SubmissionStatus,
)
from lms.people.models import User

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
#: Minutes in one JP (jam pelajaran).
JP_MINUTES = 45
MAX_JP = 1000
MAX_HOURS = 2000
MAX_CERTIFICATE_BYTES = 5 * 1024 * 1024
#: Allowed certificate files: suffix -> the bytes such a file starts with.
CERTIFICATE_MAGIC = {".pdf": (b"%PDF-",), ".png": (b"\x89PNG\r\n\x1a\n",),
                     ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",)}

SUBMIT = "http://activitystrea.ms/schema/1.0/submit"
CONFIRM = "http://activitystrea.ms/schema/1.0/confirm"
REJECT = "http://activitystrea.ms/schema/1.0/reject"
APPROVE = "http://activitystrea.ms/schema/1.0/approve"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
VERB_NAMES = {SUBMIT: ("submitted", "mengajukan"), CONFIRM: ("confirmed", "mengonfirmasi"),
              REJECT: ("returned", "mengembalikan"), APPROVE: ("verified", "memverifikasi"),
              COMPLETED: ("completed", "menyelesaikan")}


def base_url() -> str:
    return str(current_app.config["BASE_URL"])


def submission_iri(submission_id: int) -> str:
    return f"{base_url()}/jp/submissions/{submission_id}"


# --- conversion -----------------------------------------------------------------------------


def rule_in_force(type_id: int, on: dt.date) -> JpConversion | None:
    """The conversion line for ``type_id`` in force on ``on`` (the newest that took effect
    on or before it), or None."""
    return get_session().scalar(
        sa.select(JpConversion).where(JpConversion.type_id == type_id,
                                      JpConversion.effective_from <= on)
        .order_by(JpConversion.effective_from.desc()).limit(1))


def _fmt(value: float) -> str:
    return f"{round(value, 2):g}".replace(".", ",")


def convert(type_id: int, on: dt.date, *, hours: float | None = None,
            jp: float | None = None) -> tuple[float, str]:
    """JP of a learning of development type ``type_id`` that ended on ``on``, and how they
    were found. JP written on a certificate count as they are; hours of classroom learning
    are JP of 45 minutes; hours of a non-classroom type go through the conversion line in
    force on ``on`` (without one: JP of 45 minutes, as for classroom learning)."""
    kind = kinds.TYPES[type_id]
    if jp is not None:
        return round(float(jp), 2), _("JP as written on the certificate")
    if hours is None:
        raise ValidationError(_("Give the hours or the JP of the learning."), field="hours")
    by_time = hours * 60 / JP_MINUTES
    if kind.classroom:
        return round(by_time, 2), _("%(hours)s hours × 60 / 45 minutes", hours=_fmt(hours))
    rule = rule_in_force(type_id, on)
    if rule is None:
        return round(by_time, 2), _("%(hours)s hours × 60 / 45 minutes (no conversion line "
                                    "for this type)", hours=_fmt(hours))
    when = rule.effective_from.isoformat()
    if rule.jp_per_activity is not None:
        return round(rule.jp_per_activity, 2), _(
            "%(jp)s JP per activity (conversion table from %(date)s)",
            jp=_fmt(rule.jp_per_activity), date=when)
    return round(by_time * rule.factor, 2), _(
        "%(hours)s hours × 60 / 45 minutes × %(factor)s (conversion table from %(date)s)",
        hours=_fmt(hours), factor=_fmt(rule.factor), date=when)


def conversion_table() -> list[JpConversion]:
    return list(get_session().scalars(sa.select(JpConversion).order_by(
        JpConversion.type_id, JpConversion.effective_from.desc())))


def set_conversion(type_id: int, effective_from: dt.date, *, factor: float | None,
                   jp_per_activity: float | None, source: str, by: User) -> JpConversion:
    """Add (or correct) the conversion line of a non-classroom type from a date. A line
    applies to learning that ended on or after its date, until a newer line; learning
    verified earlier keeps the JP its statement carries."""
    kind = kinds.TYPES.get(type_id)
    if kind is None or kind.classroom:
        raise ValidationError(_("Choose a non-classroom development type."), field="type_id")
    if jp_per_activity is None and (factor is None or not 0 < factor <= 10):
        raise ValidationError(_("The factor must be more than 0 and at most 10."),
                              field="factor")
    if jp_per_activity is not None and not 0 < jp_per_activity <= MAX_JP:
        raise ValidationError(_("JP per activity must be more than 0 and at most %(max)d.",
                                max=MAX_JP), field="jp_per_activity")
    session = get_session()
    line = session.scalar(sa.select(JpConversion).where(
        JpConversion.type_id == type_id, JpConversion.effective_from == effective_from))
    if line is None:
        line = JpConversion(type_id=type_id, effective_from=effective_from)
        session.add(line)
    line.factor = float(factor) if factor is not None else 1.0
    line.jp_per_activity = float(jp_per_activity) if jp_per_activity is not None else None
    line.source = " ".join((source or "").split())[:300]
    line.created_by_id = by.id
    session.flush()
    return line


# --- submitting -----------------------------------------------------------------------------


@dataclass
class SubmissionSpec:
    title: str
    type_id: int | None
    provider: str
    start_date: dt.date | None
    end_date: dt.date | None
    hours: float | None = None
    jp: float | None = None
    certificate_number: str = ""
    certificate_url: str = ""
    competencies: str = ""


def event_key(title: str, start: dt.date, end: dt.date) -> str:
    words = re.sub(r"[^0-9a-z]+", " ", title.lower()).split()
    return f"{start.isoformat()}|{end.isoformat()}|{' '.join(words)}"[:400]


def _validated(spec: SubmissionSpec) -> dict[str, Any]:
    from lms.reports.training import parse_competencies

    title = " ".join((spec.title or "").split())
    if not title:
        raise ValidationError(_("Title is required."), field="title")
    if spec.type_id not in kinds.TYPES:
        raise ValidationError(_("Choose the development type."), field="type_id")
    provider = " ".join((spec.provider or "").split())
    if not provider:
        raise ValidationError(_("Provider is required."), field="provider")
    if spec.start_date is None or spec.end_date is None:
        raise ValidationError(_("Give the start and end dates."), field="start_date")
    if spec.end_date < spec.start_date:
        raise ValidationError(_("The end date cannot be before the start date."),
                              field="end_date")
    today = utcnow().astimezone(LOCAL_TZ).date()
    if spec.end_date > today:
        raise ValidationError(_("Submit learning once it has ended."), field="end_date")
    if spec.start_date.year < 2000:
        raise ValidationError(_("Choose dates from 2000 on."), field="start_date")
    if spec.hours is None and spec.jp is None:
        raise ValidationError(_("Give the hours or the JP of the learning."), field="hours")
    if spec.hours is not None and not 0 < spec.hours <= MAX_HOURS:
        raise ValidationError(_("Hours must be more than 0 and at most %(max)d.",
                                max=MAX_HOURS), field="hours")
    if spec.jp is not None and not 0 < spec.jp <= MAX_JP:
        raise ValidationError(_("JP must be more than 0 and at most %(max)d.", max=MAX_JP),
                              field="jp")
    number = " ".join((spec.certificate_number or "").split()).upper()[:100]
    url = (spec.certificate_url or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1000:
            raise ValidationError(_("Give the certificate's address as an http(s) link."),
                                  field="certificate_url")
    return {"title": title[:300], "type_id": int(spec.type_id),  # type: ignore[arg-type]
            "provider": provider[:300], "start_date": spec.start_date,
            "end_date": spec.end_date, "hours": spec.hours, "jp_claimed": spec.jp,
            "certificate_number": number or None, "certificate_url": url or None,
            "competencies": parse_competencies(spec.competencies),
            "event_key": event_key(title, spec.start_date, spec.end_date)}


def _lentera_certificate(number: str | None, url: str | None) -> str | None:
    """The number of a Lentera certificate the claim names (it counts already)."""
    from lms.courses.service import completion_by_number

    candidates = [number] if number else []
    if url and url.startswith(f"{base_url()}/verify/"):
        candidates.append(url.rsplit("/", 1)[-1])
    for candidate in candidates:
        if candidate and completion_by_number(candidate) is not None:
            return candidate
    return None


def duplicates(user: User, values: dict[str, Any], *, ignore_id: int | None = None) -> list[str]:
    """Why this learning is already known: the same certificate number (anyone's live
    submission, or a training HR recorded for this employee), or the same event (title
    and dates) submitted or credited for this employee."""
    from lms.reports.models import JpCredit, TrainingParticipant

    session = get_session()
    found = []
    live = JpSubmission.status != SubmissionStatus.VOIDED
    others = sa.true() if ignore_id is None else JpSubmission.id != ignore_id
    number = values.get("certificate_number")
    if number:
        if session.scalar(sa.select(JpSubmission.id).where(
                JpSubmission.certificate_number == number, live, others).limit(1)):
            found.append(_("A submission with certificate number %(n)s exists already.",
                           n=number))
        elif session.scalar(sa.select(TrainingParticipant.id).where(
                TrainingParticipant.user_id == user.id,
                sa.func.upper(TrainingParticipant.certificate_number) == number).limit(1)):
            found.append(_("HR recorded a training with certificate number %(n)s for you "
                           "already.", n=number))
    if session.scalar(sa.select(JpSubmission.id).where(
            JpSubmission.user_id == user.id, JpSubmission.event_key == values["event_key"],
            live, others).limit(1)):
        found.append(_("You submitted this event (same title and dates) already."))
    else:
        start = dt.datetime.combine(values["start_date"], dt.time.min, LOCAL_TZ)
        end = dt.datetime.combine(values["end_date"] + dt.timedelta(days=1), dt.time.min,
                                  LOCAL_TZ)
        for title in session.scalars(sa.select(JpCredit.title).where(
                JpCredit.user_id == user.id, JpCredit.completed_at >= start,
                JpCredit.completed_at < end)):
            if event_key(title, values["start_date"], values["end_date"]) == values["event_key"]:
                found.append(_("This event is in your learning record already."))
                break
    lentera = _lentera_certificate(number, values.get("certificate_url"))
    if lentera:
        found.append(_("Certificate %(n)s is a Lentera certificate: it counts already.",
                       n=lentera))
    return found


def _check_file(upload: FileStorage) -> tuple[str, bytes]:
    name = upload.filename or ""
    suffix = Path(name).suffix.lower()
    if suffix not in CERTIFICATE_MAGIC:
        raise ValidationError(_("The certificate must be a PDF, PNG or JPEG file."),
                              field="certificate")
    data = upload.read(MAX_CERTIFICATE_BYTES + 1)
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise ValidationError(_("The certificate file is larger than 5 MB."),
                              field="certificate")
    if not data:
        raise ValidationError(_("The certificate file is empty."), field="certificate")
    if not data.startswith(CERTIFICATE_MAGIC[suffix]):
        raise ValidationError(_("The file is not the PDF or image its name says."),
                              field="certificate")
    return (".jpg" if suffix == ".jpeg" else suffix), data


def upload_dir(submission: JpSubmission) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "jp" / str(submission.id)


def certificate_path(submission: JpSubmission) -> Path | None:
    if not submission.certificate_file:
        return None
    path = upload_dir(submission) / submission.certificate_file
    return path if path.is_file() else None


def _store_file(submission: JpSubmission, checked: tuple[str, bytes]) -> None:
    suffix, data = checked
    folder = upload_dir(submission)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"certificate{suffix}").write_bytes(data)
    submission.certificate_file = f"certificate{suffix}"


def _statement(submission: JpSubmission, actor: User, verb: str, *,
               reason: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
    from lms.people.actors import actor_for

    en, idn = VERB_NAMES[verb]
    employee = get_session().get(User, submission.user_id)
    assert employee is not None
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor_for(actor),
        "verb": {"id": verb, "display": {"en-US": en, "id-ID": idn}},
        "object": {"objectType": "Activity", "id": submission_iri(submission.id),
                   "definition": {"name": {"id-ID": submission.title},
                                  "type": "http://adlnet.gov/expapi/activities/course"}},
        "context": {
            "platform": "Lentera", "language": "id-ID",
            "extensions": {
                f"{base_url()}/xapi/extensions/provider": submission.provider,
                f"{base_url()}/xapi/extensions/learning-type": kinds.kind_value(
                    submission.type_id),
                f"{base_url()}/xapi/extensions/dates": {
                    "start": submission.start_date.isoformat(),
                    "end": submission.end_date.isoformat()},
            },
        },
    }
    if actor.id != employee.id:
        statement["context"]["extensions"][f"{base_url()}/xapi/extensions/employee"] = \
            actor_for(employee)["account"]
    if reason:
        statement["result"] = {"response": reason[:1000]}
    if result:
        statement["result"] = result
    return statement


def _step(submission: JpSubmission, by: User, action: str, statement_id: str,
          reason: str = "") -> None:
    get_session().add(JpSubmissionStep(submission_id=submission.id, action=action,
                                       by_id=by.id, by_name=by.name, reason=reason,
                                       statement_id=statement_id))


def _store(statements: list[dict[str, Any]]) -> None:
    from lms.xapi.service import store_statements

    store_statements(statements)


def submit(user: User, spec: SubmissionSpec, upload: FileStorage | None = None) -> JpSubmission:
    """Record learning ``user`` did elsewhere and send it to their supervisor. Raises
    ValidationError (a field named) or Conflict (a duplicate). Flushes; the caller commits."""
    values = _validated(spec)
    checked = _check_file(upload) if upload is not None and upload.filename else None
    if checked is None and not values["certificate_url"]:
        raise ValidationError(_("Upload the certificate or give its public address."),
                              field="certificate")
    found = duplicates(user, values)
    if found:
        raise Conflict(" ".join(found))
    jp, how = convert(values["type_id"], values["end_date"], hours=values["hours"],
                      jp=values["jp_claimed"])
    session = get_session()
    submission = JpSubmission(user_id=user.id, jp=jp, conversion=how, **values)
    session.add(submission)
    session.flush()
    if checked is not None:
        _store_file(submission, checked)
    statement = _statement(submission, user, SUBMIT)
    _store([statement])
    _step(submission, user, "submitted", statement["id"])
    if not _has_supervisor(user):
        # Nobody leads the employee's unit: the submission goes to HR directly.
        submission.status = SubmissionStatus.CONFIRMED
    session.flush()
    return submission


def resubmit(submission: JpSubmission, user: User, spec: SubmissionSpec,
             upload: FileStorage | None = None) -> JpSubmission:
    """Correct a returned submission and send it again."""
    if submission.user_id != user.id:
        raise Forbidden(_("Only the employee may correct their submission."))
    if submission.status != SubmissionStatus.RETURNED:
        raise Conflict(_("Only a returned submission can be corrected."))
    values = _validated(spec)
    checked = _check_file(upload) if upload is not None and upload.filename else None
    if checked is None and not values["certificate_url"] and not submission.certificate_file:
        raise ValidationError(_("Upload the certificate or give its public address."),
                              field="certificate")
    found = duplicates(user, values, ignore_id=submission.id)
    if found:
        raise Conflict(" ".join(found))
    for name, value in values.items():
        setattr(submission, name, value)
    submission.jp, submission.conversion = convert(
        values["type_id"], values["end_date"], hours=values["hours"], jp=values["jp_claimed"])
    if checked is not None:
        _store_file(submission, checked)
    submission.status = (SubmissionStatus.SUBMITTED if _has_supervisor(user)
                         else SubmissionStatus.CONFIRMED)
    submission.submitted_at = utcnow()
    submission.return_reason = ""
    submission.confirmed_at = submission.confirmed_by_id = None
    statement = _statement(submission, user, SUBMIT)
    _store([statement])
    _step(submission, user, "submitted", statement["id"])
    get_session().flush()
    return submission


def _has_supervisor(user: User) -> bool:
    from lms.competency.service import supervisors_of

    return bool(supervisors_of(user))


# --- deciding -------------------------------------------------------------------------------


def _employee(submission: JpSubmission) -> User:
    user = get_session().get(User, submission.user_id)
    assert user is not None
    return user


def may_hr_decide(viewer: User, submission: JpSubmission) -> bool:
    from lms.people.models import Role
    from lms.reports.scope import employee_in_scope, scope_for

    return viewer.has_role(Role.HR, Role.ADMIN) and employee_in_scope(
        scope_for(viewer), _employee(submission))


def may_confirm(viewer: User, submission: JpSubmission) -> bool:
    from lms.competency.service import is_supervisor_of

    return is_supervisor_of(viewer, _employee(submission))


def confirm(submission: JpSubmission, supervisor: User) -> None:
    """The supervisor confirms that the employee did this learning."""
    if not may_confirm(supervisor, submission):
        raise Forbidden(_("Only the employee's supervisor confirms the submission."))
    if submission.status != SubmissionStatus.SUBMITTED:
        raise Conflict(_("This submission is not waiting for its supervisor."))
    statement = _statement(submission, supervisor, CONFIRM)
    _store([statement])
    submission.status = SubmissionStatus.CONFIRMED
    submission.confirmed_at = utcnow()
    submission.confirmed_by_id = supervisor.id
    _step(submission, supervisor, "confirmed", statement["id"])
    get_session().flush()


def return_submission(submission: JpSubmission, by: User, reason: str) -> None:
    """Send the submission back to the employee with a reason (the supervisor while it
    waits for them, HR while it waits for either)."""
    reason = " ".join((reason or "").split())[:1000]
    if not reason:
        raise ValidationError(_("Say why the submission is returned."), field="reason")
    if submission.status == SubmissionStatus.SUBMITTED:
        allowed = may_confirm(by, submission) or may_hr_decide(by, submission)
    elif submission.status == SubmissionStatus.CONFIRMED:
        allowed = may_hr_decide(by, submission)
    else:
        raise Conflict(_("This submission is not waiting for a decision."))
    if not allowed:
        raise Forbidden(_("You may not decide on this submission."))
    statement = _statement(submission, by, REJECT, reason=reason)
    _store([statement])
    submission.status = SubmissionStatus.RETURNED
    submission.return_reason = reason
    submission.decided_at = utcnow()
    submission.decided_by_id = by.id
    _step(submission, by, "returned", statement["id"], reason)
    get_session().flush()
    from lms.jp.notify import submission_decided

    submission_decided(submission, _employee(submission))


def verify(submission: JpSubmission, hr: User) -> None:
    """HR verifies: the JP are set by the rules in force at the learning's end date and
    the ``completed`` statement is stored, so the learning counts from now on."""
    if not may_hr_decide(hr, submission):
        raise Forbidden(_("This employee is outside your reporting scope."))
    if submission.status != SubmissionStatus.CONFIRMED:
        raise Conflict(_("Only a submission its supervisor confirmed can be verified."))
    employee = _employee(submission)
    submission.jp, submission.conversion = convert(
        submission.type_id, submission.end_date, hours=submission.hours,
        jp=submission.jp_claimed)
    approve = _statement(submission, hr, APPROVE)
    finished = dt.datetime.combine(submission.end_date, dt.time(16, 0), LOCAL_TZ)
    minutes = round(submission.jp * JP_MINUTES)
    hours, rest = divmod(minutes, 60)
    completed = _statement(submission, employee, COMPLETED, result={
        "completion": True,
        "duration": f"PT{hours}H{rest}M" if rest else f"PT{hours}H",
        "extensions": {f"{base_url()}/xapi/extensions/jp": submission.jp}})
    completed["timestamp"] = finished.isoformat()
    _create_rules(submission, hr)
    _store([approve, completed])
    submission.status = SubmissionStatus.VERIFIED
    submission.statement_id = completed["id"]
    submission.decided_at = utcnow()
    submission.decided_by_id = hr.id
    _step(submission, hr, "verified", approve["id"])
    get_session().flush()
    from lms.jp.notify import submission_decided

    submission_decided(submission, employee)


def void(submission: JpSubmission, hr: User, reason: str) -> None:
    """HR takes a verified record back: its ``completed`` statement is voided (JP and
    evidence withdrawn) and its evidence rules are switched off."""
    from lms.competency import service as competency

    if not may_hr_decide(hr, submission):
        raise Forbidden(_("This employee is outside your reporting scope."))
    if submission.status != SubmissionStatus.VERIFIED or not submission.statement_id:
        raise Conflict(_("Only a verified submission can be voided."))
    reason = " ".join((reason or "").split())[:1000]
    if not reason:
        raise ValidationError(_("Say why the record is voided."), field="reason")
    from lms.people.actors import actor_for

    voiding: dict[str, Any] = {"id": str(uuid.uuid4()), "actor": actor_for(hr),
               "verb": {"id": VOIDED, "display": {"en-US": "voided", "id-ID": "membatalkan"}},
               "object": {"objectType": "StatementRef", "id": submission.statement_id}}
    _store([voiding])
    iri = submission_iri(submission.id)
    for rule in competency.current_rules():
        if rule.activity_iri == iri and rule.match == "exact" and rule.active:
            competency.set_rule_active(rule.rule_key, False, created_by=hr)
    submission.status = SubmissionStatus.VOIDED
    submission.return_reason = reason
    submission.decided_at = utcnow()
    submission.decided_by_id = hr.id
    _step(submission, hr, "voided", voiding["id"], reason)
    get_session().flush()


def _create_rules(submission: JpSubmission, by: User) -> None:
    """One evidence rule per competency the learning served: completing it proves the
    level (as for training HR records)."""
    from lms.competency import service as competency
    from lms.competency.models import Competency

    session = get_session()
    iri = submission_iri(submission.id)
    existing = {rule.competency_id for rule in competency.current_rules()
                if rule.activity_iri == iri}
    for item in submission.competencies or []:
        found = session.scalar(sa.select(Competency).where(Competency.code == item["code"]))
        if found is None or found.id in existing:
            continue
        competency.create_rule(competency.RuleSpec(
            name=submission.title[:200], activity_iri=iri, match="exact",
            criterion="completed", competency_id=found.id, level=int(item["level"]),
            source="external"), created_by=by)


# --- lists ------------------------------------------------------------------------------------


def of_employee(user: User) -> list[JpSubmission]:
    return list(get_session().scalars(sa.select(JpSubmission).where(
        JpSubmission.user_id == user.id).order_by(JpSubmission.submitted_at.desc(),
                                                  JpSubmission.id.desc())))


def waiting_for_supervisor(supervisor: User) -> list[JpSubmission]:
    """Submissions of the employees ``supervisor`` leads that wait for them."""
    from lms.competency.service import subordinates

    team = [u.id for u in subordinates(supervisor, limit=2000)]
    if not team:
        return []
    return list(get_session().scalars(sa.select(JpSubmission).where(
        JpSubmission.user_id.in_(team), JpSubmission.status == SubmissionStatus.SUBMITTED)
        .order_by(JpSubmission.submitted_at)))


def steps(submission: JpSubmission) -> list[JpSubmissionStep]:
    return list(get_session().scalars(sa.select(JpSubmissionStep).where(
        JpSubmissionStep.submission_id == submission.id).order_by(JpSubmissionStep.id)))
