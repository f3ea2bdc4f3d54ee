"""cmi5 course structures as cmi5 §13–14 require: what is refused (and why, in Bahasa
Indonesia), ``lms import-courses`` with a cmi5 zip and a bare cmi5.xml, and the course
page of an imported package (block titles, AU titles, the package's language)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lms.authoring import cmi5
from lms.courses.models import Course
from lms.errors import ValidationError
from tests.authoring.conftest import AU_HTML, AU_JS

NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
C = "https://example.org/cmi5/k"


def _text(tag: str, text: str, lang: str = "en-US") -> str:
    return f'<{tag}><langstring lang="{lang}">{text}</langstring></{tag}>'


def _au(au_id: str, url: str = "au/index.html", title: str = "Unit", extra: str = "") -> str:
    return (f'<au id="{au_id}" moveOn="Completed">{_text("title", title)}'
            f'{_text("description", "d")}{extra}<url>{url}</url></au>')


def _structure(body: str, objectives: str = "", course_id: str = C,
               description: str = "A short course.") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><courseStructure xmlns="{NS}">'
            f'<course id="{course_id}">{_text("title", "Geology")}'
            f'{_text("description", description)}</course>{objectives}{body}'
            '</courseStructure>').encode()


def _block(block_id: str, inner: str, title: str = "Part") -> str:
    return (f'<block id="{block_id}">{_text("title", title)}{_text("description", "b")}'
            f'{inner}</block>')


def _objective(oid: str) -> str:
    return f'<objective id="{oid}">{_text("title", "o")}{_text("description", "o")}</objective>'


BAD = {
    "duplicate block": (_structure(_block(C + "/b", _au(C + "/1"))
                                   + _block(C + "/b", _au(C + "/2"))), "dua kali"),
    "duplicate au": (_structure(_au(C + "/1") + _au(C + "/1")), "dua kali"),
    "duplicate objective": (_structure(
        _au(C + "/1"), objectives=f"<objectives>{_objective(C + '/o')}{_objective(C + '/o')}"
                                  "</objectives>"), "dua kali"),
    "relative course id": (_structure(_au(C + "/1"), course_id="example.org/k"), "IRI"),
    "url with a space": (_structure(_au(C + "/1", url="http://example.org a.html")), "spasi"),
    "url with endpoint": (_structure(_au(C + "/1", url="au/index.html?endpoint=http://x.org/")),
                          "endpoint"),
    "url with fetch and actor": (_structure(_au(C + "/1", url="au/index.html?fetch=1&amp;actor=2")),
                                 "fetch, actor"),
    "not a web url": (_structure(_au(C + "/1", url="file:///etc/passwd")), "http"),
    "schema": (_structure(f'<au id="{C}/1"><url>a.html</url>{_text("title", "t")}'
                          f'{_text("description", "d")}</au>'), "baris"),
    "unknown objective": (_structure(_au(C + "/1", extra='<objectives><objective idref="'
                                     + C + '/nope"/></objectives>')), "tujuan"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_broken_course_structure_is_refused_in_indonesian(app: Any, case: str) -> None:
    xml, needle = BAD[case]
    with app.test_request_context(), pytest.raises(ValidationError) as caught:
        cmi5.parse_course_structure(xml)
    with app.test_request_context():
        text = " ".join([str(caught.value.message), *map(str, caught.value.details or [])])
    assert "tidak" in text  # the refusal is in Bahasa Indonesia
    assert needle in text, text


def test_a_bare_cmi5_xml_may_only_point_at_absolute_urls(app: Any) -> None:
    with app.test_request_context():
        assert cmi5.parse_course_structure(_structure(_au(C + "/1", url="au/index.html")))
        with pytest.raises(ValidationError) as caught:
            cmi5.parse_course_structure(_structure(_au(C + "/1", url="au/index.html")),
                                        in_package=False)
        assert "14.2" in str(caught.value.details)
        structure = cmi5.parse_course_structure(
            _structure(_au(C + "/1", url="https://content.example.org/au/?x=1")),
            in_package=False)
        assert structure["language"] == "en-US"


def _zip(xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cmi5.xml", xml)
        archive.writestr("au/index.html", AU_HTML)
        archive.writestr("au/au.js", AU_JS)
    return buffer.getvalue()


MULTI = _structure(
    _block(C + "/b1", _au(C + "/1", title="Rocks") + _au(C + "/2", url="au/index.html?p=2",
                                                          title="Minerals"), title="Materials")
    + _au(C + "/3", url="au/index.html?p=3", title="Plate tectonics"),
    description="This course introduces geology.")


def test_import_courses_takes_a_cmi5_zip_and_a_bare_cmi5_xml(
        app: Any, db: Any, runner: Any, tmp_path: Path) -> None:
    package = tmp_path / "geology.zip"
    package.write_bytes(_zip(MULTI))
    result = runner.invoke(args=["import-courses", "--check", str(package)])
    assert result.exit_code == 0 and "valid (3 AU)" in result.output, result.output
    result = runner.invoke(args=["import-courses", "--jp", "2", str(package)])
    assert result.exit_code == 0, result.output
    assert "geology: cmi5 course imported (3 AU)" in result.output
    course = db.scalar(sa.select(Course).where(Course.slug == "geology"))
    assert course is not None and course.published

    bare = tmp_path / "cmi5.xml"
    bare.write_bytes(_structure(_au(C + "/x1", url="https://content.example.org/x/")
                                .replace(C + "/x1", "https://example.org/cmi5/remote/1"),
                                course_id="https://example.org/cmi5/remote"))
    result = runner.invoke(args=["import-courses", "--slug", "remote-cmi5", str(bare)])
    assert result.exit_code == 0, result.output
    assert db.scalar(sa.select(Course).where(Course.slug == "remote-cmi5")) is not None

    # A broken one: every problem listed, in Bahasa Indonesia, and nothing left behind.
    broken = tmp_path / "broken.zip"
    broken.write_bytes(_zip(_structure(_au(C + "/9") + _au(C + "/9", url="a b.html"))))
    folders = set(cmi5.packages_root().iterdir())
    result = runner.invoke(args=["import-courses", str(broken)])
    assert result.exit_code == 1
    assert "dua kali" in result.output and "spasi" in result.output
    assert set(cmi5.packages_root().iterdir()) == folders
    missing = tmp_path / "missing.zip"
    missing.write_bytes(_zip(_structure(_au(C + "/m", url="lost/index.html"))))
    result = runner.invoke(args=["import-courses", str(missing)])
    assert result.exit_code == 1 and "lost/index.html" in result.output
    assert set(cmi5.packages_root().iterdir()) == folders


def test_the_course_page_of_a_cmi5_package(
        app: Any, db: Any, client: Any, runner: Any, login_as: Any, tmp_path: Path) -> None:
    package = tmp_path / "geology.zip"
    package.write_bytes(_zip(MULTI))
    assert runner.invoke(args=["import-courses", str(package)]).exit_code == 0
    login_as("learner")
    page = client.get("/courses/geology").get_data(as_text=True)
    assert page.count("This course introduces geology.") == 1
    for title in ("Rocks", "Minerals", "Plate tectonics"):  # the AUs' own titles
        assert f"\n          {title}\n" in page
    assert '<h3 class="h6 mt-3 mb-2 module-section">Materials</h3>' in page
    assert "Pelajaran" not in page and "Aktivitas e-learning (cmi5)" in page
    assert "Inggris (Amerika Serikat)" in page and "Bahasa Indonesia</dd>" not in page
