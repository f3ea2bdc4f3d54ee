"""``lms assignments sync`` and ``lms assignments remind`` (both daily, both idempotent)."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext

from lms.db import get_session


@click.group("assignments")
def assignments_group() -> None:
    """Mandatory learning assigned by HR."""


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        click.secho(f"--on: not an ISO date (YYYY-MM-DD): {text!r}", fg="red", err=True)
        sys.exit(1)


@assignments_group.command("sync")
@click.option("--on", "on_text", default=None, metavar="YYYY-MM-DD",
              help="Act as if it were this day in the Pemda (for trials and tests).")
@with_appcontext
def sync_command(on_text: str | None) -> None:
    """Bring every open assignment's members in line with its audience; start the next
    cycle of yearly ones."""
    from lms.assignments.service import sync_all

    totals = sync_all(_day(on_text), commit=True)
    get_session().commit()
    click.echo(f"assignments {totals['assignments']}, joined {totals['joined']}, "
               f"left {totals['left']}, new cycles {totals['cycles']}")


@assignments_group.command("remind")
@click.option("--on", "on_text", default=None, metavar="YYYY-MM-DD",
              help="Act as if it were this day in the Pemda (for trials and tests).")
@click.option("--no-sync", is_flag=True, help="Do not bring the audiences up to date first.")
@with_appcontext
def remind_command(on_text: str | None, no_sync: bool) -> None:
    """Queue the reminders and escalations due today (never one twice)."""
    from lms.assignments.remind import remind_all
    from lms.assignments.service import sync_all

    on = _day(on_text)
    if not no_sync:
        sync_all(on, commit=True)
    totals = remind_all(on)
    get_session().commit()
    click.echo(f"assignments {totals['assignments']}, reminders queued "
               f"{totals['reminders']}, escalations queued {totals['escalations']}")
