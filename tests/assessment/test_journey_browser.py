"""In Chromium, on the demo organisation: the demo learner assesses herself on the paged
questionnaire (leaving it half done and coming back), her supervisor assesses her, and HR
validates the supervisor's rating; the profile changes as the framework's policy says (the
self rating is shown, not counted; the supervisor's rating sets the level once HR has
validated it)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.competency import demo as competency_demo
from lms.competency import service as competency
from lms.db import get_session
from lms.people import demo as people_demo
from lms.people.models import User

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "lentera-demo"


@pytest.fixture
def demo(app, live_server) -> dict[str, Any]:
    with live_server.app.app_context():
        people_demo.load_demo()
        competency_demo.load_demo()
        get_session().commit()
        learner = get_session().scalar(sa.select(User).where(
            User.email == "learner@demo.lentera.local"))
        supervisor = competency.supervisors_of(learner)[0]
        from lms.people.models import OrgUnit
        from lms.reports.scope import set_scope

        hr = get_session().scalar(sa.select(User).where(User.email == "hr@demo.lentera.local"))
        set_scope(hr, get_session().scalar(sa.select(OrgUnit).where(
            OrgUnit.parent_id.is_(None))))
        get_session().commit()
        found = {"nip": learner.nip, "supervisor": supervisor.email}
        get_session().close()
    return found


def sign_in(browser: Any, live_server: Any, identifier: str) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(identifier)
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")
    return page


def only(page: Any, prefix: str, code: str) -> None:
    """Tick only competency ``code`` in a competency choice."""
    for box in page.locator(f'input[id^="{prefix}-c-"]').all():
        box.set_checked(box.get_attribute("value") == code)


def level_cell(page: Any, code: str) -> str:
    return page.locator(f'#competency-table tr[data-code="{code}"] .level-current .badge'
                        ).inner_text()


def test_self_and_supervisor_assessment_of_the_demo_learner(browser, live_server, demo):
    learner = sign_in(browser, live_server, "learner@demo.lentera.local")
    learner.goto("/competency/")
    assert level_cell(learner, "M.01") == "–"
    learner.goto("/assessment/")
    only(learner, "self", "M.01")
    learner.get_by_role("button", name="Mulai penilaian diri").click()
    learner.wait_for_url("**/assessment/fill/*")
    assert "Kompetensi 1 dari 1" in learner.locator("#questionnaire-progress").inner_text()
    learner.locator("#fill-M\\.01").select_option("4")
    expect(learner.locator("#a-M\\.01-4\\.0-2")).to_be_checked()  # the helper filled it
    expect(learner.locator("#a-M\\.01-5\\.0-0")).to_be_checked()
    # Half done, she saves and comes back later: the answers are still there.
    learner.locator('label[for="a-M.01-1.0-3"]').click()  # "Selalu"
    learner.get_by_role("button", name="Simpan dan lanjutkan nanti").click()
    learner.wait_for_url("**/assessment/")
    learner.get_by_role("link", name="Lanjutkan").click()
    expect(learner.locator("#a-M\\.01-1\\.0-3")).to_be_checked()
    expect(learner.locator("#a-M\\.01-4\\.0-2")).to_be_checked()
    learner.get_by_role("button", name="Tinjau dan kirim").first.click()
    assert learner.locator('#review tr[data-code="M.01"]').inner_text().split()[-2] == "4"
    learner.get_by_role("button", name="Kirim penilaian").click()
    learner.wait_for_url("**/assessment/rounds/*")
    assert learner.locator('#assessment-results tr[data-code="M.01"] .res-self').inner_text() == "4"

    # Self-assessment is shown on the profile, but the policy does not count it.
    learner.goto("/competency/")
    assert level_cell(learner, "M.01") == "–"
    assert learner.locator('#assessment-panel tr[data-code="M.01"] .res-self').inner_text() == "4"
    assert "Penilaian diri" in learner.locator("body").inner_text()

    boss = sign_in(browser, live_server, demo["supervisor"])
    boss.goto(f"/assessment/employees/{demo['nip']}")
    only(boss, "sup", "M.01")
    boss.get_by_role("button", name="Mulai penilaian atasan").click()
    boss.wait_for_url("**/assessment/fill/*")
    boss.locator("#fill-M\\.01").select_option("3")
    boss.get_by_role("button", name="Tinjau dan kirim").first.click()
    expect(boss.locator("#validation-note")).to_be_visible()
    boss.get_by_role("button", name="Kirim penilaian").click()
    boss.wait_for_url("**/assessment/rounds/*")
    assert "menunggu validasi BKPSDM" in boss.locator("#raters").inner_text()
    assert boss.evaluate(
        "() => !!window.Chart.getChart(document.getElementById('assessment-chart'))")

    # Not counted before HR validates it.
    learner.goto("/competency/")
    assert level_cell(learner, "M.01") == "–"
    hr = sign_in(browser, live_server, "hr@demo.lentera.local")
    hr.goto("/assessment/")
    hr.locator("#validations").get_by_role("link", name="Periksa dan validasi").click()
    assert hr.locator('#validation-rows tr[data-code="M.01"]').inner_text().split()[-1] == "3"
    hr.get_by_role("button", name="Validasi: hitung penilaian ini").click()
    hr.wait_for_url("**/assessment/#validations")
    assert "Tidak ada penilaian yang menunggu validasi" in hr.locator("#validations").inner_text()

    # Validated, the supervisor's rating counts: her level rises to 3, with its evidence.
    learner.goto("/competency/")
    assert level_cell(learner, "M.01") == "3"
    panel = learner.locator('#assessment-panel tr[data-code="M.01"]')
    assert panel.locator(".res-supervisor").inner_text() == "3"
    assert panel.locator(".res-distance").inner_text() == "-1"
    learner.get_by_role("link", name="Integritas").first.click()
    assert "Atasan" in learner.locator("#evidence-table").inner_text()
    learner.context.close()
    boss.context.close()
    hr.context.close()
