"""In Chromium: a trainer imports SCORM packages through the form; a learner plays them
in the sandboxed player, answers, suspends, resumes on another device, completes, and
sees progress, JP, the certificate and the competency profile change."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.competency import service as competency
from lms.courses.models import Completion
from lms.db import get_session
from lms.xapi.models import Statement
from tests import factories
from tests.browser.look import loaded_width
from tests.packages.conftest import scorm12_zip, scorm2004_zip

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("LMS_SHOTS", "/work/shots/scorm"))
ADL = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def people(app: Any, db: Any) -> dict[str, Any]:
    competency.load_shipped_frameworks()
    made = {
        "trainer": factories.make_user(roles=["trainer"], email="pelatih@scorm.lentera.local",
                                       name="Widyaiswara Uji", password=factories.PASSWORD),
        "learner": factories.make_user(roles=["learner"], email="peserta@scorm.lentera.local",
                                       name="Peserta Uji", password=factories.PASSWORD),
    }
    db.commit()
    return made


def sign_in(page: Any, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def sco_frame(page: Any) -> Any:
    """The SCO: inside Lentera's launch page, inside the player's sandboxed frame."""
    return page.frame_locator("#scorm-frame").frame_locator("iframe")


def shoot(page: Any, name: str) -> None:
    if not SHOTS.parent.is_dir():
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def _png(width: int, height: int) -> bytes:
    """A plain teal PNG (a real image the browser draws)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\0" + bytes((14, 94, 111)) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                                  0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def import_package(page: Any, tmp_path: Path, data: bytes, slug: str, name: str) -> None:
    sign_in(page, "pelatih@scorm.lentera.local")
    page.goto("/packages/")
    path = tmp_path / name
    path.write_bytes(data)
    page.get_by_label("Paket SCORM (.zip berisi imsmanifest.xml)").set_input_files(str(path))
    page.get_by_label("Nama singkat (pada alamat)").fill(slug)
    page.get_by_label("Topik").fill("Etika ASN")
    page.get_by_label("Jam pelajaran (JP)").fill("2")
    page.get_by_label("Kompetensi sasaran").fill("M.05 2")
    shoot(page, "import-form")
    page.get_by_role("button", name="Impor dan terbitkan").click()
    page.wait_for_url(f"**/courses/{slug}")


