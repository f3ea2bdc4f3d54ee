"""Dates in the Pemda's time zone and numbers by the UI language (lms.i18n)."""

from __future__ import annotations

import datetime as dt

from flask import render_template_string
from flask_babel import force_locale

from lms.i18n import format_date, format_datetime, format_number, local_date


def test_a_moment_is_dated_in_the_pemda_time_zone(app) -> None:
    evening_utc = dt.datetime(2026, 12, 4, 20, 0)  # stored naive, UTC: 5 Dec 03:00 WIB
    with app.test_request_context():
        assert local_date(evening_utc) == dt.date(2026, 12, 5)
        assert format_date(evening_utc) == "5 Des 2026"
        assert format_date(dt.date(2026, 12, 4)) == "4 Des 2026"
        assert format_datetime(evening_utc, "yyyy-MM-dd HH:mm") == "2026-12-05 03:00"
        assert format_date(None) == ""


def test_numbers_by_locale(app) -> None:
    with app.test_request_context():
        assert [format_number(v) for v in (2.5, 20.0, 1500, 0.3333, None)] == [
            "2,5", "20", "1.500", "0,33", ""]
        assert format_number(1234567.891, 0) == "1.234.568"
        assert render_template_string("{{ 2.5 | format_number }} JP, {{ d | format_date }}",
                                      d=dt.datetime(2026, 12, 4, 20)) == "2,5 JP, 5 Des 2026"
    with app.test_request_context(), force_locale("en"):
        assert format_number(2.5) == "2.5" and format_number(1500) == "1,500"
        assert format_date(dt.datetime(2026, 12, 4, 20)) == "Dec 5, 2026"
