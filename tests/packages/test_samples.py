"""Public SCORM packages made by real tools (Articulate Rise with Rustici's SCORM Driver,
the SCORM Driver template, Rustici's "golf" examples for SCORM 1.2 and 2004 3rd edition,
named ``golf-<original name>.zip``): they import, and in Chromium they find the API across the
sandbox, initialize, save their state in the LRS and resume.

Their licences do not allow shipping them here, so they are kept outside the repository:
put the zips in ``$LMS_SCORM_SAMPLES`` (default ``/work/samples``); these tests are
skipped when it has none."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.db import get_session
from lms.packages import service
from lms.packages.models import ScormPackage
from lms.xapi.models import Statement
from tests.packages.test_browser import people, sign_in  # noqa: F401  (fixture)

SAMPLES = Path(os.environ.get("LMS_SCORM_SAMPLES", "/work/samples"))
ZIPS = sorted(SAMPLES.glob("*.zip")) if SAMPLES.is_dir() else []
RISE = SAMPLES / "rise-bacon-scorm12.zip"
ADL = "http://adlnet.gov/expapi/verbs/"
needs_samples = pytest.mark.skipif(
    not ZIPS, reason=f"no public SCORM sample zips in {SAMPLES} (set LMS_SCORM_SAMPLES; "
                     "they are not shipped with the project, see the module docstring)")


@needs_samples
@pytest.mark.parametrize("path", ZIPS, ids=[p.name for p in ZIPS])
def test_public_samples_import(app: Any, db: Any, path: Path) -> None:
    package, version = service.import_package(
        io.BytesIO(path.read_bytes()), None, slug="contoh-paket", jp=1, topic="Contoh",
        competencies=[{"code": "M.01", "level": 1}])
    assert package.structure["scos"] and version.number == 1
    db.rollback()


@pytest.mark.browser
@pytest.mark.skipif(not RISE.is_file(), reason=f"{RISE} is not there (public sample, not "
                                               "shipped; set LMS_SCORM_SAMPLES)")
def test_an_articulate_rise_package_plays_saves_and_resumes(
        page: Any, live_server: Any, people: dict[str, Any], db: Any,  # noqa: F811
        content_origin: str) -> None:
    """Rustici's SCORM Driver is a frameset talking to its inner frames: it needs the
    package's documents to share one origin, so it plays with a content origin."""
    service.import_package(io.BytesIO(RISE.read_bytes()), None, slug="rise-bacon", jp=1,
                           topic="Contoh", competencies=[{"code": "M.01", "level": 1}])
    db.commit()
    sign_in(page, "peserta@scorm.lentera.local")
    page.goto("/courses/rise-bacon")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/packages/rise-bacon/sco-1")
    # Rise's own page draws inside the SCORM Driver's frame, inside the sandbox.
    page.get_by_text("Kemajuan Anda tersimpan.").or_(
        page.get_by_text("Percobaan ke-1")).first.wait_for()
    for _ in range(100):
        rise = next((f for f in page.frames if "scormcontent/index.html" in f.url), None)
        if rise is not None:
            break
        page.wait_for_timeout(200)
    assert rise is not None, "the SCORM Driver did not open the Rise content"
    rise.get_by_text("bacon", exact=False).first.wait_for(timeout=30000)
    from tests.packages.test_browser import shoot

    shoot(page, "player-rise")
    page.get_by_role("link", name="Simpan dan keluar").click()
    page.wait_for_url("**/courses/rise-bacon")
    get_session().expire_all()
    verbs = set(get_session().scalars(sa.select(Statement.verb_id)))
    assert ADL + "initialized" in verbs and ADL + "suspended" in verbs
    page.goto("/packages/rise-bacon/sco-1")
    expect(page.get_by_text("Selamat datang kembali")).to_be_visible()
    assert get_session().scalar(sa.select(sa.func.count()).select_from(ScormPackage)) == 1


GOLF_2004 = SAMPLES / "golf-RuntimeBasicCalls_SCORM20043rdEdition.zip"


@pytest.mark.browser
@pytest.mark.skipif(not GOLF_2004.is_file(), reason=f"{GOLF_2004} is not there (public "
                                                    "sample, not shipped)")
def test_the_scorm_2004_golf_sample_plays_bookmarks_and_resumes(
        page: Any, live_server: Any, people: dict[str, Any], db: Any,  # noqa: F811
        content_origin: str) -> None:
    """Rustici's "Golf Explained - Run-time Basic Calls" (SCORM 2004 3rd edition): a
    launch page with its own Previous/Next buttons around a content frame whose pages
    script the launch page, so (like the SCORM Driver) it needs a content origin; it
    bookmarks the page in cmi.location and asks whether to resume."""
    service.import_package(io.BytesIO(GOLF_2004.read_bytes()), None, slug="golf-2004", jp=1,
                           topic="Contoh", competencies=[{"code": "M.01", "level": 1}])
    db.commit()
    sign_in(page, "peserta@scorm.lentera.local")
    page.goto("/courses/golf-2004")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/packages/golf-2004/sco-1")

    def launch_page() -> Any:
        for _ in range(100):
            found = next((f for f in page.frames if f.url.split("?")[0].endswith(
                "shared/launchpage.html")), None)
            if found is not None:
                return found
            page.wait_for_timeout(200)
        raise AssertionError("the golf launch page did not open")

    golf = launch_page()
    content = golf.frame_locator("#contentFrame")
    # Each page loads fully (its pictures too) before the next: no request cut off.
    for heading in ("Par", "Scoring"):
        golf.locator("#butNext").click()
        content.get_by_role("heading", name=heading).wait_for()
        content.locator("img").first.evaluate(
            "img => img.complete || new Promise(r => img.addEventListener('load', r))")
    from tests.packages.test_browser import shoot

    shoot(page, "player-golf-2004")
    page.get_by_role("link", name="Simpan dan keluar").click()
    page.wait_for_url("**/courses/golf-2004")
    get_session().expire_all()
    verbs = set(get_session().scalars(sa.select(Statement.verb_id)))
    assert ADL + "initialized" in verbs and ADL + "suspended" in verbs
    # Again: the attempt resumes with its bookmark; the package asks, the learner agrees.
    page.once("dialog", lambda dialog: dialog.accept())
    page.goto("/packages/golf-2004/sco-1")
    expect(page.get_by_text("Selamat datang kembali")).to_be_visible()
    golf = launch_page()
    for _ in range(100):
        src = golf.evaluate("document.getElementById('contentFrame').src")
        if src.endswith("Playing/Scoring.html"):
            break
        page.wait_for_timeout(200)
    assert src.endswith("Playing/Scoring.html"), src