@pytest.mark.parametrize("origin", ["sandbox", "content-origin"])
def test_scorm_12_suspend_resume_on_another_device_and_complete(
        page: Any, browser: Any, live_server: Any, people: dict[str, Any],
        tmp_path: Path, request: Any, origin: str) -> None:
    if origin == "content-origin":
        request.getfixturevalue("content_origin")
    import_package(page, tmp_path, scorm12_zip(scos=1), "etika-scorm12", "etika12.zip")
    assert page.get_by_text("sudah diimpor dan diterbitkan sebagai versi 1").is_visible()
    if origin == "sandbox":
        shoot(page, "course-page")

    sign_in(page, "peserta@scorm.lentera.local")
    page.goto("/courses/etika-scorm12")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/packages/etika-scorm12/sco-1")
    frame = sco_frame(page)
    assert frame.locator("#entry").inner_text() == "Masuk: ab-initio"
    frame.get_by_label("Berapa JP minimal setahun?").fill("20")
    frame.get_by_role("button", name="Jawab").click()
    page.get_by_text("Kemajuan Anda tersimpan.").wait_for()
    if origin == "sandbox":
        shoot(page, "player")
    else:  # the package's frame cannot read Lentera's page (another origin)
        assert page.locator("#scorm-frame").get_attribute("src").startswith(
            live_server.url.replace("127.0.0.1", "localhost"))
    # The package's scripts cannot read the learner's cookies nor Lentera's pages.
    sco = next(f for f in page.frames if f.url.endswith("/sco1.html"))
    probe = sco.evaluate("""async (base) => {
        const out = {cookie: "", pages: []};
        try { out.cookie = document.cookie; } catch (e) { out.cookie = "blocked"; }
        for (const url of ["/courses/", base + "/courses/", base + "/packages/"]) {
            try {
                const r = await fetch(url, {credentials: "include"});
                const text = await r.text();
                out.pages.push(r.status + ":" + text.includes("Peserta Uji"));
            } catch (e) { out.pages.push("blocked"); }
        }
        return out;
    }""", live_server.url)
    assert probe["cookie"] in ("", "blocked")  # no session cookie readable
    assert all(p == "blocked" or p.endswith(":false") for p in probe["pages"]), probe
    frame.get_by_role("button", name="Tunda").click()
    page.get_by_text("Bagian ini selesai.").wait_for()

    # Another device: a new browser context, signed in again; the attempt resumes.
    other = browser.new_context(base_url=live_server.url, locale="id-ID")
    device = other.new_page()
    device.set_default_timeout(15000)
    sign_in(device, "peserta@scorm.lentera.local")
    device.goto("/packages/etika-scorm12/sco-1")
    expect(device.get_by_text("Selamat datang kembali")).to_be_visible()
    second = sco_frame(device)
    second.locator("#entry").filter(has_text="Masuk: resume").wait_for()
    assert second.locator("#saved").inner_text() == "Tersimpan: jawaban=20"
    second.get_by_role("button", name="Jawab").click()  # the answer again, then finish
    second.get_by_role("button", name="Selesai").click()
    device.get_by_text("Bagian ini selesai.").wait_for()
    device.get_by_role("link", name="Simpan dan keluar").click()
    device.wait_for_url("**/courses/etika-scorm12")
    device.get_by_text("Diselesaikan pada").wait_for()
    assert device.get_by_role("link", name="Unduh sertifikat").is_visible()
    if origin == "sandbox":
        shoot(device, "course-completed")
    other.close()

    get_session().expire_all()
    verbs = set(get_session().scalars(sa.select(Statement.verb_id)))
    for verb in ("initialized", "resumed", "suspended", "terminated", "scored", "passed",
                 "completed", "responded"):
        assert ADL + verb in verbs, verb
    completion = get_session().scalar(sa.select(Completion))
    assert completion is not None and completion.jp == 2
    # The competency engine took the completion as evidence for the course's target.
    from lms.competency.models import Competency, Evidence

    evidence = get_session().scalar(sa.select(Evidence).join(
        Competency, Competency.id == Evidence.competency_id).where(
        Competency.code == "M.05", Evidence.user_id == people["learner"].id))
    assert evidence is not None and evidence.level == 2
    page.goto("/competency/")
    expect(page.get_by_text("M.05").first).to_be_visible()


def test_scorm_2004_flow_navigation_moves_to_the_next_sco(
        page: Any, live_server: Any, people: dict[str, Any], tmp_path: Path) -> None:
    import_package(page, tmp_path, scorm2004_zip(), "etika-scorm2004", "etika2004.zip")
    sign_in(page, "peserta@scorm.lentera.local")
    page.goto("/courses/etika-scorm2004")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/packages/etika-scorm2004/sco-1")
    # choice="false": the contents list names the parts but does not link them.
    assert page.locator("#scorm-toc a.scorm-choice").count() == 0
    frame = sco_frame(page)
    frame.get_by_label("Berapa JP minimal setahun?").fill("20")
    frame.get_by_role("button", name="Jawab").click()
    page.get_by_text("Kemajuan Anda tersimpan.").wait_for()
    shoot(page, "player-2004")
    frame.get_by_role("button", name="Selesai").click()
    # adl.nav.request = continue: the player opens the next SCO.
    page.wait_for_url("**/packages/etika-scorm2004/sco-2")
    assert page.locator("#sco-title").inner_text() == "Studi kasus"
    assert page.locator("#scorm-toc").get_by_text("Selesai").first.is_visible()
    get_session().expire_all()
    scored = get_session().scalars(sa.select(Statement.data).where(
        Statement.verb_id == ADL + "scored")).all()
    assert scored and scored[0]["result"]["score"] == {"raw": 100, "min": 0, "max": 100,
                                                      "scaled": 1}


