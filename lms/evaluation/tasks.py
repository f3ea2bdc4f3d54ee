"""The Celery task behind ``lms evaluation remind`` (for the workers' beat schedule)."""

from __future__ import annotations

from lms.tasks import AppTask, celery


@celery.task(name="lms.evaluation.remind", acks_late=True, base=AppTask)
def remind_task() -> dict[str, int]:
    """Open due follow-ups and queue reminders; idempotent, so a repeated run is harmless."""
    from lms.db import get_session
    from lms.evaluation.service import remind

    counts = remind()
    get_session().commit()
    return counts
