"""The cover image in the trainer's settings page: upload, replace, remove, publish, zip."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa

from lms.authoring import drafts, service
from lms.courses.models import Course
from tests.authoring.test_authoring import SLUG, _create, build_course

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 1">'
       b'<rect width="2" height="1"/></svg>')
PNG = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 32


def _cover(client: Any, name: str | None, data: bytes | None, alt: str = "") -> Any:
    form: dict[str, Any] = {"cover_alt": alt}
    if name is not None:
        form["cover"] = (io.BytesIO(data or b""), name)
    response = client.post(f"/authoring/{SLUG}/cover", data=form,
                           content_type="multipart/form-data")
    response.close()
    return response


def _meta() -> dict[str, Any]:
    return drafts.read_course_yaml(drafts.draft_dir(SLUG))


def test_upload_replace_and_remove_the_cover(app: Any, db: Any, client: Any,
                                             login_as: Any) -> None:
    login_as("trainer")
    _create(client)
    assert _cover(client, "Sampul Kantor.svg", SVG, alt="Kantor bupati").status_code == 302
    meta = _meta()
    assert meta["cover"] == "gambar/sampul.svg" and meta["cover_alt"] == "Kantor bupati"
    page = client.get(f"/authoring/{SLUG}/settings").get_data(as_text=True)
    assert f"/authoring/{SLUG}/draft-files/gambar/sampul.svg" in page
    assert 'value="Kantor bupati"' in page

    # Replace by a PNG: the old file goes, the new one is the cover.
    assert _cover(client, "foto.png", PNG, alt="Foto kantor").status_code == 302
    folder = drafts.draft_dir(SLUG)
    assert _meta()["cover"] == "gambar/sampul.png"
    assert not (folder / "gambar/sampul.svg").exists()
    assert (folder / "gambar/sampul.png").read_bytes() == PNG
    # Only the alt text.
    assert _cover(client, None, None, alt="Foto gedung").status_code == 302
    assert _meta()["cover_alt"] == "Foto gedung"

    response = client.post(f"/authoring/{SLUG}/cover/delete")
    assert response.status_code == 302
    assert "cover" not in _meta() and not (folder / "gambar/sampul.png").exists()
    actions = [c.action for c, _user in service.changes(service.get_authored(SLUG))]
    assert actions.count("cover_set") == 3 and "cover_removed" in actions


def test_bad_cover_uploads_are_refused_and_change_nothing(
        app: Any, db: Any, client: Any, login_as: Any, monkeypatch: Any) -> None:
    from lms.courses import format as course_format

    monkeypatch.setattr(course_format, "MAX_COVER_BYTES", 100)
    login_as("trainer")
    _create(client)
    assert _cover(client, "x.html", b"<script>alert(1)</script>").status_code == 400
    assert _cover(client, "palsu.png", b"<svg onload=alert(1)>").status_code == 400
    assert _cover(client, "besar.png", PNG + b"\0" * 100).status_code == 400
    assert _cover(client, "kosong.png", b"").status_code == 400
    assert _cover(client, None, None, alt="tanpa gambar").status_code == 400
    assert "cover" not in _meta()
    assert not (drafts.draft_dir(SLUG) / "gambar").exists() or \
        not list((drafts.draft_dir(SLUG) / "gambar").iterdir())


def test_only_editors_change_the_cover(app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    _create(client)
    client.post("/logout")
    login_as("learner")
    assert _cover(client, "a.svg", SVG).status_code == 403
    assert client.post(f"/authoring/{SLUG}/cover/delete").status_code == 403


def test_published_cover_reaches_the_catalog_and_survives_a_zip_round_trip(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    build_course(client)
    _cover(client, "sampul.svg", SVG, alt="Kantor bupati")
    assert client.post(f"/authoring/{SLUG}/publish").status_code == 302
    course = db.scalar(sa.select(Course).where(Course.slug == SLUG))
    assert course.cover == "gambar/sampul.svg" and course.cover_alt == "Kantor bupati"
    catalog = client.get("/courses/").get_data(as_text=True)
    assert f"/courses/{SLUG}/files/1/gambar/sampul.svg" in catalog

    data = client.get(f"/authoring/{SLUG}/export.zip").data
    db.delete(course)
    db.delete(service.get_authored(SLUG))
    db.commit()
    authored, version = service.import_zip(io.BytesIO(data), users["admin"], label="x.zip")
    db.commit()
    assert version is not None
    assert version.definition["cover"] == "gambar/sampul.svg"
    assert version.definition["cover_alt"] == "Kantor bupati"
    assert "gambar/sampul.svg" in version.definition["assets"]
    image = client.get(f"/courses/{SLUG}/files/1/gambar/sampul.svg")
    assert image.status_code == 200 and image.data == SVG
    image.close()
