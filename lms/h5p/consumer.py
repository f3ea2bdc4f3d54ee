"""The H5P statement consumer: an H5P module is done when its content says so.

Statements an H5P module sends are written with its launch credential, so they carry
the launch's authority (:func:`lms.xapi.launch.origin_of`) naming the module's activity
(``urn:lentera:h5p:<slug>:<module id>``). A statement of that launch about the activity
itself that completes it — ``completed`` or ``passed``, or any verb with
``result.completion: true`` (H5P question types send ``answered`` so) — completes the
module for the learner of the registration, with the same statements a lesson marked
done stores (module completed, course progressed, the course's completion when its rule
is met). Statements about anything else, or written without that launch, change nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.db import get_session
from lms.xapi.consumers import StatementConsumer, StoredStatement
from lms.xapi.validation.verbs import VOIDED

ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETING_VERBS = frozenset({ADL + "completed", ADL + "passed"})


def completes(data: dict[str, Any]) -> bool:
    """Whether an H5P statement reports the activity completed."""
    verb = (data.get("verb") or {}).get("id", "")
    result = data.get("result")
    if not isinstance(result, dict):
        result = {}
    return verb in COMPLETING_VERBS or result.get("completion") is True


class H5PConsumer(StatementConsumer):
    name = "h5p"
    shares_statements = True  # reads statements, never changes them

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        """The statements about an H5P module's activity (read from the indexed activity
        column: nothing parsed), and the voiding statements; :meth:`handle` acts only on
        a statement whose object is the H5P activity it was launched for."""
        from lms.h5p.views import parse_activity_iri

        return [s for s in statements if s.verb_id == VOIDED or (
            s.activity_id is not None and parse_activity_iri(s.activity_id) is not None)]

    def handle(self, statement: StoredStatement) -> None:
        from lms.h5p.views import parse_activity_iri
        from lms.xapi.launch import origin_of

        data = statement.data
        origin = origin_of(data)
        if origin is None:
            return
        parsed = parse_activity_iri(origin.activity_id)
        obj = data.get("object") or {}
        if parsed is None or obj.get("objectType", "Activity") != "Activity" or \
                obj.get("id") != origin.activity_id or not completes(data):
            return
        registration = ((data.get("context") or {}).get("registration") or "").lower()
        if not registration:
            return
        from lms.courses import service as courses
        from lms.courses.journey import Journey
        from lms.courses.models import Course, Enrollment
        from lms.people.models import User

        session = get_session()
        enrollment = session.scalar(sa.select(Enrollment)
                                    .where(Enrollment.registration == registration))
        if enrollment is None:
            return
        course = session.get(Course, enrollment.course_id)
        user = session.get(User, enrollment.user_id)
        slug, module_id = parsed
        if course is None or user is None or course.slug != slug:
            return  # a launch of another course cannot complete this one
        version = courses.pinned_version(enrollment)
        definition = courses.definition_of(version)
        module = next((m for m in definition["modules"]
                       if m["id"] == module_id and m["kind"] == "h5p"), None)
        if module is None:
            return
        journey = Journey(user, course, version, enrollment)
        if module_id in journey._done_modules():
            return
        journey.module_completed(module)
