"""SCORM packages: import (imsmanifest.xml -> a course), launch, and completion.

Import: the zip is checked and extracted by :func:`lms.authoring.archives.extract_archive`
(no paths outside the package, no links, size, file-count and ratio limits), the manifest
is read by :mod:`lms.packages.manifest`, and the package becomes a course version whose
modules are its launchable items (module kind ``scorm``). Anything refused leaves nothing
behind: the extracted folder is removed and the caller rolls the transaction back.

Launch (:func:`launch`): a SCO runs in a sandboxed frame (opaque origin) and talks to the
SCORM API (scorm-again) in Lentera's player page through postMessage. Its runtime data
lives in the LRS State API as the ADL xAPI SCORM Profile lays out: the
``activity-state`` document of the SCO (its attempts) and the ``attempt-state`` document
of each attempt (the CMI data, location, suspend data, exit). The player page writes
statements and the attempt state with a launch credential bound to the learner, the
registration and the SCO (:func:`lms.xapi.auth.issue_launch_credentials`).

Completion (:class:`PackagesConsumer`): ``completed``/``passed``/``failed`` statements of
a SCO, written under a launch of that SCO, mark it done; Lentera's own ``completed``
statements for the module (and the course, once every item is done) follow, which the
learning ledger turns into progress, the completion, JP and the certificate.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.authoring.archives import ArchiveError, extract_archive
from lms.courses import statements as st
from lms.courses.format import LoadedCourse
from lms.db import get_session
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.packages.manifest import ManifestError, parse_manifest
from lms.packages.models import ScormLaunch, ScormPackage, ScormSco, ScormStatus
from lms.people.models import Role, User

ACTIVITY_STATE = "https://w3id.org/xapi/scorm/activity-state"
ATTEMPT_STATE = "https://w3id.org/xapi/scorm/attempt-state"
SCORM_PROFILE = "https://w3id.org/xapi/scorm"
ADL = "http://adlnet.gov/expapi/verbs/"
CREDENTIAL_TTL = 8 * 3600
MANIFEST = "imsmanifest.xml"


def packages_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "packages"


def sco_iri(slug: str, manifest_id: str, item_id: str) -> str:
    """The SCO's activity id: stable across re-imports of the same package, and outside
    Lentera's own IRI space (a launch credential may write about it and what is under
    it, never about Lentera's courses)."""
    return f"urn:lentera:scorm:{quote(slug, safe='')}:{quote(manifest_id, safe='')}:" \
           f"{quote(item_id, safe='')}"


def module_id(index: int) -> str:
    return f"sco-{index + 1}"


# --- import ------------------------------------------------------------------------------


def is_scorm_zip(names: list[str]) -> bool:
    """Whether a zip's member names make it a SCORM package (imsmanifest.xml at the top)."""
    return any(n == MANIFEST for n in names)


def course_language(tag: str) -> str:
    """The course's language code from a LOM language tag ("en-US" -> "en"); "id" when
    the package does not say or says something unusable."""
    code = (tag or "").strip().lower()[:2]
    return code if len(code) == 2 and code.isalpha() else "id"


