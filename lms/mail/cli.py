"""``lms mail ...``: send the outbox from the command line (cron or a loop)."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import with_appcontext

from lms.db import get_session


@click.group("mail")
def mail_group() -> None:
    """The e-mail outbox."""


@mail_group.command("send")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1),
              help="At most this many messages per run.")
@click.option("--loop", "period", default=0, type=click.IntRange(0),
              help="Keep running, sending every PERIOD seconds (0: once).")
@with_appcontext
def send_command(limit: int, period: int) -> None:
    """Send the queued e-mail that is due; failures are retried with a growing delay."""
    from lms.mail.service import send_pending

    while True:
        counts = send_pending(limit=limit)
        click.echo(f"sent {counts['sent']}, to retry {counts['retry']}, "
                   f"failed {counts['failed']}")
        get_session().close()
        if not period:
            break
        time.sleep(period)
    if counts["failed"] and not period:
        sys.exit(2)


@mail_group.command("test")
@click.argument("address")
@with_appcontext
def test_command(address: str) -> None:
    """Queue a test message to ADDRESS and send the outbox."""
    from lms.errors import LmsError
    from lms.mail.service import queue_mail, send_pending

    try:
        queue_mail(address, "Lentera: test message",
                   "This is a test message from Lentera.", category="test")
    except LmsError as exc:
        click.secho(str(exc.message), fg="red", err=True)
        sys.exit(1)
    get_session().commit()
    counts = send_pending()
    click.echo(f"sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}")


@mail_group.command("purge")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1),
              help="Delete sent messages older than this many days.")
@with_appcontext
def purge_command(days: int) -> None:
    """Delete old sent messages (failed ones stay until an administrator retries them)."""
    import datetime as dt

    import sqlalchemy as sa

    from lms.db import utcnow
    from lms.mail.models import SENT, OutboxMessage

    session = get_session()
    deleted = session.execute(sa.delete(OutboxMessage).where(
        OutboxMessage.status == SENT,
        OutboxMessage.created < utcnow() - dt.timedelta(days=days))).rowcount  # type: ignore[attr-defined]
    session.commit()
    click.echo(f"deleted {deleted} sent messages")
