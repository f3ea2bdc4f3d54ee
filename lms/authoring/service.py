"""Authoring operations: courses trainers own, their drafts, publishing, packages.

Plain values in, models out; functions flush and never commit (STYLE.md). Every change to
a course is recorded in :class:`CourseChange` (who, when, what). Access: a course's
trainers and admins may change it (:func:`require_editor`).
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import uuid
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.authoring import drafts
from lms.authoring.archives import ArchiveError, extract_archive, zip_folder
from lms.authoring.models import AuthoredCourse, CourseChange, CourseTrainer
from lms.courses import service as courses
from lms.courses.format import CourseFormatError, FormatError, find_course_folders
from lms.courses.models import Course, CourseVersion
from lms.db import get_session, utcnow
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.people.models import Role, User

#: Short names that are pages of /authoring or /courses.
RESERVED = frozenset({"new", "import", "import-cmi5", "adopt", "mine", "transcript",
                      "certificates"})
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
IMAGE_SUFFIXES = {".png": b"\x89PNG", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8",
                  ".gif": b"GIF8", ".webp": b"RIFF"}
VIDEO_SUFFIXES = {".mp4": None, ".webm": b"\x1a\x45\xdf\xa3"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_VIDEO_BYTES = 50 * 1024 * 1024


# --- access and the change log ---------------------------------------------------------


def is_editor(user: User, authored: AuthoredCourse) -> bool:
    """True for admins and the course's trainers."""
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.TRAINER):
        return False
    return any(t.user_id == user.id for t in authored.trainers)


def get_authored(slug: str) -> AuthoredCourse:
    authored = get_session().scalar(sa.select(AuthoredCourse).where(AuthoredCourse.slug == slug))
    if authored is None:
        raise NotFound(_l("No course %(slug)s in authoring.", slug=slug))
    return authored


def require_editor(slug: str, user: User) -> AuthoredCourse:
    """The authored course ``slug`` if ``user`` may change it, else Forbidden."""
    authored = get_authored(slug)
    if not is_editor(user, authored):
        raise Forbidden(_l("Only the course's trainers and admins may change it."))
    return authored


def record(authored: AuthoredCourse, user: User | None, action: str, detail: str = "") -> None:
    """Add a line to the course's change log and touch its ``updated_at``."""
    authored.updated_at = utcnow()
    get_session().add(CourseChange(course_id=authored.id, user_id=user.id if user else None,
                                   action=action, detail=detail[:2000]))
    get_session().flush()


