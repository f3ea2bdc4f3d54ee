"""What each role sees, measured in Chromium on the demo organisation: every top-bar menu
painted readable (WCAG 4.5:1 against what is actually behind each entry), the bar whole on a
laptop at 1024, 1280 and 1366 px, a phone menu that works by touch, no page of the role's
crawl scrolling sideways at 390 px, and axe-core on the key pages with no serious or
critical violation and no colour-contrast check left undecided.

The demo is loaded once for the module (the tests only read); the tables are emptied after.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser import look

pytestmark = pytest.mark.browser

ROLES = ("admin", "hr", "trainer", "learner")
DEMO_PASSWORD = "lentera-demo"
LEARNER_NIP = "199204152019032011"
COURSE = "integritas-antikorupsi"
#: Every entry of the bar itself: links, menu buttons, the language switch, the user menu.
BAR = ".lentera-bar .navbar-nav > .nav-item > .nav-link, .lentera-bar .navbar-tools .btn"


@pytest.fixture(scope="module")
def demo(live_server: Any) -> Iterator[dict[str, Any]]:
    from lms import MODULES
    from lms.db import get_session
    from lms.plans.models import DevelopmentPlan as Plan
    from tests.conftest import _empty_tables

    with live_server.app.app_context():
        for name in MODULES:
            try:
                module = import_module(f"{name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{name}.demo":
                    raise
                continue
            module.load_demo()
            get_session().commit()
        session = get_session()
        # A demo plan with its items, seen by HR (whose scope is the whole Pemda).
        plan = session.scalar(sa.select(Plan.id).order_by(Plan.id).limit(1))
        assert plan is not None
        found = {"plan": plan}
        session.close()
    yield found
    _empty_tables(live_server.app)


def open_as(browser: Any, live_server: Any, role: str, *, phone: bool = False) -> Any:
    options: dict[str, Any] = {"base_url": live_server.url, "locale": "id-ID"}
    if phone:
        options.update(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    else:
        options.update(viewport={"width": 1280, "height": 800})
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(f"{role}@demo.lentera.local")
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")
    return page


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_entry_is_painted_readable(browser, live_server, demo, role) -> None:
    page = open_as(browser, live_server, role)
    toggles = page.locator(".lentera-bar [data-bs-toggle=dropdown]")
    assert toggles.count() >= 3  # Learn, Development and the user menu for everyone
    for i in range(toggles.count()):
        toggle = toggles.nth(i)
        name = toggle.inner_text().strip()
        toggle.click()
        menu = page.locator(".lentera-bar .dropdown-menu.show")
        expect(menu, f"the {name} menu opens").to_have_count(1)
        expect(menu, f"the {name} menu opens").to_be_visible()
        entries = look.painted_entries(page, ".lentera-bar .dropdown-menu.show")
        texts = [e["text"] for e in entries]
        assert len(entries) >= 2, (name, texts)
        faint = [e for e in entries if e["ratio"] < look.MIN_CONTRAST]
        assert not faint, (name, faint)
        # Every entry lies inside the window, where a person can see and click it.
        assert not [e for e in look.offscreen(page, ".dropdown-menu.show .dropdown-item")
                    if e["problem"] == "off-screen"], name
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
    page.context.close()


@pytest.mark.parametrize("role", ROLES)
def test_the_top_bar_fits_a_laptop(browser, live_server, demo, role) -> None:
    page = open_as(browser, live_server, role)
    for width in (1024, 1280, 1366):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/")
        faults = look.offscreen(page, BAR)
        assert not faults, (width, faults)
        # The sign-out is one click away: the user menu is on screen and opens.
        user_menu = page.locator("#user-menu")
        assert user_menu.is_visible()
        user_menu.click()
        sign_out = page.get_by_role("button", name="Keluar")
        expect(sign_out).to_be_visible()
        assert not look.offscreen(page, ".dropdown-menu.show .dropdown-item"), width
        page.keyboard.press("Escape")
        # One row: the bar is no taller than its tallest entry and its padding.
        height = page.locator(".lentera-bar").bounding_box()["height"]
        assert height < 80, (width, height)
        assert page.locator(".navbar-toggler").is_hidden()
    page.context.close()


@pytest.mark.parametrize("role", ROLES)
def test_the_phone_menu_works_by_touch(browser, live_server, demo, role) -> None:
    page = open_as(browser, live_server, role, phone=True)
    menu_entries = page.locator("#nav-main")
    assert menu_entries.is_hidden()
    page.get_by_role("button", name="Menu").tap()
    page.locator("#nav-main.show").wait_for()
    # Learn opens under the toggle, readable and within the screen; an entry is followed.
    page.locator("#nav-learn").tap()
    menu = page.locator(".lentera-bar .dropdown-menu.show")
    assert menu.is_visible()
    assert not look.contrast_failures(page, ".lentera-bar .dropdown-menu.show")
    assert not [e for e in look.offscreen(page, ".dropdown-menu.show .dropdown-item")
                if e["problem"] == "off-screen"]
    menu.get_by_role("link", name="Katalog").tap()
    page.wait_for_url("**/courses/")
    assert page.get_by_role("heading", level=1).is_visible()
    # The user menu with Keluar, and the language switch, are in the phone menu too.
    page.get_by_role("button", name="Menu").tap()
    page.locator("#nav-main.show").wait_for()
    assert not look.contrast_failures(page, "#nav-main")
    page.locator("#user-menu").tap()
    assert page.get_by_role("button", name="Keluar").is_visible()
    assert page.get_by_role("button", name="EN English").is_visible()
    page.context.close()


@pytest.mark.parametrize("role", ROLES)
def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, demo, role) -> None:
    # The pages once seen scrolling sideways are always in the walk.
    always = {
        "admin": ["/admin/lrs/clients", "/admin/lrs/consumers", "/admin/mail/",
                  "/reports/scopes"],
        "hr": [f"/plans/{demo['plan']}", f"/reports/employees/{LEARNER_NIP}",
               f"/competency/employees/{LEARNER_NIP}"],
        "learner": [f"/competency/employees/{LEARNER_NIP}"],
    }.get(role, [])
    phone = open_as(browser, live_server, role, phone=True)
    wide: dict[str, Any] = {}

    def check(path: str, response: Any) -> None:
        assert response is not None and response.status == 200, path
        found = look.sideways(phone, 390)
        if found["scrollWidth"] > 390:
            wide[path] = found

    paths = look.walk(phone, live_server.url, ["/", *always], limit=30, visit=check)
    assert len(paths) >= 15, paths
    assert not wide
    phone.context.close()


def key_pages(demo: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("anonymous", "/login"),
        ("learner", "/"),
        ("learner", "/courses/"),
        ("learner", f"/courses/{COURSE}"),
        ("learner", "/courses/mine"),
        ("learner", "/courses/transcript"),
        ("learner", "/competency/"),
        ("learner", "/assessment/"),
        ("learner", "/plans/"),
        ("hr", f"/plans/{demo['plan']}"),
        ("learner", "/credentials/"),
        ("learner", "/community/"),
        ("learner", "/notifications/settings"),
        ("hr", "/reports/"),
        ("hr", "/reports/needs"),
        ("hr", "/reports/employees"),
        ("hr", f"/reports/employees/{LEARNER_NIP}"),
        ("hr", "/reports/trainings"),
        ("hr", "/competency/standards"),
        ("hr", "/plans/organisation"),
        ("hr", "/evaluation/reports"),
        ("trainer", "/authoring/"),
        ("trainer", "/authoring/komunikasi-efektif"),
        ("trainer", "/authoring/komunikasi-efektif/results"),
        ("admin", "/admin/users"),
        ("admin", "/admin/import"),
        ("admin", "/admin/lrs/clients"),
        ("admin", "/admin/mail/"),
    ]


def test_axe_finds_nothing_serious_on_the_key_pages(browser, live_server, demo) -> None:
    pages = key_pages(demo)
    assert len(pages) >= 20
    problems: dict[str, Any] = {}
    signed_in: dict[str, Any] = {}
    for role, path in pages:
        if role not in signed_in:
            signed_in[role] = (
                browser.new_context(base_url=live_server.url, locale="id-ID").new_page()
                if role == "anonymous" else open_as(browser, live_server, role))
        page = signed_in[role]
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        # Charts and the heatmap arrive after the page: let them settle.
        page.wait_for_load_state("networkidle")
        result = look.run_axe(page)
        undecided = look.undecided_contrast(page, result["incomplete"])
        if result["serious"] or undecided:
            problems[f"{role} {path}"] = {"serious": result["serious"], "undecided": undecided}
    for page in signed_in.values():
        page.context.close()
    assert not problems


def test_the_gap_heatmap_is_painted_by_share_and_says_it_in_words(
        browser, live_server, demo) -> None:
    page = open_as(browser, live_server, "hr")
    page.goto("/reports/needs")
    cells = page.locator(".heatmap td[class*='heat-']")
    painted = page.evaluate("""() => Array.from(document.querySelectorAll(
        ".heatmap td[class*='heat-']")).map(td => [td.className.match(/heat-(\\d)/)[1],
        getComputedStyle(td).backgroundColor])""")
    assert cells.count() > 0
    by_step = {}
    for step, colour in painted:
        by_step.setdefault(step, set()).add(colour)
    # One colour per step, a different one for each step, and none white but "no gap".
    assert all(len(colours) == 1 for colours in by_step.values()), by_step
    assert len({c for cs in by_step.values() for c in cs}) == len(by_step)
    assert all(colours != {"rgb(255, 255, 255)"} for step, colours in by_step.items()
               if step != "0"), by_step
    assert not look.contrast_failures(page, ".heatmap")
    # The share is written in the cell: colour is not the only way to read it.
    darkest = page.locator(".heatmap td.heat-5 a").first
    assert darkest.locator(".heat-share").inner_text().endswith("%")
    assert page.locator(".heat-legend").is_visible()
    page.context.close()
