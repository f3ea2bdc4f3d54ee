"""Mixed load on the scale-out set-up: 2 gunicorn workers + 1 Celery worker on PostgreSQL.

    .venv/bin/python bench/load.py [--users 200] [--duration 60] [--chaos]

It creates (and drops first) the database ``bench_scale`` (``--database-url``), runs
``lms init`` and ``lms demo``, adds learner accounts and an LRS client key, starts
its own Redis (``redis-server`` on ``--redis-port``, database 7, no persistence), a Celery
worker (``lms worker -c 2 --beat``) and gunicorn with 2 workers, and drives them with locust
in headless mode. Three kinds of users, mixed 6:3:1:

- learners browse the catalog, enrol, read lessons, fail and pass quizzes (the learner
  bench, bench/learner_load.py),
- content (an e-learning package or another platform) POSTs xAPI statements: course
  completions with JP for the learners, ``experienced`` statements, now and then a
  voiding statement,
- HR opens the dashboard, the employee list, a profile and the competency pages.

With ``--chaos`` the Celery worker is killed (SIGKILL) at a third of the run and started
again, and Redis is restarted (losing every queued message) at two thirds.

During the load it polls ``GET /api/v1/lrs/consumers`` every 5 s with a monitor-only key
and prints, per consumer, the largest backlog (statements stored but not yet consumed) and
the longest wait seen, and after the load how long the consumers took to catch up.

At the end it prints throughput, p95 per request type and error counts, then checks that
no statement is lost (every id an LRS client got back is stored) and, once the consumers
have caught up, that every competency profile and JP credit equals a full rebuild
(``lms profiles rebuild``). Its exit status is 0 only when all of that holds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NIP_PREFIX = "19900101202001"  # as in bench/learner_load.py (it signs in as these)
PASSWORD = "bench-pass-1"
HR_ACCOUNT = ("hr@demo.lentera.local", "lentera-demo")  # the demo HR officer (lms demo)
ADL = "http://adlnet.gov/expapi/verbs/"
EXTERNAL = "https://moodle.bench.go.id/course/"

# --- the simulated users (locust) -------------------------------------------------------

if os.environ.get("LOAD_ROLE") == "locust":
    import importlib.util
    import re

    from locust import HttpUser, between, task

    os.environ["LEARNER_LOAD_ROLE"] = "locust"
    _spec = importlib.util.spec_from_file_location("learner_load",
                                                   ROOT / "bench" / "learner_load.py")
    assert _spec is not None and _spec.loader is not None
    learner_load = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(learner_load)

    BASE = os.environ["LOAD_BASE"]
    USERS = int(os.environ["LOAD_USERS"])
    HR_NIPS = json.loads(os.environ["LOAD_HR_NIPS"])  # employees HR looks at
    KEY, SECRET = os.environ["LOAD_KEY"], os.environ["LOAD_SECRET"]
    IDS_FILE = Path(os.environ["LOAD_IDS"])
    _CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

    class Learner(learner_load.Learner):  # type: ignore[name-defined,misc]
        weight = 6
        abstract = False

    def _statement(verb: str, activity: str, **extra: Any) -> dict[str, Any]:
        nip = f"{NIP_PREFIX}1{random.randint(1, USERS):03d}"
        return {"id": str(uuid.uuid4()),
                "actor": {"objectType": "Agent", "account": {"homePage": BASE, "name": nip}},
                "verb": {"id": ADL + verb, "display": {"en-US": verb}},
                "object": {"objectType": "Activity", "id": activity,
                           "definition": {"name": {"id-ID": "Kursus mitra"}}}, **extra}

    class Content(HttpUser):
        """An xAPI client: a content package or another platform reporting learning."""

        weight = 3
        wait_time = between(0.5, 2)

        def on_start(self) -> None:
            self.client.auth = (KEY, SECRET)
            self.client.headers.update({"X-Experience-API-Version": "1.0.3"})
            self.sent: list[str] = []

        def _post(self, statements: list[dict[str, Any]], name: str,
                  voidable: bool = True) -> None:
            with self.client.post("/xapi/statements", json=statements, name=name,
                                  catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                    return
                ids = response.json()
                with IDS_FILE.open("a") as fh:
                    fh.write("".join(f"{i}\n" for i in ids))
                if voidable:  # a voiding statement cannot itself be voided
                    self.sent += ids

        @task(5)
        def experienced(self) -> None:
            self._post([_statement("experienced", f"{EXTERNAL}{random.randrange(30)}/page")
                        for _ in range(5)], "xapi POST 5 experienced")

        @task(3)
        def completed(self) -> None:
            jp = {f"{BASE}/xapi/extensions/jp": random.randint(1, 8)}
            self._post([_statement("completed", f"{EXTERNAL}{random.randrange(30)}",
                                   result={"completion": True, "extensions": jp})],
                       "xapi POST completed (JP)")

        @task(1)
        def void(self) -> None:
            if len(self.sent) < 10:
                return
            target = self.sent.pop(random.randrange(len(self.sent)))
            self._post([{"actor": {"objectType": "Agent", "mbox": "mailto:lms@bench.go.id"},
                         "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
                         "object": {"objectType": "StatementRef", "id": target}}],
                       "xapi POST voiding", voidable=False)

    class Hr(HttpUser):
        weight = 1
        wait_time = between(2, 5)

        def on_start(self) -> None:
            page = self.client.get("/login", name="login page").text
            csrf = _CSRF.search(page).group(1)  # type: ignore[union-attr]
            self.client.post("/login", name="sign in (HR)", data={
                "identifier": HR_ACCOUNT[0], "password": HR_ACCOUNT[1], "csrf_token": csrf})

        @task(3)
        def dashboard(self) -> None:
            self.client.get("/reports/", name="hr dashboard")

        @task(2)
        def employees(self) -> None:
            self.client.get("/reports/employees", name="hr employees")

        @task(2)
        def profile(self) -> None:
            self.client.get(f"/reports/employees/{random.choice(HR_NIPS)}",
                            name="hr employee profile")

        @task(1)
        def completions(self) -> None:
            self.client.get("/reports/completions", name="hr completions")


# --- the orchestrator ---------------------------------------------------------------------


def _prepare(db_url: str, users: int, env: dict[str, str]) -> dict[str, Any]:
    """The database: demo data, learner accounts, a client key, the courses."""
    import sqlalchemy as sa

    admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
    name = db_url.rsplit("/", 1)[1]
    engine = sa.create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    for command in (["init"], ["demo"]):
        subprocess.run([str(BIN / "lms"), *command], env=env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    os.environ.update(env)
    from werkzeug.security import generate_password_hash

    from lms import create_app
    from lms.competency import service as competency
    from lms.courses import service
    from lms.courses.models import Course
    from lms.db import get_engine, get_session
    from lms.people import service as people
    from lms.xapi import auth

    app = create_app()
    with app.app_context():
        cheap = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
        for i in range(1, users + 1):
            people.create_user(name=f"Peserta Beban {i}", nip=f"{NIP_PREFIX}1{i:03d}",
                               email=f"beban{i}@bench.lentera.local", roles=["learner"],
                               password_hash=cheap)
        codes = {c.code: c for c in competency.all_competencies()}
        competency.create_rule(competency.RuleSpec(
            name="Kursus mitra", activity_iri=EXTERNAL, match="prefix", criterion="completed",
            competency_id=codes["M.06"].id, level=2, weight=0.5, source="external"))
        credential, secret = auth.create_credential("Bench content",
                                                    "statements/write,statements/read")
        get_session().commit()
        from lms.people.models import User

        demo_nips = list(get_session().scalars(
            sa.select(User.nip).where(User.nip.is_not(None), ~User.nip.startswith(NIP_PREFIX))
            .order_by(User.id).limit(50)))
        courses = {}
        for course in get_session().scalars(sa.select(Course)):
            definition = service.definition_of(service.current_version(course))
            courses[course.slug] = [{"id": m["id"], "kind": m["kind"]}
                                    for m in definition["modules"]]
    get_engine(app).dispose()
    return {"courses": courses, "key": credential.key, "secret": secret, "nips": demo_nips}


def _wait_http(url: str, seconds: float = 180) -> None:
    """Wait for the app servers: on a busy machine, booting the app and answering the first
    request take tens of seconds."""
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=15)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _start_redis(port: int, work: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG":
            return process
        time.sleep(0.1)
    raise SystemExit(f"redis-server did not start on port {port}")


def _start_worker(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BIN / "lms"), "worker", "-c", "2", "--beat",
                             "--loglevel", "warning"], env=env, cwd=ROOT, stdout=log,
                            stderr=log, start_new_session=True)


def _stop(process: subprocess.Popen[Any] | None, sig: int = signal.SIGTERM,
          group: bool = False) -> None:
    if process is None or process.poll() is not None:
        return
    if group:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _report(prefix: Path) -> int:
    with open(f"{prefix}_stats.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    one, five, fifteen = os.getloadavg()
    print(f"\nload average {one:.2f} {five:.2f} {fifteen:.2f} at the end of the load")
    print(f"{'request':30} {'count':>7} {'req/s':>7} {'median':>8} {'p95':>7} {'errors':>7}")
    errors = 0
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        print(f"{row['Name'][:30]:30} {row['Request Count']:>7} "
              f"{float(row['Requests/s']):7.1f} {row['50%']:>6}ms {row['95%']:>5}ms "
              f"{row['Failure Count']:>7}")
        if row["Name"] == "Aggregated":
            errors = int(row["Failure Count"])
    failures = Path(f"{prefix}_failures.csv").read_text().strip().splitlines()[1:]
    for line in failures[:10]:
        print("error:", line)
    return errors


class LagSampler:
    """Polls ``GET /api/v1/lrs/consumers`` with a monitor-only key during the load, as a
    monitoring system would: the consumers' lag (statements stored, not yet consumed) and
    how long the oldest waited, per consumer."""

    def __init__(self, base: str, key: str, secret: str, every: float = 5.0) -> None:
        import threading

        self.base, self.auth, self.every = base, (key, secret), every
        self.samples: list[tuple[float, dict[str, Any]]] = []
        self.errors = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import requests

        started = time.monotonic()
        while not self.stopping.wait(self.every):
            try:
                answer = requests.get(f"{self.base}/api/v1/lrs/consumers", auth=self.auth,
                                      timeout=30)
                answer.raise_for_status()
                self.samples.append((time.monotonic() - started, answer.json()))
            except Exception:  # the server is busy: count it, keep sampling
                self.errors += 1

    def start(self) -> LagSampler:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)

    def report(self) -> None:
        if not self.samples:
            print(f"\nConsumer lag: no sample answered ({self.errors} failed)")
            return
        print(f"\nConsumer lag during the load ({len(self.samples)} samples of "
              f"GET /api/v1/lrs/consumers every {self.every:.0f} s, {self.errors} failed):")
        print(f"{'consumer':14} {'max waiting':>12} {'max lag s':>10} {'at end':>8} "
              f"{'failures':>9}")
        names = sorted({c["name"] for _t, data in self.samples for c in data["consumers"]})
        for name in names:
            rows = [c for _t, data in self.samples for c in data["consumers"]
                    if c["name"] == name]
            print(f"{name:14} {max(r['pending'] for r in rows):>12} "
                  f"{max(r['lag_seconds'] for r in rows):>10.1f} {rows[-1]['pending']:>8} "
                  f"{rows[-1]['failures']:>9}")
        statuses = [data["status"] for _t, data in self.samples]
        print("status seen:", ", ".join(f"{s}: {statuses.count(s)}"
                                        for s in sorted(set(statuses))))


def _monitor_key(env: dict[str, str]) -> tuple[str, str]:
    out = subprocess.run([str(BIN / "lms"), "client", "create", "--name", "load monitor",
                          "--scopes", "monitor", "--json"], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["key"], data["secret"]


def _check(env: dict[str, str], ids_file: Path, timeout: float) -> bool:
    """No lost statement; consumers caught up; profiles and JP equal a full rebuild."""
    import sqlalchemy as sa

    from lms import create_app
    from lms.competency.service import profile_dump, rebuild_profiles
    from lms.db import get_engine, get_session
    from lms.reports.models import JpCredit
    from lms.xapi.consumers import consumer_status, replay
    from lms.xapi.models import Statement

    os.environ.update(env)
    app = create_app({"XAPI_CONSUMERS_INLINE": False})
    ok = True
    with app.app_context():
        session = get_session()
        sent = set(ids_file.read_text().split()) if ids_file.exists() else set()
        stored: set[str] = set()
        listed = list(sent)
        for i in range(0, len(listed), 5000):
            stored |= set(session.scalars(sa.select(Statement.statement_id).where(
                Statement.statement_id.in_(listed[i:i + 5000]))))
        lost = len(sent - stored)
        total = session.scalar(sa.select(sa.func.count()).select_from(Statement))
        session.commit()
        print(f"\nStatements acknowledged to LRS clients: {len(sent)}; lost: {lost}; "
              f"stored in all: {total}")
        ok &= lost == 0
        deadline = time.monotonic() + timeout
        waited = time.monotonic()
        while True:
            status = consumer_status()
            pending = {row["name"]: row["pending"] for row in status if row["pending"]}
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(1)
        if pending:
            print(f"Consumers still behind after {timeout:.0f} s: {pending}")
            return False
        print(f"Consumers caught up (by the Celery worker) "
              f"{time.monotonic() - waited:.0f} s after the load ended.")

        def derived() -> tuple[str, list[Any]]:
            session.expire_all()
            jp = sorted(tuple(r) for r in session.execute(sa.select(
                JpCredit.user_id, JpCredit.activity_iri, JpCredit.jp, JpCredit.statement_id)))
            result = (profile_dump(), jp)
            session.commit()
            return result

        before = derived()
        rebuild_profiles()
        replay("jp-credits")
        session.commit()
        after = derived()
        profiles = before[0] == after[0]
        credits = before[1] == after[1]
        people = len(json.loads(before[0])) if before[0].startswith("{") else "?"
        print(f"Profiles equal to a full rebuild: {profiles} ({people} employees); "
              f"JP credits equal to a replay: {credits} ({len(before[1])} credits)")
        ok &= profiles and credits
    get_engine(app).dispose()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="concurrent users, all kinds")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--port", type=int, default=5097)
    parser.add_argument("--redis-port", type=int, default=6397)
    parser.add_argument("--chaos", action="store_true",
                        help="kill the Celery worker and restart Redis during the run")
    parser.add_argument("--catch-up", type=float, default=300,
                        help="seconds the consumers may take to catch up after the load")
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/bench_scale")
    args = parser.parse_args()
    learners = min(999, max(1, args.users))

    work = Path(tempfile.mkdtemp(prefix="lentera-load-"))
    base = f"http://127.0.0.1:{args.port}"
    sys.path.insert(0, str(ROOT))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LMS_DATABASE_URL": args.database_url,
           "LMS_BASE_URL": base, "LMS_INSTANCE_PATH": str(work / "instance"),
           "LMS_SECRET_KEY": "bench-secret", "LMS_RATELIMIT_ENABLED": "false",
           "LMS_CELERY_BROKER_URL": f"redis://127.0.0.1:{args.redis_port}/7"}
    print(f"Preparing {args.database_url}: demo data, {learners} learners...")
    # Prepared with consumers in process (no broker yet); the load runs with the broker.
    prepared = _prepare(args.database_url, learners,
                        {k: v for k, v in env.items() if k != "LMS_CELERY_BROKER_URL"})
    os.environ.pop("LMS_CELERY_BROKER_URL", None)

    logs = (work / "services.log").open("w")
    redis = _start_redis(args.redis_port, work)
    worker = _start_worker(env, logs)
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{args.port}",
                               "--timeout", "120", "lms:create_app()"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=logs)
    ids_file = work / "acknowledged-ids.txt"
    ok = True
    sampler = None
    try:
        _wait_http(f"{base}/login")
        sampler = LagSampler(base, *_monitor_key(env)).start()
        prefix = work / "locust"
        locust_env = {**env, "LOAD_ROLE": "locust", "LOAD_BASE": base,
                      "LOAD_USERS": str(learners), "LOAD_HR_NIPS": json.dumps(prepared["nips"]),
                      "LOAD_KEY": prepared["key"], "LOAD_SECRET": prepared["secret"],
                      "LOAD_IDS": str(ids_file),
                      "LEARNER_LOAD_DB": args.database_url,
                      "LEARNER_LOAD_COURSES": json.dumps(prepared["courses"]),
                      "LEARNER_LOAD_THINK": "1-3"}
        print(f"Load: {args.users} users (learners:content:HR = 6:3:1) for {args.duration} s "
              f"on gunicorn -w 2 + 1 Celery worker, PostgreSQL, Redis"
              + (", with chaos" if args.chaos else ""))
        started = time.monotonic()
        with (work / "locust.log").open("w") as locust_log:
            locust = subprocess.Popen(
                [str(BIN / "locust"), "-f", __file__, "--headless", "-u", str(args.users),
                 "-r", str(args.spawn_rate), "-t", f"{args.duration}s", "--host", base,
                 "--csv", str(prefix), "--only-summary", "--stop-timeout", "10"],
                env=locust_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=locust_log)
            if args.chaos:
                time.sleep(args.duration / 3)
                print(f"[{time.monotonic() - started:5.1f} s] SIGKILL to the Celery worker; "
                      "starting a new one")
                _stop(worker, signal.SIGKILL, group=True)
                worker = _start_worker(env, logs)
                time.sleep(args.duration / 3)
                print(f"[{time.monotonic() - started:5.1f} s] restarting Redis (queued "
                      "messages are lost)")
                _stop(redis)
                redis = _start_redis(args.redis_port, work)
            locust.wait()
        sampler.stop()
        errors = _report(prefix)
        sampler.report()
        ok &= errors == 0
        ok &= _check(env, ids_file, args.catch_up)
        print(f"\nLogs and CSV files: {work}")
    finally:
        if sampler is not None:
            sampler.stop()
        _stop(server)
        _stop(worker, group=True)
        _stop(redis)
        logs.close()
    if os.environ.get("LOAD_KEEP") != "1":
        shutil.rmtree(work / "instance", ignore_errors=True)
    one, five, fifteen = os.getloadavg()
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    print("RESULT:", "ok" if ok else "FAILED",
          f"(load average {one:.2f} {five:.2f} {fifteen:.2f}; command: {command})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