def changes(authored: AuthoredCourse, limit: int = 200) -> list[tuple[CourseChange, User | None]]:
    rows = get_session().execute(
        sa.select(CourseChange, User).outerjoin(User, User.id == CourseChange.user_id)
        .where(CourseChange.course_id == authored.id)
        .order_by(CourseChange.at.desc(), CourseChange.id.desc()).limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def courses_of(user: User) -> list[AuthoredCourse]:
    """The authored courses ``user`` may change (all of them for admins)."""
    query = sa.select(AuthoredCourse).order_by(AuthoredCourse.title)
    if not user.has_role(Role.ADMIN):
        query = query.join(CourseTrainer).where(CourseTrainer.user_id == user.id)
    return list(get_session().scalars(query))


def catalog_course(authored: AuthoredCourse) -> Course | None:
    return get_session().scalar(sa.select(Course).where(Course.slug == authored.slug))


# --- creating and adopting -------------------------------------------------------------


def create_course(user: User, slug: str, title: str, summary: str, topic: str, jp: float,
                  competency: str = "M.01", level: int = 1) -> AuthoredCourse:
    """A new course with an empty draft; ``user`` becomes its first trainer."""
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise ValidationError(
            _l("The short name may use lower-case letters, digits and '-' (3 to 80 characters)."),
            field="slug")
    if slug in RESERVED:
        raise ValidationError(_l("The short name %(slug)s is reserved; choose another.",
                                 slug=slug), field="slug")
    session = get_session()
    if session.scalar(sa.select(AuthoredCourse.id).where(AuthoredCourse.slug == slug)) or \
            session.scalar(sa.select(Course.id).where(Course.slug == slug)):
        raise Conflict(_l("A course with the short name %(slug)s exists already.", slug=slug),
                       field="slug")
    folder = drafts.draft_dir(slug)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    drafts.write_course_yaml(folder, {
        "slug": slug, "title": title.strip(), "summary": summary.strip(), "description": "",
        "jp": jp, "level": "dasar", "language": "id", "topic": topic.strip(), "tags": [],
        "competencies": [{"code": competency, "level": level}], "modules": [],
        "completion": {"modules": "all", "quizzes": "all"},
    })
    authored = AuthoredCourse(slug=slug, title=title.strip()[:200], created_by_id=user.id)
    authored.trainers.append(CourseTrainer(user_id=user.id))
    session.add(authored)
    session.flush()
    record(authored, user, "created", title)
    return authored


def adopt_course(course: Course, user: User | None) -> AuthoredCourse:
    """Bring a catalog course (imported from files) into authoring: its current version
    becomes the draft. ``user`` (when given) becomes a trainer. Idempotent."""
    session = get_session()
    authored = session.scalar(sa.select(AuthoredCourse).where(AuthoredCourse.slug == course.slug))
    if authored is None:
        authored = AuthoredCourse(slug=course.slug, title=course.title,
                                  created_by_id=user.id if user else None)
        session.add(authored)
        session.flush()
        reset_draft(authored, user, log=False)
        record(authored, user, "adopted", f"version {course.version}")
    if user is not None and not any(t.user_id == user.id for t in authored.trainers):
        authored.trainers.append(CourseTrainer(user_id=user.id))
        session.flush()
    return authored


def reset_draft(authored: AuthoredCourse, user: User | None, log: bool = True) -> None:
    """Replace the draft by the published version (discarding unpublished changes)."""
    course = catalog_course(authored)
    if course is None:
        raise ValidationError(_l("This course has not been published yet."))
    version = courses.current_version(course)
    tmp = Path(tempfile.mkdtemp(dir=_ensure(drafts.drafts_root())))
    shutil.rmtree(tmp)
    drafts.write_version(version.definition, courses.content_dir() / version.content_hash, tmp)
    drafts.replace_folder(tmp, drafts.draft_dir(authored.slug))
    if log:
        record(authored, user, "draft_reset", f"version {version.number}")


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- trainers ---------------------------------------------------------------------------


def add_trainer(authored: AuthoredCourse, by: User, identifier: str) -> User:
    """Make the user with this e-mail or NIP a co-trainer (they need the trainer role)."""
    identifier = (identifier or "").strip()
    user = get_session().scalar(
        sa.select(User).where(sa.or_(sa.func.lower(User.email) == identifier.lower(),
                                     User.nip == identifier)))
    if user is None:
        raise NotFound(_l("No user with e-mail or NIP %(id)s.", id=identifier), field="user")
    if not user.has_role(Role.TRAINER, Role.ADMIN):
        raise ValidationError(_l("%(name)s does not hold the trainer role; ask an admin to give "
                                 "it first.", name=user.name), field="user")
    if any(t.user_id == user.id for t in authored.trainers):
        raise Conflict(_l("%(name)s is a trainer of this course already.", name=user.name),
                       field="user")
    authored.trainers.append(CourseTrainer(user_id=user.id))
    get_session().flush()
    record(authored, by, "trainer_added", f"{user.name} <{user.email}>")
    return user


def remove_trainer(authored: AuthoredCourse, by: User, user_id: int) -> None:
    rows = [t for t in authored.trainers if t.user_id == user_id]
    if not rows:
        raise NotFound(_l("That user is not a trainer of this course."))
    if len(authored.trainers) == 1:
        raise ValidationError(_l("A course keeps at least one trainer."))
    user = get_session().get(User, user_id)
    authored.trainers.remove(rows[0])
    get_session().flush()
    record(authored, by, "trainer_removed", user.name if user else str(user_id))


def trainers(authored: AuthoredCourse) -> list[User]:
    ids = [t.user_id for t in authored.trainers]
    if not ids:
        return []
    return list(get_session().scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.name)))


# --- checking and publishing ------------------------------------------------------------


def check_draft(authored: AuthoredCourse) -> tuple[Any, list[FormatError]]:
    """``(loaded course or None, errors)`` for the draft as it is now."""
    try:
        return drafts.check(drafts.draft_dir(authored.slug), authored.slug), []
    except CourseFormatError as exc:
        return None, exc.errors


def draft_changed(authored: AuthoredCourse, loaded: Any) -> bool:
    """True when the (valid) draft differs from the published version."""
    course = catalog_course(authored)
    if course is None or loaded is None:
        return True
    version = courses.current_version(course)
    return drafts.comparable(loaded.definition) != drafts.comparable(version.definition)


def publish(authored: AuthoredCourse, user: User | None) -> CourseVersion:
    """Publish the draft as a new course version (the courses loader checks it first).

    Learners keep their records: they refer to the course and to module ids.
    """
    if authored.kind != "course":
        raise ValidationError(_l("This course comes from a cmi5 package; import a new package "
                                 "to change it."))
    loaded, errors = check_draft(authored)
    if errors:
        raise ValidationError(_l("The draft has %(count)s problem(s); fix them first.",
                                 count=len(errors)), details=errors)
    if not draft_changed(authored, loaded):
        raise Conflict(_l("Nothing changed since the last published version."))
    outcome = courses.import_course(loaded, source=f"authoring:{authored.slug}")
    outcome.course.published = True
    authored.title = outcome.course.title
    authored.archived_at = None
    record(authored, user, "published", f"version {outcome.version.number}")
    return outcome.version


