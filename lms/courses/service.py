"""Course operations: import from folders, catalog queries, enrolment, progress and JP.

Plain values in, models out; functions flush and never commit (see STYLE.md). Progress,
completions and certificates are NOT written here: they are derived from xAPI statements
by :mod:`lms.courses.ledger`. The journey's views send statements (``journey.py``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from lms import readcache
from lms.courses import statements as st
from lms.courses.format import LoadedCourse
from lms.courses.models import (
    Completion,
    Course,
    CourseProgress,
    CourseVersion,
    Enrollment,
    ModuleProgress,
)
from lms.db import get_session, utcnow
from lms.errors import NotFound, ValidationError
from lms.people.models import User

#: Every PNS has the right to at least 20 JP of competency development a year (PP 11/2017).
JP_TARGET_PER_YEAR = 20
LOCAL_TZ = ZoneInfo("Asia/Jakarta")
#: Course levels in their order (course.yaml ``level``).
LEVELS = ("dasar", "menengah", "lanjut")

# Versions never change once stored, so their definitions can be cached by id.
_DEFINITIONS: dict[int, dict[str, Any]] = {}


# --- import ----------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    course: Course
    version: CourseVersion
    status: str  # "created" | "updated" | "unchanged"


def content_dir() -> Path:
    """Where course files (images, videos) are kept, one folder per content hash."""
    return Path(current_app.config["UPLOAD_DIR"]) / "courses"


def import_course(loaded: LoadedCourse, source: str = "") -> ImportOutcome:
    """Store a checked course folder: a new course, a new version, or nothing when the
    content is unchanged. Learners' enrolments, attempts and records are kept, since they
    refer to the course and to module ids, not to a version.
    """
    from lms.signals import course_version_published

    session = get_session()
    course = session.scalar(sa.select(Course).where(Course.slug == loaded.slug))
    latest = None
    if course is not None:
        latest = session.scalar(
            sa.select(CourseVersion)
            .where(CourseVersion.course_id == course.id)
            .order_by(CourseVersion.number.desc())
            .limit(1)
        )
        if latest is not None and latest.content_hash == loaded.content_hash:
            return ImportOutcome(course, latest, "unchanged")
    status = "updated" if course is not None else "created"
    if course is None:
        course = Course(slug=loaded.slug, version=0)
        session.add(course)
    meta = loaded.meta
    course.title = meta["title"]
    course.summary = meta["summary"]
    course.topic = meta["topic"]
    course.level = meta["level"]
    course.language = meta["language"]
    course.jp = float(meta["jp"])
    course.competencies = meta["competencies"]
    course.competency_codes = " ".join(c["code"] for c in meta["competencies"])
    course.cover = (meta.get("cover") or "")[:300]
    course.cover_alt = (meta.get("cover_alt") or "")[:300]
    course.version = (latest.number if latest else 0) + 1
    course.updated_at = utcnow()
    course.published = True
    version = CourseVersion(
        course=course,
        number=course.version,
        content_hash=loaded.content_hash,
        definition=loaded.definition,
        source=source[:500],
    )
    session.add(version)
    session.flush()
    _copy_assets(loaded)
    course_version_published.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        course=published_payload(course, version),
    )
    return ImportOutcome(course, version, status)


def _copy_assets(loaded: LoadedCourse) -> None:
    target = content_dir() / loaded.content_hash
    if target.is_dir():
        return
    tmp = target.with_name(target.name + f".tmp-{uuid.uuid4().hex[:8]}")
    for rel, path in loaded.assets.items():
        dest = tmp.joinpath(*rel.split("/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(target)
    except OSError:  # another process stored the same content meanwhile
        shutil.rmtree(tmp, ignore_errors=True)


def published_payload(course: Course, version: CourseVersion) -> dict[str, Any]:
    """The plain dict sent with ``course_version_published`` (see lms/signals.py)."""
    definition = version.definition
    return {
        "iri": st.course_iri(course.slug),
        "slug": course.slug,
        "title": course.title,
        "version": version.number,
        "jp": course.jp,
        "targets": [{"competency": c["code"], "level": c["level"]} for c in course.competencies],
        "modules": [
            {"iri": st.module_iri(course.slug, m), "title": m["title"], "kind": m["kind"]}
            for m in definition["modules"]
        ],
        "quizzes": [
            {
                "iri": st.module_iri(course.slug, m),
                "title": m["title"],
                "questions": [
                    {
                        "iri": st.question_iri(course.slug, m["id"], q["id"]),
                        "competency": q.get("competency"),
                    }
                    for q in m["quiz"]["questions"]
                ],
            }
            for m in definition["modules"]
            if m["kind"] == "quiz"
        ],
    }


# --- catalog ---------------------------------------------------------------------------

#: The read-mostly cache (lms.readcache) of the catalog: published courses, their filters.
CATALOG_CACHE = "catalog"
readcache.watch(CATALOG_CACHE, Course, CourseVersion)


def catalog_listing(
    text: str = "",
    competency: str = "",
    topic: str = "",
    jp_max: float | None = None,
    level: str = "",
) -> list[sa.Row[Any]]:
    """:func:`search_catalog` as rows of the course table's columns (``row.slug``,
    ``row.title``...), kept per process until a course changes (``lms.readcache``): what
    the catalog and the home page's suggestions show every learner."""
    key = (text.strip().lower(), competency.strip().upper(), topic, jp_max, level)

    def compute() -> list[sa.Row[Any]]:
        query = _catalog_query(text, competency, topic, jp_max, level)
        return list(get_session().execute(query.with_only_columns(*Course.__table__.c)))

    return readcache.cached(CATALOG_CACHE, ("listing", *key), compute)


