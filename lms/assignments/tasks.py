"""The Celery task behind ``lms assignments remind`` (for the workers' beat schedule)."""

from __future__ import annotations

from lms.tasks import AppTask, celery


@celery.task(name="lms.assignments.nightly", acks_late=True, base=AppTask)
def nightly_task() -> dict[str, int]:
    """Audiences brought up to date, yearly cycles started, reminders queued; idempotent
    (a stage is never sent twice), so an extra run the same day is harmless."""
    from lms.assignments.remind import remind_all
    from lms.assignments.service import sync_all
    from lms.db import get_session

    totals = sync_all(commit=True)
    totals.update(remind_all())
    get_session().commit()
    return totals