def archive(authored: AuthoredCourse, user: User) -> None:
    """Close the course: it leaves the catalog and takes no new enrolments; learners
    already enrolled can still finish it and keep their records and certificates."""
    course = catalog_course(authored)
    if course is not None:
        course.published = False
    authored.archived_at = utcnow()
    record(authored, user, "archived")


def unarchive(authored: AuthoredCourse, user: User) -> None:
    course = catalog_course(authored)
    if course is not None:
        course.published = True
    authored.archived_at = None
    record(authored, user, "unarchived")


# --- export and import ------------------------------------------------------------------


def export_zip(authored: AuthoredCourse) -> bytes:
    """The draft as a zip in the courses/ format (one folder named after the slug)."""
    folder = drafts.draft_dir(authored.slug)
    if not folder.is_dir():
        raise NotFound(_l("This course has no files to export."))
    buffer = io.BytesIO()
    zip_folder(folder, buffer, prefix=f"{authored.slug}/")
    return buffer.getvalue()


def _work_dir() -> Path:
    return _ensure(Path(current_app.config["UPLOAD_DIR"]) / "authoring" / "tmp") / uuid.uuid4().hex


def _extract_course(source: BinaryIO | Path, target: Path, label: str) -> tuple[Path, Any]:
    extract_archive(source, target)
    folders = find_course_folders(target)
    if not folders:
        nested = [p for p in target.iterdir() if p.is_dir()]
        folders = [f for p in nested for f in find_course_folders(p)] if len(nested) == 1 \
            else []
    if len(folders) != 1:
        raise ArchiveError(_l("The zip must hold exactly one course folder with a "
                              "course.yaml (found %(count)s).", count=len(folders)))
    folder = folders[0]
    try:
        return folder, drafts.check(folder, label or folder.name)
    except CourseFormatError as exc:
        raise ValidationError(_l("The course in the zip has %(count)s problem(s); nothing "
                                 "was imported.", count=len(exc.errors)),
                              details=exc.errors) from None


def check_zip(source: BinaryIO | Path, label: str = "") -> str:
    """Check a course zip without importing it; return the course's slug."""
    target = _work_dir()
    try:
        return _extract_course(source, target, label)[1].slug
    finally:
        shutil.rmtree(target, ignore_errors=True)


def import_zip(source: BinaryIO | Path, user: User | None, publish_now: bool = True,
               label: str = "") -> tuple[AuthoredCourse, CourseVersion | None]:
    """Import a course zip: checked extraction, the courses loader, then the draft and
    (with ``publish_now``) a new version. Nothing is written when anything is wrong.

    ``user`` None means the command line (no access check); otherwise an existing course
    may only be replaced by one of its trainers or an admin.
    """
    target = _work_dir()
    try:
        folder, loaded = _extract_course(source, target, label)
        session = get_session()
        authored = session.scalar(sa.select(AuthoredCourse)
                                  .where(AuthoredCourse.slug == loaded.slug))
        existing = session.scalar(sa.select(Course).where(Course.slug == loaded.slug))
        if authored is None and existing is not None:
            if user is not None and not user.has_role(Role.ADMIN):
                raise Forbidden(_l("The course %(slug)s exists and only admins may take it "
                                   "into authoring.", slug=loaded.slug))
            authored = adopt_course(existing, user)
        if authored is not None:
            if user is not None and not is_editor(user, authored):
                raise Forbidden(_l("The course %(slug)s exists and you are not one of its "
                                   "trainers.", slug=loaded.slug))
            if authored.kind != "course":
                raise Conflict(_l("The course %(slug)s comes from a cmi5 package.",
                                  slug=loaded.slug))
        else:
            authored = AuthoredCourse(slug=loaded.slug, title=loaded.meta["title"],
                                      created_by_id=user.id if user else None)
            if user is not None:
                authored.trainers.append(CourseTrainer(user_id=user.id))
            session.add(authored)
            session.flush()
        drafts.replace_folder(folder, drafts.draft_dir(loaded.slug))
        record(authored, user, "imported", label or "zip")
        version = None
        if publish_now:
            loaded = drafts.check(drafts.draft_dir(loaded.slug), loaded.slug)
            if draft_changed(authored, loaded):
                version = publish(authored, user)
        return authored, version
    finally:
        shutil.rmtree(target, ignore_errors=True)


