"""``lms quizzes ...``: close attempts whose time ran out (cron without Celery)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("quizzes")
def quizzes_group() -> None:
    """Quiz attempts."""


@quizzes_group.command("close-expired")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1),
              help="At most this many attempts per run.")
@with_appcontext
def close_expired_command(limit: int) -> None:
    """Close timed attempts whose learner never came back, grading the answers they saved
    before the deadline and storing the statements (run it every few minutes)."""
    from lms.quizzes.expiry import close_due

    click.echo(f"closed {close_due(limit=limit)} expired attempt(s)")
