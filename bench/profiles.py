"""Benchmark: the competency profile engine (a statement consumer) and its full rebuild.

Usage: python bench/profiles.py [--employees 10000] [--statements 1000000]
                                [--incremental 50000] [--request-size 20]
                                [--database-url URL] [--keep] [--reuse]

Builds a fresh database (SQLite in a temporary folder unless --database-url is given):
the shipped frameworks, 20 published courses (each with a completion rule per target and
a quiz whose 10 questions are tagged with the course's competencies), and ``--employees``
employees. Then it stores ``--statements`` statements through the LRS's own
``store_statements`` (learning sessions: launched, experienced lessons, answered quiz
items, passed/failed, completed; 10% from an "external platform" identifying people by
mbox; about 1% voided later) with the consumers switched off, and measures:

1. incremental: the first ``--incremental`` statements handled the way the running app
   does it: stored in requests of ``--request-size`` statements, the engine catching up
   after each commit (only the engine's time is counted), in statements per second;
2. rebuild: ``lms profiles rebuild`` over every statement (reset and replay), in
   seconds, and that its profiles are byte-identical to the incremental path's (the
   incremental path is completed over all statements first).

``--reuse`` (PostgreSQL) skips building and storing and measures the engine alone over the
statements a previous run left in the database: the first ``--incremental`` statements in
batches of ``--request-size`` (one runner call per batch, as after each request's commit;
storing is not part of it), a catch-up over the rest in the runner's batches, then the
rebuild, and that both give the same profiles.

Figures are printed; nothing is asserted (speed is measured here, never in tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BASE = "http://lentera.bench"
ADL = "http://adlnet.gov/expapi/verbs/"
EXTERNAL = "https://elearning.bench.go.id/course/"


def _publish_courses(rng: random.Random) -> list[dict[str, Any]]:
    from flask import current_app

    from lms.signals import course_version_published

    codes = ["M.01", "M.02", "M.03", "M.04", "M.05", "M.06", "M.07", "M.08", "SK.01",
             "T.KEU", "T.REN", "T.PRZ", "T.ARS", "T.PTN", "T.SPBE"]
    courses = []
    for i in range(20):
        iri = f"{BASE}/courses/bench-{i}"
        targets = [{"competency": c, "level": rng.randint(1, 3)} for c in rng.sample(codes, 2)]
        quiz = f"{iri}/quizzes/kuis"
        questions = [{"iri": f"{quiz}/questions/q{n}",
                      "competency": targets[n % 2]["competency"]} for n in range(10)]
        payload = {"iri": iri, "slug": f"bench-{i}", "title": f"Kursus Bench {i}",
                   "version": 1, "jp": 4, "targets": targets,
                   "modules": [{"iri": f"{iri}/modules/m{m}", "title": f"M{m}",
                                "kind": "lesson"} for m in range(4)],
                   "quizzes": [{"iri": quiz, "title": "Kuis", "questions": questions}]}
        course_version_published.send(current_app._get_current_object(), course=payload)
        courses.append(payload)
    return courses


def _employees(n: int) -> list[tuple[int, str, str]]:
    """Insert ``n`` employees in bulk; return (id, nip, email)."""
    import sqlalchemy as sa

    from lms.db import get_session
    from lms.people.models import User

    session = get_session()
    rows = []
    for i in range(n):
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=i // 999)
        nip = f"{birth:%Y%m%d}{birth.year + 25}011{i % 999 + 1:03d}"
        rows.append({"nip": nip, "name": f"Pegawai {i}", "email": f"pegawai{i}@bench.go.id",
                     "session_token": uuid.uuid4().hex, "active": True,
                     "created_at": dt.datetime.now(dt.UTC)})
    session.execute(sa.insert(User), rows)
    session.commit()
    return [(r.id, r.nip, r.email) for r in session.execute(
        sa.select(User.id, User.nip, User.email).order_by(User.id))]


def _statements(rng: random.Random, people: list[tuple[int, str, str]],
                courses: list[dict[str, Any]], total: int) -> Iterator[dict[str, Any]]:
    """Learning sessions until ``total`` statements (generated lazily: a million
    statements would not fit comfortably in memory); ~1% of completions voided later."""
    made = 0
    completions: list[str] = []
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    while made < total:
        out: list[dict[str, Any]] = []
        _uid, nip, email = rng.choice(people)
        external = rng.random() < 0.1
        actor = ({"objectType": "Agent", "mbox": f"mailto:{email}"} if external else
                 {"objectType": "Agent", "account": {"homePage": BASE, "name": nip}})
        when = start + dt.timedelta(minutes=made // 10)
        stamp = when.isoformat().replace("+00:00", "Z")

        def st(verb: str, activity: str, actor: dict[str, Any] = actor, stamp: str = stamp,
               **extra: Any) -> dict[str, Any]:
            return {"id": str(uuid.uuid4()), "actor": actor,
                    "verb": {"id": ADL + verb, "display": {"en-US": verb}},
                    "object": {"objectType": "Activity", "id": activity},
                    "timestamp": stamp, **extra}

        if external:
            activity = f"{EXTERNAL}{rng.randrange(50)}"
            score = round(rng.random(), 2)
            out.append(st("passed" if score >= 0.6 else "failed", activity,
                          result={"score": {"scaled": score}, "success": score >= 0.6}))
            yield from out[:total - made]
            made += len(out)
            continue
        course = rng.choice(courses)
        reg = str(uuid.uuid4())
        ctx = {"registration": reg,
               "contextActivities": {"parent": [{"objectType": "Activity", "id": course["iri"]}]}}
        out.append(st("launched", course["iri"], context={"registration": reg}))
        for module in course["modules"]:
            out.append(st("experienced", module["iri"], context=ctx))
        quiz = course["quizzes"][0]
        ability = rng.random()
        right = 0
        for question in quiz["questions"]:
            ok = rng.random() < ability
            right += ok
            out.append(st("answered", question["iri"], result={"success": ok}, context={
                "registration": reg, "contextActivities": {
                    "parent": [{"objectType": "Activity", "id": quiz["iri"]}]}}))
        passed = right >= 7
        out.append(st("passed" if passed else "failed", quiz["iri"],
                      result={"score": {"scaled": right / 10}, "success": passed}, context=ctx))
        if passed:
            done = st("completed", course["iri"], context={"registration": reg})
            out.append(done)
            completions.append(done["id"])
        if completions and rng.random() < 0.02:
            target = completions.pop(rng.randrange(len(completions)))
            out.append({"id": str(uuid.uuid4()),
                        "actor": {"objectType": "Agent", "mbox": "mailto:hr@bench.go.id"},
                        "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
                        "object": {"objectType": "StatementRef", "id": target},
                        "timestamp": stamp})
        yield from out[:total - made]
        made += len(out)


def _chunks(statements: Iterable[dict[str, Any]], size: int
            ) -> Iterator[list[dict[str, Any]]]:
    """Requests of up to ``size`` statements; a voiding statement never shares a request
    with its target (the LRS refuses that)."""
    current: list[dict[str, Any]] = []
    ids: set[str] = set()
    for statement in statements:
        target = statement["object"].get("id") if statement["verb"]["id"].endswith(
            "/voided") else None
        if len(current) >= size or (target and target in ids):
            yield current
            current, ids = [], set()
        current.append(statement)
        ids.add(statement["id"])
    if current:
        yield current


def _measure_engine(app: Any, incremental: int, request_size: int) -> bool:
    """``--reuse``: small batches, catch-up over the rest of the stored statements, then a
    rebuild; same profiles?"""
    import sqlalchemy as sa

    from lms.competency import service
    from lms.competency.engine import CONSUMER_NAME
    from lms.db import get_session, upgrade_database
    from lms.xapi import consumers
    from lms.xapi.models import ConsumerCursor, Statement

    upgrade_database(app)  # the schema of the code measured now
    session = get_session()
    total = session.scalar(sa.select(sa.func.count()).select_from(Statement))
    print(f"reusing {total:,} stored statements")
    engine_consumer = consumers.registered_consumers(app)[CONSUMER_NAME]
    factory = app.extensions["lms.db"]["sessionmaker"]
    engine_consumer.reset()
    cursor = session.get(ConsumerCursor, CONSUMER_NAME)
    if cursor is None:
        session.add(ConsumerCursor(name=CONSUMER_NAME, last_seq=0))
    else:
        cursor.last_seq = 0
    session.commit()
    handled = 0
    t0 = time.perf_counter()
    while handled < incremental:
        n = consumers._run_one(app, engine_consumer, factory,
                               batch_size=min(request_size, incremental - handled),
                               max_batches=1)
        if not n:
            break
        handled += n
    took = time.perf_counter() - t0
    if handled:
        print(f"incremental: {handled:,} statements in batches of {request_size} = "
              f"{handled / took:,.0f} statements/s")
    t0 = time.perf_counter()
    caught_up = consumers._run_one(app, engine_consumer, factory)
    took = time.perf_counter() - t0
    print(f"catch-up (batches of {consumers.BATCH_SIZE}): {caught_up:,} statements in "
          f"{took:.1f} s = {caught_up / took:,.0f} statements/s")
    session.expire_all()
    return _rebuild_and_compare(session, service.profile_dump())


def _rebuild_and_compare(session: Any, incremental_dump: str) -> bool:
    """Time ``lms profiles rebuild`` and say whether it gives the incremental profiles."""
    from lms.competency import service

    digest = hashlib.sha256(incremental_dump.encode()).hexdigest()[:16]
    session.rollback()
    t0 = time.perf_counter()
    replayed = service.rebuild_profiles()
    took = time.perf_counter() - t0
    print(f"rebuild: {replayed:,} statements in {took:.1f} s "
          f"({replayed / took:,.0f} statements/s)")
    session.expire_all()
    same = service.profile_dump() == incremental_dump
    print(f"profiles identical after rebuild: {same} (sha256 {digest}, "
          f"{len(incremental_dump):,} bytes)")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--incremental", type=int, default=50_000)
    parser.add_argument("--request-size", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    parser.add_argument(
        "--reuse", action="store_true",
        help="PostgreSQL only: keep the statements a previous run stored in --database-url "
        "(building a million takes long) and measure only the engine: reset it, catch up "
        "over every statement, then rebuild and compare.")
    args = parser.parse_args()

    import shutil

    import sqlalchemy as sa

    from lms import create_app
    from lms.competency import service
    from lms.competency.engine import CONSUMER_NAME
    from lms.competency.models import Evidence, UserCompetency
    from lms.db import get_engine, get_session, upgrade_database
    from lms.xapi import consumers
    from lms.xapi.models import ConsumerCursor, Statement
    from lms.xapi.service import store_statements

    tmp = Path(tempfile.mkdtemp(prefix="lentera-bench-profiles-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp), "BASE_URL": BASE,
                      "XAPI_CONSUMERS_INLINE": False, "COMPETENCY_EMIT_STATEMENTS": False})
    rng = random.Random(2026)
    with app.app_context():
        if args.reuse:
            same = _measure_engine(app, args.incremental, args.request_size)
            if not same:
                sys.exit(1)
            return
        if get_engine().dialect.name == "postgresql":
            with get_engine().begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade_database(app)
        session = get_session()
        service.load_shipped_frameworks()
        courses = _publish_courses(rng)
        session.commit()
        print(f"database: {get_engine().dialect.name}; rules: "
              f"{len(service.current_rules())} (from 20 courses)")
        service.create_rule(service.RuleSpec(
            name="External e-learning", activity_iri=EXTERNAL, match="prefix",
            criterion="score_bands", competency_id=service.get_competency("T.REN").id,
            bands=[[0.6, 1], [0.8, 2], [0.95, 3]], source="external"))
        session.commit()

        t0 = time.perf_counter()
        people = _employees(args.employees)
        print(f"employees: {len(people):,} in {time.perf_counter() - t0:.1f} s")
        statements = _statements(rng, people, courses, args.statements)

        # The consumer of the competency engine only; others (the course ledger) would
        # run in the app too, but they are not what is measured here.
        engine_consumer = consumers.registered_consumers(app)[CONSUMER_NAME]
        factory = app.extensions["lms.db"]["sessionmaker"]

        # 1. Incremental: small requests, the engine catching up after each commit.
        sample = itertools.islice(statements, args.incremental)
        handled = 0
        engine_time = 0.0
        t_store = time.perf_counter()
        for chunk in _chunks(sample, args.request_size):
            store_statements(chunk)
            session.commit()
            t1 = time.perf_counter()
            handled += consumers._run_one(app, engine_consumer, factory)
            engine_time += time.perf_counter() - t1
        wall = time.perf_counter() - t_store
        print(f"incremental: {handled:,} statements in requests of {args.request_size}; "
              f"engine {engine_time:.1f} s = {handled / engine_time:,.0f} statements/s "
              f"(store + engine {wall:.1f} s)")

        # Store the rest (consumers off), then let the engine catch up in its batches.
        t0 = time.perf_counter()
        rest = 0
        for chunk in _chunks(statements, 1000):
            store_statements(chunk)
            session.commit()
            rest += len(chunk)
        stored = time.perf_counter() - t0
        if rest:
            print(f"stored the other {rest:,} statements in {stored:.1f} s "
                  f"({rest / stored:,.0f}/s)")
        t0 = time.perf_counter()
        caught_up = 0
        while True:
            n = consumers._run_one(app, engine_consumer, factory)
            caught_up += n
            if not n:
                break
        took = time.perf_counter() - t0
        if caught_up:
            print(f"catch-up (batches of {consumers.BATCH_SIZE}): {caught_up:,} statements in "
                  f"{took:.1f} s = {caught_up / took:,.0f} statements/s")
        session.expire_all()
        total = session.scalar(sa.select(sa.func.count()).select_from(Statement))
        cursor = session.get(ConsumerCursor, CONSUMER_NAME)
        evidence = session.scalar(sa.select(sa.func.count()).select_from(Evidence))
        profiles = session.scalar(sa.select(sa.func.count()).select_from(UserCompetency))
        print(f"after the incremental path: {total:,} statements (cursor {cursor.last_seq:,}), "
              f"{evidence:,} evidence rows, {profiles:,} profile rows")

        # 2. Rebuild.
        same = _rebuild_and_compare(session, service.profile_dump())
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