def search_catalog(
    text: str = "",
    competency: str = "",
    topic: str = "",
    jp_max: float | None = None,
    level: str = "",
) -> list[Course]:
    """Published courses matching every given filter, by title."""
    return list(get_session().scalars(_catalog_query(text, competency, topic, jp_max, level)))


def _catalog_query(
    text: str, competency: str, topic: str, jp_max: float | None, level: str
) -> sa.Select[Course]:
    query = sa.select(Course).where(Course.published.is_(True))
    if text:
        like = f"%{text.strip().lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(Course.title).like(like),
                sa.func.lower(Course.summary).like(like),
                sa.func.lower(Course.topic).like(like),
            )
        )
    if competency:
        query = query.where(
            (sa.literal(" ") + Course.competency_codes + " ").like(
                f"% {competency.strip().upper()} %"
            )
        )
    if topic:
        query = query.where(Course.topic == topic)
    if level:
        query = query.where(Course.level == level)
    if jp_max is not None:
        query = query.where(Course.jp <= jp_max)
    return query.order_by(Course.title)


def catalog_facets() -> dict[str, list[str]]:
    """Values for the catalog filters: topics, competency codes and levels in use (kept
    per process until a course changes; do not change the lists)."""
    return readcache.cached(CATALOG_CACHE, "facets", _catalog_facets)


def _catalog_facets() -> dict[str, list[str]]:
    topics: set[str] = set()
    codes: set[str] = set()
    used: set[str] = set()
    for topic, competency_codes, level in get_session().execute(
        sa.select(Course.topic, Course.competency_codes, Course.level).where(
            Course.published.is_(True)
        )
    ):
        topics.add(topic)
        codes.update((competency_codes or "").split())
        used.add(level)
    levels = [lv for lv in LEVELS if lv in used]
    return {"topics": sorted(topics), "competencies": sorted(codes), "levels": levels}


def course_with_version(slug: str) -> tuple[Course, CourseVersion]:
    """The published course ``slug`` and its current version, in one query, or NotFound."""
    row = (
        get_session()
        .execute(
            sa.select(Course, CourseVersion)
            .options(orm.defer(CourseVersion.definition))
            .join(
                CourseVersion,
                sa.and_(
                    CourseVersion.course_id == Course.id, CourseVersion.number == Course.version
                ),
            )
            .where(Course.slug == slug, Course.published.is_(True))
        )
        .first()
    )
    if row is None:
        raise NotFound(f"No course {slug}.")
    return row[0], row[1]


def version_number(course: Course, number: int) -> CourseVersion:
    """Version ``number`` of ``course`` or NotFound."""
    version = get_session().scalar(
        version_query().where(CourseVersion.course_id == course.id, CourseVersion.number == number)
    )
    if version is None:
        raise NotFound(f"Course {course.slug} has no version {number}.")
    return version


def pinned_versions(enrollments: list[Enrollment]) -> dict[int, CourseVersion]:
    """The version each enrolment follows (by enrolment id), in one query. The definition
    column is loaded only for a version :func:`definition_of` has not cached yet."""
    wanted = {e.id: (e.course_id, e.course_version or e.course.version) for e in enrollments}
    if not wanted:
        return {}
    rows = get_session().scalars(
        version_query()
        .where(sa.tuple_(CourseVersion.course_id, CourseVersion.number).in_(
            list(set(wanted.values()))))
    )
    by_key = {(v.course_id, v.number): v for v in rows}
    return {eid: by_key[key] for eid, key in wanted.items() if key in by_key}


