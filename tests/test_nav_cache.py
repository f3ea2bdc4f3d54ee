"""The top bar's menus are rendered once per language, page, roles and NIP and then kept
(lms.web.nav_items): what every role sees must be exactly what rendering the menus
afresh gives, in both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import current_app

from lms.db import get_session
from lms.people.models import User

PAGES = ["/", "/courses/", "/courses/mine", "/competency/"]


@pytest.fixture
def demo(runner: Any, db: Any) -> list[User]:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return list(get_session().scalars(
        sa.select(User).where(User.email.like("%@demo.lentera.local")).order_by(User.id)))


def _sign_in(client: Any, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def _menus(html: str) -> str:
    found = re.search(r'<ul class="navbar-nav me-auto">(.*?)</ul>\s*<div class="navbar-tools',
                      html, re.S)
    assert found, "the top bar's menus are on the page"
    return found.group(1)


def _language(client: Any, code: str) -> None:
    with client.session_transaction() as session:
        session["locale"] = code


def test_kept_menus_equal_freshly_rendered_ones_for_every_role(client: Any,
                                                              demo: list[User]) -> None:
    app = current_app._get_current_object()
    roles = {frozenset(u.roles) for u in demo}
    assert len(roles) >= 3, "the demo has learners, HR, trainers and admins"
    seen: dict[Any, str] = {}
    one_per_role_set = {frozenset(u.roles): u for u in reversed(demo)}
    for user in one_per_role_set.values():
        _sign_in(client, user)
        for code in ("id", "en"):
            _language(client, code)
            for page in PAGES:
                app.jinja_env.auto_reload = False
                client.get(page)  # kept now
                kept = _menus(client.get(page).get_data(as_text=True))
                app.jinja_env.auto_reload = True  # rendered afresh on every page
                try:
                    fresh = _menus(client.get(page).get_data(as_text=True))
                finally:
                    app.jinja_env.auto_reload = False
                assert kept == fresh, (user.email, code, page)
                seen[(frozenset(user.roles), code, page)] = kept
    # The key tells roles, languages and pages apart: the menus differ between them.
    assert len(set(seen.values())) > len(PAGES) * 2
    learner = next(u for u in demo if u.email == "learner@demo.lentera.local")
    hr = next(u for u in demo if u.email == "hr@demo.lentera.local")
    assert seen[(frozenset(learner.roles), "id", "/")] != seen[(frozenset(hr.roles), "id", "/")]
    assert "Beranda" in seen[(frozenset(learner.roles), "id", "/")]
    assert "Home" in seen[(frozenset(learner.roles), "en", "/")]
    assert 'aria-current="page"' in seen[(frozenset(learner.roles), "id", "/")]
    assert 'aria-current="page"' not in seen[(frozenset(learner.roles), "id", "/competency/")
                                             ].split("Beranda")[0]
