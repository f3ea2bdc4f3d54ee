"""Schemathesis fuzzes every operation of /api/v1 from its own OpenAPI document: whatever
the parameters, the answer is never a 5xx (bounded examples per operation in CI;
``LMS_FUZZ_EXAMPLES`` raises them, ``bench/fuzz.py --api`` runs it longer)."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402

EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "15"))


@pytest.fixture
def api_key(app: Any, users: dict[str, Any]) -> str:
    from lms.db import get_session
    from lms.xapi import auth

    credential, secret = auth.create_credential("fuzz", "api:read,api:write,monitor")
    get_session().commit()
    return "Basic " + base64.b64encode(f"{credential.key}:{secret}".encode()).decode()


def test_no_operation_of_the_api_answers_a_server_error(app: Any, api_key: str) -> None:
    from hypothesis import given

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8  # every module's operations are described
    failures: list[Any] = []
    calls = 0
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(headers={"Authorization": api_key})
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.query,
                                 response.text[:300]))

        fuzz()
    assert calls >= len(operations)
    assert not failures, failures[:5]
