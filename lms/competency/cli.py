"""``lms profiles ...`` and ``lms framework ...`` commands (thin over the services)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from lms.db import get_session
from lms.errors import LmsError


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.group("profiles")
def profiles_group() -> None:
    """Competency profiles derived from xAPI statements."""


@profiles_group.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Delete every derived profile and replay all statements through the engine."""
    from lms.competency.service import rebuild_profiles
    from lms.xapi.models import Statement

    total = get_session().scalar(sa.select(sa.func.count()).select_from(Statement)) or 0
    get_session().rollback()
    with click.progressbar(length=total, label="Replaying statements") as bar:
        handled = rebuild_profiles(progress=bar.update)
        bar.update(max(0, (bar.length or 0) - bar.pos))
    click.echo(f"Profiles rebuilt from {handled} statements.")


@profiles_group.command("dump")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@with_appcontext
def dump_command(output: Path | None) -> None:
    """Print every profile and its evidence as canonical JSON (to compare runs)."""
    from lms.competency.service import profile_dump

    text = profile_dump()
    if output:
        output.write_text(text + "\n", "utf-8")
    else:
        click.echo(text)


@profiles_group.command("apply-defaults")
@click.option("--overwrite", is_flag=True, help="Also replace standards set already.")
@with_appcontext
def apply_defaults_command(overwrite: bool) -> None:
    """Give positions the default competency standard of their kind."""
    from lms.competency.service import apply_default_standards

    changed = apply_default_standards(overwrite=overwrite)
    get_session().commit()
    click.echo(f"Default standards applied to {changed} positions.")


@click.group("framework")
def framework_group() -> None:
    """Competency frameworks (dictionaries)."""


@framework_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file: Path) -> None:
    """Import or update a framework from a JSON or CSV file."""
    from lms.competency import service

    try:
        text = file.read_text("utf-8-sig")
        data = service.framework_from_csv(text) if file.suffix.lower() == ".csv" \
            else json.loads(text)
        framework, created, updated = service.import_framework(data)
    except (LmsError, ValueError) as exc:
        _fail(f"{file}: {getattr(exc, 'message', exc)}")
    get_session().commit()
    click.echo(f"Framework {framework.code}: {created} new, {updated} updated competencies.")


@framework_group.command("export")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@with_appcontext
def export_command(code: str, fmt: str) -> None:
    """Print a framework as JSON or CSV."""
    from lms.competency import service

    try:
        framework = service.get_framework(code)
    except LmsError as exc:
        _fail(str(exc.message))
    if fmt == "csv":
        click.echo(service.framework_csv(framework), nl=False)
    else:
        click.echo(json.dumps(service.export_framework(framework), ensure_ascii=False,
                              indent=2))
