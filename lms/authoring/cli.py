"""``lms import-courses`` learns zips: a course package exported from authoring (or any
zip of a course folder) is extracted safely and imported; folders go to the courses
module's command unchanged.

Zips are dispatched by their content: each format registers a detector with
:func:`register_zip_importer` (SCORM: ``imsmanifest.xml`` at the top, lms.packages; an
H5P importer registers the same way); a cmi5 package (a zip with cmi5.xml at its top) or
a bare cmi5.xml (cmi5 §14) becomes a cmi5 course; a zip no detector claims is a course
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

        if _is_cmi5(path):
            code, _sep, level = (competency[0] if competency else "M.01:1").partition(":")
            _import_cmi5(path, check, slug or None, 1.0 if jp is None else jp,
                         topic or "cmi5", code, int(level) if level.isdigit() else 1)
            return
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
