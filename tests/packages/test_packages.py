"""SCORM packages: the manifest reader, import (form and CLI), refusals that leave nothing
behind, the launch (sandboxed content, runtime data in the LRS State API, resume) and
completion through the ledger from statements written with the launch credential."""

from __future__ import annotations

import html
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from lms.courses.models import Completion, Course
from lms.packages import service
from lms.packages.manifest import ManifestError, parse_manifest
from lms.packages.models import ScormLaunch, ScormPackage, ScormSco
from tests.packages.conftest import MANIFEST_2004, scorm12_zip, scorm2004_zip, zip_with

XAPI = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
ADL = "http://adlnet.gov/expapi/verbs/"


def _import(client: Any, data: bytes, slug: str = "etika-scorm", **extra: str) -> Any:
    form = {"package": (io.BytesIO(data), "paket.zip"), "slug": slug, "topic": "Etika",
            "jp": "2", "competencies": "M.05 2", **extra}
    return client.post("/packages/", data=form, content_type="multipart/form-data")


def _package_folders(app: Any) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"]) / "packages"
    return sorted(root.iterdir()) if root.is_dir() else []


# --- the manifest ------------------------------------------------------------------------


def test_a_scorm_12_multi_sco_manifest_is_read() -> None:
    data = scorm12_zip(scos=3)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("imsmanifest.xml")
        files = set(archive.namelist())
    manifest = parse_manifest(xml, files)
    assert (manifest.version, manifest.edition) == ("1.2", "")
    assert [s.href for s in manifest.scos] == ["sco1.html", "sco2.html", "sco3.html"]
    assert manifest.scos[0].mastery_score == 80 and manifest.scos[1].data_from_lms == "bagian=2"
    assert manifest.title == "Etika ASN 1.2"


def test_a_scorm_2004_4th_edition_manifest_with_sequencing_is_read() -> None:
    manifest = parse_manifest(MANIFEST_2004.encode(), {"a/index.html", "b/index.html"})
    assert (manifest.version, manifest.edition) == ("2004", "4th")
    first = manifest.scos[0]
    assert first.scaled_passing_score == 0.8 and first.completion_threshold == 0.8
    assert first.attempt_limit == 3 and first.max_time_allowed == "PT1H"
    assert first.data_from_lms == "mulai=1" and first.parents == ["Bagian 1"]
    assert manifest.control == {"choice": False, "flow": True} and manifest.has_sequencing
    assert manifest.tree[0]["children"][1]["title"] == "Studi kasus"


@pytest.mark.parametrize("href, needle", [
    ("../luar.html", "di luar paket"),
    ("http://contoh.example/sco.html", "di luar paket"),
    ("/etc/passwd", "di luar paket"),
    ("tidak-ada.html", "tidak ada di dalam paket"),
])
def test_unsafe_or_missing_launch_files_are_refused_in_indonesian(
        app: Any, href: str, needle: str) -> None:
    xml = MANIFEST_2004.replace('href="a/index.html">', f'href="{href}">')
    with app.test_request_context(headers={"Accept-Language": "id"}):
        with pytest.raises(ManifestError) as refused:
            parse_manifest(xml.encode(), {"a/index.html", "b/index.html"})
        assert needle in str(refused.value.message)


def test_the_course_language_comes_from_the_package() -> None:
    assert [service.course_language(t) for t in ("en-US", "id", "", "x-none", "EN")] == \
        ["en", "id", "id", "id", "en"]


def test_broken_xml_and_entities_are_refused(app: Any) -> None:
    with app.test_request_context():
        for xml in (b"<manifest><organizations>", b"<!DOCTYPE m [<!ENTITY a 'x'>]><m>&a;</m>"):
            with pytest.raises(ManifestError) as refused:
                parse_manifest(xml)
            assert "bukan XML yang sah" in str(refused.value.message)


# --- import --------------------------------------------------------------------------------


