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
from lms.db import among, get_session
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


def settings_of(slug: str, user: User) -> tuple[Any, Any, ScormPackage]:
    """The course ``slug`` made from a SCORM package, its newest version and the package,
    for the trainer who imported it first or an admin. 404 for any other course."""
    from lms.courses.models import Course, CourseVersion

    session = get_session()
    course = session.scalar(sa.select(Course).where(Course.slug == slug))
    latest = None if course is None else session.scalar(
        sa.select(CourseVersion).where(CourseVersion.course_id == course.id)
        .order_by(CourseVersion.number.desc()).limit(1))
    if course is None or latest is None or not (latest.source or "").startswith("scorm:"):
        raise NotFound(_l("No SCORM course %(slug)s.", slug=slug))
    _check_owner(slug, user)
    return course, latest, package_for_version(latest)


def update_settings(slug: str, user: User, *, title: str, summary: str, topic: str,
                    jp: float, competencies: list[dict[str, Any]],
                    cover: tuple[str, bytes] | None = None, cover_alt: str = "",
                    remove_cover: bool = False) -> tuple[Any, str]:
    """Publish a new version of a SCORM course with other settings (title, summary, topic,
    JP, competency targets, cover) and the same package: its parts, their activity ids
    and what learners did stay as they are. Returns (version, "updated" | "unchanged")."""
    from lms.courses import service as courses
    from lms.courses.format import MAX_COVER_BYTES, CourseFile, image_content_matches

    _course, latest, package = settings_of(slug, user)
    definition = dict(latest.definition)
    modules = definition.pop("modules", [])
    old_assets = definition.pop("assets", [])
    meta = {**definition, "title": title.strip()[:200] or definition.get("title", ""),
            "summary": summary.strip()[:1000] or definition.get("summary", ""),
            "topic": topic.strip()[:100], "jp": jp, "competencies": competencies}
    assets: dict[str, Path] = {}
    old_cover = definition.get("cover") or ""
    if cover is not None:
        name, data = cover
        suffix = Path(name.lower()).suffix
        if suffix not in (".png", ".jpg", ".jpeg", ".gif", ".webp") or not data or \
                len(data) > MAX_COVER_BYTES or not image_content_matches(suffix, data):
            raise ValidationError(_l("A cover is a PNG, JPEG, GIF or WebP image of at most "
                                     "1 MB."), field="cover")
        digest = hashlib.sha256(data).hexdigest()[:16]
        cover_dir = packages_root() / package.folder / ".lentera"
        cover_dir.mkdir(parents=True, exist_ok=True)
        (cover_dir / f"sampul-{digest}").write_bytes(data)
        rel = f"gambar/sampul{'.jpg' if suffix == '.jpeg' else suffix}"
        assets[rel] = cover_dir / f"sampul-{digest}"
        meta["cover"] = rel
    elif old_cover and not remove_cover and old_cover in old_assets:
        kept = courses.content_dir() / latest.content_hash / old_cover
        if kept.is_file():
            assets[old_cover] = kept
    if "cover" in meta and meta["cover"] not in assets:
        meta.pop("cover", None)
        meta.pop("cover_alt", None)
    elif "cover" in meta:
        meta["cover_alt"] = (cover_alt.strip() or meta.get("cover_alt")
                             or meta["title"])[:300]
    try:  # the same checks as course.yaml (JP, competency codes)
        CourseFile.model_validate({**meta, "modules": [MANIFEST]})
    except Exception as exc:
        raise ValidationError(_l("The course settings are not valid: %(error)s",
                                 error=str(exc).splitlines()[0])) from None
    content_hash = hashlib.sha256(json.dumps([package.structure, meta, sorted(
        (k, hashlib.sha256(p.read_bytes()).hexdigest()) for k, p in assets.items())],
        sort_keys=True, default=str).encode()).hexdigest()
    loaded = LoadedCourse(slug=slug, meta=meta, modules=modules, assets=assets,
                          content_hash=content_hash, root=packages_root() / package.folder)
    if meta == definition and cover is None:
        return latest, "unchanged"
    outcome = courses.import_course(loaded, source=f"scorm:{package.id}")
    return outcome.version, outcome.status


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
    from lms.xapi.actors import actor_for
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


