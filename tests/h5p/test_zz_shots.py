from pathlib import Path
from typing import Any
import pytest
from tests import factories
from tests.h5p.conftest import course_folder
from tests.authoring.test_authoring import SLUG, _add, _create

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")]
OUT = Path("/work/shots/cmi5h5p")
SIZES = {"desktop": (1280, 800), "mobile": (390, 844)}


def shot(page, name):
    for label, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(400)
        page.screenshot(path=str(OUT / f"{name}-{label}.png"), full_page=True)


def sign_in(page, email):
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def test_shots(page: Any, app: Any, db: Any, live_server: Any, runner: Any, tmp_path: Path, sample_h5p: bytes) -> None:
    factories.make_user(roles=["learner"], email="peserta@s.local", name="Peserta Uji", password=factories.PASSWORD)
    factories.make_user(roles=["trainer"], email="pelatih@s.local", name="Pelatih Uji", password=factories.PASSWORD)
    db.commit()
    assert runner.invoke(args=["import-courses", "--slug", "geologi", "--jp", "3",
                               "/tmp/cmi5h5p/catapult/course_examples/packages/pre_post_test_framed.zip"]).exit_code == 0
    assert runner.invoke(args=["import-courses", str(course_folder(tmp_path, sample_h5p))]).exit_code == 0
    sign_in(page, "peserta@s.local")
    page.goto("/courses/geologi")
    shot(page, "cmi5-course-page")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/cmi5/geologi/**")
    page.frame_locator("#cmi5-frame").locator("#navmenuitems li").first.wait_for()
    shot(page, "cmi5-au-playing")
    page.goto("/courses/latihan-h5p")
    page.get_by_role("button", name="Daftar gratis").click()
    page.goto("/courses/latihan-h5p/modules/01-latihan")
    frame = page.frame_locator("#h5p-frame")
    frame.get_by_text("Benar", exact=True).wait_for()
    shot(page, "h5p-player")
    page.set_viewport_size({"width": 1280, "height": 800})
    frame.get_by_text("Benar", exact=True).click()
    frame.get_by_role("button", name="Periksa").click()
    page.locator("#h5p-status").filter(has_text="Selesai").wait_for()
    shot(page, "h5p-player-completed")
    page.goto("/courses/latihan-h5p")
    shot(page, "h5p-course-page-completed")
    sign_in(page, "pelatih@s.local")
    page.goto("/authoring/")
    page.get_by_role("link", name="Kursus baru").click()
    page.get_by_label("Judul").fill("Latihan Interaktif")
    page.get_by_label("Nama singkat (pada alamat)").fill("latihan-interaktif")
    page.get_by_label("Ringkasan").fill("Latihan H5P.")
    page.get_by_label("Topik").fill("Integritas")
    page.get_by_label("Jam pelajaran (JP)").fill("1")
    page.get_by_label("Kompetensi sasaran").fill("M.01")
    page.get_by_role("button", name="Buat kursus").click()
    page.locator("#add-module").get_by_label("Judul").fill("Latihan gratifikasi")
    page.locator("#add-module").get_by_label("Jenis").select_option("h5p")
    page.get_by_role("button", name="Tambah modul").click()
    p = tmp_path / "latihan.h5p"
    p.write_bytes(sample_h5p)
    page.locator("#upload-form input[type=file]").set_input_files(str(p))
    page.locator("#upload-form button[type=submit]").click()
    page.wait_for_timeout(1500)
    shot(page, "authoring-h5p-module")