# --- files of a draft -------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def save_upload(authored: AuthoredCourse, user: User, filename: str, data: bytes) -> str:
    """Store an image or video in the draft's ``gambar/`` folder; return its path.

    Only known types whose content matches the extension, and within the size limits.
    """
    name = _SAFE_NAME.sub("-", PurePosixPath(filename or "").name).strip(".-").lower()
    suffix = PurePosixPath(name).suffix
    if suffix in IMAGE_SUFFIXES:
        limit, magic = MAX_IMAGE_BYTES, IMAGE_SUFFIXES[suffix]
    elif suffix in VIDEO_SUFFIXES:
        limit, magic = MAX_VIDEO_BYTES, VIDEO_SUFFIXES[suffix]
    elif suffix == ".h5p":
        limit, magic = MAX_VIDEO_BYTES, b"PK\x03\x04"
    else:
        raise ValidationError(_l("Upload an image (PNG, JPEG, GIF, WebP), a video (MP4, "
                                 "WebM) or an H5P package (.h5p)."), field="file")
    if not data:
        raise ValidationError(_l("The file is empty."), field="file")
    if len(data) > limit:
        raise ValidationError(_l("The file is larger than %(mb)s MB.", mb=limit // 2**20),
                              field="file")
    ok = data.startswith(magic) if magic else data[4:8] == b"ftyp"
    if suffix == ".webp":
        ok = ok and data[8:12] == b"WEBP"
    if not ok:
        raise ValidationError(_l("The file's content does not match its type %(type)s.",
                                 type=suffix), field="file")
    if suffix == ".h5p":  # its h5p.json, libraries and files, checked before it is kept
        from lms.h5p.package import check_bytes

        check_bytes(data)
    folder = drafts.draft_dir(authored.slug) / "gambar"
    folder.mkdir(parents=True, exist_ok=True)
    stem, n = PurePosixPath(name).stem or "file", 1
    final = f"{stem}{suffix}"
    while (folder / final).exists():
        n += 1
        final = f"{stem}-{n}{suffix}"
    (folder / final).write_bytes(data)
    record(authored, user, "file_uploaded", f"gambar/{final}")
    return f"gambar/{final}"


# --- cover image ------------------------------------------------------------------------

COVER_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")


def set_cover(authored: AuthoredCourse, user: User, filename: str | None, data: bytes | None,
              alt: str) -> str | None:
    """Upload or replace the draft's cover image (``data`` None: change only the alt text).

    The file goes to ``gambar/sampul.<type>`` in the draft; ``course.yaml`` gets ``cover``
    and ``cover_alt``. Checked like the courses loader does: type by suffix and content,
    at most 1 MB. Returns the cover's path (None when there is none).
    """
    from lms.courses.format import MAX_COVER_BYTES, image_content_matches

    folder = drafts.draft_dir(authored.slug)
    meta = drafts.read_course_yaml(folder)
    alt = (alt or "").strip()[:300]
    if data is not None:
        suffix = PurePosixPath((filename or "").lower()).suffix
        if suffix not in COVER_TYPES:
            raise ValidationError(_l("A cover is a PNG, JPEG, GIF, WebP or SVG image."),
                                  field="cover")
        if not data:
            raise ValidationError(_l("The file is empty."), field="cover")
        if len(data) > MAX_COVER_BYTES:
            raise ValidationError(_l("A cover image is at most 1 MB."), field="cover")
        if not image_content_matches(suffix, data):
            raise ValidationError(_l("The file's content does not match its type %(type)s.",
                                     type=suffix), field="cover")
        old = meta.get("cover")
        name = f"gambar/sampul{'.jpg' if suffix == '.jpeg' else suffix}"
        (folder / "gambar").mkdir(parents=True, exist_ok=True)
        if old and old != name and _unused(folder, old):
            (folder / old).unlink(missing_ok=True)
        (folder / name).write_bytes(data)
        meta["cover"] = name
        record(authored, user, "cover_set", name)
    elif not meta.get("cover"):
        raise ValidationError(_l("Choose an image for the cover."), field="cover")
    if alt:
        meta["cover_alt"] = alt
    else:
        meta.pop("cover_alt", None)
    drafts.write_course_yaml(folder, meta)
    if data is None:
        record(authored, user, "cover_set", f"alt: {alt}")
    return meta.get("cover")


def remove_cover(authored: AuthoredCourse, user: User) -> None:
    """Take the cover off the draft (its file goes unless a lesson uses it)."""
    folder = drafts.draft_dir(authored.slug)
    meta = drafts.read_course_yaml(folder)
    old = meta.pop("cover", None)
    meta.pop("cover_alt", None)
    if old is None:
        raise NotFound(_l("This course has no cover image."))
    drafts.write_course_yaml(folder, meta)
    if _unused(folder, old):
        (folder / old).unlink(missing_ok=True)
    record(authored, user, "cover_removed", old)


def _unused(folder: Path, rel: str) -> bool:
    """True when no lesson of the draft mentions the file ``rel``."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts:
        return False
    return not any(rel in p.read_text(encoding="utf-8", errors="replace")
                   for p in folder.glob("*.md"))
