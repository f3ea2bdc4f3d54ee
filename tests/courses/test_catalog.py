"""Catalog filters: the level filter next to topic, competency and length."""

from __future__ import annotations

from lms.courses import service
from lms.courses.format import load_course_folder
from lms.db import get_session
from tests.courses.conftest import HOSTS


def test_level_filter(client, login_as, course, course_dir, tmp_path):
    # A second course at another level.
    other = tmp_path / "kursus-lanjut"
    other.mkdir()
    for f in course_dir.iterdir():
        (other / f.name).write_bytes(f.read_bytes())
    text = (other / "course.yaml").read_text()
    text = text.replace("slug: mini-kursus", "slug: kursus-lanjut")
    text = text.replace("title: Mini Kursus Uji", "title: Kursus Lanjut Uji")
    (other / "course.yaml").write_text(text.replace("level: dasar", "level: lanjut"))
    service.import_course(load_course_folder(other, HOSTS))
    get_session().commit()
    login_as("learner")

    page = client.get("/courses/").get_data(as_text=True)
    assert 'name="level"' in page and 'value="dasar"' in page and 'value="lanjut"' in page
    assert 'value="menengah"' not in page  # only levels in use are offered
    basic = client.get("/courses/?level=dasar").get_data(as_text=True)
    assert "Mini Kursus Uji" in basic and "Kursus Lanjut Uji" not in basic
    assert 'value="dasar" selected' in basic
    advanced = client.get("/courses/?level=lanjut&topic=Pengujian").get_data(as_text=True)
    assert "Kursus Lanjut Uji" in advanced and "Mini Kursus Uji" not in advanced
    none = client.get("/courses/?level=lanjut&competency=M.01")
    assert none.status_code == 200 and "Kursus Lanjut Uji" not in none.get_data(as_text=True)
    assert client.get("/courses/?level=tidak-ada").status_code == 200


def test_competency_chips_say_the_level_in_words(client, login_as, course):
    """The chips of the competencies a course develops read "tingkat 2", not "L2"."""
    login_as("learner")
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    import re

    assert re.search(r"· tingkat \d", page)
    assert not re.search(r"· L\d", page)
