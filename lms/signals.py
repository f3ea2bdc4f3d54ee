"""Documented extension points (blinker signals, as Flask uses them).

Each signal says who sends it and with which keyword arguments. Receivers must not commit;
they run inside the sender's transaction unless the docstring says otherwise.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

user_created = _signals.signal("user_created")
"""Sent by ``lms.people.service.create_user`` after the new user is flushed.

Arguments: ``user`` (the :class:`lms.people.models.User`).
"""

employees_imported = _signals.signal("employees_imported")
"""Sent by ``lms.people.importer.apply_import`` after an employee import is flushed.

Arguments: ``result`` (the :class:`lms.people.importer.ImportResult`; its
``created_user_ids`` names the users the import created, who got no ``user_created``).
"""

position_changed = _signals.signal("position_changed")
"""Sent by ``lms.people.service.assign_position`` after a user's current position changed
(moved, placed, or left without a new one), flushed.

Arguments: ``user`` (the :class:`lms.people.models.User`).
"""

course_version_published = _signals.signal("course_version_published")
"""Sent by the courses module when a course version is imported or published.

Arguments: ``course``, a plain dict (no model objects, so receivers need not know the
courses module)::

    {"iri": str, "slug": str, "title": str, "version": int, "jp": float,
     "targets": [{"competency": "M.03", "level": 2}],
     "modules": [{"iri": str, "title": str, "kind": str}],
     "quizzes": [{"iri": str, "title": str,
                  "questions": [{"iri": str, "competency": "M.03" | None}]}]}

Receivers (the competency engine) derive evidence rules and course recommendations from it.
"""
