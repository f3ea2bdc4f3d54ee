"""The Celery task that closes quiz attempts whose time ran out (lms.quizzes.expiry)."""

from __future__ import annotations

from lms.tasks import AppTask, celery


@celery.task(name="lms.quizzes.close_expired", acks_late=True, base=AppTask)
def close_expired_task() -> int:
    """Close every due attempt with its saved answers; running it twice is harmless."""
    from lms.quizzes.expiry import close_due

    return close_due()
