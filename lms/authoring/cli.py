"""``lms import-courses`` learns zips: a course package exported from authoring (or any
zip of a course folder) is extracted safely and imported; folders go to the courses
module's command unchanged.

Zips are dispatched by their content: each format registers a detector with
:func:`register_zip_importer` (SCORM: ``imsmanifest.xml`` at the top, lms.packages; a
cmi5 or H5P importer registers the same way); a zip no detector claims is a course
package of the courses/ format.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from lms.db import get_session
from lms.errors import LmsError

#: name -> (detect(member names) -> bool, import(path, options) -> None), in order.
ZIP_IMPORTERS: dict[str, tuple[Callable[[list[str]], bool],
                               Callable[[Path, dict[str, Any]], Any]]] = {}


def register_zip_importer(name: str, detect: Callable[[list[str]], bool],
                          run: Callable[[Path, dict[str, Any]], Any]) -> None:
    """Let ``lms import-courses FILE.zip`` import zips ``detect`` recognises with ``run``
    (which prints what it did and raises LmsError when the zip is refused; with
    ``options["check"]`` it only checks the zip and keeps nothing)."""
    ZIP_IMPORTERS[name] = (detect, run)


def _importer_for(path: Path) -> Callable[[Path, dict[str, Any]], Any] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return None  # the course-package importer explains what is wrong
    for detect, run in ZIP_IMPORTERS.values():
        if detect(names):
            return run
    return None


def wrap_import_courses(app: Flask) -> None:
    """Replace ``import-courses`` by a command taking a folder (as before) or a .zip."""
    original = app.cli.commands.get("import-courses")
    if original is None or getattr(original, "_takes_zips", False):
        return

    @click.command("import-courses", help=(original.help or "") + (
        "\n\nPATH may also be a .zip of one course folder (as exported from authoring); "
        "it is checked (no paths outside the folder, no links, size and file-count "
        "limits) and imported as a new version. A SCORM 1.2 / 2004 zip (imsmanifest.xml) "
        "becomes a course too; --slug, --jp, --topic and --competency set what the "
        "package does not say."))
    @click.argument("path", type=click.Path(exists=True, path_type=Path))
    @click.option("--check", is_flag=True, help="Only validate; import nothing.")
    @click.option("--slug", default="", help="Course short name for a package "
                  "(default: from the file name).")
    @click.option("--title", default="", help="Course title for a package "
                  "(default: the package's).")
    @click.option("--jp", type=float, default=None, help="Learning hours (JP) for a package.")
    @click.option("--topic", default="", help="Topic for a package.")
    @click.option("--competency", multiple=True, help="CODE:LEVEL target for a package "
                  "(repeatable; default M.01:1).")
    @click.pass_context
    @with_appcontext
    def import_courses(ctx: click.Context, path: Path, check: bool, slug: str, title: str,
                       jp: float | None, topic: str, competency: tuple[str, ...]) -> None:
        if path.is_dir():
            ctx.invoke(original, path=path, check=check)
            return
        from lms.authoring import service

        importer = _importer_for(path)
        try:
            if importer is not None:
                importer(path, {"slug": slug, "title": title, "jp": jp, "topic": topic,
                                "competency": competency, "check": check})
                if check:
                    get_session().rollback()
                else:
                    get_session().commit()
                return
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