def pinned_version(enrollment: Enrollment) -> CourseVersion:
    """The version an enrolled learner follows (see :attr:`Enrollment.course_version`)."""
    course = enrollment.course
    return version_number(course, enrollment.course_version or course.version)


def learner_view(
    user: User, slug: str
) -> tuple[Course, CourseVersion, Enrollment | None]:
    """What ``user`` sees of course ``slug``: ``(course, version, enrolment or None)``.

    Enrolled learners get the version they follow, even after a newer one is published
    and even when the course is archived (they may finish it and keep their records).
    Others get the current version of a published course; anything else is NotFound.
    """
    # One query for the three (every page of a course asks): the learner's enrolment, if
    # any, and the version it pins (else the current one), without the definition column
    # (definition_of caches it per version).
    mine = (Enrollment.user_id == user.id) if user.is_authenticated else sa.false()
    number = sa.func.coalesce(Enrollment.course_version, Course.version)
    row = get_session().execute(
        sa.select(Course, Enrollment, CourseVersion)
        .outerjoin(Enrollment, sa.and_(Enrollment.course_id == Course.id, mine))
        .outerjoin(CourseVersion, sa.and_(CourseVersion.course_id == Course.id,
                                          CourseVersion.number == number))
        .options(orm.defer(CourseVersion.definition))
        .where(Course.slug == slug)
    ).first()
    if row is None:
        raise NotFound(f"No course {slug}.")
    course, enrollment, version = row
    if enrollment is None and not course.published:
        raise NotFound(f"No course {slug}.")
    if version is None:
        if enrollment is not None:
            number = enrollment.course_version or course.version
            raise NotFound(f"Course {course.slug} has no version {number}.")
        raise NotFound(f"Course {course.slug} has no content.")
    return course, version, enrollment


def newer_version(enrollment: Enrollment | None) -> int | None:
    """The newest version number when the learner follows an older one, else None."""
    if enrollment is None or enrollment.course_version is None:
        return None
    newest = enrollment.course.version
    return newest if newest > enrollment.course_version else None


def move_to_newest(enrollment: Enrollment) -> CourseVersion:
    """Let the learner follow the newest version from now on (their choice).

    Nothing is deleted: lessons completed and quizzes passed stay done where the new
    version has a module with the same id; attempts, the completion and its certificate
    (which names the version it was earned under) are kept.
    """
    course = enrollment.course
    if not course.published:
        raise ValidationError("An archived course cannot change version.")
    version = current_version(course)
    if enrollment.course_version != version.number:
        enrollment.course_version = version.number
        enrollment.version_changed_at = utcnow()
        get_session().flush()
    return version


def current_version(course: Course) -> CourseVersion:
    """The version learners see now (the newest)."""
    version = get_session().scalar(
        version_query().where(
            CourseVersion.course_id == course.id, CourseVersion.number == course.version
        )
    )
    if version is None:
        raise NotFound(f"Course {course.slug} has no content.")
    return version


def version_query() -> sa.Select[CourseVersion]:
    """Versions without their definition column: a learner's every course page looks its
    version up, and the definition (the whole course, lessons and quiz keys included) is
    served from :func:`definition_of`'s cache; it is read from the database (one query,
    the deferred column) only by a process that has not cached that version yet."""
    return sa.select(CourseVersion).options(orm.defer(CourseVersion.definition))


def definition_of(version: CourseVersion) -> dict[str, Any]:
    """The version's definition (cached: versions never change)."""
    cached = _DEFINITIONS.get(version.id)
    if cached is None or cached.get("_hash") != version.content_hash:
        cached = {**version.definition, "_hash": version.content_hash, "_number": version.number}
        if len(_DEFINITIONS) > 500:
            _DEFINITIONS.clear()
        _DEFINITIONS[version.id] = cached
    return cached


def find_module(definition: dict[str, Any], module_id: str) -> dict[str, Any]:
    for module in definition["modules"]:
        if module["id"] == module_id:
            return module
    raise NotFound(f"No module {module_id} in this course.")


# --- enrolment and progress ------------------------------------------------------------


def enrollment_for(user: User, course: Course) -> Enrollment | None:
    return get_session().scalar(
        sa.select(Enrollment).where(
            Enrollment.user_id == user.id, Enrollment.course_id == course.id
        )
    )


