"""A trainer uploads an .h5p file as a module of a course in authoring, publishes, and a
learner plays it; a broken .h5p is refused at upload with a message in Bahasa Indonesia."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa

from lms.courses.models import CourseVersion
from tests.authoring.test_authoring import SLUG, _add, _create
from tests.h5p.conftest import h5p_file


def _upload(client: Any, data: bytes, name: str) -> Any:
    return client.post(f"/authoring/{SLUG}/upload", data={"file": (io.BytesIO(data), name)},
                       headers={"Accept": "application/json"},
                       content_type="multipart/form-data")


def test_a_trainer_adds_an_h5p_module(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    _create(client)
    name = _add(client, "Latihan gratifikasi", "h5p")
    broken = _upload(client, h5p_file({"content/content.json": {}}), "rusak.h5p")
    assert broken.status_code == 400
    assert "h5p.json tidak ada" in broken.get_json()["error"]
    not_zip = _upload(client, b"PK\x03\x04 not really", "palsu.h5p")
    assert not_zip.status_code == 400
    # A small package (the test client spools bodies over 500 KB to files it never closes).
    from tests.h5p.test_h5p import GOOD, MANIFEST

    small = h5p_file({k: v for k, v in GOOD.items() if k != "h5p.json"}, MANIFEST)
    uploaded = _upload(client, small, "Latihan Gratifikasi.h5p")
    assert uploaded.status_code == 200, uploaded.get_data(as_text=True)
    path = uploaded.get_json()["path"]
    assert path.endswith(".h5p")
    saved = client.post(f"/authoring/{SLUG}/modules/{name}", data={
        "title": "Latihan gratifikasi", "kind": "h5p", "h5p": path, "body": "Kerjakan."})
    assert saved.status_code == 302
    editor = client.get(f"/authoring/{SLUG}/modules/{name}").get_data(as_text=True)
    assert f'value="{path}"' in editor and 'id="lesson-problems"' not in editor
    # The trainer's preview plays the draft's package and records nothing (no credential).
    preview = client.get(f"/authoring/{SLUG}/preview/{name.rsplit('.', 1)[0]}")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="h5p-frame" src="/h5p/frame/' in html
    assert "%22preview%22%3Atrue" in html and "auth" not in html.split('id="h5p-frame"')[1][:600]
    assert client.post(f"/authoring/{SLUG}/publish").status_code == 302
    definition = db.scalar(sa.select(CourseVersion.definition))
    module = definition["modules"][0]
    assert module["kind"] == "h5p" and module["h5p"] == path and path in definition["assets"]

    login_as("learner")
    client.post(f"/courses/{SLUG}/enrol")
    page = client.get(f"/courses/{SLUG}/modules/{module['id']}").get_data(as_text=True)
    assert 'id="h5p-frame"' in page and "Kerjakan." in page
