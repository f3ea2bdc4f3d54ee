"""In a real browser: a learner saves a lesson and reads it again without a connection."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def sample_course(app: Any) -> str:
    return str(factories.import_sample_course().slug)


def test_lesson_saved_for_offline_reading(page, users, sample_course):
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill("learner@test.lentera.local")
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")
    page.goto(f"/courses/{sample_course}")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/modules/*")
    lesson_url = page.url
    title = page.locator("article.lesson h1").inner_text()

    button = page.locator("#save-offline")
    assert "Simpan untuk dibaca offline" in button.inner_text()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    button.click()
    page.wait_for_selector("#save-offline[data-saved='1']")
    assert "Tersimpan untuk dibaca offline" in button.inner_text()
    # the worker controls the page once it is active (clients.claim)
    assert page.evaluate("""navigator.serviceWorker.ready.then(() => new Promise((done) => {
        if (navigator.serviceWorker.controller) done(true);
        navigator.serviceWorker.addEventListener("controllerchange", () => done(true));
    }))""")

    page.context.set_offline(True)
    page.goto(lesson_url)
    assert page.locator("article.lesson h1").inner_text() == title
    assert page.locator(".lesson-body").inner_text().strip()
    # a page that was never saved falls back to the offline page, listing the lesson
    page.goto("/courses/")
    assert page.locator("#offline-page h1").inner_text() == "Anda sedang offline"
    assert page.locator("#saved-lessons a").first.inner_text() == title
    page.context.set_offline(False)

    # removing it from the device
    page.goto(lesson_url)
    page.locator("#save-offline").click()
    page.wait_for_selector("#save-offline:not([data-saved='1'])")
    assert page.evaluate(
        "caches.open('lentera-lessons-v1').then(c => c.match(location.pathname))"
        ".then(r => r === undefined)"
    )