def test_scorm_12_contents_list_saves_and_moves_between_scos(
        page: Any, live_server: Any, people: dict[str, Any], tmp_path: Path) -> None:
    import_package(page, tmp_path, scorm12_zip(scos=2), "etika-multi", "multi.zip")
    sign_in(page, "peserta@scorm.lentera.local")
    page.goto("/courses/etika-multi")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/packages/etika-multi/sco-1")
    frame = sco_frame(page)
    frame.get_by_label("Berapa JP minimal setahun?").fill("19")
    frame.get_by_role("button", name="Jawab").click()
    page.get_by_text("Kemajuan Anda tersimpan.").wait_for()
    # Leaving by the contents list suspends the part first: it resumes with its answer.
    page.locator("#scorm-toc").get_by_role("link", name="Pelajaran 2").click()
    page.wait_for_url("**/packages/etika-multi/sco-2")
    assert sco_frame(page).locator("#entry").inner_text() == "Masuk: ab-initio"
    page.get_by_role("link", name="Bagian sebelumnya").click()
    page.wait_for_url("**/packages/etika-multi/sco-1")
    again = sco_frame(page)
    again.locator("#entry").filter(has_text="Masuk: resume").wait_for()
    assert again.locator("#saved").inner_text() == "Tersimpan: jawaban=19"
    get_session().expire_all()
    failed = get_session().scalars(sa.select(Statement.data).where(
        Statement.verb_id == ADL + "responded")).all()
    assert failed and failed[0]["result"] == {"response": "19", "success": False}
    assert failed[0]["object"]["definition"]["correctResponsesPattern"] == ["20"]


def test_trainer_changes_the_settings_of_an_imported_course(
        page: Any, live_server: Any, people: dict[str, Any], tmp_path: Path) -> None:
    import_package(page, tmp_path, scorm12_zip(scos=2), "etika-atur", "etika-atur.zip")
    page.goto("/packages/")
    expect(page.locator("#package-list").get_by_text("2 bagian")).to_be_visible()
    shoot(page, "packages-list")
    page.get_by_role("link", name="Pengaturan").first.click()
    page.wait_for_url("**/packages/etika-atur/settings")
    assert page.get_by_role("heading", name="Pengaturan kursus").is_visible()
    page.get_by_label("Judul").fill("Etika ASN untuk Pelayanan Publik")
    page.get_by_label("Jam pelajaran (JP)").fill("4")
    page.get_by_label("Kompetensi sasaran").fill("M.05 3")
    cover = tmp_path / "sampul.png"
    cover.write_bytes(_png(160, 90))
    page.get_by_label("Gambar sampul baru").set_input_files(str(cover))
    page.get_by_label("Isi gambar (untuk pembaca layar)").fill("Kantor pelayanan")
    page.get_by_role("button", name="Simpan dan terbitkan").click()
    page.get_by_text("diterbitkan sebagai versi 2 kursus").wait_for()
    assert page.get_by_label("Judul").input_value() == "Etika ASN untuk Pelayanan Publik"
    assert loaded_width(page.locator("#current-cover")) == 160
    shoot(page, "settings")
    page.get_by_role("link", name="Buka kursus").click()
    page.wait_for_url("**/courses/etika-atur")
    assert page.get_by_role("heading", name="Etika ASN untuk Pelayanan Publik").is_visible()
    parts = page.locator(".module-list li")
    assert parts.count() == 2
    for n in range(2):  # each part says what it is: a SCORM package, not a lesson
        label = parts.nth(n).locator(".small.text-muted")
        assert label.is_visible() and "Paket SCORM" in label.inner_text()
    shoot(page, "course-after-settings")
