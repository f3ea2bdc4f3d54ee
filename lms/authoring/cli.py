"""``lms import-courses`` learns zips: a course package exported from authoring (or any
zip of a course folder) is extracted safely and imported; folders go to the courses
module's command unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from lms.db import get_session
from lms.errors import LmsError


def wrap_import_courses(app: Flask) -> None:
    """Replace ``import-courses`` by a command taking a folder (as before) or a .zip."""
    original = app.cli.commands.get("import-courses")
    if original is None or getattr(original, "_takes_zips", False):
        return

    @click.command("import-courses", help=(original.help or "") + (
        "\n\nPATH may also be a .zip of one course folder (as exported from authoring); "
        "it is checked (no paths outside the folder, no links, size and file-count "
        "limits) and imported as a new version."))
    @click.argument("path", type=click.Path(exists=True, path_type=Path))
    @click.option("--check", is_flag=True, help="Only validate; import nothing.")
    @click.pass_context
    @with_appcontext
    def import_courses(ctx: click.Context, path: Path, check: bool) -> None:
        if path.is_dir():
            ctx.invoke(original, path=path, check=check)
            return
        from lms.authoring import service

        try:
            with path.open("rb") as handle:
                if check:
                    click.echo(f"{service.check_zip(handle, path.name)}: valid.")
                    return
                authored, version = service.import_zip(handle, None, label=path.name)
        except LmsError as exc:
            get_session().rollback()
            click.secho(f"{path}: {exc.message}", fg="red", err=True)
            for detail in exc.details or []:
                click.secho(f"  {detail}", fg="red", err=True)
            sys.exit(1)
        get_session().commit()
        if version is None:
            click.echo(f"{authored.slug}: unchanged")
        else:
            click.echo(f"{authored.slug}: imported (version {version.number})")

    import_courses._takes_zips = True  # type: ignore[attr-defined]
    app.cli.add_command(import_courses)
