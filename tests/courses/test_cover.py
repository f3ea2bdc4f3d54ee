"""The cover image: checked in course.yaml, shown on catalog cards and the course page."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.courses import service
from lms.courses.format import CourseFormatError, load_course_folder
from lms.db import get_session
from tests.courses.conftest import HOSTS

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 1">'
       b'<rect width="2" height="1"/></svg>')


def _with_cover(course_dir: Path, ref: str, data: bytes | None = None, alt: str = "") -> None:
    if data is not None:
        (course_dir / ref).parent.mkdir(parents=True, exist_ok=True)
        (course_dir / ref).write_bytes(data)
    text = (course_dir / "course.yaml").read_text()
    extra = f"cover: {ref}\n" + (f'cover_alt: "{alt}"\n' if alt else "")
    (course_dir / "course.yaml").write_text(text + extra)


def _errors(course_dir: Path) -> list[str]:
    with pytest.raises(CourseFormatError) as info:
        load_course_folder(course_dir, HOSTS, label="mini-kursus")
    return [str(e) for e in info.value.errors]


def test_a_cover_is_an_asset_of_the_version(app, course_dir):
    _with_cover(course_dir, "gambar/sampul.svg", SVG, alt="Gedung kantor bupati")
    loaded = load_course_folder(course_dir, HOSTS)
    assert loaded.meta["cover"] == "gambar/sampul.svg"
    assert loaded.meta["cover_alt"] == "Gedung kantor bupati"
    assert "gambar/sampul.svg" in loaded.definition["assets"]


def test_no_cover_leaves_the_definition_as_before(app, course_dir):
    loaded = load_course_folder(course_dir, HOSTS)
    assert "cover" not in loaded.meta and "cover_alt" not in loaded.meta


@pytest.mark.parametrize(
    ("ref", "data", "rule"),
    [
        ("gambar/tidak-ada.png", None, "file_exists"),
        ("https://example.org/a.png", None, "cover_file"),
        ("../luar.png", None, "file_exists"),
        ("catatan.pdf", b"%PDF-1.4", "file_type"),
        ("palsu.png", b"<svg onload=alert(1)>", "file_type"),
        ("bukan.svg", b"GIF89a", "file_type"),
        ("besar.png", b"\x89PNG" + b"\0" * (1024 * 1024), "cover_size"),
    ],
)
def test_bad_covers_are_refused_with_file_line_and_rule(app, course_dir, ref, data, rule):
    _with_cover(course_dir, ref, data)
    errors = _errors(course_dir)
    assert len(errors) == 1
    line = (course_dir / "course.yaml").read_text().splitlines().index(f"cover: {ref}") + 1
    assert errors[0].startswith(f"mini-kursus/course.yaml:{line}: cover")
    assert errors[0].endswith(f"[{rule}]")


def test_catalog_and_course_page_show_the_cover(client, login_as, course_dir):
    _with_cover(course_dir, "gambar/sampul.svg", SVG, alt="Gedung kantor bupati")
    outcome = service.import_course(load_course_folder(course_dir, HOSTS))
    get_session().commit()
    assert outcome.course.cover == "gambar/sampul.svg"
    login_as("learner")
    url = "/courses/mini-kursus/files/1/gambar/sampul.svg"
    catalog = client.get("/courses/").get_data(as_text=True)
    assert f'src="{url}"' in catalog
    assert 'alt="Gedung kantor bupati"' in catalog and 'loading="lazy"' in catalog
    page = client.get("/courses/mini-kursus").get_data(as_text=True)
    assert f'src="{url}"' in page and 'alt="Gedung kantor bupati"' in page
    image = client.get(url)
    assert image.status_code == 200 and image.data == SVG
    assert "sandbox" in image.headers["Content-Security-Policy"]
    image.close()


def test_sample_courses_have_small_local_covers(app):
    root = Path(__file__).parents[2] / "courses"
    for folder in sorted(p for p in root.iterdir() if (p / "course.yaml").is_file()):
        loaded = load_course_folder(folder, HOSTS)
        cover = loaded.meta.get("cover")
        assert cover and loaded.meta.get("cover_alt"), folder.name
        assert (folder / cover).stat().st_size < 4096, folder.name
