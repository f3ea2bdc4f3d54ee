"""What the statement consumers cost per statement when their runs are small.

    .venv/bin/python bench/consumer_runs.py [--source bench_learners] [--batch 25]
        [--rounds 3] [--base-url http://127.0.0.1:5098]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Under learner traffic a consumer worker (or a web worker after its commit) runs the
consumers over a few dozen new statements at a time, so each consumer's fixed cost per
run counts as much as its cost per statement. This copies a database that holds real
traffic (by default the one ``bench/learner_load.py`` leaves behind, ``bench_learners``),
resets every consumer in the copy (what it derived and its cursor), and runs them all
again from the first statement with ``--batch`` statements per batch, as small runs
would. Prints, per round, the statements, the batches, the SQL statements sent, and the
CPU milliseconds per statement of this process and of the copy's PostgreSQL backends,
with the load average before and after. Never asserts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The code beside this file is what is measured (also when it is a checkout elsewhere).
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to ``database``."""
    seen: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if not cmdline.startswith("postgres:") or f" {database} " not in cmdline:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return seen


def _copy(admin: sa.Engine, source: str, target: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))


def one_round(url: str, database: str, batch: int, base_url: str) -> dict[str, Any]:
    from lms import create_app
    from lms.db import get_engine, get_session
    from lms.xapi.consumers import registered_consumers, run_consumers
    from lms.xapi.models import ConsumerCursor, Statement

    os.environ["LMS_DATABASE_URL"] = url
    os.environ["LMS_BASE_URL"] = base_url  # the statements' activities and accounts are its
    os.environ["LMS_XAPI_CONSUMERS_BATCH_SIZE"] = str(batch)
    os.environ.setdefault("LMS_SECRET_KEY", "bench-consumer-runs")
    app = create_app()
    app.config["XAPI_CONSUMERS_BATCH_SIZE"] = batch
    with app.app_context():
        session = get_session()
        for consumer in registered_consumers(app).values():
            consumer.reset()
        session.execute(sa.update(ConsumerCursor).values(last_seq=0, last_error=None))
        session.commit()
        statements = session.scalar(sa.select(sa.func.count()).select_from(Statement))
        session.close()
        sent: list[int] = [0]
        sa.event.listen(get_engine(app), "before_cursor_execute",
                        lambda *_a: sent.__setitem__(0, sent[0] + 1))
        before = _backend_cpu(database)
        cpu, wall = time.process_time(), time.perf_counter()
        handled = run_consumers(app)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = _backend_cpu(database)
        get_engine(app).dispose()
    pg = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    return {"statements": statements, "handled": handled, "consumers":
            len(registered_consumers(app)), "sql": sent[0], "cpu": cpu, "pg": pg, "wall": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="bench_learners",
                        help="database to copy (left by bench/learner_load.py)")
    parser.add_argument("--batch", type=int, default=25, help="statements per batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base-url", default="http://127.0.0.1:5098",
                        help="the LMS_BASE_URL the source's statements were written under "
                        "(bench/learner_load.py's, on its default port)")
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="the server (its maintenance database) holding --source")
    args = parser.parse_args()
    server = args.database_url.rsplit("/", 1)[0]
    admin = sa.create_engine(
        args.database_url.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT")
    target = "bench_consumer_runs"
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"code: {ROOT}; source database {args.source}; {args.batch} statements per batch")
    try:
        for number in range(1, args.rounds + 1):
            _copy(admin, args.source, target)
            result = one_round(f"{server}/{target}", target, args.batch, args.base_url)
            n = result["statements"] or 1
            batches = -(-n // args.batch)
            print(f"round {number}: {result['statements']} statements, {batches} batches, "
                  f"{result['consumers']} consumers ({result['handled']} handled in all); "
                  f"{result['sql']} SQL statements ({result['sql'] / batches:.1f} a batch); "
                  f"CPU per statement: this process {1000 * result['cpu'] / n:.3f} ms, "
                  f"PostgreSQL {1000 * result['pg'] / n:.3f} ms; "
                  f"wall {1000 * result['wall'] / n:.3f} ms")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        admin.dispose()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("command: .venv/bin/python bench/consumer_runs.py " + " ".join(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
