"""In Chromium: an H5P module plays from Lentera's own server in its sandboxed frame; the
learner answers; H5P's statements land in the LRS with their interaction definitions,
written with the module's launch credential; the module and the course complete.

Runs with the sample course's own package, and with a package of H5P's own
``H5P.TrueFalse`` library when ``LMS_H5P_SAMPLE`` points at one (not shipped)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.courses.models import Completion
from lms.db import get_session
from lms.xapi.models import Document, Statement
from tests import factories
from tests.h5p.conftest import course_folder

# A file the browser stops reading half-way (a page left) is closed by the garbage
# collector in the server thread: a warning, not a fault of the player.
pytestmark = [pytest.mark.browser,
              pytest.mark.filterwarnings("ignore::ResourceWarning",
                                         "ignore::pytest.PytestUnraisableExceptionWarning")]
ACTIVITY = "urn:lentera:h5p:latihan-h5p:01-latihan"


@pytest.fixture
def learner(app: Any, db: Any) -> Any:
    user = factories.make_user(roles=["learner"], email="peserta@h5p.lentera.local",
                               name="Peserta H5P", password=factories.PASSWORD)
    db.commit()
    return user


def _sign_in(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill("peserta@h5p.lentera.local")
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def _play(page: Any, runner: Any, tmp_path: Path, package: bytes) -> Any:
    folder = course_folder(tmp_path, package)
    result = runner.invoke(args=["import-courses", str(folder)])
    assert result.exit_code == 0, result.output
    _sign_in(page)
    page.goto("/courses/latihan-h5p")
    expect(page.locator(".module-list li", has_text="Interaktif (H5P)")).to_be_visible()
    page.get_by_role("button", name="Daftar gratis").click()
    page.goto("/courses/latihan-h5p/modules/01-latihan")
    return page.frame_locator("#h5p-frame")


def _statements() -> list[Statement]:
    get_session().expire_all()
    return list(get_session().scalars(sa.select(Statement).order_by(Statement.seq)))


def _check_recorded(page: Any) -> None:
    status = page.locator("#h5p-status")
    status.filter(has_text="selesai").wait_for()
    assert status.is_visible()
    rows = [s for s in _statements() if (s.activity_id or "").startswith(ACTIVITY)]
    answered = [s for s in rows if s.verb_id.endswith("/answered")]
    assert answered, [s.verb_id for s in rows]
    data = answered[-1].data
    assert data["object"]["definition"]["interactionType"]
    assert data["result"]["score"]["max"] >= 1
    assert data["authority"]["account"]["homePage"].endswith("/xapi/launch")
    for _ in range(50):
        get_session().expire_all()
        completion = get_session().scalar(sa.select(Completion))
        if completion is not None:
            break
        page.wait_for_timeout(200)
    assert completion is not None and completion.jp == 1
    page.goto("/courses/latihan-h5p")
    assert "Diselesaikan pada" in page.locator("main").inner_text()


@pytest.mark.skipif(not Path(os.environ.get("LMS_H5P_SAMPLE", "/nonexistent")).is_file(),
                    reason="set LMS_H5P_SAMPLE to an .h5p of H5P.TrueFalse")
def test_h5p_true_false_plays_records_and_completes(
        page: Any, learner: Any, live_server: Any, runner: Any, tmp_path: Path) -> None:
    frame = _play(page, runner, tmp_path, Path(os.environ["LMS_H5P_SAMPLE"]).read_bytes())
    # The package's own words, in whatever language it was made: the first answer, then
    # H5P.Question's check button.
    frame.get_by_role("radio").first.click()
    frame.locator(".h5p-question-check-answer").click()
    _check_recorded(page)


def test_the_sample_courses_h5p_package_plays_records_and_completes(
        page: Any, learner: Any, live_server: Any, runner: Any, tmp_path: Path,
        sample_h5p: bytes) -> None:
    frame = _play(page, runner, tmp_path, sample_h5p)
    question = frame.get_by_text("Hadiah dari pemohon izin")
    question.wait_for()
    assert question.is_visible()
    frame.get_by_text("Benar", exact=True).click()
    frame.get_by_role("button", name="Periksa").click()
    _check_recorded(page)
    # Opened again (another page, or another device): the answer given is still there,
    # kept in the LRS State API for this learner, registration and activity.
    for _ in range(25):
        get_session().expire_all()
        doc = get_session().scalar(sa.select(Document).where(Document.document_id == "h5p.state"))
        if doc is not None:
            break
        page.wait_for_timeout(200)
    assert doc is not None and b"answer" in doc.content
    page.goto("/courses/latihan-h5p/modules/01-latihan")
    expect(page.frame_locator("#h5p-frame").get_by_role("radio", name="Benar")) \
        .to_have_attribute("aria-checked", "true")
