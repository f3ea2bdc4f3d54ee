"""Concurrent writers of one xAPI document, in threads, each request its own transaction
(run on PostgreSQL with LMS_TEST_DATABASE_URL): no lost update, no 500.

Before documents were written as a compare-and-set on their ETag, If-Match let two writers
through, concurrent POST merges lost keys while every writer got 204, and concurrent
creates with If-None-Match: * answered 500.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import pytest

from tests.xapi.conftest import Xapi
from tests.xapi.helpers import agent

WRITERS = 8


def _query(state_id: str) -> dict[str, str]:
    return {"activityId": "http://x.test/concurrent", "agent": json.dumps(agent()),
            "stateId": state_id}


def _all_at_once(app: Any, authorization: str, work: Any) -> list[Any]:
    """Run ``work(xapi, index)`` in WRITERS threads released together; their results."""
    barrier = threading.Barrier(WRITERS)
    results: list[Any] = [None] * WRITERS
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            xapi = Xapi(app.test_client(), authorization, "2.0.0")
            barrier.wait(timeout=60)
            results[index] = work(xapi, index)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return results


@pytest.mark.parametrize("trial", range(3))
def test_if_match_lets_exactly_one_writer_through(app, xapi2, trial):
    query = _query(f"if-match-{trial}")
    created = xapi2.put("activities/state", {"v": 0}, query_string=query)
    assert created.status_code == 204
    etag = created.headers["ETag"]

    def write(xapi: Xapi, index: int) -> int:
        return xapi.put("activities/state", {"v": index + 1}, query_string=query,
                        headers={"If-Match": etag}).status_code

    statuses = Counter(_all_at_once(app, xapi2.authorization, write))
    assert statuses == {204: 1, 412: WRITERS - 1}
    final = xapi2.get("activities/state", query_string=query).json
    assert final["v"] in range(1, WRITERS + 1)


def test_concurrent_merges_lose_no_key(app, xapi2):
    query = _query("merges")
    keys_each = 10

    def merge(xapi: Xapi, index: int) -> list[int]:
        return [xapi.post("activities/state", {f"w{index}-k{k}": k}, query_string=query
                          ).status_code for k in range(keys_each)]

    statuses = [s for batch in _all_at_once(app, xapi2.authorization, merge) for s in batch]
    assert set(statuses) == {204}
    final = xapi2.get("activities/state", query_string=query).json
    assert len(final) == WRITERS * keys_each


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_creates_give_one_204_and_412s(app, xapi2, trial):
    query = _query(f"create-{trial}")

    def create(xapi: Xapi, index: int) -> int:
        return xapi.put("activities/state", {"writer": index}, query_string=query,
                        headers={"If-None-Match": "*"}).status_code

    statuses = Counter(_all_at_once(app, xapi2.authorization, create))
    assert statuses == {204: 1, 412: WRITERS - 1}


def test_concurrent_profile_creates_and_deletes_never_500(app, xapi2):
    query = {"activityId": "http://x.test/concurrent", "profileId": "p"}

    def churn(xapi: Xapi, index: int) -> list[int]:
        out = []
        for _ in range(5):
            out.append(xapi.put("activities/profile", {"i": index}, query_string=query,
                                headers={"If-None-Match": "*"}).status_code)
            out.append(xapi.delete("activities/profile", query_string=query).status_code)
        return out

    statuses = {s for batch in _all_at_once(app, xapi2.authorization, churn) for s in batch}
    assert statuses <= {204, 412}
