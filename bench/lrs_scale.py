"""The LRS at national scale on PostgreSQL: a database of N statements, then ingest, the
three typical queries, the consumers' catch-up and storage. Prints; never asserts.

    .venv/bin/python bench/lrs_scale.py --size 1000000 [--months 18] [--database bench_part]
        [--reuse] [--queries 200] [--batches 30] [--singles 300]

1. Fill (skipped with ``--reuse`` when the database holds the statements already): a
   fresh database with Lentera's schema (its migrations: the statement tables are
   partitioned by month of ``stored``), the months of the last ``--months`` created, then
   N statements written by SQL (``INSERT ... SELECT`` over ``generate_series`` in chunks,
   keys and indexes dropped during the load and built after), each ~1.5 KB of JSON like a
   Lentera course module's, with their id rows and index rows (four activities and two
   agents each), ``stored`` spread evenly over the months. N/100 learners (about 100
   statements each), 200 courses of 10 modules.
2. Storage: the LRS tables' total size (with indexes and TOAST) per statement.
3. Queries through the service function the ``GET /xapi/statements`` view calls
   (:func:`lms.xapi.service.query_statements`, JSON text as ``format=exact`` returns it),
   ``limit=100``, each ``--queries`` times with random keys: one learner's statements; one
   course's statements with ``related_activities``; a one-week ``since``/``until`` window.
   p50/p95 ms, and the partitions the window query reads (EXPLAIN).
4. Ingest through the real store path in process (:func:`store_statements`, one commit per
   request): ``--batches`` batches of 100 and ``--singles`` single statements;
   statements/s, and CPU per statement of this process and of its PostgreSQL backend.
5. Consumers' catch-up: every consumer's cursor set to the newest statement before step 4,
   then :func:`run_consumers` over the statements step 4 stored: statements/s.

``--size 0`` skips 1-3 and 5 (a fresh database, ingest only): the CPU per statement on an
empty LRS, to compare code revisions (``LENTERA_ROOT=/path/to/checkout`` runs another
checkout's code with this script).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("LENTERA_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from bench.lrs_ceiling import HOME, VERBS, load, recreate_database, statement  # noqa: E402

COURSES = 200
MODULES = 10
AUTHORITY = {"objectType": "Agent", "name": "Bench",
             "account": {"homePage": HOME, "name": "bench"}}
LRS_TABLES = ("xapi_statement", "xapi_statement_id", "xapi_statement_activity",
              "xapi_statement_agent")

# One statement as stored (id, stored, timestamp, authority, version set), with markers
# where each row's values go; format() fills them in SQL.
_TEMPLATE_VALUES = {
    "ID": 1, "LEARNER": 2, "VERB": 3, "VERBNAME": 4, "COURSE": 5, "MODULE": 6, "SCALED": 7,
    "RAW": 8, "SUCCESS": 9, "REGISTRATION": 10, "PROGRAM": 11, "STORED": 12, "SESSION": 13,
}


def _template() -> str:
    """The statement JSON with ``%n$s`` in place of each row's values (see _TEMPLATE_VALUES)."""
    data = {
        "id": "@ID@",
        "actor": {"objectType": "Agent", "name": "Pegawai Negeri Sipil Nomor @LEARNER@",
                  "account": {"homePage": HOME, "name": "19900101@LEARNER@"}},
        "verb": {"id": "@VERB@", "display": {"en-US": "@VERBNAME@", "id-ID": "mengikuti"}},
        "object": {"objectType": "Activity", "id": f"{HOME}/course/@COURSE@/module/@MODULE@",
                   "definition": {
                       "type": "http://adlnet.gov/expapi/activities/module",
                       "name": {"id-ID": "Modul @MODULE@ Pelatihan Kepemimpinan @COURSE@",
                                "en-US": "Module @MODULE@ of leadership course @COURSE@"},
                       "description": {"id-ID": "Modul pembelajaran mandiri tentang "
                                                "pelayanan publik, etika, dan akuntabilitas "
                                                "aparatur sipil negara di pemerintah daerah.",
                                       "en-US": "A self-paced module on public service, "
                                                "ethics and accountability."}}},
        "result": {"score": {"scaled": "@SCALED@", "raw": "@RAW@", "min": 0, "max": 100},
                   "success": "@SUCCESS@", "completion": True, "duration": "PT12M30S",
                   "response": "Jawaban peserta tentang studi kasus pelayanan publik"},
        "context": {
            "registration": "@REGISTRATION@", "platform": "Lentera", "language": "id-ID",
            "contextActivities": {
                "parent": [{"objectType": "Activity", "id": f"{HOME}/course/@COURSE@"}],
                "grouping": [{"objectType": "Activity", "id": f"{HOME}/program/@PROGRAM@"}],
                "category": [{"objectType": "Activity",
                              "id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}]},
            "extensions": {f"{HOME}/ext/unit": "Badan Kepegawaian dan Pengembangan SDM",
                           f"{HOME}/ext/position": "Analis Kebijakan Ahli Muda",
                           f"{HOME}/ext/session": "@SESSION@"}},
        "timestamp": "@STORED@", "stored": "@STORED@", "authority": AUTHORITY,
        "version": "1.0.0",
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for name in ("SCALED", "RAW", "SUCCESS"):  # JSON numbers and booleans: no quotes
        text = text.replace(f'"@{name}@"', f"@{name}@")
    for name, n in _TEMPLATE_VALUES.items():
        text = text.replace(f"@{name}@", f"%{n}$s")
    return text


_CHUNK = """
CREATE TEMP TABLE chunk ON COMMIT DROP AS
SELECT g, md5('statement' || g)::uuid::text AS statement_id, stored,
       learner, course, module, verb,
       md5('registration' || learner || '/' || course)::uuid::text AS registration
FROM (
    SELECT g,
           date_trunc('milliseconds', %(start)s::timestamptz
                      + ((g - 1)::float8 / %(size)s) * %(span)s::interval) AS stored,
           lpad((abs(hashint8(g)) %% %(agents)s)::text, 10, '0') AS learner,
           abs(hashint8(g * 7 + 1)) %% {courses} AS course,
           abs(hashint8(g * 13 + 2)) %% {modules} AS module,
           (%(verbs)s::text[])[1 + abs(hashint8(g * 17 + 3)) %% 4] AS verb
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS g
) AS s
"""

_STATEMENTS = """
INSERT INTO xapi_statement (seq, statement_id, actor_key, verb_id, activity_id,
    object_agent_key, ref_id, registration, authority_key, "timestamp", stored, voided, data)
SELECT g, statement_id, 'account:{home}|19900101' || learner, verb,
       '{home}/course/' || course || '/module/' || module, NULL, NULL, registration,
       %(authority)s, stored, stored, false,
       format(%(template)s, statement_id, learner, verb, regexp_replace(verb, '.*/', ''),
              course, module, round((g %% 100) / 100.0, 2)::text, (g %% 101)::text,
              CASE WHEN g %% 10 < 7 THEN 'true' ELSE 'false' END, registration,
              course %% 12, to_char(stored AT TIME ZONE 'UTC',
                                    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              md5('session' || g)::uuid::text)::jsonb
FROM chunk ORDER BY g
"""

_IDS = """
INSERT INTO xapi_statement_id (statement_id, seq, stored)
SELECT statement_id, g, stored FROM chunk
"""

_ACTIVITIES = """
INSERT INTO xapi_statement_activity (activity_id, seq, stored)
SELECT a, g, stored FROM chunk, unnest(ARRAY[
    '{home}/course/' || course || '/module/' || module, '{home}/course/' || course,
    '{home}/program/' || (course %% 12),
    'https://w3id.org/xapi/cmi5/context/categories/moveon']) AS a
"""

_AGENTS = """
INSERT INTO xapi_statement_agent (agent_key, seq, stored)
SELECT a, g, stored FROM chunk,
       unnest(ARRAY['account:{home}|19900101' || learner, %(authority)s]) AS a
"""


def agents_for(size: int) -> int:
    return max(size // 100, 1000)


def months_of(months: int) -> tuple[dt.datetime, dt.datetime]:
    from lms.xapi.partitions import add_months, month_start

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return add_months(month_start(now), -(months - 1)), now


def _keys_and_indexes(conn: Any) -> list[tuple[str, str, str]]:
    """(table, kind, SQL to create) of the LRS tables' keys and indexes."""
    found = []
    for table in LRS_TABLES:
        for name, definition in conn.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'p'", (table,)):
            found.append((table, f"constraint {name}",
                          f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
        for name, definition in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint "
                "WHERE conrelid = %s::regclass)", (table, table)):
            # (pg_indexes says ON ONLY for a partitioned table: that builds no partition.)
            found.append((table, f"index {name}", definition.replace(" ON ONLY ", " ON ")))
    return found


def fill(url: str, size: int, months: int, chunk: int) -> None:
    import psycopg

    from lms.xapi.validation.agents import agent_key

    start, end = months_of(months)
    authority = agent_key(AUTHORITY)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '1GB'")
        keys = _keys_and_indexes(conn)
        for table, kind, _sql in reversed(keys):
            name = kind.split()[1]
            if kind.startswith("constraint"):
                conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            else:
                conn.execute(f"DROP INDEX {name}")
        print(f"fill: {size:,} statements stored {start:%Y-%m-%d} .. {end:%Y-%m-%d}, "
              f"{agents_for(size):,} learners, chunks of {chunk:,}  ({load()})", flush=True)
        params = {"start": start, "span": end - start, "size": size,
                  "agents": agents_for(size), "verbs": VERBS, "authority": authority,
                  "template": _template()}
        started = time.perf_counter()
        for lo in range(1, size + 1, chunk):
            hi = min(lo + chunk, size + 1)
            with conn.transaction():
                conn.execute(_CHUNK.format(courses=COURSES, modules=MODULES),
                             {**params, "lo": lo, "hi": hi})
                conn.execute(_STATEMENTS.format(home=HOME), params)
                conn.execute(_IDS, params)
                conn.execute(_ACTIVITIES.format(home=HOME), params)
                conn.execute(_AGENTS.format(home=HOME), params)
            done = hi - 1
            elapsed = time.perf_counter() - started
            print(f"  {done:>12,} rows  {elapsed:7.0f} s  {done / elapsed:8,.0f}/s  "
                  f"eta {(size - done) / (done / elapsed):6.0f} s  ({load()})", flush=True)
        conn.execute("SELECT setval('xapi_statement_seq_seq', %s)", (size,))
        for table, kind, sql in keys:
            began = time.perf_counter()
            conn.execute(sql)
            print(f"  {table} {kind}: {time.perf_counter() - began:.0f} s  ({load()})",
                  flush=True)
        began = time.perf_counter()
        for table in LRS_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        print(f"  vacuum analyze: {time.perf_counter() - began:.0f} s  ({load()})", flush=True)
        print(f"fill done in {time.perf_counter() - started:.0f} s  ({load()})", flush=True)


def storage(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        count = conn.execute("SELECT count(*) FROM xapi_statement_id").fetchone()[0]
        total = 0
        for table in LRS_TABLES:
            size = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "WHERE c.oid = %s::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits "
                "WHERE inhparent = %s::regclass)", (table, table)).fetchone()[0]
            total += size
            print(f"storage: {table:26} {size / 2**30:8.2f} GiB")
        print(f"storage: {count:,} statements, {total / 2**30:.2f} GiB in all, "
              f"{total / max(count, 1):,.0f} bytes per statement")


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return (f"p50 {statistics.median(values) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"(n={len(values)})")


def queries(app: Any, size: int, months: int, count: int, rng: random.Random) -> None:
    from lms.db import get_session
    from lms.xapi.service import StatementQuery, query_statements

    start, end = months_of(months)
    agents = agents_for(size)
    kinds = {
        "one learner's statements": lambda: StatementQuery(
            agent=f"account:{HOME}|19900101{rng.randrange(agents):010d}", limit=100),
        "one course, related_activities": lambda: StatementQuery(
            activity=f"{HOME}/course/{rng.randrange(COURSES)}", related_activities=True,
            limit=100),
        "one week since/until": lambda: _week(rng, start, end),
    }
    with app.app_context():
        session = get_session()
        for name, make in kinds.items():
            times = []
            found = 0
            for _ in range(count):
                query = make()
                began = time.perf_counter()
                rows, _more, _upto = query_statements(query, raw=True)
                times.append(time.perf_counter() - began)
                found += len(rows)
                session.rollback()
            print(f"query {name:32} {percentiles(times)}  {found / count:.0f} statements "
                  f"per query  ({load()})", flush=True)
        week = _week(rng, start, end)
        plan = session.execute(_explain(
            "SELECT seq FROM xapi_statement WHERE stored > :a AND stored <= :b "
            "ORDER BY seq DESC LIMIT 101"), {"a": week.since, "b": week.until}).scalars().all()
        scanned = sorted({line.split(" on ")[1].split()[0] for line in plan
                          if " on xapi_statement_" in line})
        total = session.scalar(_count_partitions())
        print(f"a one-week window reads {len(scanned)} of {total} statement partitions: "
              f"{', '.join(scanned)}")
        session.rollback()


def _explain(sql: str) -> Any:
    import sqlalchemy as sa

    return sa.text("EXPLAIN " + sql)


def _count_partitions() -> Any:
    import sqlalchemy as sa

    return sa.text("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                   "'xapi_statement'::regclass")


def _week(rng: random.Random, start: dt.datetime, end: dt.datetime) -> Any:
    from lms.xapi.service import StatementQuery

    span = (end - start - dt.timedelta(days=7)).total_seconds()
    since = start + dt.timedelta(seconds=rng.random() * span)
    return StatementQuery(since=since, until=since + dt.timedelta(days=7), limit=100)


def backend_cpu(session: Any) -> dict[int, float]:
    """User + system CPU seconds of each PostgreSQL backend of this database (local
    server, from /proc): the app's pool may hand out any of its connections."""
    import sqlalchemy as sa

    pids = session.scalars(sa.text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend'")).all()
    session.commit()
    cpu = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return cpu


def _cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def ingest(app: Any, batches: int, singles: int, rng: random.Random,
           consume: bool) -> None:
    import sqlalchemy as sa

    from lms.db import get_session
    from lms.xapi.models import ConsumerCursor, Statement
    from lms.xapi.service import store_statements

    with app.app_context():
        session = get_session()
        if consume:
            from lms.xapi.consumers import registered_consumers

            top = session.scalar(sa.select(sa.func.max(Statement.seq))) or 0
            for name in registered_consumers(app):
                cursor = session.get(ConsumerCursor, name) or ConsumerCursor(name=name)
                cursor.last_seq = top
                session.add(cursor)
            session.commit()
        for _ in range(3):  # warm up (and the connection the rest reuses)
            store_statements([statement(rng) for _ in range(100)], AUTHORITY,
                             copy_input=False)
            session.commit()
        for name, size, requests in (("batches of 100", 100, batches),
                                     ("single statements", 1, singles)):
            bodies = [[statement(rng) for _ in range(size)] for _ in range(requests)]
            cpu, db_cpu, wall = time.process_time(), backend_cpu(session), time.perf_counter()
            for body in bodies:
                store_statements(body, AUTHORITY, copy_input=False)
                session.commit()
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            db_cpu = _cpu_between(db_cpu, backend_cpu(session))
            n = size * requests
            print(f"ingest {name:18} {n / wall:8,.0f} statements/s  CPU per statement: "
                  f"app {cpu / n * 1000:.3f} ms, PostgreSQL {db_cpu / n * 1000:.3f} ms  "
                  f"({requests} requests, {load()})", flush=True)
        session.commit()
    if consume:
        from lms.xapi.consumers import consumer_status, run_consumers

        with app.app_context():
            began = time.perf_counter()
            handled = run_consumers(app)
            elapsed = time.perf_counter() - began
            pending = sum(row["pending"] for row in consumer_status(app))
        print(f"consumers' catch-up: {handled:,} statement deliveries in {elapsed:.1f} s, "
              f"{handled / elapsed:,.0f}/s; {pending} left pending  ({load()})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_part")
    parser.add_argument("--reuse", action="store_true",
                        help="Keep the database when it holds --size statements already.")
    parser.add_argument("--fill-only", action="store_true")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--singles", type=int, default=300)
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), f"({load()})",
          flush=True)
    url = f"{args.pg}/{args.database}"
    import psycopg

    filled = 0
    if args.reuse:
        try:
            with psycopg.connect(url) as conn:
                filled = conn.execute("SELECT count(*) FROM xapi_statement_id "
                                      "WHERE seq <= %s", (args.size,)).fetchone()[0]
        except psycopg.Error:
            filled = 0
    os.environ.update({"LMS_DATABASE_URL": url, "LMS_BASE_URL": "http://127.0.0.1",
                       "LMS_INSTANCE_PATH": tempfile.mkdtemp(prefix="lentera-scale-"),
                       "LMS_SECRET_KEY": "bench", "LMS_RATELIMIT_ENABLED": "false"})
    from lms import create_app
    from lms.db import get_engine, upgrade_database

    if filled < args.size or not args.reuse:
        recreate_database(args.pg, args.database)
    app = create_app()
    app.config["XAPI_CONSUMERS_INLINE"] = False  # as under a broker: on a worker
    if filled < args.size or not args.reuse:
        with app.app_context():
            upgrade_database()
            if args.size:
                from lms.xapi.partitions import add_months, ensure_months

                start, _end = months_of(args.months)
                with get_engine(app).begin() as conn:
                    ensure_months(conn, [add_months(start, n) for n in range(args.months)])
        if args.size:
            fill(url, args.size, args.months, args.chunk)
    if args.fill_only:
        return 0
    rng = random.Random(19)
    if args.size:
        storage(url)
        queries(app, args.size, args.months, args.queries, rng)
    ingest(app, args.batches, args.singles, rng, consume=bool(args.size))
    print(f"done  ({load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
