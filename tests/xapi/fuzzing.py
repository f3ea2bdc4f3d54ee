"""Hypothesis strategies for fuzzing the LRS: valid xAPI shapes with hostile values.

Shared by tests/xapi/test_fuzz.py (bounded, in CI) and bench/fuzz.py (a longer run against
a live server).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import strategies as st

#: Text that breaks storage or parsing when let through: NUL, unpaired surrogates, very
#: long strings, right-to-left marks, emoji, SQL and HTML.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "\udfff", "x" * 5000, "\u202e", "😀" * 600,
                     "'; DROP TABLE xapi_statement; --", "<script>alert(1)</script>",
                     "%00", "\\u0000", ""]),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324]),
)
TIMESTAMPS = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+07:00",
                     "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "2024-02-30T00:00Z",
                     "2024-01-01T00:00:00.123456789Z", "2024-01-01T24:00:00Z", "not a date",
                     "2024-01-01T00:00:00-00:00"]),
)


def iris() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda path: f"http://fuzz.example/{path}", st.text(max_size=30)),
        st.sampled_from(["http://x.test/a", "urn:x:" + "a" * 2100, "http://x.test/" + "é" * 1500,
                         "no-scheme", "http://x.test/\x00", "http://lentera.test/courses/x"]),
    )


def agents() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda name: {"objectType": "Agent", "mbox": f"mailto:{name}@x.go.id"},
                  st.text(alphabet="abcdefghij", min_size=1, max_size=10)),
        st.builds(lambda home, name: {"account": {"homePage": home, "name": name}},
                  iris(), HOSTILE_TEXT),
        st.builds(lambda name: {"mbox": "mailto:a@x.go.id", "name": name}, HOSTILE_TEXT),
        st.fixed_dictionaries({"mbox_sha1sum": st.text(max_size=41)}),
    )


def json_values(depth: int = 3) -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.none(), st.booleans(), NUMBERS, HOSTILE_TEXT)
    nested = st.recursive(leaves, lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(HOSTILE_TEXT, children, max_size=3)),
        max_leaves=10)
    deep = st.integers(min_value=60, max_value=1200).map(lambda n: json.loads("[" * n + "]" * n))
    return st.one_of(nested, deep)


def statements() -> st.SearchStrategy[dict[str, Any]]:
    verb = st.builds(lambda iri, name: {"id": iri, "display": {"en-US": name}},
                     st.one_of(st.just("http://adlnet.gov/expapi/verbs/completed"), iris()),
                     HOSTILE_TEXT)
    obj = st.one_of(
        st.builds(lambda iri, name: {"objectType": "Activity", "id": iri,
                                     "definition": {"name": {"en-US": name}}},
                  iris(), HOSTILE_TEXT),
        st.builds(lambda sid: {"objectType": "StatementRef", "id": sid},
                  st.one_of(st.uuids().map(str), HOSTILE_TEXT)),
    )
    result = st.fixed_dictionaries({}, optional={
        "score": st.fixed_dictionaries({}, optional={"scaled": NUMBERS, "raw": NUMBERS,
                                                    "min": NUMBERS, "max": NUMBERS}),
        "success": st.one_of(st.booleans(), HOSTILE_TEXT),
        "duration": st.one_of(st.just("PT1H"), HOSTILE_TEXT),
        "extensions": st.dictionaries(iris(), json_values(), max_size=2),
    })
    context = st.fixed_dictionaries({}, optional={
        "registration": st.one_of(st.uuids().map(str), HOSTILE_TEXT),
        "extensions": st.dictionaries(iris(), json_values(), max_size=2),
        "language": HOSTILE_TEXT,
    })
    return st.fixed_dictionaries(
        {"actor": agents(), "verb": verb, "object": obj},
        optional={"id": st.one_of(st.uuids().map(str), HOSTILE_TEXT),
                  "result": result, "context": context, "timestamp": TIMESTAMPS,
                  "version": st.sampled_from(["1.0.3", "2.0.0", "9.9"])})


def document_ids() -> st.SearchStrategy[str]:
    return st.one_of(HOSTILE_TEXT, st.builds(lambda: str(uuid.uuid4())))


def document_bodies() -> st.SearchStrategy[tuple[bytes, str]]:
    as_json = json_values().map(lambda v: (json.dumps(v, ensure_ascii=False, allow_nan=True)
                                           .encode("utf-8", "surrogatepass"),
                                           "application/json"))
    raw = st.binary(max_size=200).map(lambda b: (b, "application/octet-stream"))
    broken = st.sampled_from([(b"{", "application/json"), (b"\xff\xfe", "application/json"),
                              (b'{"a": NaN}', "application/json")])
    return st.one_of(as_json, raw, broken)
