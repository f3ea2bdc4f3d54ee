"""The learning ledger: a statement consumer that derives progress, completions and
certificates from the LRS.

Views only send statements; this consumer turns them into :class:`CourseProgress`,
:class:`ModuleProgress` and :class:`Completion` rows. A ``completed`` statement for a
course IRI counts the same whether Lentera's player or another system sent it. Replaying
from zero (``reset`` then every statement again) gives the same rows, certificate numbers
included (they are derived from the statement id).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

import sqlalchemy as sa

from lms.courses import statements as st
from lms.courses.models import Completion, Course, CourseProgress, CourseVersion, ModuleProgress
from lms.db import get_session

try:  # the LRS module provides the base class; the ledger is inert without it
    from lms.xapi.consumers import StatementConsumer, StoredStatement
    from lms.xapi.launch import outside_launch
    from lms.xapi.validation.verbs import VOIDED
except ImportError:  # pragma: no cover
    StatementConsumer = object  # type: ignore[assignment,misc]
    StoredStatement = Any  # type: ignore[assignment,misc]
    VOIDED = "http://adlnet.gov/expapi/verbs/voided"

    def outside_launch(statement: dict[str, Any]) -> bool:  # no LRS, no launches
        return False

#: Session info key of the progress rows a batch has looked up (see handle_batch).
_BATCH_ROWS = "lms.courses.ledger_rows"
#: In those rows, ``(_LOOKED_UP, user_id, course_id)``: every progress row of that learner
#: and course was looked up before the batch (one that is not there does not exist yet).
_LOOKED_UP = "looked up"


def certificate_number(statement_id: str, when: dt.datetime) -> str:
    """A short, unique, verifiable number derived from the completing statement."""
    digest = hashlib.sha256(statement_id.lower().encode()).digest()
    code = base64.b32encode(digest).decode()[:12]
    return f"LTR-{when.year}-{code[:4]}-{code[4:8]}-{code[8:]}"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _parse_time(value: Any, fallback: dt.datetime) -> dt.datetime:
    # Imported here: the ledger stays importable without the LRS (see the imports above).
    from lms.xapi.validation.common import statement_time

    return statement_time(value, fallback)


def completed_course_slug(data: dict[str, Any]) -> str | None:
    """The slug of the course a statement completes under the ledger's rule: ``completed``,
    or ``passed`` with ``result.completion``, about the course activity itself (not one of
    its modules). None otherwise, and None for a statement written with a launch
    credential (content in the learner's browser) about anything but its launched AU.
    Whatever else credits course completions (the JP summary) asks this, so the rule
    lives in one place."""
    obj = data.get("object") or {}
    if obj.get("objectType", "Activity") != "Activity" or outside_launch(data):
        return None
    verb = st.VERB_NAMES.get((data.get("verb") or {}).get("id", ""))
    if not (verb == "completed" or (verb == "passed" and (data.get("result") or {}).get(
            "completion"))):
        return None
    parsed = st.parse_activity_iri(str(obj.get("id") or ""))
    if parsed is None or parsed[1] is not None:
        return None
    return parsed[0]


def named_version(course: Course, data: dict[str, Any]) -> CourseVersion | None:
    """The version of ``course`` a statement names (context extension), if it exists: the
    completion earns that version's JP and competencies."""
    number = ((data.get("context") or {}).get("extensions") or {}).get(st.version_extension())
    if not isinstance(number, int):
        return None
    return get_session().scalar(
        sa.select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.number == number
        )
    )


