"""Property-based fuzzing of the LRS: statements and documents built by hypothesis from
valid shapes with hostile values (text with NUL and surrogates, huge and non-finite
numbers, deep nesting, dates at the ends of the calendar, odd ids). Whatever they hold, the
answer is never a 5xx, and what was acknowledged can be read back.

The example counts are small so the suite stays fast; ``bench/fuzz.py`` runs the same
strategies for longer against a live server (``LMS_FUZZ_EXAMPLES`` raises them here too).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.xapi.fuzzing import agents, document_bodies, document_ids, iris, statements

EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


def _qs(params: dict[str, str]) -> str:
    """A query string of any text, as a client percent-encodes its bytes (unpaired
    surrogates too: a fuzzer sends what a careless client might)."""
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
                    for k, v in params.items())


def _send(xapi: Any, body: bytes) -> Any:
    return xapi.post("statements", data=body, content_type="application/json")


@FUZZ
@given(statements=st.lists(statements(), min_size=1, max_size=3))
def test_statements_never_get_a_server_error(xapi, statements):
    body = json.dumps(statements if len(statements) > 1 else statements[0],
                      ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    response = _send(xapi, body)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code == 200:
        for statement_id in response.json:
            got = xapi.get(f"statements?statementId={statement_id}")
            assert got.status_code in (200, 404), got.status_code  # 404: voided meanwhile
    listed = xapi.get("statements?limit=5")
    assert listed.status_code == 200


@FUZZ
@given(agent=agents(), activity=iris(), state_id=document_ids(), body=document_bodies(),
       method=st.sampled_from(["put", "post"]), precondition=st.sampled_from(
           [None, {"If-None-Match": "*"}, {"If-Match": '"abc"'}, {"If-Match": "*"}]))
def test_documents_never_get_a_server_error(xapi2, agent, activity, state_id, body, method,
                                            precondition):
    query = _qs({"activityId": activity, "agent": json.dumps(agent, ensure_ascii=False),
                 "stateId": state_id})
    content, content_type = body
    write = getattr(xapi2, method)(f"activities/state?{query}", data=content,
                                   content_type=content_type, headers=precondition or {})
    assert write.status_code < 500, write.get_data(as_text=True)[:500]
    read = xapi2.get(f"activities/state?{query}")
    assert read.status_code < 500
    if write.status_code == 204:
        assert read.status_code == 200
    profile = _qs({"activityId": activity, "profileId": state_id})
    for response in (xapi2.put(f"activities/profile?{profile}", data=content,
                               content_type=content_type, headers=precondition or {}),
                     xapi2.get(f"activities/profile?{profile}"),
                     xapi2.delete(f"activities/state?{query}")):
        assert response.status_code < 500, response.get_data(as_text=True)[:500]


@FUZZ
@given(params=st.dictionaries(
    st.sampled_from(["agent", "verb", "activity", "registration", "since", "until", "limit",
                     "format", "ascending", "related_activities", "more", "statementId"]),
    st.text(max_size=60), max_size=4))
def test_statement_queries_never_get_a_server_error(xapi, params):
    response = xapi.get(f"statements?{_qs(params)}")
    assert response.status_code < 500, (params, response.get_data(as_text=True)[:300])
