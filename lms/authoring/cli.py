"""``lms import-courses`` learns zips: a course package exported from authoring (or any
zip of a course folder) is extracted safely and imported; a cmi5 package (a zip with
cmi5.xml at its top) or a bare cmi5.xml (cmi5 §14) becomes a cmi5 course; folders go to
the courses module's command unchanged."""

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
    @click.option("--slug", default=None,
                  help="cmi5: the course's slug (default: from the package's title).")
    @click.option("--jp", type=float, default=1.0, show_default=True,
                  help="cmi5: learning hours (JP) the course credits.")
    @click.option("--topic", default="cmi5", show_default=True, help="cmi5: catalog topic.")
    @click.option("--competency", default="M.01", show_default=True,
                  help="cmi5: competency code the course develops.")
    @click.option("--level", type=int, default=1, show_default=True,
                  help="cmi5: level of that competency.")
    @click.pass_context
    @with_appcontext
    def import_courses(ctx: click.Context, path: Path, check: bool, slug: str | None,
                       jp: float, topic: str, competency: str, level: int) -> None:
        if path.is_dir():
            ctx.invoke(original, path=path, check=check)
            return
        from lms.authoring import service

        if _is_cmi5(path):
            _import_cmi5(path, check, slug, jp, topic, competency, level)
            return
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


def _is_cmi5(path: Path) -> bool:
    """A bare cmi5.xml (any .xml file), or a zip with cmi5.xml at its top."""
    if path.suffix.lower() == ".xml":
        return True
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            from lms.authoring.cmi5 import is_package

            return is_package(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _import_cmi5(path: Path, check: bool, slug: str | None, jp: float, topic: str,
                 competency: str, level: int) -> None:
    """Import a cmi5 zip or a bare cmi5.xml; every refusal is printed, nothing is left
    behind (the package folder is removed, the transaction rolled back)."""
    import zipfile

    from lms.authoring import cmi5

    try:
        if path.suffix.lower() == ".xml":
            xml = path.read_bytes()
            structure = cmi5.parse_course_structure(xml, in_package=False)
        else:
            with zipfile.ZipFile(path) as archive:
                xml = archive.read("cmi5.xml")
            structure = cmi5.parse_course_structure(xml)
        target = slug or cmi5.slug_for(structure["title"])
        if check:
            click.echo(f"{path}: valid ({len(structure['aus'])} AU).")
            return
        if path.suffix.lower() == ".xml":
            authored = cmi5.import_structure(xml, None, target, jp, topic,
                                             competency.upper(), level)
        else:
            with path.open("rb") as handle:
                authored = cmi5.import_package(handle, None, target, jp, topic,
                                               competency.upper(), level)
    except (LmsError, KeyError, zipfile.BadZipFile) as exc:
        get_session().rollback()
        message = exc.message if isinstance(exc, LmsError) else str(exc)
        click.secho(f"{path}: {message}", fg="red", err=True)
        for detail in (exc.details if isinstance(exc, LmsError) else None) or []:
            click.secho(f"  {detail}", fg="red", err=True)
        sys.exit(1)
    get_session().commit()
    click.echo(f"{authored.slug}: cmi5 course imported ({len(structure['aus'])} AU)")
