"""``lms forwarding ...``: targets, sources, delivery and pulling from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from lms.db import get_session
from lms.errors import LmsError


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.group("forwarding")
def forwarding_group() -> None:
    """Forward statements to other LRSs and pull statements from them."""


def _lrs_options(f: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
        click.option("--name", required=True, help="A name for this LRS."),
        click.option("--endpoint", required=True, help="xAPI base URL, e.g. https://h/xapi/"),
        click.option("--key", "username", required=True, help="Basic auth user name."),
        click.option("--secret", "password", required=True, help="Basic auth password."),
        click.option("--xapi-version", "version", default="1.0.3", show_default=True,
                     type=click.Choice(["1.0.3", "2.0.0"])),
    ]):
        f = option(f)
    return f


@forwarding_group.command("add-target")
@_lrs_options
@click.option("--verb", "verbs", multiple=True, help="Only this verb IRI (repeat for more).")
@click.option("--activity-prefix", "prefixes", multiple=True,
              help="Only objects whose id starts with this (repeat for more).")
@click.option("--from-start", is_flag=True, help="Also send every statement stored so far.")
@with_appcontext
def add_target_command(name: str, endpoint: str, username: str, password: str, version: str,
                       verbs: tuple[str, ...], prefixes: tuple[str, ...],
                       from_start: bool) -> None:
    """Forward statements to another LRS."""
    from lms.forwarding import service

    try:
        target = service.create_target(name, endpoint, username, password, version=version,
                                       verbs=verbs, activity_prefixes=prefixes,
                                       from_start=from_start)
    except LmsError as exc:
        _fail(str(exc.message))
    get_session().commit()
    click.echo(f"Target {target.id} ({target.name}) starts after statement {target.last_seq}.")


@forwarding_group.command("add-source")
@_lrs_options
@click.option("--since", help="Only statements stored after this time (ISO 8601).")
@click.option("--every", "interval", default=300, show_default=True, type=int,
              help="Pull every this many seconds (on the workers' schedule).")
@with_appcontext
def add_source_command(name: str, endpoint: str, username: str, password: str, version: str,
                       since: str | None, interval: int) -> None:
    """Pull statements from another LRS on a schedule."""
    from lms.forwarding import service

    try:
        source = service.create_source(name, endpoint, username, password, version=version,
                                       since=since, interval_seconds=interval)
    except LmsError as exc:
        _fail(str(exc.message))
    get_session().commit()
    click.echo(f"Source {source.id} ({source.name}) added.")


@forwarding_group.command("status")
@with_appcontext
def status_command() -> None:
    """Targets (sent, waiting, errors), sources and the dead-letter count."""
    import sqlalchemy as sa

    from lms.forwarding import service
    from lms.forwarding.models import DeadLetter

    for t in service.list_targets():
        state = "paused" if not t.enabled else ("retrying" if t.last_error else "ok")
        click.echo(f"target {t.id} {t.name}: {state}, sent {t.delivered}, at {t.last_seq}, "
                   f"{service.backlog(t)} waiting"
                   + (f", last error: {t.last_error}" if t.last_error else ""))
    for s in service.list_sources():
        click.echo(f"source {s.id} {s.name}: pulled {s.pulled}, since {s.since or '-'}"
                   + (f", last error: {s.last_error}" if s.last_error else ""))
    count = get_session().scalar(sa.select(sa.func.count()).select_from(DeadLetter))
    click.echo(f"{count} dead letter(s).")


@forwarding_group.command("deliver")
@with_appcontext
def deliver_command() -> None:
    """Send every target what it has not received (ignores nothing but leases)."""
    from lms.forwarding.service import deliver_all

    click.echo(f"Sent {deliver_all()} statement(s).")


@forwarding_group.command("pull")
@click.option("--force", is_flag=True, help="Also sources whose next run is not due.")
@with_appcontext
def pull_command(force: bool) -> None:
    """Pull from every source that is due (run it from cron without a worker)."""
    from lms.forwarding.service import pull_all

    click.echo(f"Stored {pull_all(force=force)} new statement(s).")


@forwarding_group.command("reencrypt")
@with_appcontext
def reencrypt_command() -> None:
    """Encrypt the stored LRS passwords again with the first key of LMS_FORWARDING_KEY
    (after adding a new key in front; then the old key may go)."""
    from lms.forwarding.secrets import SecretError
    from lms.forwarding.service import reencrypt_passwords

    try:
        count = reencrypt_passwords()
    except SecretError as exc:
        get_session().rollback()
        _fail(str(exc))
        return
    get_session().commit()
    click.echo(f"{count} password(s) encrypted with the current key.")
