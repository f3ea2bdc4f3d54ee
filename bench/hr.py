"""Benchmark: HR reporting at Pemda-plus scale on PostgreSQL.

Usage: python bench/hr.py [--employees 100000] [--statements 2000000]
                          [--database-url postgresql://postgres@127.0.0.1:5432/bench_reports]

Builds a fresh database (it DROPs and recreates the public schema of the database it is
given) with one Pemda of 40 OPDs, ``--employees`` employees with positions and position
standards, course enrolments and completions, other learning credited with JP,
competency profiles, and ``--statements`` rows in the LRS statement table. Data is
bulk-loaded with COPY straight into the tables (the consumers' derived rows are written
as the consumers would write them), because replaying 2 million statements through the
consumers is a different benchmark (bench/lrs.py).

Then it times, through the real Flask views and the test client:
- the HR dashboard page (/reports/) for an admin (every employee) and for an HR user of
  one OPD, median of several renders; and the gap heatmap the page loads after it
  renders (/reports/heatmap?fragment=1);
- the CSV export of the completion records (/reports/completions.csv) for the whole
  year, consuming the streamed response, with the peak of Python allocations
  (tracemalloc, measured on a second run) and the process's resident set size;
- the XLSX export of the same rows, for comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import statistics
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_reports"
BASE = "http://bench.lentera.local"
KINDS = ["jpt", "administrator", "pengawas", "pelaksana", "fungsional"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label}: {now - started:.1f} s", flush=True)
    return now


def copy_rows(conn, table: str, columns: list[str], rows) -> int:
    """COPY ``rows`` (an iterable of tuples) into ``table``; return the count."""
    count = 0
    with conn.cursor() as cur:
        cols = ", ".join(f'"{c}"' for c in columns)
        with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def build(app, employees: int, statements: int, seed: int = 11) -> dict:
    """Load the data set; return the ids a measurement needs."""
    import sqlalchemy as sa

    from lms.competency import service as competency
    from lms.db import get_engine, get_session, upgrade_database
    from lms.people.models import Role
    from lms.people.service import create_user

    rng = random.Random(seed)
    engine = get_engine(app)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    upgrade_database(app)
    started = time.perf_counter()
    competency.load_shipped_frameworks()
    session = get_session()
    session.commit()
    competency_ids = [c.id for c in competency.all_competencies()]
    managerial = competency_ids[:9]

    raw = engine.raw_connection()
    conn = raw.driver_connection
    now = dt.datetime.now(dt.UTC)
    year_start = dt.datetime(now.year, 1, 1, tzinfo=dt.UTC)
    span = (now - year_start).total_seconds()

    # Organisation: Pemda > 40 OPD > 4 bidang > 2 seksi; 5 positions per unit.
    units = [(1, None, "Pemkab Bench", "pemda", "/1/")]
    next_id = 2
    opds = []
    for o in range(40):
        opd_id = next_id
        next_id += 1
        units.append((opd_id, 1, f"Dinas {o:02d}", "opd", f"/1/{opd_id}/"))
        opds.append(opd_id)
        for b in range(4):
            bid = next_id
            next_id += 1
            units.append((bid, opd_id, f"Bidang {b}", "bidang", f"/1/{opd_id}/{bid}/"))
            for s in range(2):
                sid = next_id
                next_id += 1
                units.append((sid, bid, f"Seksi {s}", "seksi", f"/1/{opd_id}/{bid}/{sid}/"))
    copy_rows(conn, "org_unit", ["id", "parent_id", "name", "kind", "path"], units)
    positions = []
    for unit_id, _parent, _name, kind, _path in units:
        for p in range(5):
            pkind = {"pemda": "jpt", "opd": "jpt" if p == 0 else "fungsional",
                     "bidang": "administrator" if p == 0 else "pelaksana",
                     "seksi": "pengawas" if p == 0 else rng.choice(["pelaksana",
                                                                  "fungsional"])}[kind]
            positions.append((len(positions) + 1, f"Jabatan {p}", pkind, unit_id))
    copy_rows(conn, "position", ["id", "name", "kind", "org_unit_id"], positions)
    requirements = []
    for pid, _n, pkind, _u in positions:
        base = {"jpt": 4, "administrator": 3, "pengawas": 2}.get(pkind, 2)
        for cid in managerial:
            requirements.append((pid, cid, base if rng.random() < 0.7 else base - 1 or 1))
    copy_rows(conn, "position_requirement", ["position_id", "competency_id", "level"],
              requirements)
    raw.commit()
    started = step(f"{len(units)} org units, {len(positions)} positions, "
                   f"{len(requirements)} standard rows", started)

    # Employees: NIPs unique and valid; one current position each.
    def nip(i: int) -> str:
        birth = dt.date(1965, 1, 1) + dt.timedelta(days=i // 999)
        appointed = min(birth.year + 25, 2023)
        return f"{birth:%Y%m%d}{appointed}{(i % 12) + 1:02d}{1 + i % 2}{i % 999 + 1:03d}"

    position_ids = [p[0] for p in positions]
    copy_rows(conn, "user", ["id", "nip", "name", "email", "active", "created_at",
                             "session_token"],
              ((i, nip(i), f"Pegawai {i}", f"pegawai{i}@bench.go.id", True, now,
                uuid.uuid4().hex) for i in range(1, employees + 1)))
    copy_rows(conn, "user_role", ["user_id", "role"],
              ((i, "learner") for i in range(1, employees + 1)))
    copy_rows(conn, "position_assignment", ["id", "user_id", "position_id", "start_date"],
              ((i, i, rng.choice(position_ids), dt.date(2020, 1, 1))
               for i in range(1, employees + 1)))
    with raw.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('\"user\"', 'id'), %s)",
                    (employees,))
        cur.execute("SELECT setval(pg_get_serial_sequence('org_unit', 'id'), %s)", (next_id,))
        cur.execute("SELECT setval(pg_get_serial_sequence('position', 'id'), %s)",
                    (len(positions),))
        cur.execute("SELECT setval(pg_get_serial_sequence('position_assignment', 'id'), %s)",
                    (employees,))
    raw.commit()
    started = step(f"{employees} employees", started)

    # Profiles: a level for most (employee, competency) pairs.
    copy_rows(conn, "user_competency",
              ["user_id", "competency_id", "level", "progress", "evidence_count"],
              ((u, c, rng.randint(1, 4), 0, 1) for u in range(1, employees + 1)
               for c in managerial if rng.random() < 0.6))
    raw.commit()
    started = step("competency profiles", started)

    # Courses, enrolments, completions (about 2.2 per employee), other credited learning.
    courses = [(i, f"kursus-{i}", f"Kursus Bench {i}", float(rng.choice([2, 3, 4, 6, 8])))
               for i in range(1, 21)]
    copy_rows(conn, "course", ["id", "slug", "title", "summary", "topic", "level", "language",
                               "jp", "competencies", "competency_codes", "published",
                               "version", "created_at", "updated_at"],
              ((cid, slug, title, "", "", "dasar", "id", jp, "[]", "", True, 1, now, now)
               for cid, slug, title, jp in courses))
    enrolments, completions, credits = [], [], []
    for u in range(1, employees + 1):
        for course in rng.sample(courses, rng.randint(0, 5)):
            when = year_start + dt.timedelta(seconds=rng.random() * span)
            registration = str(uuid.UUID(int=rng.getrandbits(128)))
            enrolments.append((u, course[0], registration, when - dt.timedelta(days=3)))
            if rng.random() < 0.8:
                sid = str(uuid.UUID(int=rng.getrandbits(128)))
                completions.append((u, course[0], 1, course[2], course[3], "[]", when,
                                    registration, sid, f"LTR-{sid[:23]}"))
        if rng.random() < 0.3:
            when = year_start + dt.timedelta(seconds=rng.random() * span)
            credits.append((u, f"{BASE}/training/{u % 300}", u % 300, "Pelatihan klasikal",
                            "classroom", "BPSDM", float(rng.choice([8, 16, 24])), when,
                            str(uuid.UUID(int=rng.getrandbits(128)))))
    copy_rows(conn, "enrollment", ["user_id", "course_id", "registration", "enrolled_at"],
              enrolments)
    copy_rows(conn, "completion", ["user_id", "course_id", "course_version", "course_title",
                                   "jp", "competencies", "completed_at", "registration",
                                   "statement_id", "certificate_number"], completions)
    copy_rows(conn, "jp_credit", ["user_id", "activity_iri", "training_id", "title", "kind",
                                  "provider", "jp", "completed_at", "statement_id"], credits)
    raw.commit()
    started = step(f"{len(enrolments)} enrolments, {len(completions)} completions, "
                   f"{len(credits)} other JP credits", started)
    fill_summary(raw)
    started = step("JP summary per employee and year", started)

    # The LRS: statements of the learning above and more (progress, answers...).
    verbs = ["experienced", "progressed", "answered", "completed", "passed"]

    def statement_rows():
        for seq in range(1, statements + 1):
            u = rng.randint(1, employees)
            sid = str(uuid.UUID(int=rng.getrandbits(128)))
            verb = "http://adlnet.gov/expapi/verbs/" + verbs[seq % 5]
            activity = f"{BASE}/courses/kursus-{seq % 20 + 1}/modules/m{seq % 7}"
            when = year_start + dt.timedelta(seconds=rng.random() * span)
            actor = {"objectType": "Agent", "account": {"homePage": BASE, "name": nip(u)}}
            data = {"id": sid, "actor": actor, "verb": {"id": verb},
                    "object": {"objectType": "Activity", "id": activity},
                    "timestamp": when.isoformat(), "stored": when.isoformat(),
                    "version": "1.0.0"}
            yield (seq, sid, f"account:{BASE}|{nip(u)}", verb, activity, when, when, False,
                   json.dumps(data))

    copy_rows(conn, "xapi_statement", ["seq", "statement_id", "actor_key", "verb_id",
                                       "activity_id", "timestamp", "stored", "voided",
                                       "data"], statement_rows())
    with raw.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('xapi_statement', 'seq'), %s)",
                    (statements,))
        # The consumers are "caught up": they would not re-read the loaded statements.
        for name in ("courses", "competency", "jp-credits"):
            cur.execute("INSERT INTO xapi_consumer_cursor (name, last_seq, updated) "
                        "VALUES (%s, %s, now())", (name, statements))
    raw.commit()
    started = step(f"{statements} statements", started)
    with raw.cursor() as cur:
        cur.execute("ANALYZE")
    raw.commit()
    raw.close()
    step("ANALYZE", started)

    admin = create_user(name="Admin Bench", email="admin@bench.go.id", roles=[Role.ADMIN])
    hr = create_user(name="HR Dinas", email="hr@bench.go.id", roles=[Role.HR])
    from lms.people.models import OrgUnit
    from lms.reports.scope import set_scope

    set_scope(hr, session.get(OrgUnit, opds[0]))
    session.commit()
    return {"admin": admin.get_id(), "hr": hr.get_id(), "completions": len(completions),
            "credits": len(credits)}


def fill_summary(raw) -> None:
    """What the jp-credits consumer and the enrolment hook would have written for the
    loaded enrolments, completions and credits: its course credits and the per-employee,
    per-year summary (the same sums as lms.reports.summary, done by PostgreSQL)."""
    def local(column: str) -> str:
        return f"({column} AT TIME ZONE 'Asia/Jakarta')"

    def month_sums(value: str, column: str, where: str = "TRUE") -> list[str]:
        return [f"COALESCE(SUM({value}) FILTER (WHERE {where} AND EXTRACT(MONTH FROM "
                f"{local(column)}) = {m}), 0)" for m in range(1, 13)]

    names = ", ".join([f"jp_{m:02d}" for m in range(1, 13)]
                      + [f"n_{m:02d}" for m in range(1, 13)])
    enrolled_names = ", ".join(["enrolled", "enrolled_completed"]
                               + [f"en_{m:02d}" for m in range(1, 13)]
                               + [f"enc_{m:02d}" for m in range(1, 13)])
    with raw.cursor() as cur:
        cur.execute("DELETE FROM jp_summary")
        cur.execute("DELETE FROM jp_course_credit")
        cur.execute("INSERT INTO jp_course_credit (user_id, course_id, jp, completed_at, "
                    "statement_id) SELECT user_id, course_id, jp, completed_at, statement_id "
                    "FROM completion")
        year = f"EXTRACT(YEAR FROM {local('completed_at')})::int"
        cur.execute(
            f"INSERT INTO jp_summary (user_id, year, jp, completions, {names}) "
            f"SELECT user_id, {year}, SUM(jp), COUNT(*), "
            f"{', '.join(month_sums('jp', 'completed_at') + month_sums('1', 'completed_at'))} "
            "FROM (SELECT user_id, jp, completed_at FROM jp_course_credit UNION ALL "
            f"SELECT user_id, jp, completed_at FROM jp_credit) r GROUP BY user_id, {year}")
        done = "(c.id IS NOT NULL)"
        year = f"EXTRACT(YEAR FROM {local('e.enrolled_at')})::int"
        sums = (["COUNT(*)", f"COUNT(*) FILTER (WHERE {done})"]
                + month_sums("1", "e.enrolled_at") + month_sums("1", "e.enrolled_at", done))
        zeros = ", ".join(["0"] * 24)
        cur.execute(
            f"INSERT INTO jp_summary AS s (user_id, year, jp, completions, {names}, "
            f"{enrolled_names}) SELECT e.user_id, {year}, 0, 0, {zeros}, {', '.join(sums)} "
            "FROM enrollment e LEFT JOIN jp_course_credit c ON c.user_id = e.user_id "
            f"AND c.course_id = e.course_id GROUP BY e.user_id, {year} "
            "ON CONFLICT (user_id, year) DO UPDATE SET "
            + ", ".join(f"{n} = EXCLUDED.{n}" for n in enrolled_names.split(", ")))
        cur.execute("ANALYZE jp_summary")
        cur.execute("ANALYZE jp_course_credit")
    raw.commit()


def check_summary(admin_session_id: str) -> None:
    """The dashboard's enrolled and completed figures (from the summary) against the
    enrolment table joined to the completions, for the whole Pemda this year."""
    from lms.db import get_session
    from lms.people.models import User
    from lms.reports import service
    from lms.reports.scope import scope_for

    admin = get_session().get(User, int(admin_session_id.split(":")[0]))
    scope, filters = scope_for(admin), service.Filters()
    t0 = time.perf_counter()
    data = service.dashboard(scope, filters)
    summary_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    direct = service._enrolled_from_records(service.employee_ids(scope, filters), filters)
    direct_s = time.perf_counter() - t0
    same = (data.enrolled, data.enrolled_completed) == direct
    print(f"Enrolled / completed this year: {data.enrolled:,} / {data.enrolled_completed:,} "
          f"from the summary (whole dashboard query {summary_s * 1000:.0f} ms), "
          f"{direct[0]:,} / {direct[1]:,} from the enrolments ({direct_s * 1000:.0f} ms): "
          f"{'equal' if same else 'DIFFERENT'} (load {load_average()})")


def login(client, session_id: str) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True


def time_page(client, url: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, (url, response.status_code, body[:500])
    return times


def time_export(client, url: str) -> tuple[float, int, int]:
    """(seconds, bytes, lines) of one streamed export, consumed piece by piece."""
    t0 = time.perf_counter()
    response = client.get(url, buffered=False)
    size = lines = 0
    for piece in response.response:
        chunk = piece if isinstance(piece, bytes) else piece.encode()
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return time.perf_counter() - t0, size, lines


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--statements", type=int, default=2_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-xlsx", action="store_true", help="do not time the XLSX export")
    parser.add_argument("--reuse", action="store_true",
                        help="measure an already loaded database (skip loading)")
    args = parser.parse_args()

    from lms import create_app
    from lms.db import get_session

    app = create_app({"DATABASE_URL": args.database_url, "BASE_URL": BASE,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "XAPI_CONSUMERS_INLINE": False})
    print(f"HR reporting benchmark on {args.database_url.rsplit('@', 1)[-1]}")
    with app.app_context():
        if args.reuse:
            import sqlalchemy as sa

            from lms.db import get_engine, upgrade_database

            upgrade_database(app)  # a database loaded by an older version gains new tables
            if not get_session().execute(sa.text("SELECT 1 FROM jp_summary LIMIT 1")).first():
                raw = get_engine(app).raw_connection()
                fill_summary(raw)
                raw.close()

            from lms.people.models import User

            ids = {"admin": get_session().scalar(sa.select(User).where(
                User.email == "admin@bench.go.id")).get_id(),
                "hr": get_session().scalar(sa.select(User).where(
                    User.email == "hr@bench.go.id")).get_id()}
        else:
            print(f"Loading {args.employees} employees and {args.statements} statements:")
            t0 = time.perf_counter()
            ids = build(app, args.employees, args.statements)
            print(f"  loaded in {time.perf_counter() - t0:.0f} s")
        get_session().close()

    with app.app_context():
        check_summary(ids["admin"])
        get_session().close()
    print(f"Load average before measuring: {load_average()} (the machine's other work "
          "slows every figure below)")
    client = app.test_client()
    login(client, ids["admin"])
    print("Dashboard /reports/ (admin, every employee):")
    times = time_page(client, "/reports/", args.runs + 1)[1:]  # first run warms caches
    print(f"  median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)} "
          f"(load {load_average()})")
    hr_client = app.test_client()
    login(hr_client, ids["hr"])
    times = time_page(hr_client, "/reports/", args.runs + 1)[1:]
    print("Dashboard /reports/ (HR of one OPD):")
    print(f"  median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)} "
          f"(load {load_average()})")
    for label, who in (("admin, every employee", client), ("HR of one OPD", hr_client)):
        times = time_page(who, "/reports/heatmap?fragment=1", args.runs + 1)[1:]
        print(f"Gap heatmap /reports/heatmap?fragment=1, loaded by the dashboard after it "
              f"renders ({label}):")
        print(f"  median {statistics.median(times) * 1000:.0f} ms, "
              f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over "
              f"{len(times)} (load {load_average()})")
    times = time_page(client, "/reports/completions", args.runs)
    print(f"Completion records page 1 (admin): median {statistics.median(times) * 1000:.0f} ms "
          f"(load {load_average()})")

    with app.app_context():
        import sqlalchemy as sa

        from lms.reports.service import LOCAL_TZ, jp_amounts

        records = jp_amounts()
        year = dt.date.today().year
        # The last local day such that the period from 1 January holds about 100,000 rows.
        cut = get_session().scalar(
            sa.select(records.c.completed_at)
            .where(records.c.completed_at >= dt.datetime(year, 1, 1, tzinfo=LOCAL_TZ))
            .order_by(records.c.completed_at).offset(99_999).limit(1))
        get_session().close()
    urls = ["/reports/completions.csv"]
    if cut is not None:
        last_day = cut.astimezone(LOCAL_TZ).date() - dt.timedelta(days=1)
        urls.insert(0, f"/reports/completions.csv?to={last_day}")
    for url in urls:
        rss_before = rss_mb()
        seconds, size, lines = time_export(client, url)
        print(f"CSV export {url}: {lines - 1} rows, {size / 1e6:.1f} MB in {seconds:.2f} s "
              f"({(lines - 1) / seconds:,.0f} rows/s); max RSS {rss_before:.0f} -> "
              f"{rss_mb():.0f} MB (load {load_average()})")
    url = "/reports/completions.csv"
    tracemalloc.start()
    seconds_traced, _size, lines_traced = time_export(client, url)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  with tracemalloc: peak of Python allocations {peak / 1e6:.1f} MB for "
          f"{lines_traced - 1} rows ({seconds_traced:.2f} s traced)")
    tracemalloc.start()
    _s, _b, small_lines = time_export(client, url + "?to=" + dt.date(
        dt.date.today().year, 1, 31).isoformat())
    _current, small_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  for comparison, January only: {small_lines - 1} rows, peak "
          f"{small_peak / 1e6:.1f} MB (flat memory: the peak does not grow with the rows)")
    if args.skip_xlsx:
        return
    t0 = time.perf_counter()
    response = client.get("/reports/completions.xlsx")
    xlsx = response.get_data()
    response.close()
    print(f"XLSX export: {len(xlsx) / 1e6:.1f} MB in {time.perf_counter() - t0:.2f} s; "
          f"max RSS now {rss_mb():.0f} MB (load {load_average()})")


if __name__ == "__main__":
    main()