def _completion_id(registration: str, activity_id: str) -> str:
    """The id of Lentera's completed statement for an activity in a registration (the
    same for a replay, so it is stored once)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(
        [registration, activity_id, "scorm-completed"])))


# --- SCORM 2004 rollup ---------------------------------------------------------------------

#: (satisfied, completed, attempted) of an activity; None where it is not known.
Rollup = tuple[bool | None, bool | None, bool]


def _leaf_state(sco: dict[str, Any], status: ScormStatus | None) -> Rollup:
    """A SCO's state from its outcome: satisfied when done (passed, or completed without
    a passing score), not satisfied when failed, else unknown; completed when it said so.
    Only completed/passed/failed statements make an outcome, so without one the SCO counts
    as not attempted."""
    if status is None:
        return None, None, False
    done: bool | None = True if satisfied(sco, status) else (False if status.failed else None)
    return done, True if status.completed else None, True


def _condition(state: Rollup, name: str) -> bool:
    satisfied_, completed, attempted = state
    return {
        "satisfied": satisfied_ is True,
        "objectiveStatusKnown": satisfied_ is not None,
        "completed": completed is True,
        "activityProgressKnown": completed is not None,
        "attempted": attempted,
    }.get(name, False)  # measures, attempt and time limits are not tracked here


def _rule_applies(rule: dict[str, Any], children: list[Rollup]) -> bool:
    if not children:
        return False
    hits = []
    for child in children:
        values = [_condition(child, c["condition"]) != c["not"] for c in rule["conditions"]]
        hits.append(all(values) if rule["combination"] == "all" else any(values))
    count = sum(hits)
    return {
        "all": count == len(hits),
        "any": count > 0,
        "none": count == 0,
        "atLeastCount": count >= rule["count"],
        "atLeastPercent": count / len(hits) >= rule["percent"],
    }[rule["set"]]


def _roll(rollup: dict[str, Any], children: list[tuple[dict[str, Any], Rollup]]) -> Rollup:
    """One cluster's status from its children, as IMS SS rollup does it (RB.1.2, RB.1.3):
    its rollup rules if it has any for a measure, else the default rules (satisfied when
    every contributing child is, not satisfied when any is not; the same for completion).
    A child counts when tracked and not excluded by rollupObjectiveSatisfied /
    rollupProgressCompletion."""
    tracked = [(r, st_) for r, st_ in children if r.get("tracked", True)]
    for_satisfied = [st_ for r, st_ in tracked if r.get("satisfied", True)]
    for_completion = [st_ for r, st_ in tracked if r.get("completion", True)]
    rules = rollup.get("rules") or []

    def measure(states: list[Rollup], yes: str, no: str, index: int) -> bool | None:
        mine = [r for r in rules if r["action"] in (yes, no)]
        if mine:
            result: bool | None = None
            if any(_rule_applies(r, states) for r in mine if r["action"] == no):
                result = False
            if any(_rule_applies(r, states) for r in mine if r["action"] == yes):
                result = True
            return result
        if not states:
            return None
        if all(s[index] is True for s in states):
            return True
        if any(s[index] is False for s in states):
            return False
        return None

    attempted = any(st_[2] for _, st_ in children)
    return (measure(for_satisfied, "satisfied", "notSatisfied", 0),
            measure(for_completion, "completed", "incomplete", 1), attempted)


def course_rolled_up(structure: dict[str, Any], statuses: dict[int, ScormStatus]) -> bool:
    """Whether a learner finished the package: the organization's rollup (its items'
    rollup rules, tracked and rollup flags; SCO by SCO ``statuses``, by SCO index) says
    satisfied, or completed where satisfaction is unknown. A package without rollup
    settings (every SCORM 1.2 package) needs every item done."""
    scos = structure.get("scos") or []

    def state(node: dict[str, Any]) -> Rollup:
        if not node.get("children"):
            index = node.get("sco")
            if index is None:
                return None, None, False
            return _leaf_state(scos[index], statuses.get(index))
        return _roll(node.get("rollup") or {},
                     [(c.get("rollup") or {}, state(c)) for c in node["children"]])

    def counts(node: dict[str, Any], key: str) -> bool:
        """Whether a node takes part in its parent's rollup of ``key`` at all."""
        rollup = node.get("rollup") or {}
        if not rollup.get("tracked", True) or not rollup.get(key, True):
            return False
        if not node.get("children"):
            return node.get("sco") is not None
        return any(r["action"] in ACTIONS[key] for r in rollup.get("rules") or []) or any(
            counts(c, key) for c in node["children"])

    tree = structure.get("tree") or []
    root = {"children": tree, "rollup": {**(structure.get("rollup") or {}),
                                         "tracked": True, "satisfied": True,
                                         "completion": True}}
    done, completed, _ = _roll(structure.get("rollup") or {},
                               [(n.get("rollup") or {}, state(n)) for n in tree])
    if counts(root, "satisfied"):
        # Satisfaction decides (a SCO with a passing score must be passed).
        return done is True
    if counts(root, "completion"):
        return completed is True
    return bool(scos) and all(  # nothing takes part in the rollup at all
        statuses.get(i) is not None and satisfied(sco, statuses[i])
        for i, sco in enumerate(scos))


