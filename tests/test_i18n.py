"""Bahasa Indonesia is the default UI language, so every catalog must be complete."""

from __future__ import annotations

import pytest

from lms.config import PROJECT_ROOT
from lms.i18n import catalogs, missing_translations


@pytest.mark.parametrize("catalog", catalogs(PROJECT_ROOT), ids=lambda c: c.name)
def test_every_message_has_an_indonesian_translation(catalog) -> None:
    missing = missing_translations(catalog, "id")
    assert not missing, (
        f"{len(missing)} untranslated message(s) in {catalog.po_path('id')}: {missing[:10]}; "
        f"run 'python scripts/messages.py {catalog.name}' and translate them"
    )


def test_english_is_available(client) -> None:
    client.post("/language", data={"locale": "en", "next": "/login"})
    assert "Sign in to Lentera" in client.get("/login").get_data(as_text=True)


def test_indonesian_is_the_default(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="id"' in page and "Masuk ke Lentera" in page
