"""Load bench: simulated learners browsing, answering quizzes and completing courses.

Run it (PostgreSQL on 127.0.0.1, trust auth; gunicorn and locust from the dev extra):

    .venv/bin/python bench/learner_load.py [--users 200] [--duration 300] [--workers 4]
                                           [--think 5-15] [--consumers inline|worker]

It creates (and drops first) the database ``bench_learners`` (``--database-url`` to
change), runs ``lms init`` and ``lms demo`` (the sample courses), adds one account per
simulated learner, serves the app with gunicorn on 127.0.0.1, and drives it with locust
in headless mode. Each learner signs in, browses the catalog, enrols in a course, reads its
lessons, fails the quiz once, passes it, opens the certificate and the dashboard, then
moves on to another course. Every page is followed by the learner's think time
(``--think``, seconds, uniformly random): the default 5-15 s is a brisk learner (reading a
lesson or answering a quiz takes minutes), 1-3 s a stress run. A learner asks for at most
one page per think time, so ``--users`` learners offer about users / mean think time
pages a second (200 at 1-3 s: about 100 pages/s); the report says whether that offer or the
machine set the rate, and what the two cores could serve at the CPU a page cost. To find
the machine's capacity, offer more than it can serve (``--users 500 --think 1-3``).
At the end it prints requests/s and the p95 latency per page,
and the CPU seconds the server, the consumer worker, the load generator and PostgreSQL
used (on a machine shared with other work, the rest went elsewhere).

Each learner signs in once, as a person does at the start of a session, with the app's
own password hash (scrypt): sign-ins cost far more CPU than pages, so the report puts them
apart. After locust's whole-run table it prints the steady state, from a second after the
last sign-in to the end: per page requests/s, median, p95, max and failures, and the CPU
milliseconds per page of the server, PostgreSQL, the consumer worker and locust itself
(with each one's share), then the sign-ins' latency and server CPU. It prints the load
average before and after the run and the command, so a run can be repeated elsewhere.

Two things a real learner does differently, on purpose:
- sign-in rate limiting is off for the run (every learner is 127.0.0.1), and H5P modules
  are opened but not played (their completion comes from the player in a browser);
- to pass, the bench reads the attempt's layout from the database: the browser never
  gets the answer key, so a simulated learner cannot find the answers any other way.

The simulated learners use locust's FastHttpUser: the load generator shares the machine's
two cores with the server, and the requests-based HttpUser spent several times more CPU
per request. ``--threads N`` serves with gunicorn's gthread workers (keep-alive) instead
of sync workers.

This file is also the locustfile (locust imports it with ``-f``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-pass-1"
NIP_PREFIX = "19900101202001"  # + 1 gender digit + 3-digit sequence = 18 digits

# --- the simulated learner (locust) -------------------------------------------------------

if os.environ.get("LEARNER_LOAD_ROLE") == "locust":
    from urllib.parse import urlencode

    import psycopg
    from locust import between, task
    from locust.contrib.fasthttp import FastHttpUser

    DB_URL = os.environ["LEARNER_LOAD_DB"]
    COURSES = json.loads(os.environ["LEARNER_LOAD_COURSES"])  # slug -> [modules]
    _CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
    _ATTEMPT = re.compile(r"/attempts/([0-9a-f-]{36})")
    _SEQ = iter(range(1, 100_000))
    _FORM = {"Content-Type": "application/x-www-form-urlencoded"}

    def _answers(layout: dict[str, Any], quiz: dict[str, Any], right: bool) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for q in quiz["questions"]:
            lay, name, kind = layout["questions"][q["id"]], f"q-{q['id']}", q["type"]
            if kind in ("single", "multiple"):
                wanted = {c["id"] for c in q["choices"] if c["correct"] == right}
                tokens = [tok for tok, cid in lay["tokens"] if cid in wanted]
                data[name] = tokens if kind == "multiple" else tokens[0]
            elif kind == "true_false":
                data[name] = "true" if q["answer"] == right else "false"
            elif kind == "fill_in":
                data[name] = q["answers"][0] if right else "-"
            elif kind == "numeric":
                value = q["answer"] if q.get("answer") is not None else q["min"]
                data[name] = str(value if right else value + 1000)
            elif kind == "matching":
                targets = {tid: tok for tok, tid in lay["targets"]}
                for tok, sid in lay["sources"]:
                    data[f"{name}-{tok}"] = targets[sid] if right else ""
            elif kind == "ordering":
                order = [i["id"] for i in q["items"]]
                for tok, iid in lay["tokens"]:
                    data[f"{name}-{tok}"] = str(order.index(iid) + 1) if right else "1"
        return data

    _CONNECTION: list[Any] = []

    def _shared_connection() -> Any:
        """One database connection for every simulated learner (their lookups are rare);
        a connection each would exhaust PostgreSQL's max_connections."""
        if not _CONNECTION:
            _CONNECTION.append(psycopg.connect(DB_URL, autocommit=True))
        return _CONNECTION[0]

    _THINK = [float(x) for x in os.environ.get("LEARNER_LOAD_THINK", "1-3").split("-")]
    #: Kinds a learner marks as done with the page's button (lms.courses.views
    #: SELF_PACED_KINDS); an H5P or cmi5 module reports its own completion from the
    #: browser, which this bench does not play: the learner only opens those pages.
    _SELF_PACED = {"lesson", "video", "embed"}

    from locust import events

    #: Every request: (time it ended, name, milliseconds, failed). The orchestrator reads
    #: them to report the steady state (after the last sign-in) apart from the sign-ins.
    _LOG: list[tuple[float, str, float, bool]] = []

    @events.request.add_listener
    def _record(name: str, response_time: float, exception: Any = None, **_kw: Any) -> None:
        _LOG.append((time.time(), name, response_time, exception is not None))

    @events.quitting.add_listener
    def _write_log(**_kw: Any) -> None:
        with open(os.environ["LEARNER_LOAD_LOG"], "w") as fh:
            json.dump(_LOG, fh)

    class Learner(FastHttpUser):
        # FastHttpUser (geventhttpclient): the load generator shares this machine's cores
        # with the server, and the requests-based HttpUser spends several times more CPU
        # per request. Connections are kept alive as a browser keeps them.
        wait_time = between(_THINK[0], _THINK[1])

        def on_start(self) -> None:
            self.number = next(_SEQ)
            self.db = _shared_connection()
            page = self.client.get("/login", name="login page").text
            self.csrf = _CSRF.search(page).group(1)
            nip = f"{NIP_PREFIX}1{self.number:03d}"
            self.wait()  # typing the NIP and password
            self._post("/login", "sign in", {"identifier": nip, "password": PASSWORD})
            # Signing in starts a new session, so take the form token it issues.
            self.csrf = _CSRF.search(self.client.get("/", name="home (dashboard)").text).group(1)
            self.todo = list(COURSES)
            random.shuffle(self.todo)

        def _post(
            self, url: str, name: str, data: dict[str, Any] | None = None, **kwargs: Any
        ) -> Any:
            # Encoded here: several values for one name (multiple choice) need doseq.
            body = urlencode({**(data or {}), "csrf_token": self.csrf}, doseq=True)
            return self.client.post(url, data=body, name=name, headers=_FORM, **kwargs)

        def _quiz(self, slug: str, quiz_id: str, right: bool) -> None:
            # The redirect to the attempt is followed by hand: it is the "quiz page".
            response = self._post(
                f"/courses/{slug}/quizzes/{quiz_id}/start", "quiz start", allow_redirects=False
            )
            found = _ATTEMPT.search(response.headers.get("Location") or "")
            if not found:
                return
            attempt = found.group(1)
            self.client.get(
                f"/courses/{slug}/quizzes/{quiz_id}/attempts/{attempt}", name="quiz page"
            )
            with self.db.cursor() as cur:
                cur.execute(
                    "select a.layout, v.definition from quiz_attempt a join "
                    "course_version v on v.id = a.course_version_id where a.uuid = %s",
                    (attempt,),
                )
                layout, definition = cur.fetchone()
            quiz = next(m["quiz"] for m in definition["modules"] if m["id"] == quiz_id)
            self.wait()  # answering the questions
            self._post(
                f"/courses/{slug}/quizzes/{quiz_id}/attempts/{attempt}",
                "quiz submit",
                _answers(layout, quiz, right),
            )

        @task
        def learn_a_course(self) -> None:
            # A pause (the think time) follows every page, as a person reads or answers
            # before the next click; locust's wait_time alone would only pause between
            # tasks, and a whole course would be fired back to back.
            if not self.todo:  # every course done: keep browsing and checking records
                for url, name in (("/", "home (dashboard)"), ("/courses/", "catalog"),
                                  ("/courses/transcript", "transcript")):
                    self.client.get(url, name=name)
                    self.wait()
                return
            slug = self.todo.pop()
            for url, name in (("/", "home (dashboard)"), ("/courses/", "catalog"),
                              ("/courses/?q=pelayanan&jp_max=6", "catalog search"),
                              (f"/courses/{slug}", "course page")):
                self.client.get(url, name=name)
                self.wait()
            self._post(f"/courses/{slug}/enrol", "enrol")
            self.wait()
            for module in COURSES[slug]:
                if module["kind"] == "quiz":
                    self.client.get(f"/courses/{slug}/quizzes/{module['id']}", name="quiz intro")
                    self.wait()
                    self._quiz(slug, module["id"], right=False)
                    self.wait()
                    self._quiz(slug, module["id"], right=True)
                else:
                    self.client.get(f"/courses/{slug}/modules/{module['id']}", name="lesson")
                    if module["kind"] in _SELF_PACED:
                        self.wait()
                        self._post(
                            f"/courses/{slug}/modules/{module['id']}/complete", "lesson complete"
                        )
                self.wait()
            self.client.get("/courses/transcript", name="transcript")
            with self.db.cursor() as cur:
                cur.execute(
                    "select c.certificate_number from completion c join course k on "
                    'k.id = c.course_id join "user" u on u.id = c.user_id '
                    "where k.slug = %s and u.nip = %s",
                    (slug, f"{NIP_PREFIX}1{self.number:03d}"),
                )
                row = cur.fetchone()
            if row:
                self.wait()
                self.client.get(f"/verify/{row[0]}", name="verify (public)")


