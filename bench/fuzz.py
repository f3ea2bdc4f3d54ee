"""A long fuzzing run against a live Lentera: the test suite's hypothesis strategies for
statements, documents and statement queries (tests/xapi/fuzzing.py), and schemathesis over
the /api/v1 OpenAPI document, for as many examples as you like. Prints request counts per
kind, the statuses seen, the load average, and every 5xx (exit status 1 if any).

    LMS_DATABASE_URL=sqlite:////tmp/fuzz.db lms init
    lms client create --name fuzz --scopes all,api:read,api:write,monitor --json
    LMS_DATABASE_URL=sqlite:////tmp/fuzz.db lms serve --port 5103
    python bench/fuzz.py --url http://127.0.0.1:5103 --key KEY --secret SECRET \\
        --examples 2000 [--api]

Only point it at a server of your own on 127.0.0.1: it writes thousands of hostile
statements and documents.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.xapi.fuzzing import (  # noqa: E402
    agents,
    document_bodies,
    document_ids,
    iris,
    statements,
)


def _qs(params: dict[str, str]) -> str:
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
                    for k, v in params.items())


class Run:
    def __init__(self, url: str, key: str, secret: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.http.auth = (key, secret)
        self.counts: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []

    def call(self, kind: str, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"X-Experience-API-Version": "2.0.0", **kw.pop("headers", {})}
        response = self.http.request(method, self.url + path, headers=headers, timeout=120,
                                     **kw)
        self.counts[kind] += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.errors.append(f"{method} {path[:200]} -> {response.status_code}: "
                               f"{response.text[:200]}")
        return response


def fuzz_lrs(run: Run, examples: int) -> None:
    config = settings(max_examples=examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))

    @config
    @given(items=st.lists(statements(), min_size=1, max_size=5))
    def post_statements(items: list[dict[str, Any]]) -> None:
        body = json.dumps(items, ensure_ascii=False, allow_nan=True).encode(
            "utf-8", "surrogatepass")
        run.call("statements POST", "POST", "/xapi/statements", data=body,
                 headers={"Content-Type": "application/json"})

    @config
    @given(agent=agents(), activity=iris(), doc_id=document_ids(), body=document_bodies(),
           method=st.sampled_from(["PUT", "POST", "DELETE", "GET"]))
    def documents(agent: dict[str, Any], activity: str, doc_id: str,
                  body: tuple[bytes, str], method: str) -> None:
        query = _qs({"activityId": activity, "agent": json.dumps(agent, ensure_ascii=False),
                     "stateId": doc_id})
        run.call(f"state {method}", method, f"/xapi/activities/state?{query}", data=body[0],
                 headers={"Content-Type": body[1]})

    @config
    @given(params=st.dictionaries(
        st.sampled_from(["agent", "verb", "activity", "registration", "since", "until",
                         "limit", "format", "ascending", "more", "statementId"]),
        st.text(max_size=60), max_size=4))
    def queries(params: dict[str, str]) -> None:
        run.call("statements GET", "GET", f"/xapi/statements?{_qs(params)}")

    for step in (post_statements, documents, queries):
        step()


def fuzz_api(run: Run, examples: int) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{run.url}/api/v1/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(session=run.http)
            run.counts[f"api {case.method} {case.path}"] += 1
            run.statuses[response.status_code] += 1
            if response.status_code >= 500:
                run.errors.append(f"{case.method} {case.formatted_path} {case.query} -> "
                                  f"{response.status_code}")

        call()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--examples", type=int, default=1000,
                        help="examples per kind of request (default 1000)")
    parser.add_argument("--api", action="store_true", help="also fuzz /api/v1 (schemathesis)")
    args = parser.parse_args()
    run = Run(args.url, args.key, args.secret)
    started = time.monotonic()
    fuzz_lrs(run, args.examples)
    if args.api:
        fuzz_api(run, max(1, args.examples // 10))
    seconds = time.monotonic() - started
    print(f"{sum(run.counts.values())} requests in {seconds:.0f} s "
          f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    for kind, count in sorted(run.counts.items()):
        print(f"  {kind:40} {count:7d}")
    print("statuses:", ", ".join(f"{code}: {n}" for code, n in sorted(run.statuses.items())))
    print(f"server errors (5xx): {len(run.errors)}")
    for line in run.errors[:50]:
        print("  " + line)
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
