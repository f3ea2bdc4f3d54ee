"""In a real browser: a trainer builds, previews and publishes a course; a learner
completes it; the trainer reads results and item analysis. A cmi5 package is imported
and its AU runs in the player, talking to the LRS with its one-time token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.courses import service as courses
from lms.courses.models import Completion, Course
from lms.db import get_session
from lms.quizzes.models import QuizAttempt
from lms.xapi.models import Statement
from tests import factories
from tests.authoring.conftest import cmi5_zip
from tests.courses.conftest import answers_for

pytestmark = pytest.mark.browser


@pytest.fixture
def people(app: Any, db: Any) -> dict[str, Any]:
    made = {
        "trainer": factories.make_user(roles=["trainer"], email="pelatih@browser.lentera.local",
                                       name="Widyaiswara Uji", password=factories.PASSWORD),
        "learner": factories.make_user(roles=["learner"], email="peserta@browser.lentera.local",
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


def add_module(page: Any, title: str, kind: str) -> None:
    page.locator("#add-module").get_by_label("Judul").fill(title)
    page.locator("#add-module").get_by_label("Jenis").select_option(kind)
    page.get_by_role("button", name="Tambah modul").click()


def add_question(page: Any, type_label: str, prompt: str) -> None:
    page.locator("#add-question").get_by_role("link", name=type_label, exact=True).click()
    page.get_by_label("Teks soal (Markdown)").fill(prompt)


def test_trainer_builds_publishes_and_reads_the_results(
        page: Any, people: dict[str, Any], live_server: Any, tmp_path: Path) -> None:
    sign_in(page, "pelatih@browser.lentera.local")
    page.get_by_role("link", name="Penyusunan Kursus").click()
    page.get_by_role("link", name="Kursus baru").click()
    page.get_by_label("Judul").fill("Etika Pelayanan Publik")
    page.get_by_label("Nama singkat (pada alamat)").fill("etika-pelayanan-publik")
    page.get_by_label("Ringkasan").fill("Nilai dasar dan kode etik ASN dalam pelayanan.")
    page.get_by_label("Topik").fill("Pelayanan Publik")
    page.get_by_label("Jam pelajaran (JP)").fill("2")
    page.get_by_label("Kompetensi sasaran").fill("M.05")
    page.get_by_role("button", name="Buat kursus").click()

    # Lesson 1 with a table typed into the Markdown editor; the live preview renders it.
    add_module(page, "Nilai dasar BerAKHLAK", "lesson")
    page.get_by_label("Isi (Markdown)").fill(
        "## Nilai dasar\n\n| Nilai | Arti |\n| --- | --- |\n| Berorientasi Pelayanan | "
        "Memahami kebutuhan masyarakat |\n")
    page.wait_for_selector("#md-preview table")
    # An image uploaded from the editor goes into the draft and into the Markdown.
    png = tmp_path / "pixel.png"
    png.write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))
    page.locator("#upload-form input[type=file]").set_input_files(str(png))
    # Without words for it, the image is not uploaded: the alt text is asked for.
    page.get_by_role("button", name="Unggah dan sisipkan").click()
    alt = page.get_by_label("Yang ditunjukkan gambar (teks alternatif)")
    assert alt.evaluate("el => el.validationMessage") == (
        "Jelaskan gambar ini untuk orang yang tidak dapat melihatnya.")
    assert "pixel" not in page.locator("textarea.md-source").input_value()
    alt.fill("Tabel nilai [BerAKHLAK]")
    page.get_by_role("button", name="Unggah dan sisipkan").click()
    # After the table, on its own with a blank line before and after: not a table row.
    expect(page.locator("textarea.md-source")).to_have_value(re.compile(
        r"masyarakat \|\n\n!\[Tabel nilai \(BerAKHLAK\)\]\(gambar/pixel\.png\)\n\n$"))
    page.wait_for_selector('#md-preview img[alt="Tabel nilai (BerAKHLAK)"]')
    assert page.locator("#md-preview table img").count() == 0
    page.get_by_role("button", name="Simpan").click()
    page.wait_for_selector(".alert-success")
    page.get_by_role("link", name="Etika Pelayanan Publik").click()

    add_module(page, "Kode etik", "lesson")
    page.get_by_label("Isi (Markdown)").fill("Kode etik ASN menurut **PP 94/2021**.")
    page.get_by_role("button", name="Simpan").click()
    page.get_by_role("link", name="Etika Pelayanan Publik").click()

    add_module(page, "Kuis akhir", "quiz")
    # A single-choice question with no right answer is explained, then fixed.
    add_question(page, "Pilihan ganda", "Apa nilai dasar ASN?")
    page.get_by_label("Pilihan 1", exact=True).fill("BerAKHLAK")
    page.get_by_label("Pilihan 2", exact=True).fill("Bebas nilai")
    page.get_by_role("button", name="Simpan soal").click()
    assert "tepat satu jawaban benar" in page.locator("#question-problems").inner_text()
    page.locator("#correct-0").check()
    page.get_by_role("button", name="Simpan soal").click()

    add_question(page, "Benar atau salah", "ASN wajib netral dari politik praktis.")
    page.locator("#answer-true").check()
    page.get_by_role("button", name="Simpan soal").click()

    add_question(page, "Menjodohkan", "Jodohkan nilai dengan artinya.")
    sources = page.locator("input[name=pair_source]")
    targets = page.locator("input[name=pair_target]")
    sources.nth(0).fill("Akuntabel")
    targets.nth(0).fill("Bertanggung jawab")
    sources.nth(1).fill("Kompeten")
    page.get_by_role("button", name="Simpan soal").click()
    assert "Pasangan 2 baru terisi separuh" in page.locator("#question-problems").inner_text()
    page.locator("input[name=pair_target]").nth(1).fill("Terus belajar")
    page.get_by_role("button", name="Simpan soal").click()

    add_question(page, "Mengurutkan", "Urutkan langkah penanganan pengaduan.")
    items = page.locator("input[name=item_text]")
    for i, text in enumerate(["Terima", "Verifikasi", "Tindak lanjut"]):
        items.nth(i).fill(text)
    page.get_by_role("button", name="Simpan soal").click()
    expect(page.locator("#questions li")).to_have_count(4)

    # Preview as a learner, then publish.
    page.get_by_role("link", name="Etika Pelayanan Publik").click()
    page.get_by_role("link", name="Pratinjau sebagai peserta").first.click()
    expect(page.locator("#preview-module table")).to_have_count(1)
    page.locator("#preview-outline").get_by_role("link", name="Kuis akhir").click()
    page.wait_for_url("**/preview/kuis-akhir")  # count the quiz's page, not the one before
    expect(page.locator("#preview-module fieldset")).to_have_count(4)
    page.get_by_role("link", name="Isi", exact=True).click()
    page.get_by_role("button", name="Terbitkan").click()
    assert "Diterbitkan sebagai versi 1" in page.locator(".alert-success").inner_text()

    # The learner completes the course.
    sign_in(page, "peserta@browser.lentera.local")
    page.goto("/courses/etika-pelayanan-publik")
    page.get_by_role("button", name="Daftar gratis").click()
    for _ in range(2):
        page.get_by_role("button", name=re.compile("Tandai selesai dan lanjutkan")).click()
    page.wait_for_url("**/quizzes/kuis-akhir")
    page.get_by_role("button", name="Mulai kuis").click()
    page.wait_for_url("**/attempts/*")
    get_session().expire_all()
    course = get_session().scalar(sa.select(Course).where(Course.slug == "etika-pelayanan-publik"))
    quiz = courses.find_module(courses.definition_of(courses.current_version(course)),
                               "kuis-akhir")["quiz"]
    attempt = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))
    _fill(page, answers_for(attempt, quiz, right=True))
    page.get_by_role("button", name="Kirim jawaban").click()
    page.wait_for_selector("#quiz-outcome")
    assert page.locator("#quiz-outcome").inner_text() == "Lulus"
    get_session().expire_all()
    assert get_session().scalar(sa.select(sa.func.count(Completion.id))) == 1

    # The trainer sees the result and the item analysis.
    sign_in(page, "pelatih@browser.lentera.local")
    page.goto("/authoring/etika-pelayanan-publik/results")
    assert page.locator("#completed").inner_text() == "1"
    assert "Peserta Uji" in page.locator("#learners").inner_text()
    expect(page.locator("#items tbody tr")).to_have_count(4)
    assert page.locator("#items .difficulty").first.inner_text() == "1,00"  # decimal comma (id)
    expect(page.locator("#item-chart")).to_have_count(1)


def _fill(page: Any, data: dict[str, Any]) -> None:
    for name, value in data.items():
        field = page.locator(f'[name="{name}"]')
        kind = field.first.evaluate("el => el.tagName + ':' + (el.type || '')")
        if kind.startswith("SELECT"):
            field.select_option(str(value))
        elif kind in ("INPUT:radio", "INPUT:checkbox"):
            for item in value if isinstance(value, list) else [value]:
                page.locator(f'[name="{name}"][value="{item}"]').check()
        else:
            field.fill(str(value))


def _import_cmi5(page: Any, tmp_path: Path, move_on: str) -> None:
    """The trainer imports the test cmi5 package as course etika-cmi5 (2 JP)."""
    package = tmp_path / "etika-cmi5.zip"
    package.write_bytes(cmi5_zip(move_on))
    sign_in(page, "pelatih@browser.lentera.local")
    page.goto("/authoring/")
    form = page.locator("#cmi5-form")
    form.locator("input[type=file]").set_input_files(str(package))
    form.get_by_label("Nama singkat (pada alamat)").fill("etika-cmi5")
    form.get_by_label("Topik").fill("Etika")
    form.get_by_label("Jam pelajaran (JP)").fill("2")
    form.get_by_role("button", name="Impor paket cmi5").click()
    assert "Paket cmi5 telah diimpor" in page.locator(".alert-success").inner_text()


def test_a_cmi5_package_runs_in_the_player_and_completes_the_course(
        page: Any, people: dict[str, Any], live_server: Any, tmp_path: Path) -> None:
    _import_cmi5(page, tmp_path, "CompletedAndPassed")
    assert "CompletedAndPassed" in page.locator("#aus").inner_text()

    sign_in(page, "peserta@browser.lentera.local")
    page.goto("/courses/etika-cmi5")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/cmi5/etika-cmi5/au-1")
    frame = page.frame_locator("#cmi5-frame")
    status = frame.locator("#status")
    status.filter(has_text=re.compile("selesai|gagal")).wait_for()
    # The AU read LMS.LaunchData, its second fetch was refused (error-code 1).
    assert status.inner_text() == "selesai:CompletedAndPassed:1"
    get_session().expire_all()
    verbs = list(get_session().scalars(sa.select(Statement.verb_id)))
    for verb in ("launched", "initialized", "completed", "passed", "terminated"):
        assert f"http://adlnet.gov/expapi/verbs/{verb}" in verbs
    assert "https://w3id.org/xapi/adl/verbs/satisfied" in verbs
    completion = get_session().scalar(sa.select(Completion))
    assert completion is not None and completion.jp == 2
    page.get_by_role("link", name="Kembali ke kursus").click()
    page.wait_for_url("**/courses/etika-cmi5")


def test_an_own_window_au_opens_in_a_new_window_then_in_review(
        page: Any, people: dict[str, Any], live_server: Any, tmp_path: Path) -> None:
    _import_cmi5(page, tmp_path, 'CompletedAndPassed" launchMethod="OwnWindow')

    sign_in(page, "peserta@browser.lentera.local")
    page.goto("/courses/etika-cmi5")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/cmi5/etika-cmi5/au-1")
    assert page.locator("#cmi5-frame").count() == 0
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Buka aktivitas").click()
    popup = popup_info.value
    status = popup.locator("#status")
    status.filter(has_text=re.compile("selesai|gagal")).wait_for()
    assert status.inner_text() == "selesai:CompletedAndPassed:1"
    popup.close()
    get_session().expire_all()
    completion = get_session().scalar(sa.select(Completion))
    assert completion is not None and completion.jp == 2

    # Launched again after it is satisfied: Review mode, and the earlier session (which
    # terminated) is not abandoned.
    page.goto("/cmi5/etika-cmi5/au-1")
    expect(page.locator(".cmi5-mode")).to_have_attribute("data-mode", "Review")
    get_session().expire_all()
    verbs = list(get_session().scalars(sa.select(Statement.verb_id)))
    assert "https://w3id.org/xapi/adl/verbs/abandoned" not in verbs
