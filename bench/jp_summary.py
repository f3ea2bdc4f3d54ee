"""Benchmark: the cost of one employee's JP summary does not grow with their credits.

Usage: python bench/jp_summary.py [--small 10] [--large 1000] [--repeat 300]
                                  [--database-url postgresql://postgres@127.0.0.1:5432/bench_jp]

Builds a fresh database (SQLite in a temporary folder unless --database-url; on
PostgreSQL it DROPs and recreates the public schema), two employees, and credits them
``--small`` and ``--large`` pieces of learning through the LRS (``completed`` statements
with the JP extension; the ``jp-credits`` consumer credits them and keeps the per-year
summary). Then it times, for each employee, the median of ``--repeat`` calls of

- ``lms.jp.service.summary`` (what the home page, the Riwayat Belajar page, HR's employee
  record and the API answer read: one summary row), and, for contrast,
- ``lms.jp.service.statement`` (the yearly statement with every record, which lists them
  all and so grows with them),

and checks that both give the same total. The load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BASE = "http://bench.lentera.local"


def median_ms(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    import datetime as dt

    import sqlalchemy as sa

    from lms import create_app
    from lms.db import get_engine, get_session, upgrade_database

    tmp = Path(tempfile.mkdtemp(prefix="lentera-bench-jp-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp), "BASE_URL": BASE})
    try:
        with app.app_context():
            if get_engine().dialect.name == "postgresql":
                with get_engine().begin() as conn:
                    conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                    conn.execute(sa.text("CREATE SCHEMA public"))
            upgrade_database(app)
            from lms.jp import service
            from lms.people import service as people
            from lms.xapi.service import store_statements

            session = get_session()
            users = []
            for n, count in enumerate((args.small, args.large)):
                user = people.create_user(name=f"Pegawai {count}",
                                          nip=f"199001012015011{n + 1:03d}",
                                          email=f"p{n}@bench.lentera.local")
                users.append((user, count))
            session.commit()
            year = service.this_year()
            when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
            started = time.perf_counter()
            for user, count in users:
                for first in range(0, count, 500):
                    store_statements([{
                        "id": str(uuid.uuid4()),
                        "actor": {"objectType": "Agent",
                                  "account": {"homePage": BASE, "name": user.nip}},
                        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                        "object": {"objectType": "Activity",
                                   "id": f"{BASE}/external/{user.id}/{i}",
                                   "definition": {"name": {"id-ID": f"Webinar {i}"}}},
                        "result": {"completion": True,
                                   "extensions": {f"{BASE}/xapi/extensions/jp": 0.5}},
                        "timestamp": when.isoformat()} for i in range(first, min(count,
                                                                                first + 500))])
                    session.commit()
            print(f"database: {get_engine().dialect.name}; credited "
                  f"{sum(c for _u, c in users)} statements in "
                  f"{time.perf_counter() - started:.1f} s")
            print(f"load average: {os.getloadavg()}")
            rows = []
            for user, count in users:
                total = service.summary(user, year).jp
                listed = service.statement(user, year)
                assert len(listed.items) == count, (len(listed.items), count)
                assert abs(total - count * 0.5) < 1e-9 and listed.jp == total
                summary_ms = median_ms(lambda u=user: service.summary(u, year), args.repeat)
                statement_ms = median_ms(lambda u=user: service.statement(u, year),
                                         max(5, args.repeat // 20))
                rows.append((count, total, summary_ms, statement_ms))
            print(f"{'credits':>8} {'JP':>8} {'summary (ms)':>14} {'statement (ms)':>16}")
            for count, total, summary_ms, statement_ms in rows:
                print(f"{count:>8} {total:>8g} {summary_ms:>14.3f} {statement_ms:>16.2f}")
            ratio = rows[1][2] / rows[0][2]
            print(f"summary cost, {args.large} vs {args.small} credits: x{ratio:.2f}")
            print(f"load average: {os.getloadavg()}")
    finally:
        with app.app_context():
            get_engine().dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
