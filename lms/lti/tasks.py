"""The Celery task that sends the LTI score outbox (registered on :data:`lms.tasks.celery`)."""

from __future__ import annotations

from lms.tasks import AppTask, celery


@celery.task(name="lms.lti.send_scores", acks_late=True, base=AppTask)
def send_scores_task() -> dict[str, int]:
    """Send every due score post; a second delivery of the task is harmless."""
    from lms.lti.ags import send_pending

    return send_pending()
