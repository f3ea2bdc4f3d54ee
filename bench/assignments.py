"""Benchmark: assign a course to 100,000 employees and run the nightly reminders over
them, on PostgreSQL (its own database, dropped and created anew) or SQLite.

Usage: python bench/assignments.py [--employees 100000]
           [--database-url postgresql://postgres@127.0.0.1:5432/bench_hr]

Steps (only the last three are the targets, each under 60 s):
1. set-up: import the employees from CSV (as ``lms import-employees``) and a course;
2. assign the course to the whole Pemda (every employee), due in 7 days, enrolling
   everyone at once (members, enrolments and their JP-summary rows, one commit);
3. the nightly run on the first reminder day: audiences brought up to date, then one
   reminder per employee written to the outbox (100,000 e-mails queued), one commit;
4. the same nightly run again that day (nothing is sent twice);
5. the compliance figures of the assignment (per status and per OPD);
6. the figures of the ``/assignments/`` list: one grouped query for the page
   (``service.list_figures``) against the former compliance query per row.

It prints wall time, the process's peak resident memory after each step and the load
average (``os.getloadavg``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_postgres(url: str) -> None:
    """Drop and create the database ``url`` names (connecting to ``postgres``)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme.split("+")[0], parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def report(label: str, seconds: float, extra: str = "") -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{label}: {seconds:.2f} s; peak RSS {peak_mb():.0f} MB; load average {load}"
          + (f"; {extra}" if extra else ""), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/bench_hr")
    args = parser.parse_args()

    from import_employees import make_csv

    from lms import create_app
    from lms.db import get_session, upgrade_database

    url = args.database_url
    if url.startswith("postgresql"):
        fresh_postgres(url)
    tmp = Path(tempfile.mkdtemp(prefix="lentera-bench-"))
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp),
                      # A worker sends the outbox; the bench measures queueing.
                      "MAIL_BACKGROUND": False, "JOBS_INLINE": True})
    # Imported once the app has loaded every module's models.
    from lms.assignments import remind, service
    from lms.people import importer
    from lms.people.models import OrgUnit

    print(f"{args.employees:,} employees on {url.split(':')[0]}", flush=True)
    with app.app_context():
        upgrade_database(app)
        session = get_session()
        start = time.perf_counter()
        preview = importer.preview_import(make_csv(args.employees).encode())
        importer.apply_import(preview)
        session.commit()
        from lms.courses import service as courses
        from lms.courses.format import load_course_folder

        folder = Path(__file__).resolve().parents[1] / "courses" / "integritas-antikorupsi"
        outcome = courses.import_course(load_course_folder(
            folder, app.config["EMBED_ALLOWED_HOSTS"], label="integritas"), source="bench")
        session.commit()
        report("set-up (import employees and a course)", time.perf_counter() - start)

        root = session.query(OrgUnit).filter(OrgUnit.parent_id.is_(None)).one()
        scope = service.scope_of_unit(None)
        due = service.today() + dt.timedelta(days=7)
        start = time.perf_counter()
        assignment = service.create_assignment(service.AssignmentSpec(
            title="Integritas dan Antikorupsi", target_kind="course",
            target_id=outcome.course.id, rules={"units": [root.id]}, due_date=due,
            enrol_now=True, remind_before="7,1", remind_after="3"), by=None, scope=scope)
        session.commit()
        members = time.perf_counter() - start
        enrolled = service.enrol_missing(assignment)
        counts = service.compliance(assignment, scope)
        report("assign to everyone, enrol at once", time.perf_counter() - start,
               f"{counts['total']:,} assigned (members {members:.2f} s), "
               f"{enrolled:,} enrolled")

        start = time.perf_counter()
        synced = service.sync_all(commit=True)
        totals = remind.remind_all()
        session.commit()
        report("nightly run (sync + reminders)", time.perf_counter() - start,
               f"{totals['reminders']:,} reminders queued, {synced['joined']} joined")

        start = time.perf_counter()
        service.sync_all(commit=True)
        again = remind.remind_all()
        session.commit()
        report("nightly run again the same day", time.perf_counter() - start,
               f"{again['reminders']:,} reminders queued")

        start = time.perf_counter()
        counts = service.compliance(assignment, scope)
        units = service.by_unit(assignment, scope)
        report("compliance (per status and per OPD)", time.perf_counter() - start,
               f"{counts['assigned']:,} not started in {len(units)} units")

        start = time.perf_counter()
        per_row = service.compliance(assignment, scope)
        report("list figures, former way (a compliance query per row), one row",
               time.perf_counter() - start, f"{per_row['total']:,} people")
        start = time.perf_counter()
        grouped = service.list_figures([assignment.id], scope)[assignment.id]
        report("list figures, one grouped query for the page", time.perf_counter() - start,
               f"{grouped['total']:,} people, {grouped['overdue']:,} overdue")


if __name__ == "__main__":
    main()
