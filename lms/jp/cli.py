"""``lms jp ...``: SIASN secrets and pushes from the command line (or a scheduler)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

jp_cli = AppGroup("jp", help="JP: SIASN secrets and pushes.")


@jp_cli.command("siasn-encrypt")
@click.option("--value", prompt=True, hide_input=True, help="The secret to encrypt.")
def siasn_encrypt(value: str) -> None:
    """Print the encrypted form of a SIASN secret, for LMS_SIASN_CONSUMER_SECRET or
    LMS_SIASN_SSO_PASSWORD."""
    from lms.jp.siasn import encrypt_secret

    click.echo(encrypt_secret(value))


@jp_cli.command("siasn-push")
@click.option("--year", type=int, default=None, help="Only records of this year.")
def siasn_push(year: int | None) -> None:
    """Send verified records not yet in SIASN (every employee), each exactly once."""
    from lms.jp.siasn import SiasnClient, push
    from lms.reports.scope import EVERYONE

    result = push(EVERYONE, SiasnClient(), year)
    click.echo(f"sent {result.sent}, found {result.found}, documents {result.uploaded}, "
               f"skipped {result.skipped}, deleted {result.deleted}, failed {result.failed}")
    if result.failed:
        raise SystemExit(1)
