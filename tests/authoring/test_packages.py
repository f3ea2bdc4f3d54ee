"""Course packages: export, import (browser and CLI), round trips, refusals."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lms.authoring import drafts, service
from lms.authoring.models import AuthoredCourse, CourseChange
from lms.courses import service as courses
from lms.courses.format import load_course_folder
from lms.courses.models import Course, CourseVersion
from tests.authoring.conftest import folder_zip, symlink_info, zip_with


def _import_folder(folder: Path) -> Course:
    from flask import current_app

    hosts = current_app.config.get("EMBED_ALLOWED_HOSTS") or []
    loaded = load_course_folder(folder, hosts, label=folder.name)
    return courses.import_course(loaded).course


def test_export_then_import_gives_the_same_course(
        app: Any, db: Any, sample_course: Path, users: dict[str, Any], tmp_path: Path) -> None:
    course = _import_folder(sample_course)
    original = courses.current_version(course).definition
    authored = service.adopt_course(course, users["trainer"])
    data = service.export_zip(authored)
    db.commit()
    # A fresh catalog: remove the course, then import the exported zip.
    db.delete(course)
    db.delete(authored)
    db.commit()
    authored, version = service.import_zip(io.BytesIO(data), users["admin"], label="x.zip")
    db.commit()
    assert version is not None
    assert drafts.comparable(version.definition) == drafts.comparable(original)
    # Exporting again and importing it once more changes nothing.
    again = service.export_zip(authored)
    _authored, second = service.import_zip(io.BytesIO(again), users["admin"])
    assert second is None


def test_import_of_a_changed_course_makes_a_new_version(
        app: Any, db: Any, sample_course: Path, users: dict[str, Any], tmp_path: Path) -> None:
    course = _import_folder(sample_course)
    authored = service.adopt_course(course, users["trainer"])
    folder = drafts.draft_dir(authored.slug)
    meta = drafts.read_course_yaml(folder)
    meta["title"] = "Komunikasi Efektif (revisi)"
    drafts.write_course_yaml(folder, meta)
    data = service.export_zip(authored)
    _authored, version = service.import_zip(io.BytesIO(data), users["trainer"])
    db.commit()
    assert version is not None and version.number == 2
    assert db.scalar(sa.select(Course.title).where(Course.slug == course.slug)) == meta["title"]


def test_a_trainer_of_another_course_cannot_replace_it_by_import(
        app: Any, db: Any, sample_course: Path, users: dict[str, Any]) -> None:
    from lms.errors import Forbidden
    from tests.factories import make_user

    course = _import_folder(sample_course)
    authored = service.adopt_course(course, users["trainer"])
    data = service.export_zip(authored)
    other = make_user(roles=["trainer"])
    db.commit()
    import pytest

    with pytest.raises(Forbidden):
        service.import_zip(io.BytesIO(data), other)


def test_browser_import_refuses_dotdot_paths_and_writes_nothing(
        app: Any, db: Any, client: Any, login_as: Any, sample_course: Path) -> None:
    login_as("trainer")
    data = folder_zip(sample_course, "komunikasi-efektif/")
    course_yaml = (sample_course / "course.yaml").read_bytes()
    evil = zip_with([("komunikasi-efektif/course.yaml", course_yaml),
                     ("../../evil.txt", b"x")])
    response = client.post("/authoring/import", data={"package": (io.BytesIO(evil), "evil.zip")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "../../evil.txt" in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(Course.id))) == 0
    assert db.scalar(sa.select(sa.func.count(AuthoredCourse.id))) == 0
    tmp = Path(app.config["UPLOAD_DIR"]) / "authoring" / "tmp"
    assert not tmp.exists() or not any(tmp.iterdir())
    # A link is refused the same way.
    linked = zip_with([("c/course.yaml", b"x"), (symlink_info("c/x.md"), b"/etc/passwd")])
    response = client.post("/authoring/import", data={"package": (io.BytesIO(linked), "l.zip")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "c/x.md" in response.get_data(as_text=True)
    # And the good one is imported and published.
    response = client.post("/authoring/import", data={"package": (io.BytesIO(data), "ok.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.expire_all()
    assert db.scalar(sa.select(Course.version).where(Course.slug == "komunikasi-efektif")) == 1
    assert db.scalar(sa.select(CourseChange.action).where(CourseChange.action == "imported"))


def test_cli_import_courses_takes_a_zip(
        app: Any, db: Any, runner: Any, sample_course: Path, tmp_path: Path) -> None:
    path = tmp_path / "k.zip"
    path.write_bytes(folder_zip(sample_course, "komunikasi-efektif/"))
    result = runner.invoke(args=["import-courses", "--check", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    result = runner.invoke(args=["import-courses", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported (version 1)" in result.output
    result = runner.invoke(args=["import-courses", str(path)])
    assert "unchanged" in result.output
    bad = tmp_path / "bad.zip"
    bad.write_bytes(zip_with([("../x.txt", b"x")]))
    result = runner.invoke(args=["import-courses", str(bad)])
    assert result.exit_code == 1
    assert "../x.txt" in result.output
    # Folders still go to the courses module's own command.
    result = runner.invoke(args=["import-courses", str(sample_course)])
    assert result.exit_code == 0, result.output
    assert db.scalar(sa.select(sa.func.count(CourseVersion.id))) >= 1


def test_every_sample_course_taken_into_authoring_is_unchanged(
        app: Any, db: Any, users: dict[str, Any]) -> None:
    from lms.config import PROJECT_ROOT
    from lms.courses.format import find_course_folders

    for folder in find_course_folders(PROJECT_ROOT / "courses"):
        course = _import_folder(folder)
        authored = service.adopt_course(course, users["trainer"])
        loaded, errors = service.check_draft(authored)
        assert errors == [], folder.name
        assert not service.draft_changed(authored, loaded), folder.name