class LearningLedger(StatementConsumer):  # type: ignore[misc,valid-type]
    """Derives the learner's course records from statements about course activities."""

    name = "courses"
    shares_statements = True  # reads statements, never changes them

    def __init__(self) -> None:
        self._course_ids: dict[str, int] = {}

    def _course(self, slug: str) -> Course | None:
        rows = get_session().info.get(_BATCH_ROWS)
        if rows is not None and slug in rows:
            return rows[slug]  # type: ignore[no-any-return]
        course = self._find_course(slug)
        if rows is not None:
            rows[slug] = course  # held here: the identity map holds objects weakly
        return course

    def _find_course(self, slug: str) -> Course | None:
        course_id = self._course_ids.get(slug)
        if course_id is not None:
            course = get_session().get(Course, course_id)
            if course is not None and course.slug == slug:
                return course
        course = get_session().scalar(sa.select(Course).where(Course.slug == slug))
        if course is not None:
            self._course_ids[slug] = course.id
        return course

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        """The statements :meth:`handle` may act on: a verb it knows about a course or one
        of its modules (read from the indexed verb and activity columns: nothing parsed),
        and the voiding statements. It passes over the others unread, as :meth:`handle`
        would after parsing each (another platform's statements, a question's)."""
        return [s for s in statements if s.verb_id == VOIDED or (
            s.verb_id in st.VERB_NAMES and s.activity_id is not None
            and st.parse_activity_iri(s.activity_id) is not None)]

    def handle_batch(self, statements: list[StoredStatement]) -> None:
        """A batch in stored order, in one transaction: the progress rows it touches are
        looked up once and written in one flush (a quiz submission alone brings a dozen
        statements about the same learner and course)."""
        session = get_session()
        session.info[_BATCH_ROWS] = {}
        try:
            self._look_up(statements)
            for statement in statements:
                data = statement.data or {}
                if (data.get("verb") or {}).get("id") == VOIDED:
                    target = (data.get("object") or {}).get("id")
                    if target:
                        self.handle_voiding(str(target), statement)
                else:
                    self.handle(statement)
            session.flush()
        finally:
            session.info.pop(_BATCH_ROWS, None)

    def _look_up(self, statements: list[StoredStatement]) -> None:
        """Before a batch: the learners, courses and progress rows its statements are
        about, in a few queries for the batch instead of three for each statement (the
        learner, the course's progress row, the module's). Only the indexed verb and
        activity columns and the actor are read; :meth:`handle` still decides what each
        statement earns, and looks up on its own whatever is not found here."""
        from lms.xapi.actors import remember_users, user_for_actor

        about: list[tuple[Any, int]] = []
        for statement in statements:
            if statement.verb_id not in st.VERB_NAMES or not statement.activity_id:
                continue
            parsed = st.parse_activity_iri(statement.activity_id)
            course = self._course(parsed[0]) if parsed is not None else None
            if course is not None:
                about.append(((statement.data or {}).get("actor"), course.id))
        if not about:
            return
        remember_users(actor for actor, _course_id in about)
        pairs: set[tuple[int, int]] = set()
        for actor, course_id in about:
            user = user_for_actor(actor)
            if user is not None:
                pairs.add((user.id, course_id))
        session = get_session()
        rows = session.info[_BATCH_ROWS]
        wanted = sorted(pair for pair in pairs if (_LOOKED_UP, *pair) not in rows)
        for start in range(0, len(wanted), 400):
            chunk = wanted[start:start + 400]
            for course_row in session.scalars(sa.select(CourseProgress).where(
                    sa.tuple_(CourseProgress.user_id, CourseProgress.course_id).in_(chunk))):
                rows[(course_row.user_id, course_row.course_id)] = course_row
            for module_row in session.scalars(sa.select(ModuleProgress).where(
                    sa.tuple_(ModuleProgress.user_id, ModuleProgress.course_id).in_(chunk))):
                rows[(module_row.user_id, module_row.course_id, module_row.module_id)] = \
                    module_row
            for pair in chunk:
                rows[(_LOOKED_UP, *pair)] = True

    def _flush(self) -> None:
        """Flush now, unless a batch flushes once at its end."""
        session = get_session()
        if _BATCH_ROWS not in session.info:
            session.flush()

    def _course_progress(self, user_id: int, course_id: int) -> CourseProgress:
        session = get_session()
        rows = session.info.get(_BATCH_ROWS)
        if rows is not None and (user_id, course_id) in rows:
            return rows[(user_id, course_id)]  # type: ignore[no-any-return]
        row = None if rows is not None and (_LOOKED_UP, user_id, course_id) in rows else \
            session.scalar(
                sa.select(CourseProgress).where(
                    CourseProgress.user_id == user_id, CourseProgress.course_id == course_id
                )
            )
        if row is None:
            row = CourseProgress(user_id=user_id, course_id=course_id, progress=0.0)
            session.add(row)
        if rows is not None:
            rows[(user_id, course_id)] = row
        return row

    def _module_progress(self, user_id: int, course_id: int, module_id: str) -> ModuleProgress:
        session = get_session()
        rows = session.info.get(_BATCH_ROWS)
        if rows is not None and (user_id, course_id, module_id) in rows:
            return rows[(user_id, course_id, module_id)]  # type: ignore[no-any-return]
        row = None if rows is not None and (_LOOKED_UP, user_id, course_id) in rows else \
            session.scalar(
                sa.select(ModuleProgress).where(
                    ModuleProgress.user_id == user_id,
                    ModuleProgress.course_id == course_id,
                    ModuleProgress.module_id == module_id,
                )
            )
        if row is None:
            row = ModuleProgress(
                user_id=user_id, course_id=course_id, module_id=module_id, passed=False
            )
            session.add(row)
        if rows is not None:
            rows[(user_id, course_id, module_id)] = row
        return row

    def handle(self, statement: StoredStatement) -> None:
        data = statement.data
        verb = st.VERB_NAMES.get(data.get("verb", {}).get("id", ""))
        obj = data.get("object") or {}
        if verb is None or obj.get("objectType", "Activity") != "Activity":
            return
        parsed = st.parse_activity_iri(obj.get("id", ""))
        if parsed is None or outside_launch(data):
            # A launch credential sits in the learner's browser: what it writes about a
            # course or module (anything but its own AU) earns nothing.
            return
        from lms.xapi.actors import user_for_actor

        user = user_for_actor(data.get("actor"))
        if user is None:
            return
        slug, kind, module_id = parsed
        course = self._course(slug)
        if course is None:
            return
        when = _parse_time(data.get("timestamp"), statement.stored)
        context = data.get("context") or {}
        result = data.get("result") or {}
        registration = context.get("registration")
        progress = self._course_progress(user.id, course.id)
        if registration and not progress.registration:
            progress.registration = registration
        if progress.last_activity_at is None or when > _aware(progress.last_activity_at):
            progress.last_activity_at = when

        if kind is None:
            if verb == "progressed":
                value = (result.get("extensions") or {}).get(st.PROGRESS_EXTENSION)
                if isinstance(value, int | float) and progress.completed_at is None:
                    progress.progress = max(0.0, min(100.0, float(value)))
            elif completed_course_slug(data) is not None:
                self._complete_course(
                    statement, user.id, course, progress, when, registration
                )
            self._flush()
            return

        row = self._module_progress(user.id, course.id, module_id)  # type: ignore[arg-type]
        if verb in ("experienced", "launched", "initialized", "attempted"):
            row.experienced_at = row.experienced_at or when
            progress.last_module_id = module_id
        elif verb == "completed" and kind == "modules":
            row.experienced_at = row.experienced_at or when
            if row.completed_at is None:
                row.completed_at, row.statement_id = when, statement.id.lower()
            progress.last_module_id = module_id
        elif verb in ("passed", "failed") and kind == "quizzes":
            scaled = (result.get("score") or {}).get("scaled")
            if isinstance(scaled, int | float):
                row.best_scaled = max(row.best_scaled or 0.0, float(scaled))
            row.experienced_at = row.experienced_at or when
            if verb == "passed" and not row.passed:
                row.passed, row.completed_at, row.statement_id = True, when, statement.id.lower()
            progress.last_module_id = module_id
        self._flush()

    def _complete_course(
        self,
        statement: StoredStatement,
        user_id: int,
        course: Course,
        progress: CourseProgress,
        when: dt.datetime,
        registration: str | None,
    ) -> None:
        session = get_session()
        progress.progress = 100.0
        progress.completed_at = progress.completed_at or when
        existing = session.scalar(
            sa.select(Completion).where(
                Completion.user_id == user_id, Completion.course_id == course.id
            )
        )
        if existing is not None:
            return
        version = named_version(course, statement.data)
        jp = float(version.definition["jp"]) if version else course.jp
        competencies = version.definition["competencies"] if version else course.competencies
        title = version.definition["title"] if version else course.title
        number = certificate_number(statement.id, when)
        session.add(
            Completion(
                user_id=user_id,
                course_id=course.id,
                course_version=version.number if version else course.version,
                course_title=title,
                jp=jp,
                competencies=competencies,
                completed_at=when,
                registration=registration,
                statement_id=statement.id.lower(),
                certificate_number=number,
            )
        )
        from lms.courses.notify import certificate_issued

        certificate_issued(user_id, number, title, jp, when, statement.stored)

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        session = get_session()
        voided_id = voided_id.lower()
        completion = session.scalar(
            sa.select(Completion).where(Completion.statement_id == voided_id)
        )
        if completion is not None:
            progress = session.scalar(
                sa.select(CourseProgress).where(
                    CourseProgress.user_id == completion.user_id,
                    CourseProgress.course_id == completion.course_id,
                )
            )
            if progress is not None:
                progress.completed_at = None
            session.delete(completion)
        for row in session.scalars(
            sa.select(ModuleProgress).where(ModuleProgress.statement_id == voided_id)
        ):
            row.completed_at, row.passed, row.statement_id = None, False, None
        session.flush()

    def reset(self) -> None:
        session = get_session()
        for model in (Completion, ModuleProgress, CourseProgress):
            session.execute(sa.delete(model))
        session.flush()
