"""Mandatory learning: HR assigns courses, learning programs and offline training to
audiences with due dates, reminders and compliance reports (see docs/assignments.md).

- :mod:`lms.assignments.models`, :mod:`lms.assignments.audience` (who is in an audience),
  :mod:`lms.assignments.service` (members, statuses, compliance, programs),
  :mod:`lms.assignments.ledger` (the ``assignments`` statement consumer),
  :mod:`lms.assignments.remind` (reminders and escalation through the outbox),
  :mod:`lms.assignments.views` (``/assignments``), :mod:`lms.assignments.api`
  (``/api/v1/assignments``), :mod:`lms.assignments.cli` (``lms assignments``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    from lms import signals
    from lms.assignments import (
        api,  # noqa: F401  (adds its routes to the API blueprint)
        models,  # noqa: F401
        tasks,  # noqa: F401  (registers the Celery task)
    )
    from lms.assignments.cli import assignments_group
    from lms.assignments.remind import register
    from lms.assignments.views import assignments_bp, home_panel
    from lms.plugins.registry import HOME_PANELS

    app.register_blueprint(assignments_bp)
    # Program certificates are checked at /verify/<number> like course certificates.
    from lms.assignments.certificates import verify_page
    from lms.courses.views import CERTIFICATE_LOOKUPS

    if verify_page not in CERTIFICATE_LOOKUPS:
        CERTIFICATE_LOOKUPS.append(verify_page)
    from lms.assignments.certificates import exists
    from lms.credentials.badges import OTHER_CERTIFICATES

    if exists not in OTHER_CERTIFICATES:
        OTHER_CERTIFICATES.append(exists)
    app.cli.add_command(assignments_group)
    register()  # its kinds of e-mail (lms.mail)
    # Assigned learning comes first on the learner's home.
    HOME_PANELS.add_function(home_panel, first=True)
    # Dynamic audiences: people who move in get the assignment at once (the nightly
    # ``lms assignments sync`` is the safety net).
    for signal in (signals.user_created, signals.position_changed):
        signal.connect(_person_changed, weak=False)
    signals.employees_imported.connect(_people_imported, weak=False)


def _person_changed(sender: Any, user: Any = None, **kwargs: Any) -> None:
    """One person created or moved: their rows only (cheap at any size)."""
    from lms.assignments.service import sync_person

    if user is not None and getattr(user, "id", None) is not None:
        sync_person(user.id)


def _people_imported(sender: Any, **kwargs: Any) -> None:
    """An import may move thousands: every open assignment in bulk."""
    from lms.assignments.service import sync_open

    sync_open()