#: Which rollup actions roll up a measure.
ACTIONS = {"satisfied": ("satisfied", "notSatisfied"), "completion": ("completed", "incomplete")}


class PackagesConsumer(StatementConsumer):  # type: ignore[misc,valid-type]
    """Marks SCOs done from their statements and stores Lentera's completion statements
    for the module and the course (ids derived from the registration and the activity,
    so a replay stores nothing twice)."""

    name = "packages"
    shares_statements = True  # reads statements, never changes them

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        from lms.xapi.consumers import about_known_activities

        return about_known_activities(
            statements, (ADL + "completed", ADL + "passed", ADL + "failed"),
            lambda ids: get_session().scalars(
                sa.select(ScormSco.sco_iri).where(among(ScormSco.sco_iri, ids))),
            voiding=False)  # (handle_voiding does nothing)

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
        newly = not status.satisfied and satisfied(sco, status)
        status.satisfied = status.satisfied or newly
        session.flush()
        self._complete(package, row if newly else None, registration, data, enrollment)

    def _complete(self, package: ScormPackage, row: ScormSco | None, registration: str,
                  trigger: dict[str, Any], enrollment: Any) -> None:
        """Lentera's ``completed`` for the module of ``row`` (a SCO just done), and for
        the course once the package's rollup says it is finished and it was not yet."""
        from lms.courses import service as courses
        from lms.xapi.models import StatementId
        from lms.xapi.service import store_statements

        session = get_session()
        actor = trigger["actor"]
        stamp = trigger.get("timestamp")
        version = courses.pinned_version(enrollment)
        definition = courses.definition_of(version)
        module = None if row is None else next(
            (m for m in definition["modules"] if m["id"] == row.module_id), None)
        out = []
        if module is not None:
            out.append(st.make_statement(actor, "completed", st.module_activity(definition, module),
                                         definition=definition, version=version.number,
                                         registration=registration,
                                         parent=st.course_activity(definition),
                                         result={"completion": True}))
        course_activity = st.course_activity(definition)
        course_statement = _completion_id(registration, course_activity["id"])
        if session.scalar(sa.select(StatementId.seq).where(
                StatementId.statement_id == course_statement)) is None:
            index_of = {r.id: int(r.module_id.split("-", 1)[1]) - 1 for r in session.scalars(
                sa.select(ScormSco).where(ScormSco.package_id == package.id))}
            statuses = {index_of[s.sco_id]: s for s in session.scalars(
                sa.select(ScormStatus).where(ScormStatus.registration == registration,
                                             ScormStatus.sco_id.in_(list(index_of))))}
            if course_rolled_up(package.structure, statuses):
                out.append(st.make_statement(actor, "completed", course_activity,
                                             definition=definition, version=version.number,
                                             registration=registration,
                                             result={"completion": True}))
        for statement in out:
            statement["id"] = _completion_id(registration, statement["object"]["id"])
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
