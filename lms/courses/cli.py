"""``lms import-courses PATH`` and ``lms course-schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.courses.format import (
    CourseFormatError,
    find_course_folders,
    json_schema,
    load_course_folder,
)
from lms.db import get_session


@click.command("import-courses")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only validate; import nothing.")
@with_appcontext
def import_courses_command(path: Path, check: bool) -> None:
    """Validate and import the course folder(s) at PATH (a course, or a folder of courses).

    Importing again creates a new version only when a course changed; learners' records
    are kept. Any error (named with file, line and rule) stops the whole import.
    """
    from lms.courses import service

    folders = find_course_folders(path)
    if not folders:
        click.secho(f"{path}: no course.yaml here or in its sub-folders", fg="red", err=True)
        sys.exit(1)
    loaded, failed, errors = [], 0, []
    with click.progressbar(folders, label="Checking", file=sys.stderr) as bar:
        for folder in bar:
            try:
                loaded.append(
                    load_course_folder(
                        folder, current_app.config.get("EMBED_ALLOWED_HOSTS"), label=str(folder)
                    )
                )
            except CourseFormatError as exc:
                failed += 1
                errors.extend(exc.errors)
    for error in errors:
        click.secho(str(error), fg="red", err=True)
    if failed:
        click.secho(f"{failed} course(s) with errors; nothing was imported.", fg="red", err=True)
        sys.exit(1)
    if check:
        click.echo(f"{len(loaded)} course(s) are valid.")
        return
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for course in loaded:
        outcome = service.import_course(course, source=str(course.root))
        counts[outcome.status] += 1
        click.echo(f"{course.slug}: {outcome.status} (version {outcome.version.number})")
    get_session().commit()
    click.echo(
        f"Courses: {counts['created']} new, {counts['updated']} new versions, "
        f"{counts['unchanged']} unchanged."
    )


@click.command("course-schema")
def course_schema_command() -> None:
    """Print the JSON Schema of the courses/ format."""
    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
