"""Walk the demo as every role in Chromium and print what a person would see wrong: top-bar
entries off-screen or wrapped at laptop widths, menu entries with too little contrast,
pages that scroll sideways on a phone, and axe-core's serious/critical findings.

Usage (a server with the demo loaded, e.g. `make run`):
    .venv/bin/python bench/look.py http://127.0.0.1:5000 [role ...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser.look import (  # noqa: E402
    contrast_failures,
    crawl_targets,
    offscreen,
    run_axe,
    sideways,
)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROLES = ("admin", "hr", "trainer", "learner")
BAR = ".lentera-bar .navbar-nav > .nav-item > .nav-link, .lentera-bar .navbar-tools .btn"


def sign_in(context, role: str):  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(f"{role}@demo.lentera.local")
    page.get_by_label("Kata sandi").fill("lentera-demo")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")
    return page


def main() -> None:
    from playwright.sync_api import sync_playwright

    base = sys.argv[1].rstrip("/")
    roles = sys.argv[2:] or ROLES
    started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for role in roles:
            context = browser.new_context(base_url=base, locale="id-ID",
                                          viewport={"width": 1280, "height": 800})
            page = sign_in(context, role)
            for width in (1024, 1280, 1366):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto("/")
                for fault in offscreen(page, BAR):
                    print(f"[{role}] bar at {width}px: {fault}")
            page.set_viewport_size({"width": 1280, "height": 800})
            for toggle in page.locator(".lentera-bar [data-bs-toggle=dropdown]").all():
                toggle.click()
                menu = toggle.locator("xpath=following-sibling::ul")
                for fault in contrast_failures(page, ".dropdown-menu.show"):
                    print(f"[{role}] menu {toggle.inner_text().strip()!r}: {fault}")
                if not menu.is_visible():
                    print(f"[{role}] menu {toggle.inner_text().strip()!r} not shown")
                page.keyboard.press("Escape")
            pages = crawl_targets(page, base, ["/"], limit=60)
            phone_context = browser.new_context(
                base_url=base, locale="id-ID", viewport={"width": 390, "height": 844},
                is_mobile=True, has_touch=True, device_scale_factor=1)
            phone = sign_in(phone_context, role)
            print(f"[{role}] {len(pages)} pages")
            for path in pages:
                response = page.goto(path)
                status = response.status if response else "?"
                if status != 200:
                    print(f"[{role}] {path}: HTTP {status}")
                    continue
                axe = run_axe(page)
                phone.goto(path)
                wide = sideways(phone)
                if wide["scrollWidth"] > wide["width"]:
                    print(f"[{role}] {path}: scrolls sideways at 390 px: {wide}")
                for v in axe["serious"]:
                    print(f"[{role}] {path}: axe {v['impact']} {v['id']}: {v['nodes'][:3]}")
                for v in axe["incomplete"]:
                    print(f"[{role}] {path}: axe needs review {v['id']}: {v['nodes'][:3]}")
            context.close()
            phone_context.close()
        browser.close()
    print(f"{time.monotonic() - started:.1f} s, load {os.getloadavg()}")


if __name__ == "__main__":
    main()
