"""lentera-likert: an example Lentera plugin adding a Likert self-assessment question type.

The type itself is in :mod:`lentera_likert.question` (entry point ``lms.question_types``);
:func:`init_app` is the ``lms.plugins`` start-up hook.
"""

from __future__ import annotations

from typing import Any

#: The plugin's UI text in the two languages Lentera speaks (Indonesian is the default).
TEXT = {
    "label": {"id": "Skala Likert (penilaian diri)", "en": "Likert scale (self-assessment)"},
    "scale": {"id": "Pilihan skala, dari yang terendah (satu per baris; kosong: lima pilihan "
                    "setuju–tidak setuju)",
              "en": "Scale points, lowest first (one per line; empty: the five "
                    "agree–disagree points)"},
    "reverse": {"id": "Butir terbalik (pilihan terendah mendapat nilai tertinggi)",
                "en": "Reverse-keyed item (the lowest point scores highest)"},
    "hint": {"id": "Pilih yang paling menggambarkan diri Anda.",
             "en": "Choose what describes you best."},
}


def text(key: str) -> str:
    """The text ``key`` in the request's language (Indonesian outside a request)."""
    try:
        from flask_babel import get_locale

        locale = get_locale()
        lang = locale.language if locale is not None else "id"
    except Exception:  # outside an app or request context
        lang = "id"
    entry = TEXT[key]
    return entry.get(lang, entry["id"])


class Text:
    """Text that picks its language when shown (for labels built at import time)."""

    def __init__(self, key: str):
        self.key = key

    def __str__(self) -> str:
        return text(self.key)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


def init_app(app: Any) -> None:
    """``lms.plugins`` hook: the templates call ``likert_text(key)``."""
    app.jinja_env.globals["likert_text"] = text
