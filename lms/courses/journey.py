"""The learner's journey as xAPI: each step builds its statements and sends them to the LRS.

Functions here run inside the view's transaction (the LRS flushes; the view commits), so
the ledger derives progress right after that commit. Verbs per step:

- enrolment: ``registered`` (course);
- start/resume: ``launched`` and ``initialized`` (course); leaving: ``terminated``;
- opening a lesson: ``experienced`` (module); finishing it: ``completed`` (module) and
  ``progressed`` (course, with the cmi5 progress extension);
- a quiz's statements: :class:`lms.quizzes.journey.QuizJourney` (the quizzes build on
  this class);
- the completion rule met: ``completed`` (course) and ``terminated`` (course).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lms.courses import service
from lms.courses import statements as st
from lms.courses.models import Course, CourseVersion, Enrollment
from lms.db import utcnow
from lms.people.models import User
from lms.xapi.actors import actor_for


class Journey:
    """One learner in one course (the version they follow), building statements."""

    def __init__(self, user: User, course: Course, version: CourseVersion, enrollment: Enrollment,
                 at: dt.datetime | None = None):
        """``at``: when the steps happened, for steps recorded afterwards (an attempt the
        server closes at its deadline, demo data); by default now."""
        self.user, self.course, self.version, self.enrollment = user, course, version, enrollment
        self.at = at
        self.definition = service.definition_of(version)
        self.actor = actor_for(user)
        self.course_activity = st.course_activity(self.definition)

    def _statement(
        self,
        verb: str,
        obj: dict[str, Any],
        parent: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return st.make_statement(
            self.actor,
            verb,
            obj,
            definition=self.definition,
            version=self.version.number,
            registration=self.enrollment.registration,
            parent=parent,
            result=result,
            timestamp=self.at,
        )

    def _module_statement(
        self, verb: str, module: dict[str, Any], result: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._statement(
            verb,
            st.module_activity(self.definition, module),
            parent=self.course_activity,
            result=result,
        )

    # --- steps ------------------------------------------------------------------------

    def enrolled(self) -> list[str]:
        return st.send([self._statement("registered", self.course_activity)])

    def launched(self, then: dict[str, Any] | None = None) -> list[str]:
        """launched + initialized (course); ``then``: the lesson opened next (experienced).

        Recording the lesson the learner is sent to in the same transaction saves the
        redirected page a write of its own.
        """
        statements = [
            self._statement("launched", self.course_activity),
            self._statement("initialized", self.course_activity),
        ]
        if then is not None:
            statements.append(self._module_statement("experienced", then))
        return st.send(statements)

    def terminated(self) -> list[str]:
        return st.send([self._statement("terminated", self.course_activity)])

    def experienced(self, module: dict[str, Any]) -> list[str]:
        return st.send([self._module_statement("experienced", module)])

    def module_completed(
        self, module: dict[str, Any], then: dict[str, Any] | None = None
    ) -> list[str]:
        """A lesson finished: completed (module), progressed (course), maybe completion;
        ``then``: the lesson opened next (experienced), as in :meth:`launched`."""
        statements = [self._module_statement("completed", module, {"completion": True})]
        statements += self._after_module_done(module["id"])
        if then is not None:
            statements.append(self._module_statement("experienced", then))
        return st.send(statements)

    def _done_modules(self) -> set[str]:
        """Modules done in this registration: lessons completed, quizzes passed.

        Read from the LRS itself rather than from the ledger's derived rows, which can lag
        a moment behind concurrent requests on PostgreSQL (the consumer waits at gaps).
        """
        from lms.xapi.service import registration_activities

        wanted = {st.module_iri(self.definition["slug"], m): m for m in self.definition["modules"]}
        verbs = {st.VERBS["completed"][0]: "lesson", st.VERBS["passed"][0]: "quiz"}
        done: set[str] = set()
        for verb, activity in registration_activities(self.enrollment.registration, verbs):
            module = wanted.get(activity)
            if module is not None and (module["kind"] == "quiz") == (verbs[verb] == "quiz"):
                done.add(module["id"])
        rows = service.module_progress(self.user, self.course)
        for module in self.definition["modules"]:
            if service.module_done(module, rows.get(module["id"])):
                done.add(module["id"])
        return done

    def moved(self) -> list[str]:
        """The learner moved to this version: progressed (course) by this version's rule,
        and completed + terminated when what they have done already meets it."""
        return st.send(self._after_module_done(None))

    def _after_module_done(self, module_id: str | None) -> list[dict[str, Any]]:
        """progressed (course), and completed + terminated when the rule is now met.

        The ledger has not seen this request's statements yet, so the module just done is
        counted here as done.
        """
        done = self._done_modules()
        if module_id is not None:
            done.add(module_id)
        required = service.required_modules(self.definition)
        percent = (
            round(100.0 * sum(1 for m in required if m["id"] in done) / len(required), 1)
            if required
            else 100.0
        )
        statements = [
            self._statement(
                "progressed",
                self.course_activity,
                result={"extensions": {st.PROGRESS_EXTENSION: int(percent)}},
            )
        ]
        already = service.completion_for(self.user, self.course) is not None
        if not already and all(m["id"] in done for m in required):
            seconds = ((self.at or utcnow()) - self.enrollment.enrolled_at).total_seconds()
            statements.append(
                self._statement(
                    "completed",
                    self.course_activity,
                    result={"completion": True, "duration": st.iso_duration(seconds)},
                )
            )
            statements.append(self._statement("terminated", self.course_activity))
        return statements
