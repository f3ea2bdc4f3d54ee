"""NIP (Nomor Induk Pegawai): the 18-digit civil-servant number, and its structure.

Layout: ``YYYYMMDD`` birth date, ``YYYYMM`` appointment as CPNS, one gender digit
(1 male, 2 female) and a 3-digit sequence number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _

from lms.errors import ValidationError

#: People appointed younger than this are not plausible (CPNS minimum age is 18).
MIN_AGE_AT_APPOINTMENT = 17


@dataclass(frozen=True)
class Nip:
    """A NIP split into its parts."""

    value: str
    birth_date: dt.date
    appointment: tuple[int, int]  # (year, month)
    gender: str  # "L" (laki-laki) or "P" (perempuan)
    sequence: int


def normalize_nip(raw: str) -> str:
    """Remove the spaces and dots people type inside a NIP (``1985 0312 ...``)."""
    return "".join(ch for ch in (raw or "") if ch not in " .-\t")


def parse_nip(raw: str, today: dt.date | None = None) -> Nip:
    """Validate a NIP and return its parts, or raise ValidationError saying what is wrong."""
    today = today or dt.date.today()
    value = normalize_nip(raw)
    if not value:
        raise ValidationError(_("NIP is required."), field="nip")
    if not value.isdigit():
        raise ValidationError(_("NIP may contain digits only."), field="nip")
    if len(value) != 18:
        raise ValidationError(
            _("NIP must have 18 digits; this one has %(n)d.", n=len(value)), field="nip"
        )
    try:
        birth = dt.date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise ValidationError(
            _(
                "Digits 1-8 of the NIP must be a birth date (YYYYMMDD); %(part)s is not a date.",
                part=value[0:8],
            ),
            field="nip",
        ) from None
    if birth.year < 1940 or birth > today:
        raise ValidationError(
            _("The birth date in the NIP (%(part)s) is not plausible.", part=value[0:8]),
            field="nip",
        )
    year, month = int(value[8:12]), int(value[12:14])
    if not 1 <= month <= 12:
        raise ValidationError(
            _(
                "Digits 9-14 of the NIP must be the appointment year and month (YYYYMM); "
                "month %(month)s does not exist.",
                month=value[12:14],
            ),
            field="nip",
        )
    if (year, month) > (today.year, today.month):
        raise ValidationError(
            _("The appointment date in the NIP (%(part)s) is in the future.", part=value[8:14]),
            field="nip",
        )
    if year - birth.year < MIN_AGE_AT_APPOINTMENT:
        raise ValidationError(
            _(
                "The appointment date in the NIP (%(part)s) is too soon after the birth date.",
                part=value[8:14],
            ),
            field="nip",
        )
    if value[14] not in "12":
        raise ValidationError(
            _(
                "Digit 15 of the NIP is the gender and must be 1 or 2, not %(digit)s.",
                digit=value[14],
            ),
            field="nip",
        )
    sequence = int(value[15:18])
    if sequence == 0:
        raise ValidationError(
            _("The last 3 digits of the NIP are a sequence number and cannot be 000."),
            field="nip",
        )
    return Nip(
        value=value,
        birth_date=birth,
        appointment=(year, month),
        gender="L" if value[14] == "1" else "P",
        sequence=sequence,
    )
