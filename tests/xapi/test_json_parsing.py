"""Request JSON reads the same whichever parser reads it (orjson when installed, else the
standard library), and the strict rules hold on both paths."""

from __future__ import annotations

import json

import pytest

from lms.errors import ValidationError
from lms.xapi.validation.common import MAX_JSON_DEPTH, load_json


@pytest.mark.parametrize("text", [
    '{"a": 123456789012345678901234567890}',  # beyond 64 bits: stays an exact integer
    '{"a": -9223372036854775809, "b": 18446744073709551615}',
    '{"a": 0.12345678901234567890123, "b": -0.0, "c": 1e22, "d": 1.0}',
    '{"s": "[[[[{{{{' + "[" * 100 + '", "n": "1234567890123456789012"}',  # brackets in text
    '{"a": 1, "a": 2}',
    '[' * MAX_JSON_DEPTH + ']' * MAX_JSON_DEPTH,
])
def test_parsed_as_the_standard_library_parses(text: str) -> None:
    value = load_json(text.encode(), "the request body")
    expected = json.loads(text)
    assert value == expected
    assert json.dumps(value) == json.dumps(expected)  # same types (int stays int)


@pytest.mark.parametrize(("text", "message"), [
    ('[' * (MAX_JSON_DEPTH + 1) + ']' * (MAX_JSON_DEPTH + 1), "nested more than"),
    ('[{"a": ' * 33 + '1' + '}]' * 33, "nested more than"),
    ('{"a": NaN}', "not valid JSON"),
    ('{"a": 1e400}', "too large"),
    ('{"a": "\\ud800"}', "unpaired surrogates"),
    ('{"a": "\\u0000"}', "NUL"),
])
def test_refused_with_the_rule_it_breaks(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_json(text.encode(), "the request body")


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(ValidationError, match="UTF-8"):
        load_json(b'{"a": "\xff"}', "the request body")
