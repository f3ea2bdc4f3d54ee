"""Benchmark an xAPI LRS: write throughput and query latency. Prints figures; never asserts.

Usage (any LRS, not only Lentera's):

    .venv/bin/python bench/lrs.py --url http://127.0.0.1:5000/xapi --key KEY --secret SECRET \\
        [--fill 1000000] [--single 2000] [--batches 100] [--queries 200] [--concurrency 4]

1. ``--fill N``: first bring the LRS to N bench statements (batches of 100, concurrent);
   skipped when the LRS already holds them (the bench keeps its count in a State document).
2. Single POSTs (one statement per request) and batches of 100: statements/s.
3. Typical queries, sequential, each ``--queries`` times with random keys: by agent, by
   activity with ``related_activities=true``, by registration (``limit=100``): p50 / p95 ms.

The statements look like Lentera's: 10,000 learners (account actors), 200 courses of 10
modules, a registration per learner and course, and a mix of verbs, results and context
activities, about 0.9 KB of JSON each.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlsplit

HOME = "https://lentera.bench"
AGENTS = 10_000
COURSES = 200
MODULES = 10
VERBS = [
    ("http://adlnet.gov/expapi/verbs/launched", "launched"),
    ("http://adlnet.gov/expapi/verbs/experienced", "experienced"),
    ("http://adlnet.gov/expapi/verbs/answered", "answered"),
    ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    ("http://adlnet.gov/expapi/verbs/passed", "passed"),
]
BENCH_STATE = {"activityId": f"{HOME}/bench", "stateId": "fill-count"}
BENCH_AGENT = {"objectType": "Agent", "account": {"homePage": HOME, "name": "bench"}}
NAMESPACE = uuid.UUID("6f0c0b8e-5b9a-4c7e-9d45-3a2f1c0e7b21")


def agent(i: int) -> dict[str, Any]:
    return {"objectType": "Agent", "name": f"Pegawai {i}",
            "account": {"homePage": HOME, "name": f"19900101{i:010d}"}}


def course_iri(c: int) -> str:
    return f"{HOME}/course/{c}"


def registration(i: int, c: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{i}:{c}"))


def make_statement(rng: random.Random) -> dict[str, Any]:
    i = rng.randrange(AGENTS)
    c = rng.randrange(COURSES)
    m = rng.randrange(MODULES)
    verb_id, verb_name = rng.choice(VERBS)
    statement: dict[str, Any] = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": agent(i),
        "verb": {"id": verb_id, "display": {"en-US": verb_name}},
        "object": {"objectType": "Activity", "id": f"{course_iri(c)}/module/{m}",
                   "definition": {"name": {"id-ID": f"Modul {m} kursus {c}"},
                                  "type": "http://adlnet.gov/expapi/activities/module"}},
        "context": {
            "registration": registration(i, c),
            "platform": "Lentera",
            "language": "id-ID",
            "contextActivities": {
                "parent": [{"id": course_iri(c), "objectType": "Activity"}],
                "grouping": [{"id": f"{HOME}/catalog", "objectType": "Activity"}],
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}],
            },
            "extensions": {f"{HOME}/ext/jp": 2},
        },
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
    }
    if verb_name in ("answered", "completed", "passed"):
        statement["result"] = {"score": {"scaled": round(rng.random(), 2), "raw": 80,
                                         "min": 0, "max": 100},
                               "success": verb_name == "passed", "completion": True,
                               "duration": "PT12M30S"}
    return statement


class Client:
    """A tiny xAPI client on http.client (one connection per thread)."""

    def __init__(self, url: str, key: str, secret: str, version: str):
        parts = urlsplit(url.rstrip("/"))
        self.scheme, self.netloc, self.base = parts.scheme, parts.netloc, parts.path
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}",
                        "X-Experience-API-Version": version}
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else \
                http.client.HTTPConnection
            conn = self.local.conn = cls(self.netloc, timeout=120)
        return conn

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> tuple[int, bytes, dict[str, str]]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        for attempt in range(2):
            conn = self._conn()
            try:
                conn.request(method, self.base + path, body=data, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.local.conn = None
                return response.status, payload, dict(response.getheaders())
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError


def post(client: Client, statements: list[dict[str, Any]] | dict[str, Any]) -> None:
    status, payload, _ = client.request("POST", "/statements", statements)
    if status != 200:
        raise SystemExit(f"POST /statements answered {status}: {payload[:300]!r}")


def stored_count(client: Client) -> int:
    query = (f"/activities/state?activityId={quote(BENCH_STATE['activityId'])}"
             f"&agent={quote(json.dumps(BENCH_AGENT))}&stateId={BENCH_STATE['stateId']}")
    status, payload, _ = client.request("GET", query)
    return int(json.loads(payload)["count"]) if status == 200 else 0


def save_count(client: Client, count: int) -> None:
    query = (f"/activities/state?activityId={quote(BENCH_STATE['activityId'])}"
             f"&agent={quote(json.dumps(BENCH_AGENT))}&stateId={BENCH_STATE['stateId']}")
    client.request("PUT", query, {"count": count})


def run_writes(client: Client, requests: int, per_request: int, concurrency: int,
               seed: int, progress: bool = False) -> float:
    """Send ``requests`` POSTs of ``per_request`` statements; return statements/s."""
    done = [0]
    lock = threading.Lock()

    def work(n: int) -> None:
        rng = random.Random(seed * 1_000_003 + n)
        batch = [make_statement(rng) for _ in range(per_request)]
        post(client, batch if per_request > 1 else batch[0])
        if progress:
            with lock:
                done[0] += 1
                if done[0] % 100 == 0:
                    print(f"\r  {done[0] * per_request:,} statements", end="", flush=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(work, range(requests)))
    elapsed = time.perf_counter() - start
    if progress:
        print()
    return requests * per_request / elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_queries(client: Client, count: int, seed: int) -> dict[str, tuple[float, float, float]]:
    rng = random.Random(seed)
    kinds = {
        "by agent": lambda: f"agent={quote(json.dumps(agent(rng.randrange(AGENTS))))}",
        "by activity, related_activities": lambda: (
            f"activity={quote(course_iri(rng.randrange(COURSES)))}&related_activities=true"),
        "by registration": lambda: (
            f"registration={registration(rng.randrange(AGENTS), rng.randrange(COURSES))}"),
    }
    results = {}
    for name, make_query in kinds.items():
        times = []
        found = 0
        for _ in range(count):
            query = make_query()
            start = time.perf_counter()
            status, payload, _ = client.request("GET", f"/statements?{query}&limit=100")
            times.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise SystemExit(f"GET /statements?{query} answered {status}: {payload[:300]!r}")
            found += len(json.loads(payload)["statements"])
        results[name] = (statistics.median(times), percentile(times, 0.95), found / count)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="LRS endpoint, e.g. http://127.0.0.1:5000/xapi")
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--version", default="1.0.3", help="X-Experience-API-Version to send")
    parser.add_argument("--fill", type=int, default=0,
                        help="bring the LRS to this many bench statements first")
    parser.add_argument("--single", type=int, default=2000, help="single-statement POSTs")
    parser.add_argument("--batches", type=int, default=100, help="POSTs of 100 statements")
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads for writes")
    args = parser.parse_args(argv)

    client = Client(args.url, args.key, args.secret, args.version)
    status, payload, _ = client.request("GET", "/about")
    print(f"LRS {args.url}: about -> {status} {payload[:100].decode(errors='replace')}")

    if args.fill:
        have = stored_count(client)
        missing = args.fill - have
        if missing > 0:
            batches = -(-missing // 100)
            print(f"Filling: {have:,} bench statements stored, adding {batches * 100:,} "
                  f"in batches of 100 ({args.concurrency} clients)")
            rate = run_writes(client, batches, 100, args.concurrency, seed=have + 17,
                              progress=True)
            save_count(client, have + batches * 100)
            print(f"  fill rate: {rate:,.0f} statements/s")
        else:
            print(f"Fill: {have:,} bench statements already stored")

    seed = int(time.time())
    if args.single:
        rate = run_writes(client, args.single, 1, args.concurrency, seed)
        print(f"single POSTs ({args.single} x 1, {args.concurrency} clients): "
              f"{rate:,.0f} statements/s")
    if args.batches:
        rate = run_writes(client, args.batches, 100, args.concurrency, seed + 1)
        print(f"batched POSTs ({args.batches} x 100, {args.concurrency} clients): "
              f"{rate:,.0f} statements/s")
    if args.queries:
        print(f"queries (sequential, limit=100, {args.queries} each):")
        for name, (p50, p95, avg) in run_queries(client, args.queries, seed).items():
            print(f"  {name:34} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
                  f"({avg:.0f} statements per answer)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
