"""The catalog and the competency names are kept per process (lms.readcache): a learner
sees a publication, an archived course or a renamed competency on the next request, also
when the change was made by another process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lms.courses import service
from lms.courses.format import load_course_folder
from lms.courses.models import Course
from lms.db import get_engine, get_session
from tests.courses.conftest import HOSTS
from tests.helpers import sql_log

ROOT = Path(__file__).resolve().parents[2]


def _queries(app: Any, client: Any, path: str) -> tuple[str, list[str]]:
    with sql_log(get_engine(app)) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True), statements


def test_the_catalog_is_read_from_the_database_once_per_course_change(
        app, client, login_as, course) -> None:
    login_as("learner")
    client.get("/courses/")
    _page, statements = _queries(app, client, "/courses/")
    read_courses = [s for s in statements if re.search(r"FROM course(\s|$)", s)
                    and "enrollment" not in s]
    assert read_courses == [], read_courses
    assert any("read_stamp" in s for s in statements)


def test_a_new_version_shows_in_the_catalog_and_course_page_on_the_next_request(
        client, login_as, course, course_dir: Path) -> None:
    login_as("learner")
    assert "Mini Kursus Uji" in client.get("/courses/").get_data(as_text=True)
    yaml = course_dir / "course.yaml"
    yaml.write_text(yaml.read_text().replace("title: Mini Kursus Uji",
                                             "title: Mini Kursus Edisi Dua"))
    service.import_course(load_course_folder(course_dir, HOSTS, label="mini-kursus"))
    get_session().commit()

    catalog = client.get("/courses/").get_data(as_text=True)
    assert "Mini Kursus Edisi Dua" in catalog and "Mini Kursus Uji" not in catalog
    home = client.get("/").get_data(as_text=True)
    assert "Mini Kursus Edisi Dua" in home  # the home page's suggestions
    page = client.get("/courses/mini-kursus").get_data(as_text=True)
    assert "Mini Kursus Edisi Dua" in page


def test_an_archived_course_leaves_the_catalog_and_its_filters(
        client, login_as, course) -> None:
    login_as("learner")
    catalog = client.get("/courses/").get_data(as_text=True)
    assert "Mini Kursus Uji" in catalog and 'value="Pengujian"' in catalog
    course.published = False
    get_session().commit()
    catalog = client.get("/courses/").get_data(as_text=True)
    assert "Mini Kursus Uji" not in catalog and 'value="Pengujian"' not in catalog


def test_a_change_rolled_back_is_never_served(app, client, login_as, course) -> None:
    login_as("learner")
    client.get("/courses/")
    with app.app_context():
        row = get_session().scalar(sa.select(Course).where(Course.slug == "mini-kursus"))
        row.title = "Judul Yang Dibatalkan"
        get_session().flush()
        # Inside the transaction that made it, the change is what the catalog shows...
        assert [c.title for c in service.catalog_listing()] == ["Judul Yang Dibatalkan"]
        get_session().rollback()
        # ...and once rolled back, it was never kept for anyone.
        assert [c.title for c in service.catalog_listing()] == ["Mini Kursus Uji"]
    assert "Judul Yang Dibatalkan" not in client.get("/courses/").get_data(as_text=True)


def test_a_bulk_update_moves_the_stamp_too(app, client, login_as, course) -> None:
    login_as("learner")
    client.get("/courses/")
    with app.app_context():
        get_session().execute(sa.update(Course).values(summary="Ringkasan lewat UPDATE"))
        get_session().commit()
    assert "Ringkasan lewat UPDATE" in client.get("/courses/").get_data(as_text=True)


def test_a_renamed_competency_shows_on_the_next_request(app, client, login_as, course) -> None:
    from lms.competency.models import Competency
    from lms.competency.service import load_shipped_frameworks

    load_shipped_frameworks()
    get_session().commit()
    login_as("learner")
    assert "Pelayanan Publik" in client.get("/courses/mini-kursus").get_data(as_text=True)
    with app.app_context():
        competency = get_session().scalar(sa.select(Competency).where(Competency.code == "M.05"))
        assert competency is not None
        competency.name = "Pelayanan Publik Edisi Baru"
        get_session().commit()
    assert "Pelayanan Publik Edisi Baru" in client.get("/courses/mini-kursus").get_data(
        as_text=True)


_OTHER_PROCESS = """
import json, sys
import sqlalchemy as sa
from lms import create_app
from lms.courses.models import Course
from lms.db import get_session

config = json.loads(sys.argv[1])
app = create_app(config)
with app.app_context():
    course = get_session().scalar(sa.select(Course).where(Course.slug == "mini-kursus"))
    course.title = "Diubah Proses Lain"
    get_session().commit()
"""


def test_a_change_made_by_another_process_shows_on_the_next_request(
        app, client, login_as, course) -> None:
    login_as("learner")
    assert "Mini Kursus Uji" in client.get("/courses/").get_data(as_text=True)
    config = {key: app.config[key] for key in ("DATABASE_URL", "INSTANCE_PATH", "SECRET_KEY")}
    subprocess.run([sys.executable, "-c", _OTHER_PROCESS, json.dumps(config)], check=True,
                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    catalog = client.get("/courses/").get_data(as_text=True)
    assert "Diubah Proses Lain" in catalog and "Mini Kursus Uji" not in catalog
