"""``lms import-courses`` learns zips: a course package exported from authoring (or any
zip of a course folder) is extracted safely and imported; a bare ``cmi5.xml`` (cmi5 §14)
becomes a cmi5 course; folders go to the courses module's command unchanged.

Zips are dispatched by their content: each format adds a detector to the
``zip_importers`` registry of lms.plugins.registry (SCORM: ``imsmanifest.xml`` at the top,
lms.packages; a cmi5 or H5P importer adds one the same way); a zip no detector claims is
a course package of the courses/ format.
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
from lms.plugins import registry

#: name -> (detect(member names) -> bool, import(path, options) -> None), in order (the
#: ``zip_importers`` registry: lms.packages adds SCORM). ``import(path, options)`` prints
#: what it did and raises LmsError when the zip is refused; with ``options["check"]`` it
#: only checks the zip and keeps nothing.
ZIP_IMPORTERS = registry.ZIP_IMPORTERS


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
        "limits) and imported as a new version. A SCORM 1.2 / 2004 zip (imsmanifest.xml), "
        "a cmi5 zip (cmi5.xml) or a bare cmi5.xml becomes a course too; --slug, --jp, "
        "--topic and --competency set what the package does not say."))
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

        importer = _cmi5_structure if path.suffix.lower() == ".xml" else _importer_for(path)
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


# --- cmi5 -------------------------------------------------------------------------------


def _cmi5_options(options: dict[str, Any], title: str) -> dict[str, Any]:
    from lms.authoring.cmi5 import slug_for

    code, level = "M.01", 1
    if options.get("competency"):
        first, _sep, lvl = str(options["competency"][0]).partition(":")
        code, level = first.strip().upper() or code, int(lvl) if lvl.strip().isdigit() else 1
    return {"slug": options.get("slug") or slug_for(title), "jp": options.get("jp") or 1.0,
            "topic": options.get("topic") or "cmi5", "competency": code, "level": level}


def _cmi5_zip(path: Path, options: dict[str, Any]) -> None:
    """A cmi5 package (cmi5.xml at the top of the zip): checked as cmi5 §13–14 require and
    imported as a cmi5 course (lms.authoring.cmi5)."""
    from lms.authoring import cmi5

    with zipfile.ZipFile(path) as archive:
        structure = cmi5.parse_course_structure(archive.read("cmi5.xml"))
    if options.get("check"):
        click.echo(f"{path}: valid ({len(structure['aus'])} AU).")
        return
    o = _cmi5_options(options, structure["title"])
    with path.open("rb") as handle:
        authored = cmi5.import_package(handle, None, o["slug"], o["jp"], o["topic"],
                                       o["competency"], o["level"])
    click.echo(f"{authored.slug}: cmi5 course imported ({len(structure['aus'])} AU)")


def _cmi5_structure(path: Path, options: dict[str, Any]) -> None:
    """A bare cmi5.xml (cmi5 §14.2: every AU at an absolute url)."""
    from lms.authoring import cmi5

    xml = path.read_bytes()
    structure = cmi5.parse_course_structure(xml, in_package=False)
    if options.get("check"):
        click.echo(f"{path}: valid ({len(structure['aus'])} AU).")
        return
    o = _cmi5_options(options, structure["title"])
    authored = cmi5.import_structure(xml, None, o["slug"], o["jp"], o["topic"],
                                     o["competency"], o["level"])
    click.echo(f"{authored.slug}: cmi5 course imported ({len(structure['aus'])} AU)")


def register_cmi5() -> None:
    from lms.authoring.cmi5 import is_package

    ZIP_IMPORTERS.add("cmi5", (is_package, _cmi5_zip))