def test_the_import_form_makes_a_course_with_one_module_per_sco(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    page = client.get("/packages/")
    assert page.status_code == 200 and "Impor paket" in page.get_data(as_text=True)
    response = _import(client, scorm12_zip(scos=2))
    assert response.status_code == 303
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-scorm"))
    assert course.jp == 2 and course.competencies == [{"code": "M.05", "level": 2}]
    assert course.summary == "SCORM 1.2 · 2 SCO" and course.language == "id"
    page = client.get("/courses/etika-scorm").get_data(as_text=True)
    assert "Pelajaran 1" in page and "Pelajaran 2" in page
    # Each part is labelled by the scorm content type's own label, not as a lesson.
    assert page.count("Paket SCORM") >= 2 and "☰</span> Materi" not in page
    # The same zip again changes nothing; another one is version 2.
    assert _import(client, scorm12_zip(scos=2)).status_code == 303
    assert db.scalar(sa.select(sa.func.count()).select_from(ScormPackage)) == 1
    assert _import(client, scorm12_zip(scos=3)).status_code == 303
    db.expire_all()
    assert db.scalar(sa.select(Course).where(Course.slug == "etika-scorm")).version == 2


@pytest.mark.parametrize("data, needle", [
    (zip_with([("index.html", b"x")]), "tidak memiliki imsmanifest.xml"),
    (zip_with([("imsmanifest.xml", b"<manifest"), ("a.html", b"x")]), "bukan XML yang sah"),
    (zip_with([("../../luar.txt", b"x"), ("imsmanifest.xml", b"x")]), "luar.txt"),
    (b"bukan zip", "bukan arsip zip"),
    (zip_with([("imsmanifest.xml", MANIFEST_2004.replace('href="a/index.html">',
                                                         'href="../a.html">'))]),
     "di luar paket"),
])
def test_bad_packages_get_a_clear_message_and_leave_nothing(
        app: Any, db: Any, client: Any, login_as: Any, data: bytes, needle: str) -> None:
    login_as("trainer")
    before = _package_folders(app)
    response = _import(client, data)
    assert response.status_code == 400
    assert needle in html.unescape(response.get_data(as_text=True))
    assert _package_folders(app) == before
    assert db.scalar(sa.select(sa.func.count()).select_from(ScormPackage)) == 0
    assert db.scalar(sa.select(Course).where(Course.slug == "etika-scorm")) is None


def test_a_huge_member_is_refused(app: Any, db: Any, client: Any, login_as: Any) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", "x")
        archive.writestr("video.bin", b"\0" * (30 * 1024 * 1024))  # a bomb: 30 MB of zeros
    login_as("trainer")
    before = _package_folders(app)
    response = _import(client, buffer.getvalue())
    assert response.status_code == 400 and "bom zip" in response.get_data(as_text=True)
    assert _package_folders(app) == before


def test_learners_may_not_import(client: Any, login_as: Any) -> None:
    login_as("trainer")
    assert 'href="/packages/">Paket SCORM</a>' in client.get("/").get_data(as_text=True)
    login_as("learner")
    assert "Paket SCORM" not in client.get("/").get_data(as_text=True)
    assert client.get("/packages/").status_code == 403
    assert _import(client, scorm12_zip()).status_code == 403


def test_import_courses_cli_dispatches_scorm_zips(app: Any, db: Any, runner: Any,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "Etika ASN 2004.zip"
    path.write_bytes(scorm2004_zip())
    checked = runner.invoke(args=["import-courses", str(path), "--check"])
    assert checked.exit_code == 0, checked.output
    assert "valid SCORM 2004 4th package, 2 item(s)" in checked.output
    assert db.scalar(sa.select(sa.func.count()).select_from(ScormPackage)) == 0
    result = runner.invoke(args=["import-courses", str(path), "--jp", "3",
                                 "--competency", "M.05:2"])
    assert result.exit_code == 0, result.output
    assert "etika-asn-2004: SCORM 2004 4th imported (version 1, 2 item(s))" in result.output
    bad = tmp_path / "rusak.zip"
    bad.write_bytes(zip_with([("imsmanifest.xml", b"<manifest")]))
    result = runner.invoke(args=["import-courses", str(bad)])
    assert result.exit_code == 1 and "XML" in result.output
    db.expire_all()
    assert db.scalar(sa.select(Course).where(Course.slug == "rusak")) is None


# --- launch, runtime data, statements -------------------------------------------------------


def _launch(client: Any, module: str = "sco-1", slug: str = "etika-scorm") -> dict[str, Any]:
    response = client.get(f"/courses/{slug}/modules/{module}")
    assert response.status_code == 302 and "/packages/" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    raw = text.split('<script type="application/json" id="scorm-launch">', 1)[1]
    return json.loads(raw.split("</script>", 1)[0])


def _statement(cfg: dict[str, Any], verb: str, object_id: str | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"actor": cfg["actor"], "verb": {"id": ADL + verb},
            "object": {"objectType": "Activity", "id": object_id or cfg["sco"]["id"]},
            "context": {"registration": cfg["registration"], "extensions": {
                "https://w3id.org/xapi/cmi5/context/extensions/sessionid": cfg["sessionId"]}},
            **extra}


def _post(client: Any, cfg: dict[str, Any], statements: list[dict[str, Any]]) -> Any:
    return client.post("/xapi/statements", data=json.dumps(statements),
                       headers={**XAPI, "Authorization": cfg["auth"]})


def test_the_sco_runs_sandboxed_with_the_api_bridge(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    _import(client, scorm12_zip())
    login_as("learner")
    client.post("/courses/etika-scorm/enrol")
    cfg = _launch(client)
    assert cfg["version"] == "1.2" and cfg["initial"]["cmi.core.entry"] == "ab-initio"
    assert cfg["initial"]["cmi.student_data.mastery_score"] == "80"
    assert cfg["initial"]["cmi.launch_data"] == "bagian=1"
    page = client.get("/packages/etika-scorm/sco-1").get_data(as_text=True)
    assert 'sandbox="allow-scripts allow-forms allow-popups allow-modals"' in page
    assert "scorm12.min.js" in page and "scorm2004.min.js" not in page
    content = client.get(cfg["contentUrl"])
    policy = content.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox allow-scripts") and "allow-same-origin" not in policy
    body = content.get_data(as_text=True)
    assert "cross-frame-api.min.js" in body and "window.__lenteraScorm=" in body
    assert "X-Frame-Options" not in content.headers
    # Files outside the package, or under an unknown token, are not served.
    base = cfg["contentUrl"].rsplit("/", 1)[0]
    assert client.get(base + "/..%2fimsmanifest.xml").status_code == 404
    assert client.get("/packages/run/tidak-ada/sco1.html").status_code == 404


def test_suspend_and_resume_keep_the_runtime_data_in_the_lrs(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    _import(client, scorm12_zip())
    login_as("learner")
    client.post("/courses/etika-scorm/enrol")
    cfg = _launch(client)
    state = {"exit": "suspend", "cmi": {"cmi.suspend_data": "jawaban=20",
                                        "cmi.core.lesson_location": "soal-1",
                                        "cmi.core.lesson_status": "incomplete"},
             "reported": {"completed": False}}
    url = ("/xapi/activities/state?stateId=" + quote(service.ATTEMPT_STATE, safe="")
           + "&activityId=" + quote(cfg["attempt"], safe="")
           + "&agent=" + quote(json.dumps(cfg["actor"]), safe="")
           + "&registration=" + cfg["registration"])
    saved = client.put(url, data=json.dumps(state), headers={**XAPI, "Authorization": cfg["auth"]})
    assert saved.status_code == 204
    again = _launch(client)
    assert again["resume"] is True and again["attempt"] == cfg["attempt"]
    assert again["initial"]["cmi.suspend_data"] == "jawaban=20"
    assert again["initial"]["cmi.core.entry"] == "resume"
    # The SCO's frame gets the same data before its scripts run.
    body = client.get(again["contentUrl"]).get_data(as_text=True)
    assert "jawaban=20" in body
    # A finished attempt is not resumed: the next launch starts attempt 2.
    state["exit"] = ""
    state["cmi"]["cmi.core.lesson_status"] = "passed"
    client.put(url, data=json.dumps(state), headers={**XAPI, "Authorization": again["auth"]})
    third = _launch(client)
    assert third["resume"] is False and third["attempt"] != cfg["attempt"]
    assert third["initial"]["cmi.core.entry"] == "ab-initio"


def test_passing_every_sco_completes_the_course_with_jp(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    _import(client, scorm12_zip(scos=2))
    login_as("learner")
    client.post("/courses/etika-scorm/enrol")
    first = _launch(client, "sco-1")
    score = {"score": {"raw": 100, "min": 0, "max": 100, "scaled": 1}}
    assert _post(client, first, [_statement(first, "completed", result={"completion": True}),
                                 _statement(first, "passed", result=score)]).status_code == 200
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-scorm"))
    assert db.scalar(sa.select(Completion).where(Completion.course_id == course.id)) is None
    second = _launch(client, "sco-2")
    # A completed SCO with a mastery score that was not passed does not count.
    _post(client, second, [_statement(second, "completed"), _statement(second, "failed")])
    assert db.scalar(sa.select(Completion).where(Completion.course_id == course.id)) is None
    _post(client, second, [_statement(second, "passed", result=score)])
    completion = db.scalar(sa.select(Completion).where(Completion.course_id == course.id))
    assert completion is not None and completion.user_id == users["learner"].id
    page = client.get("/courses/etika-scorm/packages").status_code  # noqa: F841
    player = client.get("/packages/etika-scorm/sco-1").get_data(as_text=True)
    assert "Selesai" in player or "Tinjauan" in player


def test_the_launch_credential_writes_only_about_its_sco(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    _import(client, scorm12_zip(scos=2))
    login_as("learner")
    client.post("/courses/etika-scorm/enrol")
    first = _launch(client, "sco-1")
    base = app.config["BASE_URL"]
    for target in (f"{base}/courses/etika-scorm", f"{base}/courses/etika-scorm/modules/sco-2"):
        refused = _post(client, first, [_statement(first, "completed", target)])
        assert refused.status_code == 403
    # Another SCO of the same package: stored (it is not Lentera's IRI) but never counted.
    other = db.scalar(sa.select(ScormSco).where(ScormSco.module_id == "sco-2")).sco_iri
    _post(client, first, [_statement(first, "passed", other),
                          _statement(first, "completed", other)])
    assert db.scalar(sa.select(Completion)) is None
    assert db.scalar(sa.select(sa.func.count()).select_from(ScormLaunch)) == 1


def test_a_used_up_attempt_limit_opens_the_last_attempt_for_review(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    assert _import(client, scorm2004_zip(), slug="etika-2004").status_code == 303
    login_as("learner")
    client.post("/courses/etika-2004/enrol")
    attempts = []
    for _ in range(3):  # attemptLimit="3" in the manifest
        cfg = _launch(client, slug="etika-2004")
        assert cfg["mode"] == "normal"
        attempts.append(cfg["attempt"])
        url = ("/xapi/activities/state?stateId=" + quote(service.ATTEMPT_STATE, safe="")
               + "&activityId=" + quote(cfg["attempt"], safe="")
               + "&agent=" + quote(json.dumps(cfg["actor"]), safe="")
               + "&registration=" + cfg["registration"])
        done = {"exit": "normal", "cmi": {"cmi.location": "akhir"}}
        assert client.put(url, data=json.dumps(done), headers={
            **XAPI, "Authorization": cfg["auth"]}).status_code == 204
    assert len(set(attempts)) == 3
    page = client.get("/packages/etika-2004/sco-1").get_data(as_text=True)
    assert "Anda sudah memakai semua 3 percobaan" in page
    cfg = json.loads(page.split('id="scorm-launch">', 1)[1].split("</script>", 1)[0])
    assert cfg["attempt"] == attempts[-1] and cfg["initial"]["cmi.mode"] == "review"
    assert cfg["initial"]["cmi.location"] == "akhir"


def test_a_cover_image_goes_with_the_course(app: Any, db: Any, client: Any,
                                             login_as: Any) -> None:
    png = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 32
    login_as("trainer")
    response = _import(client, scorm12_zip(), cover=(io.BytesIO(png), "sampul.png"),
                       cover_alt="Kantor BKPSDM")
    assert response.status_code == 303
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-scorm"))
    assert course.cover == "gambar/sampul.png" and course.cover_alt == "Kantor BKPSDM"
    with client.get(f"/courses/etika-scorm/files/1/{course.cover}") as image:
        assert image.status_code == 200 and image.data == png
    # Not an image: refused, nothing kept.
    login_as("trainer")
    refused = _import(client, scorm12_zip(), slug="etika-lain",
                      cover=(io.BytesIO(b"bukan gambar"), "sampul.png"))
    assert refused.status_code == 400 and "Sampul berupa gambar" in refused.get_data(
        as_text=True)
    assert db.scalar(sa.select(Course).where(Course.slug == "etika-lain")) is None


def test_with_a_content_origin_packages_and_pages_never_share_a_host(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    _import(client, scorm12_zip())
    login_as("learner")
    client.post("/courses/etika-scorm/enrol")
    app.config["PACKAGES_CONTENT_ORIGIN"] = "http://konten.test"
    try:
        page = client.get("/packages/etika-scorm/sco-1")
        text = page.get_data(as_text=True)
        assert 'sandbox="allow-scripts allow-forms allow-popups allow-modals ' \
               'allow-same-origin"' in text
        assert "frame-src 'self' http://konten.test" in page.headers["Content-Security-Policy"]
        cfg = json.loads(text.split('id="scorm-launch">', 1)[1].split("</script>", 1)[0])
        assert cfg["contentUrl"].startswith("http://konten.test/packages/run/")
        path = cfg["contentUrl"].removeprefix("http://konten.test")
        # Package files only on the content host; Lentera's pages never there.
        assert client.get(path).status_code == 404
        on_content = client.get(path, base_url="http://konten.test")
        assert on_content.status_code == 200
        assert "allow-same-origin" in on_content.headers["Content-Security-Policy"]
        for url in ("/", "/courses/", "/packages/", "/xapi/about"):
            assert client.get(url, base_url="http://konten.test").status_code == 404
    finally:
        app.config["PACKAGES_CONTENT_ORIGIN"] = ""


# --- settings of an imported course ---------------------------------------------------------


def test_settings_publish_a_new_version_with_the_same_package(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    assert _import(client, scorm12_zip(scos=2)).status_code == 303
    page = client.get("/packages/").get_data(as_text=True)
    assert "/packages/etika-scorm/settings" in page
    page = client.get("/packages/etika-scorm/settings")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Pengaturan kursus" in text and "M.05 2" in text
    form = {"title": "Etika ASN (baru)", "summary": "Ringkasan baru", "topic": "Integritas",
            "jp": "3.5", "competencies": "M.05 3\nM.01 1"}
    # Without the CSRF token the form is refused and nothing changes.
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/packages/etika-scorm/settings", data=form).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-scorm"))
    assert course.version == 1
    bad = client.post("/packages/etika-scorm/settings", data={**form, "competencies": "X 9"})
    assert bad.status_code == 400 and "Baris 1" in bad.get_data(as_text=True)
    response = client.post("/packages/etika-scorm/settings", data=form)
    assert response.status_code == 303
    assert "versi 2" in client.get(response.location).get_data(as_text=True)
    db.expire_all()
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-scorm"))
    assert (course.version, course.title, course.summary, course.topic, course.jp) == (
        2, "Etika ASN (baru)", "Ringkasan baru", "Integritas", 3.5)
    assert course.competencies == [{"code": "M.05", "level": 3}, {"code": "M.01", "level": 1}]
    from lms.courses.models import CourseVersion

    versions = db.scalars(sa.select(CourseVersion).where(CourseVersion.course_id == course.id)
                          .order_by(CourseVersion.number)).all()
    assert versions[0].source == versions[1].source  # the same package, no re-import
    assert versions[0].definition["modules"] == versions[1].definition["modules"]
    assert db.scalar(sa.select(sa.func.count()).select_from(ScormPackage)) == 1
    # Saving the same settings again publishes nothing.
    again = client.post("/packages/etika-scorm/settings", data=form)
    assert "Tidak ada yang berubah" in client.get(again.location).get_data(as_text=True)
    # The course page shows the new title; the parts still play.
    page = client.get("/courses/etika-scorm").get_data(as_text=True)
    assert "Etika ASN (baru)" in page and "Pelajaran 2" in page


def test_settings_keep_replace_and_remove_the_cover(app: Any, db: Any, client: Any,
                                                    login_as: Any) -> None:
    data = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 32
    login_as("trainer")
    assert _import(client, scorm12_zip(), cover=(io.BytesIO(data), "sampul.png"),
                   cover_alt="Gedung").status_code == 303
    form = {"title": "Etika", "summary": "Ringkas", "topic": "Etika", "jp": "2",
            "competencies": "M.05 2", "cover_alt": ""}
    assert client.post("/packages/etika-scorm/settings", data=form).status_code == 303
    db.expire_all()
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-scorm"))
    assert course.version == 2 and course.cover and course.cover_alt == "Gedung"
    with client.get(f"/courses/etika-scorm/files/2/{course.cover}") as image:
        assert image.status_code == 200 and image.data == data
    refused = client.post("/packages/etika-scorm/settings", content_type="multipart/form-data",
                          data={**form, "cover": (io.BytesIO(b"GIF89a bukan"), "x.png")})
    assert refused.status_code == 400 and "Sampul berupa gambar" in \
        refused.get_data(as_text=True)
    assert client.post("/packages/etika-scorm/settings",
                       data={**form, "remove_cover": "y"}).status_code == 303
    db.expire_all()
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-scorm"))
    assert course.version == 3 and course.cover == ""


def test_settings_only_for_the_owner_or_an_admin(app: Any, db: Any, client: Any,
                                                 login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    assert _import(client, scorm12_zip()).status_code == 303
    login_as("learner")
    assert client.get("/packages/etika-scorm/settings").status_code == 403
    login_as("admin")
    assert client.get("/packages/etika-scorm/settings").status_code == 200
    assert client.get("/packages/tidak-ada/settings").status_code == 404
