"""Where a statement POST spends its time: cProfile over Lentera's request path.

    .venv/bin/python bench/lrs_profile.py [--singles 400] [--batches 20] [--top 35]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_profile] [--timer cpu]

Builds a fresh database, then posts ``--singles`` single statements and ``--batches``
batches of 100 (the statements of ``bench/lrs_ceiling.py``) through the WSGI app in
process (the Flask test client: no network, no gunicorn), consumers left to a worker as
in production (none runs here). Prints the time per request and the functions that take
it (own time and cumulative), with the load average. First, without the profiler, the
CPU time (``time.process_time``) and wall time per single POST of Lentera and of the bare
ceiling (``bench/bare_lrs.py``) in the same process: the CPU is what the app itself costs,
whatever the machine's load. Never asserts.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import json
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lrs_ceiling import load, recreate_database, statement  # noqa: E402


def steps_without_database(app: Any, rng: random.Random, rounds: int = 50) -> None:
    """CPU per batch of 100 of the store steps that need no database, cumulatively."""
    from lms.xapi.store.identify import identify
    from lms.xapi.store.index import activity_ids, agent_keys
    from lms.xapi.store.write import dumps
    from lms.xapi.validation import Context, check_statement
    from lms.xapi.validation.common import load_json

    raw = json.dumps([statement(rng) for _ in range(100)]).encode()
    authority = {"objectType": "Agent", "account": {"homePage": "https://x.test", "name": "c"}}

    def parse() -> Any:
        return load_json(raw, "the request body")

    def validate() -> Any:
        data = parse()
        for i, item in enumerate(data):
            check_statement(item, f"statements[{i}]", Context())
        return data

    def prepare() -> Any:
        data = validate()
        identify(data, authority, Context())
        for item in data:
            activity_ids(item)
            agent_keys(item)
        return "[" + ",".join(dumps(item) for item in data) + "]"

    with app.app_context():
        for name, step in (("parse", parse), ("+ validate", validate),
                           ("+ identify, index rows, serialise", prepare)):
            started = time.process_time()
            for _ in range(rounds):
                step()
            print(f"batch of 100, no database, {name}: CPU "
                  f"{(time.process_time() - started) / rounds * 1000:.2f} ms  ({load()})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--singles", type=int, default=400)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_profile")
    parser.add_argument("--timer", choices=("wall", "cpu"), default="wall",
                        help="the profiler's clock: wall (waits on PostgreSQL included) or "
                             "cpu (this process's CPU only: what the app's Python costs)")
    args = parser.parse_args()

    url = recreate_database(args.pg, args.database)
    bare_url = recreate_database(args.pg, f"{args.database}_bare")
    os.environ.update({"LMS_DATABASE_URL": url, "BARE_DATABASE_URL": bare_url, "LMS_BASE_URL": "http://127.0.0.1",
                       "LMS_INSTANCE_PATH": tempfile.mkdtemp(prefix="lentera-profile-"),
                       "LMS_SECRET_KEY": "bench", "LMS_RATELIMIT_ENABLED": "false"})
    from lms import create_app
    from lms.db import get_session, upgrade_database
    from lms.xapi import auth

    app = create_app()
    # As under a broker: consumers run on a worker, not in the request.
    app.config["XAPI_CONSUMERS_INLINE"] = False
    with app.app_context():
        upgrade_database()
        credential, secret = auth.create_credential("Profile", "statements/write")
        get_session().commit()
    headers = {"Authorization": "Basic " + base64.b64encode(
        f"{credential.key}:{secret}".encode()).decode(),
        "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
    rng = random.Random(7)
    singles = [json.dumps(statement(rng)) for _ in range(args.singles)]
    batches = [json.dumps([statement(rng) for _ in range(100)]) for _ in range(args.batches)]
    from bench import bare_lrs

    bare_lrs.create_schema(bare_url)
    spare = [json.dumps(statement(rng)) for _ in range(args.singles)]
    for name, wsgi in (("bare", bare_lrs.create_app()), ("Lentera", app)):
        test = wsgi.test_client()
        for body in spare[:20]:
            test.post("/xapi/statements", data=body, headers=headers)
        cpu, wall = time.process_time(), time.perf_counter()
        for body in spare[20:]:
            assert test.post("/xapi/statements", data=body, headers=headers).status_code == 200
        n = len(spare) - 20
        print(f"{name:8} single POST: CPU {(time.process_time() - cpu) / n * 1000:.2f} ms, "
              f"wall {(time.perf_counter() - wall) / n * 1000:.2f} ms per request "
              f"(no profiler, {n} requests)  ({load()})")

    steps_without_database(app, rng)

    client = app.test_client()
    for body in singles[:20] + batches[:1]:  # warm up
        assert client.post("/xapi/statements", data=body, headers=headers).status_code == 200

    for name, bodies in (("single", singles[20:]), ("batch100", batches[1:])):
        if not bodies:  # --singles or --batches too small to profile
            continue
        profile = cProfile.Profile(time.process_time) if args.timer == "cpu" \
            else cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for body in bodies:
            response = client.post("/xapi/statements", data=body, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
        profile.disable()
        elapsed = time.perf_counter() - started
        print(f"\n=== {name}: {len(bodies)} requests, {elapsed / len(bodies) * 1000:.2f} ms per "
              f"request under the profiler  ({load()})")
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    print("command:", " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
