"""``lms client ...`` (LRS and API client keys) and ``lms xapi ...`` (consumers)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from lms.db import get_session
from lms.errors import LmsError


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.group("client")
def client_group() -> None:
    """Manage client keys of the LRS (/xapi) and the JSON API (/api/v1)."""


@client_group.command("create")
@click.option("--name", required=True, help="Who the key is for (shown as the authority).")
@click.option("--scopes", required=True,
              help="Comma-separated: statements/write, statements/read, statements/read/mine, "
                   "state, define, profile, all/read, all, api:read, api:write.")
@click.option("--json", "as_json", is_flag=True, help='Print {"key": ..., "secret": ...}.')
@with_appcontext
def client_create_command(name: str, scopes: str, as_json: bool) -> None:
    """Create a client key and print its key and secret (the secret is shown only once)."""
    from lms.xapi import auth

    try:
        credential, secret = auth.create_credential(name, scopes)
    except LmsError as exc:
        _fail(str(exc.message))
    get_session().commit()
    if as_json:
        click.echo(json.dumps({"key": credential.key, "secret": secret}))
        return
    click.echo(f"Client: {credential.name}")
    click.echo(f"Scopes: {', '.join(sorted(credential.scopes))}")
    click.echo(f"Key:    {credential.key}")
    click.echo(f"Secret: {secret}")
    click.echo("Keep the secret now: it is stored hashed and cannot be shown again.")


@client_group.command("list")
@with_appcontext
def client_list_command() -> None:
    """List client keys."""
    from lms.xapi import auth

    for c in auth.list_credentials():
        state = "revoked" if c.revoked else "active"
        click.echo(f"{c.key}  {state:7}  {c.created:%Y-%m-%d}  {c.name}  "
                   f"[{', '.join(sorted(c.scopes))}]")


@client_group.command("revoke")
@click.argument("key")
@with_appcontext
def client_revoke_command(key: str) -> None:
    """Revoke the client key KEY."""
    from lms.xapi import auth

    try:
        credential = auth.revoke_credential(key)
    except LmsError as exc:
        _fail(str(exc.message))
    get_session().commit()
    click.echo(f"Revoked {credential.key} ({credential.name}).")


@click.group("xapi")
def xapi_group() -> None:
    """Statement consumers and statement partitions of the LRS."""


@xapi_group.command("partitions")
@click.option("--ahead", type=click.IntRange(min=0), default=None,
              help="First create the partitions of the current month and the N months "
                   "after it (idempotent; rows of those months waiting in the default "
                   "partitions move in).")
@click.option("--exact", is_flag=True,
              help="Count the rows (slow on big tables) instead of the planner's estimate.")
@with_appcontext
def partitions_command(ahead: int | None, exact: bool) -> None:
    """Show the monthly partitions of the statement tables (PostgreSQL) with their rows
    and sizes; with --ahead N, create the months ahead first."""
    from lms.db import get_engine
    from lms.xapi.partitions import ensure_ahead, is_partitioned, list_partitions

    engine = get_engine()
    with engine.connect() as conn:
        if not is_partitioned(conn):
            click.echo("The statement tables are not partitioned (SQLite, or PostgreSQL "
                       "before migration 0060_xapi_partitions): nothing to do.")
            return
    if ahead is not None:
        with engine.begin() as conn:
            created = ensure_ahead(conn, ahead)
        click.echo(f"Created {len(created)} partition(s)" + (": " + ", ".join(created)
                                                             if created else "."))
    with engine.connect() as conn:
        rows = list_partitions(conn, exact=exact)
    width = max(len(row["partition"]) for row in rows)
    estimate = "" if exact else "~"
    for row in rows:
        bounds = row["bounds"].removeprefix("FOR VALUES ")
        click.echo(f"{row['partition']:{width}}  {estimate}{row['rows']:>12,} rows  "
                   f"{row['bytes'] / 2**20:>10,.1f} MiB  {bounds}")
    for table in sorted({row["table"] for row in rows}):
        mine = [row for row in rows if row["table"] == table]
        click.echo(f"{table}: {len(mine)} partitions, {estimate}"
                   f"{sum(r['rows'] for r in mine):,} rows, "
                   f"{sum(r['bytes'] for r in mine) / 2**20:,.1f} MiB")
    waiting = [row for row in rows if row["partition"].endswith("_default") and row["rows"]]
    for row in waiting:
        click.secho(f"{row['partition']} holds {estimate}{row['rows']:,} rows: create their "
                    "months (--ahead, or they are months past) to move them out.",
                    fg="yellow")


@xapi_group.command("consumers")
@with_appcontext
def consumers_command() -> None:
    """Show each statement consumer's cursor, backlog and last error."""
    from lms.xapi.consumers import consumer_status

    rows = consumer_status()
    if not rows:
        click.echo("No statement consumers are registered.")
    for row in rows:
        error = f"  last error: {row['last_error']}" if row["last_error"] else ""
        click.echo(f"{row['name']}: at {row['last_seq']}, {row['pending']} pending{error}")


@xapi_group.command("run-consumers")
@with_appcontext
def run_consumers_command() -> None:
    """Feed every consumer the statements it has not handled yet."""
    from lms.xapi.consumers import run_consumers

    click.echo(f"Handled {run_consumers()} statement(s).")


@xapi_group.command("replay")
@click.argument("name", required=False)
@with_appcontext
def replay_command(name: str | None) -> None:
    """Reset consumer NAME (default: all) and run it again from the first statement."""
    from sqlalchemy import func, select

    from lms.xapi.consumers import replay
    from lms.xapi.models import Statement

    total = get_session().scalar(select(func.count()).select_from(Statement)) or 0
    try:
        with click.progressbar(length=max(total, 1), label="Replaying") as bar:
            handled = replay(name, progress=bar.update)
    except LmsError as exc:
        _fail(str(exc.message))
    click.echo(f"Replayed {handled} statement(s).")
