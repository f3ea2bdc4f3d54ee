"""NIP structure rules: each way a NIP can be wrong has its own message."""

from __future__ import annotations

import datetime as dt

import pytest

from lms.errors import ValidationError
from lms.people.nip import parse_nip

TODAY = dt.date(2026, 11, 23)


def test_valid_nip_is_split_into_its_parts(app) -> None:
    nip = parse_nip("1992 0415 2019 03 2 011", today=TODAY)
    assert nip.value == "199204152019032011"
    assert nip.birth_date == dt.date(1992, 4, 15)
    assert nip.appointment == (2019, 3)
    assert nip.gender == "P"
    assert nip.sequence == 11


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "wajib diisi"),
        ("19920415201903201A", "hanya boleh berisi angka"),
        ("1992041520190320", "harus 18 digit; yang ini 16 digit"),
        ("199202302019032011", "19920230 bukan tanggal yang sah"),
        ("183001012019032011", "tidak masuk akal"),
        ("199204152019132011", "bulan 13 tidak ada"),
        ("199204152030012011", "di masa depan"),
        ("199204152000012011", "terlalu dekat dengan tanggal lahir"),
        ("199204152019033011", "harus 1 atau 2, bukan 3"),
        ("199204152019032000", "tidak boleh 000"),
    ],
)
def test_each_broken_rule_has_its_own_message(app, raw: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_nip(raw, today=TODAY)
    assert fragment in str(info.value.message)
    assert info.value.field == "nip"
