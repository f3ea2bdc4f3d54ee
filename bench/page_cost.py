"""What one learner page costs the app: CPU milliseconds and database queries per request.

Run it (PostgreSQL on 127.0.0.1, trust auth):

    .venv/bin/python bench/page_cost.py [--rounds 100] [--database-url URL]

It prepares a database as ``bench/learner_load.py`` does (dropped first: ``lms init``, the
demo courses, learners with the app's password hash), signs one learner in through the
Flask test client, enrols them in a course and completes its first lesson, then asks each
learner page ``--rounds`` times and prints, per page, the queries one request makes and
the CPU milliseconds of this process per request (``time.process_time``: the app's own
work, PostgreSQL's not counted; steady whatever else the machine runs, unlike rates and
latencies). Writes are measured too: a lesson opened (it records an ``experienced``
statement), a lesson marked done again, and a sign-in (the password hash). The last rows
are the floor under every page, signed out and signed in: a view of the bench's own that
returns one byte (what any request pays: the session and the app's hooks; the user is
loaded only when something asks for it), and the offline page (the layout around a
paragraph: the user, the top bar with its menus, the footer). Statement
consumers do not run in the request here (``LMS_XAPI_CONSUMERS_INLINE=false``, as with a
worker); their cost is the consumer worker's line of ``learner_load.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_page_cost")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import learner_load

    work = Path(tempfile.mkdtemp(prefix="page-cost-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LMS_DATABASE_URL": args.database_url,
        "LMS_BASE_URL": "http://127.0.0.1",
        "LMS_INSTANCE_PATH": str(work / "instance"),
        "LMS_SECRET_KEY": "bench-secret",
        "LMS_RATELIMIT_ENABLED": "false",
        "LMS_XAPI_CONSUMERS_INLINE": "false",
    }
    print(f"Preparing {args.database_url} with the sample courses...")
    courses = learner_load._prepare(args.database_url, 2, env)

    import sqlalchemy as sa

    from lms import create_app
    from lms.db import get_engine

    app = create_app({"WTF_CSRF_ENABLED": False})
    # The floor under every page: a view that returns one byte, with nothing of the app's
    # own but what every request pays (the session, the user when signed in, the hooks).
    app.add_url_rule("/_bench/floor", "bench_floor", lambda: "x")
    client = app.test_client()
    nip = f"{learner_load.NIP_PREFIX}1001"
    slug = sorted(courses)[0]
    lessons = [m["id"] for m in courses[slug] if m["kind"] == "lesson"]

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, text: str, *_a: Any) -> None:
        statements.append(text)

    def measure(method: str, path: str, rounds: int, **kwargs: Any) -> tuple[int, float, int]:
        """(queries of one request, median CPU ms per request over 5 batches, bytes)."""
        response = getattr(client, method)(path, **kwargs)  # caches warm
        statements.clear()
        sa.event.listen(get_engine(app), "before_cursor_execute", count)
        try:
            response = getattr(client, method)(path, **kwargs)
        finally:
            sa.event.remove(get_engine(app), "before_cursor_execute", count)
        assert response.status_code in (200, 302), (path, response.status_code)
        queries = len(statements)
        batches = []
        for _ in range(5):
            start = time.process_time()
            for _ in range(max(1, rounds // 5)):
                getattr(client, method)(path, **kwargs)
            batches.append((time.process_time() - start) / max(1, rounds // 5))
        return queries, 1000 * statistics.median(batches), len(response.data)

    floor = [("floor (one-byte view), out", *measure("get", "/_bench/floor", args.rounds)),
             ("layout (offline page), out", *measure("get", "/offline", args.rounds))]
    login = {"identifier": nip, "password": learner_load.PASSWORD}
    sign_in = measure("post", "/login", max(5, args.rounds // 10), data=login)
    floor += [("floor (one-byte view), in", *measure("get", "/_bench/floor", args.rounds)),
              ("layout (offline page), in", *measure("get", "/offline", args.rounds))]
    client.post(f"/courses/{slug}/enrol")
    client.post(f"/courses/{slug}/modules/{lessons[0]}/complete")
    pages = {
        "home": "/",
        "catalog": "/courses/",
        "catalog search": "/courses/?q=pelayanan&jp_max=6",
        "course page": f"/courses/{slug}",
        "lesson (writes a statement)": f"/courses/{slug}/modules/{lessons[1]}",
        "competency profile": "/competency/",
        "transcript": "/courses/transcript",
        "my courses": "/courses/mine",
    }
    quiz = next(m["id"] for m in courses[slug] if m["kind"] == "quiz")
    started = client.post(f"/courses/{slug}/quizzes/{quiz}/start")
    pages["quiz page (an open attempt)"] = started.headers["Location"]
    rows = [(name, *measure("get", path, args.rounds)) for name, path in pages.items()]
    rows.append(("lesson marked done again", *measure(
        "post", f"/courses/{slug}/modules/{lessons[0]}/complete", args.rounds)))
    rows.append(("sign-in (scrypt)", *sign_in))
    rows += floor

    one, five, fifteen = os.getloadavg()
    print(f"\nload average {one:.2f} {five:.2f} {fifteen:.2f}; command: "
          f".venv/bin/python bench/page_cost.py {' '.join(sys.argv[1:])}")
    print(f"Signed-in learner, course {slug}, {args.rounds} requests a page, this process's "
          "CPU (PostgreSQL not counted):\n")
    print(f"{'page':30} {'queries':>7} {'CPU ms':>7} {'bytes':>7}")
    for name, queries, cpu, size in rows:
        print(f"{name:30} {queries:7d} {cpu:7.2f} {size:7d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