# --- the orchestrator ---------------------------------------------------------------------


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def _prepare(db_url: str, users: int, env: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    import sqlalchemy as sa

    admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
    name = db_url.rsplit("/", 1)[1]
    engine = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    _run([str(BIN / "lms"), "init"], env)
    _run([str(BIN / "lms"), "demo"], env)

    os.environ.update(env)
    from lms import create_app
    from lms.courses import service
    from lms.courses.models import Course
    from lms.db import get_session
    from lms.people import service as people

    app = create_app()
    with app.app_context():
        # The app's own password hash (scrypt), as a real account has: each sign-in costs
        # what it costs in production. One hash for every account (same password).
        hashed = people.hash_password(PASSWORD)
        for i in range(1, users + 1):
            people.create_user(
                name=f"Peserta Beban {i}",
                nip=f"{NIP_PREFIX}1{i:03d}",
                email=f"beban{i}@bench.lentera.local",
                roles=["learner"],
                password_hash=hashed,
            )
        get_session().commit()
        courses = {}
        for course in get_session().scalars(sa.select(Course)):
            definition = service.definition_of(service.current_version(course))
            courses[course.slug] = [
                {"id": m["id"], "kind": m["kind"]} for m in definition["modules"]
            ]
    return courses


class CpuSampler:
    """CPU seconds used during the run by the server, the consumer worker, the load
    generator and the PostgreSQL backends of the bench database (sampled every second;
    a process that ends keeps its last sample)."""

    def __init__(self, groups: dict[str, Any], database: str) -> None:
        import threading

        self.groups, self.database = groups, database
        self.seen: dict[tuple[str, int], float] = {}
        #: (time, totals by group) after every sample, for CPU over part of the run.
        self.series: list[tuple[float, dict[str, float]]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _processes(self) -> list[tuple[str, Any]]:
        import psutil

        found = []
        for name, pid in self.groups.items():
            if pid is None:
                continue
            try:
                parent = psutil.Process(pid)
                found += [(name, p) for p in [parent, *parent.children(recursive=True)]]
            except psutil.Error:
                continue
        for proc in psutil.process_iter(["name", "cmdline"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if cmdline.startswith("postgres:") and f" {self.database} " in cmdline:
                found.append(("PostgreSQL", proc))
        return found

    def _sample(self) -> None:
        import psutil

        for name, proc in self._processes():
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            key = (name, proc.pid)
            self.seen[key] = max(self.seen.get(key, 0.0), times.user + times.system)
        if hasattr(self, "start"):
            self.series.append((time.time(), self.totals()))

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample()
        self.start = dict(self.seen)
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()
        self._sample()

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (name, pid), value in self.seen.items():
            out[name] = out.get(name, 0.0) + value - self.start.get((name, pid), 0.0)
        return out

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds by group from the first sample at or after ``start`` to the last at
        or before ``end`` (samples are a second apart), and the seconds that spans."""
        inside = [(t, v) for t, v in self.series if start <= t <= end]
        if len(inside) < 2:
            return {}
        (t0, first), (t1, last) = inside[0], inside[-1]
        out = {name: last.get(name, 0.0) - first.get(name, 0.0) for name in last}
        out["_seconds"] = t1 - t0
        out["_start"], out["_end"] = t0, t1
        return out


def _report(prefix: Path, duration: float) -> None:
    with open(f"{prefix}_stats.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    print(
        f"\n{'page':28} {'requests':>9} {'req/s':>7} {'median':>7} {'p95':>6} {'max':>6} "
        f"{'fails':>6}"
    )
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        print(
            f"{row['Name'][:28]:28} {row['Request Count']:>9} "
            f"{float(row['Requests/s']):7.1f} {row['50%']:>6}ms {row['95%']:>4}ms "
            f"{row['Max Response Time'][:6]:>5}ms {row['Failure Count']:>6}"
        )
    failures = Path(f"{prefix}_failures.csv").read_text().strip().splitlines()[1:]
    for line in failures[:10]:
        print("failure:", line)


SIGN_IN = ("login page", "sign in")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _offered(users: int, think: str) -> float:
    """About the most pages a second ``users`` learners ask for: each waits a think time
    (uniform between the two bounds) after a page before its next click. (A quiz start
    and the attempt page it leads to come without a pause between them, so the learners
    offer a little more than this.)"""
    low, high = (float(x) for x in think.split("-"))
    return users / ((low + high) / 2)


def _steady_report(log_path: Path, sampler: CpuSampler, users: int, think: str) -> None:
    """Pages after the last sign-in (the steady state) and the sign-ins apart: rates,
    latencies, failures, CPU milliseconds per page and per sign-in, and whether the
    learners' offer or the machine set the rate."""
    if not log_path.exists():
        print("(no request log: locust ended before writing it)")
        return
    log = [tuple(row) for row in json.loads(log_path.read_text())]
    sign_ins = [row for row in log if row[1] == "sign in"]
    if len(sign_ins) < users:
        print(f"\nOnly {len(sign_ins)} of {users} learners signed in: no steady state to "
              "report (run longer or spawn faster).")
        return
    # The steady window starts a second after the last sign-in and ends at the last
    # request; CPU is read from the samples inside it.
    last_sign_in = max(row[0] for row in sign_ins)
    cpu = sampler.between(last_sign_in + 1, max(row[0] for row in log))
    if not cpu or cpu["_seconds"] < 5:
        print("\nThe run ended too soon after the last sign-in for a steady state "
              "(run longer).")
        return
    start, end, seconds = cpu["_start"], cpu["_end"], cpu["_seconds"]
    pages = [row for row in log if start < row[0] <= end and row[1] not in SIGN_IN]
    print(f"\nSteady state: the {seconds:.0f} s after the last of {users} sign-ins "
          "(every learner signed in once; a page a POST redirects to is part of the "
          "POST's request):")
    print(f"{'page':28} {'requests':>9} {'req/s':>7} {'median':>7} {'p95':>7} {'max':>7} "
          f"{'fails':>6}")
    names = sorted({row[1] for row in pages})
    for name in [*names, None]:
        rows = [r for r in pages if name is None or r[1] == name]
        times = [r[2] for r in rows]
        label = "all pages" if name is None else name
        print(f"{label[:28]:28} {len(rows):9d} {len(rows) / seconds:7.1f} "
              f"{_percentile(times, 0.5):5.0f}ms {_percentile(times, 0.95):5.0f}ms "
              f"{max(times, default=0):5.0f}ms {sum(1 for r in rows if r[3]):6d}")
    total = sum(v for k, v in cpu.items() if not k.startswith("_"))
    print(f"\nCPU in the steady state, milliseconds per page ({len(pages)} pages):")
    for name, value in sorted(cpu.items(), key=lambda kv: -kv[1]):
        if not name.startswith("_"):
            print(f"  {name:28} {1000 * value / max(1, len(pages)):6.2f} ms/page  "
                  f"({100 * value / seconds:5.1f}% of a core, {100 * value / total:4.1f}% "
                  "of the CPU these used)")
    print(f"  {'all of them':28} {1000 * total / max(1, len(pages)):6.2f} ms/page  "
          f"({100 * total / seconds:5.1f}% of a core; {os.cpu_count()} cores)")
    cores = os.cpu_count() or 1
    rate, offered = len(pages) / seconds, _offered(users, think)
    if pages and total:
        print(f"\nAt {1000 * total / len(pages):.2f} ms of CPU per page, the {cores} cores "
              f"could serve at most about {cores * len(pages) / total:.0f} pages/s.")
    print(f"{users} learners thinking {think} s offered about {offered:.0f} pages/s; "
          f"they got {rate:.1f}: "
          + ("the learners' offer, not the machine, set this rate (offer more learners "
             "to measure the machine's capacity)." if rate >= 0.85 * offered else
             "the machine, not the learners' offer, set this rate."))
    # Sign-ins: the server's CPU from the first sample to the last sign-in, less what the
    # pages served meanwhile cost at the steady rate.
    server = "server (gunicorn)"
    ramp = sampler.between(0, last_sign_in)
    if ramp and server in cpu:
        ramp_pages = sum(1 for r in log if ramp["_start"] < r[0] <= ramp["_end"]
                         and r[1] not in SIGN_IN)
        per_page = cpu[server] / max(1, len(pages))
        rest = ramp[server] - ramp_pages * per_page
        times = [r[2] for r in sign_ins]
        print(f"\nSign-ins: {len(sign_ins)}, median {_percentile(times, 0.5):.0f} ms, p95 "
              f"{_percentile(times, 0.95):.0f} ms, {sum(1 for r in sign_ins if r[3])} failed; "
              f"server CPU about {1000 * rest / len(sign_ins):.1f} ms per sign-in with its "
              "sign-in page (the password hash, scrypt), estimated as the ramp's server CPU "
              "less its pages at the steady cost")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument(
        "--duration",
        type=int,
        default=300,
        help="seconds of load (default 300: long enough for learners at the default "
        "think time to reach the quizzes, completions and certificates)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker; above 1 the gthread worker, which also keeps "
        "connections alive (default 1: sync workers)",
    )
    parser.add_argument("--port", type=int, default=5098)
    parser.add_argument(
        "--think",
        default="5-15",
        help="seconds a learner spends on a page before the next click, MIN-MAX (default "
        "5-15: a brisk learner; reading a lesson takes minutes. 1-3 is a stress run that "
        "finds the machine's capacity)",
    )
    parser.add_argument(
        "--consumers",
        choices=("inline", "worker"),
        default="inline",
        help="run statement consumers after each commit in the web workers "
        "(the embedded default) or in a separate process every 0.5 s "
        "(the scale-out set-up)",
    )
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_learners"
    )
    args = parser.parse_args()
    if args.users > 999:
        parser.error("at most 999 simulated learners (their NIPs use a 3-digit sequence)")

    work = Path(tempfile.mkdtemp(prefix="learner-load-"))
    base = f"http://127.0.0.1:{args.port}"
    # The code beside this file is what is measured (also when it is a checkout elsewhere).
    sys.path.insert(0, str(ROOT))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LMS_DATABASE_URL": args.database_url,
        "LMS_BASE_URL": base,
        "LMS_INSTANCE_PATH": str(work / "instance"),
        "LMS_SECRET_KEY": "bench-secret",
        "LMS_RATELIMIT_ENABLED": "false",
    }
    print(f"Preparing {args.database_url} with the sample courses and {args.users} learners...")
    courses = _prepare(args.database_url, args.users, env)

    worker = None
    if args.consumers == "worker":
        env["LMS_XAPI_CONSUMERS_INLINE"] = "false"
        worker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import time\nfrom lms import create_app\n"
                "from lms.xapi.consumers import run_consumers\napp = create_app()\n"
                "while True:\n    run_consumers(app)\n    time.sleep(0.5)\n",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    server_log = (work / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{args.port}",
            "--timeout",
            "120",
            *(
                ["-k", "gthread", "--threads", str(args.threads), "--keep-alive", "5"]
                if args.threads > 1
                else []
            ),
            "lms:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=server_log,
    )
    try:
        for _ in range(100):
            try:
                import urllib.request

                urllib.request.urlopen(f"{base}/login", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        prefix = work / "locust"
        locust_env = {
            **env,
            "LEARNER_LOAD_ROLE": "locust",
            "LEARNER_LOAD_DB": args.database_url,
            "LEARNER_LOAD_COURSES": json.dumps(courses),
            "LEARNER_LOAD_THINK": args.think,
            "LEARNER_LOAD_LOG": str(work / "requests.json"),
        }
        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"Load: {args.users} learners, {args.duration}s, gunicorn -w {args.workers}"
            f"{f' --threads {args.threads}' if args.threads > 1 else ''}, "
            f"PostgreSQL, consumers {args.consumers}; think time {args.think} s between steps."
        )
        sampler = CpuSampler(
            {"server (gunicorn)": server.pid,
             "consumer worker": worker.pid if worker is not None else None,
             "load generator (locust)": None},
            args.database_url.rsplit("/", 1)[1],
        )
        started = time.monotonic()
        with (work / "locust.log").open("w") as locust_log, sampler:
            locust = subprocess.Popen(
                [
                    str(BIN / "locust"),
                    "-f",
                    __file__,
                    "--headless",
                    "-u",
                    str(args.users),
                    "-r",
                    str(args.spawn_rate),
                    "-t",
                    f"{args.duration}s",
                    "--host",
                    base,
                    "--csv",
                    str(prefix),
                    "--only-summary",
                    "--stop-timeout",
                    "10",
                ],
                env=locust_env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=locust_log,
            )
            sampler.groups["load generator (locust)"] = locust.pid
            locust.wait()
        elapsed = time.monotonic() - started
        one, five, fifteen = os.getloadavg()
        print(f"\nload average {one:.2f} {five:.2f} {fifteen:.2f} at the end of the load "
              f"({load_before} before it); command: .venv/bin/python bench/learner_load.py "
              f"{' '.join(sys.argv[1:])}")
        print("\nWhole run (locust's figures, sign-ins and the ramp included):")
        _report(prefix, args.duration)
        _steady_report(work / "requests.json", sampler, args.users, args.think)
        print(f"\nCPU seconds used in the {elapsed:.0f} s of the run "
              f"({os.cpu_count()} cores: {os.cpu_count() * elapsed:.0f} available):")
        for name, seconds in sorted(sampler.totals().items(), key=lambda kv: -kv[1]):
            print(f"  {name:28} {seconds:7.1f} s  ({100 * seconds / elapsed:5.1f}% of a core)")
        print(f"\nLogs and CSV files: {work}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    if os.environ.get("LEARNER_LOAD_KEEP") != "1":
        shutil.rmtree(work / "instance", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
