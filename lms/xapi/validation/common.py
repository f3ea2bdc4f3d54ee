"""Data types shared by every part of a statement (xAPI 1.0.3 Part Two §4, 2.0 §4.2.7).

Each check raises :class:`lms.errors.ValidationError` whose message names the property
(a path such as ``statement.context.registration``) and the rule it breaks, so a client
developer can fix the statement without reading the specification.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, cast

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
#: The deepest nesting of objects and arrays a request's JSON may have.
MAX_JSON_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
#: Text orjson would read differently from the standard library: integers beyond 64 bits
#: (orjson makes them floats), so any run of 19+ digits goes to the standard library. Found
#: by mapping every digit to "0" and looking for 19 of them: a regular expression took
#: longer than orjson's parsing of the whole body.
_DIGITS_TO_ZERO = bytes(48 if 48 <= b <= 57 else b for b in range(256))
_LONG_NUMBER = b"0" * 19

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - the standard library parses the same
    _orjson = None  # type: ignore[assignment]


@dataclass
class Context:
    """What a check needs to know beyond the value: the xAPI version of the request."""

    version: str = "1.0.3"

    @property
    def is_v2(self) -> bool:
        return self.version.startswith("2.")


def fail(path: str, rule: str) -> NoReturn:
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
    return cast("str", value)


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
    parsed = _parse_timestamp_text(value)
    if isinstance(parsed, str):
        fail(path, parsed)
    return parsed


@functools.lru_cache(maxsize=4096)
def _parse_timestamp_text(value: str) -> dt.datetime | str:
    """:func:`parse_timestamp` of a string: the aware datetime, or what is wrong with it.

    Kept for the last few thousand texts: validation and storing read every statement's
    timestamp twice (and ``stored``), and a datetime never changes."""
    match = TIMESTAMP_RE.match(value)
    if not match:
        return "must be an ISO 8601 timestamp such as 2024-05-01T08:30:00.000Z"
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset in ("-00", "-00:00", "-0000"):
        return "must not use the offset -00:00; use Z or +00:00 for UTC"
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if offset is None or offset in ("Z", "z"):
        tz: dt.tzinfo = dt.UTC
    else:
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            return "has an offset from UTC outside -23:59 to +23:59"
        sign = -1 if offset[0] == "-" else 1
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        parsed = dt.datetime(int(year), int(month), int(day), int(hour), int(minute),
                             int(second), micro, tzinfo=tz)
    except ValueError:
        return "is not a valid date and time"
    try:
        parsed.astimezone(dt.UTC)
    except OverflowError:
        # e.g. 0001-01-01T00:00:00+07:00 is in year 0 in UTC; 9999-12-31T23:00:00-05:00 in
        # year 10000. Statements are stored and compared in UTC.
        return ("is outside the dates this LRS can store: in UTC it must fall between "
                "0001-01-01 and 9999-12-31")
    return parsed


def statement_time(value: Any, fallback: dt.datetime) -> dt.datetime:
    """When a stored statement's learning happened, for statement consumers: its
    ``timestamp`` as an aware datetime in UTC (naive means UTC), but never later than
    ``fallback`` (its ``stored`` time), and ``fallback`` when the timestamp is missing or
    unreadable.

    Learning cannot be completed after it was recorded: a timestamp ahead of ``stored`` is
    a clock running fast or a date made up (9999-12-31 would credit JP in a year no report
    shows, and dates near the end of the calendar overflow any arithmetic on them), so the
    stored time stands in. Lenient on purpose: statements were checked with
    :func:`parse_timestamp` when stored, and a consumer must not stop on one it cannot
    read. Every consumer dates records with this one function, so they agree, and a
    replay gives the same dates as the incremental path.
    """
    fallback = fallback if fallback.tzinfo else fallback.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            parsed = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(
                dt.UTC)
        except (ValueError, OverflowError):
            return fallback
        return min(parsed, fallback)
    return fallback


def format_timestamp(value: dt.datetime) -> str:
    """The LRS's own timestamp form: UTC, millisecond precision, ``Z``, four-digit years
    (``strftime("%Y")`` writes year 1 as ``1`` on some platforms)."""
    value = value.astimezone(dt.UTC)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
            f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z")


def check_duration(value: Any, path: str) -> str:
    """Durations (§4.6): ISO 8601, e.g. PT1H30M or PT12.5S."""
    if not isinstance(value, str) or not DURATION_RE.match(value) or value in ("P", "PT") \
            or value.endswith("T"):
        fail(path, "must be an ISO 8601 duration such as PT1H30M or PT45.5S")
    return value


# --- JSON of requests --------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def load_json(raw: bytes | str, what: str) -> Any:
    """Parse the JSON of a request (a statement body, a parameter, a document) strictly:
    a :class:`ValidationError` (400) naming ``what`` for what is not JSON or cannot be
    stored: NaN and Infinity (not JSON), numbers beyond a double (1e400), strings with NUL
    characters (PostgreSQL refuses them) or unpaired surrogates (not Unicode text), and
    nesting deeper than :data:`MAX_JSON_DEPTH`."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    value = _fast_loads(raw)
    if value is _NOT_PARSED:
        try:
            # Decoded strictly here: json.loads would let UTF-8-encoded surrogates through.
            value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant,
                               parse_float=_finite)
        except RecursionError:
            fail(what, f"is nested more than {MAX_JSON_DEPTH} levels deep")
        except UnicodeDecodeError:
            fail(what, "must be UTF-8 encoded JSON")
        except ValueError as exc:
            fail(what, f"is not valid JSON: {exc}")
    if b"\\u0000" in raw or _SURROGATE_ESCAPE.search(raw):
        _check_text(value, what)
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _too_deep(value, 1):
        fail(what, f"is nested more than {MAX_JSON_DEPTH} levels deep")
    return value


_NOT_PARSED = object()


def _fast_loads(raw: bytes) -> Any:
    """``raw`` parsed by orjson (several times faster) when it reads it exactly as the
    strict standard-library path would; else :data:`_NOT_PARSED`. orjson refuses what that
    path refuses too (NaN, Infinity, 1e400, invalid UTF-8, unpaired surrogates), so a
    refusal is left to the standard library, which words the error."""
    if _orjson is None or _LONG_NUMBER in raw.translate(_DIGITS_TO_ZERO):
        return _NOT_PARSED
    try:
        return _orjson.loads(raw)
    except _orjson.JSONDecodeError:
        return _NOT_PARSED


def _too_deep(value: Any, depth: int) -> bool:
    """Whether objects and arrays nest deeper than :data:`MAX_JSON_DEPTH` in ``value`` (at
    ``depth``). Visits containers only, and stops at that depth; a loop over a stack, which
    costs a third less than recursing into each container (a batch of 100 statements has
    two thousand)."""
    if not isinstance(value, dict | list):
        return depth > MAX_JSON_DEPTH
    stack = [(value, depth)]
    while stack:
        container, level = stack.pop()
        if level > MAX_JSON_DEPTH:
            return True
        for item in container.values() if isinstance(container, dict) else container:
            if isinstance(item, dict | list):
                stack.append((item, level + 1))
    return False


def _check_text(value: Any, what: str) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        texts: list[Any] = []
        if isinstance(item, dict):
            texts = list(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            texts = [item]
        for text in texts:
            if "\x00" in text:
                fail(what, "must not contain the NUL character (\\u0000)")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                fail(what, "must not contain unpaired surrogates (\\ud800-\\udfff): they "
                           "are not Unicode text")
