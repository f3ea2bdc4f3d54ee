"""``lms credentials ...``: badges and CASE packages from the command line."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from lms.db import get_session

credentials_cli = AppGroup("credentials", help="Open Badges 3.0 credentials and CASE packages.")


@credentials_cli.command("badge")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="the credential as JSON instead of the JWT")
def badge_command(number: str, as_json: bool) -> None:
    """Print the signed badge (VC-JWT) of certificate NUMBER."""
    from lms.credentials import badges

    completion = badges.completion_of(number)
    if completion is None:
        raise click.ClickException(f"no certificate {number}")
    credential, token = badges.badge_for(completion)
    get_session().commit()
    click.echo(json.dumps(credential, ensure_ascii=False, indent=2) if as_json else token)


@credentials_cli.command("verify")
@click.argument("file", type=click.File("r"), default="-")
def verify_command(file: object) -> None:
    """Check a badge (.jwt) against this platform's key."""
    from lms.credentials import badges

    token = file.read().strip()  # type: ignore[attr-defined]
    try:
        payload = badges.verify(token)
    except badges.BadgeError as exc:
        click.echo(f"not valid: {exc}", err=True)
        sys.exit(1)
    achievement = payload.get("credentialSubject", {}).get("achievement", {})
    click.echo(f"valid: {achievement.get('name')} ({payload.get('id')})")


@credentials_cli.command("case-export")
@click.argument("code")
def case_export_command(code: str) -> None:
    """Print framework CODE as a CASE 1.0 package (JSON)."""
    from lms.competency import service
    from lms.credentials import case

    click.echo(
        json.dumps(case.export_package(service.get_framework(code)), indent=2, ensure_ascii=False)
    )


@credentials_cli.command("case-import")
@click.argument("file", type=click.File("rb"))
def case_import_command(file: object) -> None:
    """Import a CASE 1.0 package (JSON) as a framework; nothing is written on an error."""
    from lms.credentials import case
    from lms.errors import LmsError

    try:
        package = json.loads(file.read().decode("utf-8-sig"))  # type: ignore[attr-defined]
        framework, created, updated = case.import_package(package)
    except (ValueError, LmsError) as exc:
        get_session().rollback()
        raise click.ClickException(f"nothing imported: {getattr(exc, 'message', exc)}") from None
    get_session().commit()
    click.echo(f"{framework.code}: {created} new, {updated} updated competencies")
