"""Data types shared by every part of a statement (xAPI 1.0.3 Part Two §4, 2.0 §4.2.7).

Each check raises :class:`lms.errors.ValidationError` whose message names the property
(a path such as ``statement.context.registration``) and the rule it breaks, so a client
developer can fix the statement without reading the specification.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lms.errors import ValidationError

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: RFC 3987 IRI: a scheme, a colon, and no whitespace or characters that need quoting.
IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*$")
#: RFC 5646 language tags (the common forms; grandfathered tags are rare in practice).
LANG_RE = re.compile(
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?$"
    r"|^[xX](?:-[A-Za-z0-9]{1,8})+$"
)
#: ISO 8601 timestamps with an optional offset (RFC 3339 profile plus basic offsets).
TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
#: ISO 8601 durations (§4.6): PnYnMnDTnHnMnS or PnW.
DURATION_RE = re.compile(
    r"^P(?:(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?D)?"
    r"(?:T(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?|\d+(?:[.,]\d+)?W)$"
)
MAX_IRI_LENGTH = 2048


@dataclass
class Context:
    """What a check needs to know beyond the value: the xAPI version of the request."""

    version: str = "1.0.3"

    @property
    def is_v2(self) -> bool:
        return self.version.startswith("2.")


def fail(path: str, rule: str) -> None:
    """Raise the validation error for ``path`` breaking ``rule``."""
    raise ValidationError(f"{path}: {rule}", field=path)


def check_object(value: Any, path: str, allowed: Iterable[str],
                 required: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON object with only ``allowed`` properties, all ``required`` present, no nulls.

    xAPI 1.0.3 Part Two §2.2: the LRS rejects statements with properties it does not
    know (property names are case sensitive) and properties whose value is null.
    """
    if not isinstance(value, dict):
        fail(path, "must be a JSON object")
    allowed = set(allowed)
    for key, item in value.items():
        if key not in allowed:
            fail(f"{path}.{key}", f"is not a property of this object (allowed: "
                                  f"{', '.join(sorted(allowed))})")
        if item is None:
            fail(f"{path}.{key}", "must not be null; leave the property out instead")
    for key in required:
        if key not in value:
            fail(f"{path}.{key}", "is required")
    return value


def check_string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        fail(path, "must be a string")
    return value


def check_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        fail(path, "must be true or false")
    return value


def check_number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(path, "must be a number")
    return value


def check_uuid(value: Any, path: str) -> str:
    """UUIDs (§4.5): the 8-4-4-4-12 hexadecimal form."""
    if not isinstance(value, str) or not UUID_RE.match(value):
        fail(path, "must be a UUID such as 6f0c0b8e-5b9a-4c7e-9d45-3a2f1c0e7b21")
    return value


def check_iri(value: Any, path: str) -> str:
    """IRIs (§4.4): absolute, with a scheme (``http://...``, ``urn:...``)."""
    if not isinstance(value, str) or not IRI_RE.match(value):
        fail(path, "must be an absolute IRI with a scheme, such as http://example.com/x")
    if len(value) > MAX_IRI_LENGTH:
        fail(path, f"must be at most {MAX_IRI_LENGTH} characters")
    return value


def check_irl(value: Any, path: str) -> str:
    """IRLs (§4.4): an IRI that resolves, so its scheme must be a network one."""
    check_iri(value, path)
    return value


def check_language_tag(value: Any, path: str) -> str:
    if not isinstance(value, str) or not LANG_RE.match(value):
        fail(path, "must be an RFC 5646 language tag such as id-ID or en-US")
    return value


def check_language_map(value: Any, path: str) -> dict[str, str]:
    """Language maps (§4.3): RFC 5646 tags to strings."""
    if not isinstance(value, dict):
        fail(path, "must be a language map such as {\"id-ID\": \"...\"}")
    for tag, text in value.items():
        check_language_tag(tag, f"{path}[{tag!r}] (key)")
        if not isinstance(text, str):
            fail(f"{path}[{tag!r}]", "must be a string")
    return value


def check_extensions(value: Any, path: str) -> dict[str, Any]:
    """Extensions (§4.1): an object whose keys are IRIs; values may be any JSON."""
    if not isinstance(value, dict):
        fail(path, "must be a JSON object with IRI keys")
    for key in value:
        check_iri(key, f"{path}[{key!r}] (key)")
    return value


def parse_timestamp(value: Any, path: str) -> dt.datetime:
    """Timestamps (§4.5 / 2.0 §4.2.7): ISO 8601; ``-00:00`` is not an offset (RFC 3339)."""
    if not isinstance(value, str):
        fail(path, "must be an ISO 8601 timestamp string such as 2024-05-01T08:30:00.000Z")
    match = TIMESTAMP_RE.match(value)
    if not match:
        fail(path, "must be an ISO 8601 timestamp such as 2024-05-01T08:30:00.000Z")
    offset = match.group(8)
    if offset in ("-00", "-00:00", "-0000"):
        fail(path, "must not use the offset -00:00; use Z or +00:00 for UTC")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if offset is None or offset in ("Z", "z"):
        tz = dt.UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        fail(path, "is not a valid date and time")
    raise AssertionError  # unreachable


def statement_time(value: Any, fallback: dt.datetime) -> dt.datetime:
    """A stored statement's ``timestamp`` as an aware datetime (naive means UTC), or
    ``fallback`` (usually its ``stored`` time) when it is missing or unreadable.

    For statement consumers. Lenient on purpose: statements were checked with
    :func:`parse_timestamp` when stored, and a consumer must not stop on one it cannot read.
    """
    fallback = fallback if fallback.tzinfo else fallback.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return fallback


def format_timestamp(value: dt.datetime) -> str:
    """The LRS's own timestamp form: UTC, millisecond precision, ``Z``."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def check_duration(value: Any, path: str) -> str:
    """Durations (§4.6): ISO 8601, e.g. PT1H30M or PT12.5S."""
    if not isinstance(value, str) or not DURATION_RE.match(value) or value in ("P", "PT") \
            or value.endswith("T"):
        fail(path, "must be an ISO 8601 duration such as PT1H30M or PT45.5S")
    return value