def import_package(source: Any, user: User | None, *, slug: str, jp: float, topic: str,
                   competencies: list[dict[str, Any]], title: str = "", summary: str = "",
                   cover: tuple[str, bytes] | None = None, cover_alt: str = "",
                   ) -> tuple[ScormPackage, Any]:
    """Import a SCORM zip as course ``slug`` (new, or a new version of a SCORM course).
    Returns (package, course version). Raises ValidationError (4xx) with a message."""
    root = packages_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = uuid.uuid4().hex
    target = root / folder
    try:
        files = extract_archive(source, target)
    except ArchiveError:
        raise
    try:
        manifest_path = target / MANIFEST
        if not manifest_path.is_file():
            raise ManifestError(_l("This zip has no imsmanifest.xml at its top level, so it "
                                   "is not a SCORM package. Nothing was imported."))
        manifest = parse_manifest(manifest_path.read_bytes(), set(files))
        return _store(manifest, folder, user, slug=slug, jp=jp, topic=topic,
                      competencies=competencies, title=title, summary=summary, cover=cover,
                      cover_alt=cover_alt)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def check_package(source: Any) -> Any:
    """Check a SCORM zip as the import does (archive rules, manifest, launch files) and
    keep nothing; returns the manifest. Raises ValidationError with the reason."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="scorm-check-") as tmp:
        target = Path(tmp) / "package"
        files = extract_archive(source, target)
        manifest_path = target / MANIFEST
        if not manifest_path.is_file():
            raise ManifestError(_l("This zip has no imsmanifest.xml at its top level, so it "
                                   "is not a SCORM package. Nothing was imported."))
        return parse_manifest(manifest_path.read_bytes(), set(files))


def _check_owner(slug: str, user: User | None) -> None:
    from lms.courses.models import Course

    session = get_session()
    first = session.scalar(sa.select(ScormPackage).where(ScormPackage.slug == slug)
                           .order_by(ScormPackage.id).limit(1))
    if first is None:
        if session.scalar(sa.select(Course.id).where(Course.slug == slug)) is not None:
            raise Conflict(_l("The course %(slug)s exists and is not a SCORM course; choose "
                              "another address (slug).", slug=slug))
        return
    if user is not None and not user.has_role(Role.ADMIN) and first.created_by_id != user.id:
        raise Forbidden(_l("Only the trainer who imported %(slug)s or an admin may import a "
                           "new version of it.", slug=slug))


def _store(manifest: Any, folder: str, user: User | None, *, slug: str, jp: float,
           topic: str, competencies: list[dict[str, Any]], title: str, summary: str,
           cover: tuple[str, bytes] | None, cover_alt: str) -> tuple[ScormPackage, Any]:
    from lms.courses import service as courses
    from lms.courses.format import CourseFile

    _check_owner(slug, user)
    title = (title.strip() or manifest.title)[:200]
    version_label = "SCORM 1.2" if manifest.version == "1.2" else \
        f"SCORM 2004 {manifest.edition}".strip()
    meta: dict[str, Any] = {
        "slug": slug, "title": title,
        # The summary the trainer gives, else the package's description, else what it is.
        "summary": (summary.strip() or manifest.description
                    or f"{version_label} · {len(manifest.scos)} SCO")[:1000],
        "description": manifest.description if summary.strip() else "",
        "jp": jp, "level": "dasar",
        "language": course_language(manifest.language), "topic": topic, "tags": ["scorm"],
        "competencies": competencies,
        "completion": {"modules": "all", "quizzes": "none"},
    }
    assets: dict[str, Path] = {}
    if cover is not None:
        from lms.courses.format import MAX_COVER_BYTES, image_content_matches

        name, data = cover
        suffix = Path(name.lower()).suffix
        if suffix not in (".png", ".jpg", ".jpeg", ".gif", ".webp") or not data or \
                len(data) > MAX_COVER_BYTES or not image_content_matches(suffix, data):
            raise ValidationError(_l("A cover is a PNG, JPEG, GIF or WebP image of at most "
                                     "1 MB."), field="cover")
        cover_dir = packages_root() / folder / ".lentera"
        cover_dir.mkdir(parents=True, exist_ok=True)
        rel = f"gambar/sampul{'.jpg' if suffix == '.jpeg' else suffix}"
        (cover_dir / "sampul").write_bytes(data)
        assets[rel] = cover_dir / "sampul"
        meta["cover"] = rel
        meta["cover_alt"] = (cover_alt or title)[:300]
    try:  # the same checks as course.yaml (slug, JP, competency codes)
        CourseFile.model_validate({**meta, "modules": [MANIFEST]})
    except Exception as exc:
        raise ValidationError(_l("The course settings are not valid: %(error)s",
                                 error=str(exc).splitlines()[0])) from None
    structure = manifest.as_dict()
    modules = []
    for i, sco in enumerate(manifest.scos):
        trail = " › ".join(sco.parents)
        modules.append({
            "id": module_id(i), "kind": "scorm", "title": sco.title, "file": MANIFEST,
            "minutes": None, "body": trail,
            "scorm": {"item": sco.identifier, "version": manifest.version,
                      "type": sco.scorm_type},
        })
    digest = hashlib.sha256(json.dumps([structure, meta, sorted(
        (k, hashlib.sha256(p.read_bytes()).hexdigest()) for k, p in assets.items())],
        sort_keys=True).encode()).hexdigest()
    loaded = LoadedCourse(slug=slug, meta=meta, modules=modules, assets=assets,
                          content_hash=digest, root=packages_root() / folder)
    session = get_session()
    package = ScormPackage(slug=slug, folder=folder, version=manifest.version,
                           edition=manifest.edition, manifest_id=manifest.identifier,
                           structure={**structure, "label": version_label},
                           created_by_id=user.id if user else None)
    session.add(package)
    session.flush()
    for i, sco in enumerate(manifest.scos):
        session.add(ScormSco(package_id=package.id, module_id=module_id(i),
                             item_id=sco.identifier[:200],
                             sco_iri=sco_iri(slug, manifest.identifier, sco.identifier)))
    outcome = courses.import_course(loaded, source=f"scorm:{package.id}")
    if outcome.status == "unchanged":
        # The same package again: keep the version, drop the duplicate files and rows.
        session.delete(package)
        session.flush()
        shutil.rmtree(packages_root() / folder, ignore_errors=True)
        return package_for_version(outcome.version), outcome.version
    outcome.course.published = True
    session.flush()
    return package, outcome.version


def package_for_version(version: Any) -> ScormPackage:
    """The package a course version was imported from (its ``source`` is ``scorm:<id>``)."""
    source = getattr(version, "source", "") or ""
    if source.startswith("scorm:") and source[6:].isdigit():
        package = get_session().get(ScormPackage, int(source[6:]))
        if package is not None:
            return package
    raise NotFound(_l("This course version has no SCORM package."))


def packages_of(user: User) -> list[ScormPackage]:
    query = sa.select(ScormPackage).order_by(ScormPackage.id.desc())
    if not user.has_role(Role.ADMIN):
        query = query.where(ScormPackage.created_by_id == user.id)
    return list(get_session().scalars(query.limit(200)))


def sco_of(package: ScormPackage, module: str) -> tuple[ScormSco, dict[str, Any]]:
    row = get_session().scalar(sa.select(ScormSco).where(ScormSco.package_id == package.id,
                                                         ScormSco.module_id == module))
    if row is None:
        raise NotFound(_l("No such item in this package."))
    index = int(module.split("-", 1)[1]) - 1
    return row, package.structure["scos"][index]


# --- launch ------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _doc(activity_id: str, agent_key: str, registration: str, state_id: str) -> Any:
    from lms.xapi import documents

    key = documents.DocumentKey(documents.STATE, activity_id=activity_id,
                                agent_key=agent_key, registration=registration)
    found = documents.get_document(key, state_id)
    if found is None:
        return None
    try:
        return json.loads(bytes(found.content))
    except (ValueError, TypeError):
        return None


def _save(activity_id: str, agent_key: str, registration: str, state_id: str,
          content: dict[str, Any]) -> None:
    from lms.xapi import documents

    key = documents.DocumentKey(documents.STATE, activity_id=activity_id,
                                agent_key=agent_key, registration=registration)
    documents.save_document(key, state_id, json.dumps(content).encode(), "application/json",
                            merge=False)


def student_name(user: User) -> str:
    """cmi.core.student_name / cmi.learner_name: "Family, Given" where it can be told."""
    name = (getattr(user, "name", "") or getattr(user, "email", "") or "").strip()
    parts = name.rsplit(" ", 1)
    return f"{parts[1]}, {parts[0]}" if len(parts) == 2 else name


def launch(user: User, package: ScormPackage, sco_row: ScormSco, sco: dict[str, Any],
           registration: str) -> dict[str, Any]:
    """Start or resume an attempt of a SCO; returns what the player page needs."""
    from lms.people.actors import actor_for
    from lms.xapi.auth import issue_launch_credentials
    from lms.xapi.validation.agents import agent_key

    actor = actor_for(user)
    akey = agent_key(actor) or ""
    registration = registration.lower()
    activity = _doc(sco_row.sco_iri, akey, registration, ACTIVITY_STATE) or {}
    attempts = [a for a in activity.get("attempts", []) if isinstance(a, str)]
    previous = _doc(attempts[-1], akey, registration, ATTEMPT_STATE) if attempts else None
    resume = isinstance(previous, dict) and (
        previous.get("exit") == "suspend"
        # SCORM 1.2 leaves "" ambiguous; like most LMSs, an unfinished lesson resumes.
        or (package.version == "1.2" and previous.get("exit") in ("", None)
            and (previous.get("cmi") or {}).get("cmi.core.lesson_status")
            not in ("completed", "passed", "failed")))
    limit = sco.get("attempt_limit")
    # SCORM 2004 limitConditions attemptLimit: once every attempt is used, the last one
    # opens for review (nothing the learner does then is recorded).
    exhausted = not resume and bool(limit) and len(attempts) >= int(limit or 0)
    if resume or exhausted:
        attempt = attempts[-1]
        cmi = {k: v for k, v in ((previous or {}).get("cmi") or {}).items()
               if isinstance(k, str) and isinstance(v, (str, int, float))}
    else:
        attempt = f"{sco_row.sco_iri}/attempt/{uuid.uuid4()}"
        attempts.append(attempt)
        activity["attempts"] = attempts[-200:]
        _save(sco_row.sco_iri, akey, registration, ACTIVITY_STATE, activity)
        cmi = {}
    learner_id = str(getattr(user, "nip", "") or user.id)
    done = _status(registration, sco_row.id)
    credit_mode = ("no-credit", "review") if exhausted or (
        done is not None and done.satisfied and not resume) else ("credit", "normal")
    if package.version == "1.2":
        fixed = {
            "cmi.core.student_id": learner_id, "cmi.core.student_name": student_name(user),
            "cmi.core.credit": credit_mode[0], "cmi.core.lesson_mode": credit_mode[1],
            "cmi.core.entry": "resume" if resume else "ab-initio",
            "cmi.launch_data": sco.get("data_from_lms") or "",
        }
        if sco.get("mastery_score") is not None:
            fixed["cmi.student_data.mastery_score"] = _num(sco["mastery_score"])
        if sco.get("max_time_allowed"):
            fixed["cmi.student_data.max_time_allowed"] = sco["max_time_allowed"]
        if sco.get("time_limit_action"):
            fixed["cmi.student_data.time_limit_action"] = sco["time_limit_action"]
    else:
        fixed = {
            "cmi.learner_id": learner_id, "cmi.learner_name": student_name(user),
            "cmi.credit": credit_mode[0], "cmi.mode": credit_mode[1],
            "cmi.entry": "resume" if resume else "ab-initio",
            "cmi.launch_data": sco.get("data_from_lms") or "",
        }
        if sco.get("scaled_passing_score") is not None:
            fixed["cmi.scaled_passing_score"] = _num(sco["scaled_passing_score"])
        if sco.get("completion_threshold") is not None:
            fixed["cmi.completion_threshold"] = _num(sco["completion_threshold"])
        if sco.get("max_time_allowed"):
            fixed["cmi.max_time_allowed"] = sco["max_time_allowed"]
        if sco.get("time_limit_action"):
            fixed["cmi.time_limit_action"] = sco["time_limit_action"]
    initial = {**cmi, **fixed}
    token = secrets.token_urlsafe(32)
    session_id = str(uuid.uuid4())
    record = ScormLaunch(token_hash=_hash(token), user_id=user.id, sco_id=sco_row.id,
                         registration=registration, attempt_iri=attempt,
                         session_id=session_id, initial=initial)
    get_session().add(record)
    get_session().flush()
    credential = issue_launch_credentials(actor, registration, CREDENTIAL_TTL,
                                          activity_id=sco_row.sco_iri, session_id=session_id)
    return {"token": token, "launch": record, "resume": resume, "attempt": attempt,
            "attempt_number": attempts.index(attempt) + 1, "initial": initial,
            "actor": actor, "credential": credential, "sco_iri": sco_row.sco_iri,
            "mode": credit_mode[1], "exhausted": exhausted, "attempt_limit": limit,
            "reported": (previous.get("reported") or {}) if resume and previous else {}}


def _num(value: float) -> str:
    return f"{value:g}"


def launch_by_token(token: str) -> ScormLaunch | None:
    if not token or len(token) > 100:
        return None
    return get_session().scalar(sa.select(ScormLaunch)
                                .where(ScormLaunch.token_hash == _hash(token)))


def _status(registration: str, sco_id: int) -> ScormStatus | None:
    return get_session().scalar(sa.select(ScormStatus).where(
        ScormStatus.registration == registration.lower(), ScormStatus.sco_id == sco_id))


def statuses(registration: str, package: ScormPackage) -> dict[str, ScormStatus]:
    """Module id -> status of each item the learner has an outcome for."""
    rows = get_session().execute(
        sa.select(ScormSco.module_id, ScormStatus)
        .join(ScormStatus, ScormStatus.sco_id == ScormSco.id)
        .where(ScormSco.package_id == package.id,
               ScormStatus.registration == registration.lower()))
    return {module: status for module, status in rows}


def user_may_launch(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.LEARNER, Role.TRAINER, Role.ADMIN,
                                                   Role.HR)


# --- completion ----------------------------------------------------------------------------

try:
    from lms.xapi.consumers import StatementConsumer, StoredStatement
except ImportError:  # pragma: no cover
    StatementConsumer = object  # type: ignore[assignment,misc]
    StoredStatement = Any  # type: ignore[assignment,misc]


def satisfied(sco: dict[str, Any], status: ScormStatus) -> bool:
    """Whether an item counts as done: passed; or completed, unless it has a passing
    score (1.2 masteryscore, 2004 minNormalizedMeasure) and was not passed."""
    if status.passed:
        return True
    needs_pass = sco.get("mastery_score") is not None or \
        sco.get("scaled_passing_score") is not None
    return status.completed and not needs_pass


class PackagesConsumer(StatementConsumer):  # type: ignore[misc,valid-type]
    """Marks SCOs done from their statements and stores Lentera's completion statements
    for the module and the course (ids derived from the registration and the activity,
    so a replay stores nothing twice)."""

    name = "packages"

    def handle(self, statement: StoredStatement) -> None:
        data = statement.data
        verb = (data.get("verb") or {}).get("id", "")
        if verb not in (ADL + "completed", ADL + "passed", ADL + "failed"):
            return
        obj = data.get("object") or {}
        registration = ((data.get("context") or {}).get("registration") or "").lower()
        if obj.get("objectType", "Activity") != "Activity" or not registration:
            return
        from lms.xapi.launch import origin_of

        origin = origin_of(data)
        if origin is not None and origin.activity_id != obj.get("id"):
            return  # a launch credential judges only the SCO it was launched for
        session = get_session()
        rows = list(session.scalars(sa.select(ScormSco)
                                    .where(ScormSco.sco_iri == obj.get("id"))))
        if not rows:
            return
        from lms.courses import service as courses
        from lms.courses.models import Enrollment

        enrollment = session.scalar(sa.select(Enrollment)
                                    .where(Enrollment.registration == registration))
        if enrollment is None:
            return
        try:
            package = package_for_version(courses.pinned_version(enrollment))
        except NotFound:
            return
        row = next((r for r in rows if r.package_id == package.id), None)
        if row is None:  # the item is not in the version the learner follows
            return
        status = _status(registration, row.id)
        if status is None:
            status = ScormStatus(registration=registration, sco_id=row.id, completed=False,
                                 passed=False, failed=False, satisfied=False)
            session.add(status)
        if verb == ADL + "completed":
            status.completed = True
        elif verb == ADL + "passed":
            status.passed, status.completed = True, status.completed or \
                package.version == "1.2"
        else:
            status.failed = True
        sco = package.structure["scos"][int(row.module_id.split("-", 1)[1]) - 1]
        if status.satisfied or not satisfied(sco, status):
            session.flush()
            return
        status.satisfied = True
        session.flush()
        self._complete(package, row, registration, data, enrollment)

    def _complete(self, package: ScormPackage, row: ScormSco, registration: str,
                  trigger: dict[str, Any], enrollment: Any) -> None:
        from lms.courses import service as courses
        from lms.xapi.service import store_statements

        session = get_session()
        actor = trigger["actor"]
        stamp = trigger.get("timestamp")
        version = courses.pinned_version(enrollment)
        definition = courses.definition_of(version)
        module = next((m for m in definition["modules"] if m["id"] == row.module_id), None)
        out = []
        if module is not None:
            out.append(st.make_statement(actor, "completed", st.module_activity(definition, module),
                                         definition=definition, version=version.number,
                                         registration=registration,
                                         parent=st.course_activity(definition),
                                         result={"completion": True}))
        all_rows = list(session.scalars(sa.select(ScormSco)
                                        .where(ScormSco.package_id == package.id)))
        done = {s.sco_id for s in session.scalars(sa.select(ScormStatus).where(
            ScormStatus.registration == registration, ScormStatus.satisfied.is_(True)))}
        if all(r.id in done for r in all_rows):
            out.append(st.make_statement(actor, "completed", st.course_activity(definition),
                                         definition=definition, version=version.number,
                                         registration=registration,
                                         result={"completion": True}))
        for statement in out:
            statement["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(
                [registration, statement["object"]["id"], "scorm-completed"])))
            if stamp:
                statement["timestamp"] = stamp
        if out:
            store_statements(out)

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        """A voided SCO statement does not undo a module completion already recorded (the
        ledger handles voiding of Lentera's own statements)."""

    def reset(self) -> None:
        get_session().execute(sa.delete(ScormStatus))
        get_session().flush()
