"""``lms evaluation remind``: open due follow-ups and remind supervisors (daily)."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext

from lms.db import get_session


@click.group("evaluation")
def evaluation_group() -> None:
    """Training evaluation."""


@evaluation_group.command("remind")
@click.option("--now", "now_text", default=None, metavar="ISO-TIME",
              help="Act as if it were this time (UTC unless an offset is given); "
                   "for trials and tests.")
@with_appcontext
def remind_command(now_text: str | None) -> None:
    """Open the supervisor follow-ups that are due and e-mail reminders (idempotent)."""
    from lms.evaluation.service import remind

    now = None
    if now_text:
        try:
            now = dt.datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        except ValueError:
            click.secho(f"--now: not an ISO 8601 time: {now_text!r}", fg="red", err=True)
            sys.exit(1)
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
    counts = remind(now)
    get_session().commit()
    click.echo(f"opened {counts['opened']}, without supervisor {counts['no_supervisor']}, "
               f"reminders queued {counts['reminded']}")