def enrol(user: User, course: Course) -> tuple[Enrollment, bool]:
    """Enrol ``user`` (idempotent): ``(enrolment, created)``."""
    existing = enrollment_for(user, course)
    if existing is not None:
        return existing, False
    if not course.published:
        raise ValidationError(f"Course {course.slug} is not open for enrolment.")
    enrollment = Enrollment(
        user_id=user.id,
        course_id=course.id,
        registration=str(uuid.uuid4()),
        course_version=course.version,
    )
    get_session().add(enrollment)
    get_session().flush()
    return enrollment, True


def module_progress(user: User, course: Course) -> dict[str, ModuleProgress]:
    rows = get_session().scalars(
        sa.select(ModuleProgress).where(
            ModuleProgress.user_id == user.id, ModuleProgress.course_id == course.id
        )
    )
    return {row.module_id: row for row in rows}


def course_progress(user: User, course: Course) -> CourseProgress | None:
    return get_session().scalar(
        sa.select(CourseProgress).where(
            CourseProgress.user_id == user.id, CourseProgress.course_id == course.id
        )
    )


def completion_for(user: User, course: Course) -> Completion | None:
    return get_session().scalar(
        sa.select(Completion).where(
            Completion.user_id == user.id, Completion.course_id == course.id
        )
    )


def module_done(module: dict[str, Any], row: ModuleProgress | None) -> bool:
    if row is None:
        return False
    return row.passed if module["kind"] == "quiz" else row.completed_at is not None


def required_modules(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The modules the completion rule requires (lessons completed, quizzes passed)."""
    rule = definition.get("completion") or {"modules": "all", "quizzes": "all"}
    out = []
    for module in definition["modules"]:
        wanted = rule["quizzes"] if module["kind"] == "quiz" else rule["modules"]
        if wanted == "all" or (isinstance(wanted, list) and module["id"] in wanted):
            out.append(module)
    return out


def progress_percent(definition: dict[str, Any], rows: dict[str, ModuleProgress]) -> float:
    """The share of the required modules that are done, 0 to 100."""
    required = required_modules(definition)
    if not required:
        return 100.0
    done = sum(1 for m in required if module_done(m, rows.get(m["id"])))
    return round(100.0 * done / len(required), 1)


def next_module(
    definition: dict[str, Any], rows: dict[str, ModuleProgress], resume: str | None = None
) -> dict[str, Any] | None:
    """Where to go on: the first required module not done, else the resume point."""
    for module in definition["modules"]:
        if not module_done(module, rows.get(module["id"])):
            return module
    if resume:
        for module in definition["modules"]:
            if module["id"] == resume:
                return module
    return definition["modules"][0] if definition["modules"] else None


def my_courses(user: User) -> list[dict[str, Any]]:
    """The user's enrolments with course, progress and completion, most recent first."""
    session = get_session()
    enrollments = list(
        session.scalars(
            sa.select(Enrollment)
            .where(Enrollment.user_id == user.id)
            .order_by(Enrollment.enrolled_at.desc())
        )
    )
    progress = {
        p.course_id: p
        for p in session.scalars(sa.select(CourseProgress).where(CourseProgress.user_id == user.id))
    }
    completions = {
        c.course_id: c
        for c in session.scalars(sa.select(Completion).where(Completion.user_id == user.id))
    }
    items: list[dict[str, Any]] = []
    for enrollment in enrollments:
        p = progress.get(enrollment.course_id)
        c = completions.get(enrollment.course_id)
        items.append(
            {
                "enrollment": enrollment,
                "course": enrollment.course,
                "completion": c,
                "progress": 100.0 if c else (p.progress if p else 0.0),
                "last_activity_at": (p.last_activity_at if p else None) or enrollment.enrolled_at,
            }
        )
    items.sort(key=lambda i: (i["completion"] is not None, -(i["last_activity_at"].timestamp())))
    return items


def local_year(when: dt.datetime) -> int:
    return when.astimezone(LOCAL_TZ).year


def completions_of(user: User) -> list[Completion]:
    return list(
        get_session().scalars(
            sa.select(Completion)
            .where(Completion.user_id == user.id)
            .order_by(Completion.completed_at.desc())
        )
    )


# An employee's JP (per year, from every kind of learning) and the learning history are
# answered by lms.jp.service, the one JP service of Lentera.


def completion_by_number(number: str) -> Completion | None:
    return get_session().scalar(
        sa.select(Completion).where(Completion.certificate_number == number.strip().upper())
    )
