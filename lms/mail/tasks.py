"""The Celery task that sends the outbox (registered on :data:`lms.tasks.celery`)."""

from __future__ import annotations

from lms.tasks import AppTask, celery


@celery.task(name="lms.mail.send", acks_late=True, base=AppTask)
def send_task() -> dict[str, int]:
    """Send every due outbox message; a second delivery of the task is harmless."""
    from lms.mail.service import send_pending

    return send_pending()
