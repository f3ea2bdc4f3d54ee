"""Lentera's LRS beside a bare ceiling on the same machine, in one run. Prints; never asserts.

    .venv/bin/python bench/lrs_ceiling.py [--rounds 3] [--seconds 10] [--connections 4]

It starts, on PostgreSQL (``--pg``, default the local server):

* the bare ceiling (``bench/bare_lrs.py``): a minimal Flask app writing each statement as
  one row of a table shaped like ``xapi_statement``, no validation, no auth;
* Lentera, with its consumers on a Celery worker (its own redis-server on a free port),

both under gunicorn with 2 sync workers, each on a fresh database, and drives them with
``wrk`` (one thread, ``--connections`` connections) posting ~1.5 KB statements: single
statements, then batches of 100. Rounds alternate between the two servers (bare single,
Lentera single, bare batch, Lentera batch, and again), so a busy neighbour hurts both
alike; it prints every round with the load average, then the medians and the ratios
Lentera / ceiling, which are the figures that matter on a shared machine.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOME = "https://lentera.bench"
VERBS = ["http://adlnet.gov/expapi/verbs/experienced", "http://adlnet.gov/expapi/verbs/answered",
         "http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed"]

LUA = """
local bodies = {}
for line in io.lines(os.getenv("WRK_BODIES")) do bodies[#bodies + 1] = line end
local i = math.random(#bodies)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Experience-API-Version"] = "1.0.3"
wrk.headers["Authorization"] = os.getenv("WRK_AUTH")
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/xapi/statements", nil, bodies[i])
end
"""


def statement(rng: random.Random) -> dict[str, Any]:
    """A statement like those of a Lentera course module, about 1.5 KB of JSON."""
    learner = rng.randrange(10_000)
    course = rng.randrange(200)
    module = rng.randrange(10)
    verb = rng.choice(VERBS)
    return {
        "actor": {"objectType": "Agent", "name": f"Pegawai Negeri Sipil Nomor {learner}",
                  "account": {"homePage": HOME, "name": f"19900101{learner:010d}"}},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1],
                                         "id-ID": "mengikuti"}},
        "object": {"objectType": "Activity",
                   "id": f"{HOME}/course/{course}/module/{module}",
                   "definition": {
                       "type": "http://adlnet.gov/expapi/activities/module",
                       "name": {"id-ID": f"Modul {module} Pelatihan Kepemimpinan {course}",
                                "en-US": f"Module {module} of leadership course {course}"},
                       "description": {"id-ID": "Modul pembelajaran mandiri tentang "
                                                "pelayanan publik, etika, dan akuntabilitas "
                                                "aparatur sipil negara di pemerintah daerah.",
                                       "en-US": "A self-paced module on public service, "
                                                "ethics and accountability."}}},
        "result": {"score": {"scaled": round(rng.random(), 2), "raw": rng.randrange(101),
                             "min": 0, "max": 100},
                   "success": rng.random() > 0.3, "completion": True,
                   "duration": f"PT{rng.randrange(1, 60)}M{rng.randrange(60)}S",
                   "response": "Jawaban peserta tentang studi kasus pelayanan publik"},
        "context": {
            "registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "platform": "Lentera",
            "language": "id-ID",
            "contextActivities": {
                "parent": [{"objectType": "Activity", "id": f"{HOME}/course/{course}"}],
                "grouping": [{"objectType": "Activity", "id": f"{HOME}/program/{course % 12}"}],
                "category": [{"objectType": "Activity",
                              "id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}]},
            "extensions": {f"{HOME}/ext/unit": "Badan Kepegawaian dan Pengembangan SDM",
                           f"{HOME}/ext/position": "Analis Kebijakan Ahli Muda",
                           f"{HOME}/ext/session": str(uuid.UUID(int=rng.getrandbits(128)))}},
        "timestamp": "2026-11-02T08:15:30.123+07:00",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def recreate_database(pg: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg}/{name}"


def wait_http(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=10)
            return
        except urllib.error.HTTPError:
            return  # it answers (401, 405...)
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def stop(process: subprocess.Popen[Any] | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def prepare_lentera(url: str, work: Path) -> tuple[dict[str, str], str]:
    """A fresh Lentera database with one client key; the environment and the auth header."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LMS_DATABASE_URL": url,
           "LMS_BASE_URL": "http://127.0.0.1", "LMS_INSTANCE_PATH": str(work / "instance"),
           "LMS_SECRET_KEY": "bench-secret", "LMS_RATELIMIT_ENABLED": "false"}
    subprocess.run([str(BIN / "lms"), "init"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    code = ("from lms import create_app\nfrom lms.xapi import auth\nfrom lms.db import "
            "get_session\napp = create_app()\nwith app.app_context():\n"
            "    c, s = auth.create_credential('Ceiling bench', 'statements/write')\n"
            "    get_session().commit()\n    print(c.key, s)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout.split()
    token = base64.b64encode(f"{out[-2]}:{out[-1]}".encode()).decode()
    return env, f"Basic {token}"


def _proc_cpu(wanted: Any) -> float:
    """CPU seconds used so far by the processes whose (name, process group) ``wanted``
    accepts, read from /proc."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, rest = (entry / "stat").read_text().rpartition(")")
        except OSError:
            continue
        fields = rest.split()
        if wanted(head.split("(", 1)[-1], int(fields[2])):
            total += int(fields[11]) + int(fields[12])
    return total / tick


def group_cpu(pgid: int) -> float:
    """CPU seconds used so far by the processes of process group ``pgid``."""
    return _proc_cpu(lambda _name, group: group == pgid)


def command_cpu(name: str) -> float:
    """CPU seconds used so far by every process called ``name`` (PostgreSQL's backends:
    the whole server, so run on a quiet machine for this column to mean Lentera's share)."""
    return _proc_cpu(lambda command, _group: command == name)


#: CPU seconds of the finished wrk runs (read from the children's resource usage).
WRK_CPU = [0.0]


def run_wrk(port: int, bodies: Path, auth: str, seconds: int, connections: int,
            script: Path) -> tuple[float, int]:
    """(requests/s, non-2xx responses + socket errors) of one wrk run."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s",
         str(script), f"http://127.0.0.1:{port}/xapi/statements"],
        env={**os.environ, "WRK_BODIES": str(bodies), "WRK_AUTH": auth},
        capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    WRK_CPU[0] += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", out)
    count = int(bad.group(1)) if bad else 0
    if errors:
        count += sum(int(x) for x in errors.groups())
    return rate, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--consumers", choices=("worker", "off"), default="worker",
                        help="Lentera's consumers on a Celery worker (default), or off: "
                             "ingest alone (no broker, nothing run after the commit)")
    parser.add_argument("--kinds", default="single,batch100",
                        help="which runs: single, batch100 or both (comma-separated)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--prefix", default="bench_ceiling",
                        help="database names: <prefix>_bare and <prefix>_lentera")
    args = parser.parse_args()
    kinds = [k for k in ("single", "batch100") if k in args.kinds.split(",")]
    if not kinds:
        parser.error("--kinds: single, batch100 or both")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="lentera-ceiling-"))
    rng = random.Random(19)
    single = work / "single.txt"
    batch = work / "batch.txt"
    single.write_text("\n".join(json.dumps(statement(rng)) for _ in range(5000)) + "\n")
    batch.write_text("\n".join(json.dumps([statement(rng) for _ in range(100)])
                               for _ in range(200)) + "\n")
    size = len(single.read_bytes()) / 5000
    script = work / "post.lua"
    script.write_text(LUA)

    bare_url = recreate_database(args.pg, f"{args.prefix}_bare")
    lentera_url = recreate_database(args.pg, f"{args.prefix}_lentera")
    sys.path.insert(0, str(ROOT))
    from bench.bare_lrs import create_schema

    create_schema(bare_url)
    env, auth = prepare_lentera(lentera_url, work)
    redis_port, bare_port, lentera_port = free_port(), free_port(), free_port()
    if args.consumers == "worker":
        env["LMS_CELERY_BROKER_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    else:
        env["LMS_XAPI_CONSUMERS_INLINE"] = "false"
    logs = (work / "services.log").open("w")
    processes: list[subprocess.Popen[Any]] = []

    def start(cmd: list[str], process_env: dict[str, str]) -> subprocess.Popen[Any]:
        process = subprocess.Popen(cmd, env=process_env, cwd=ROOT, stdout=logs, stderr=logs,
                                   start_new_session=True)
        processes.append(process)
        return process

    try:
        redis = None
        if args.consumers == "worker":
            redis = start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(work)], env)
        bare_server = start([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{bare_port}",
               "--timeout", "120", "bench.bare_lrs:create_app()"],
              {**os.environ, "PYTHONPATH": str(ROOT), "BARE_DATABASE_URL": bare_url})
        lentera_server = start([str(BIN / "gunicorn"), "-w", "2", "-b",
                                f"127.0.0.1:{lentera_port}", "--timeout", "120",
                                "lms:create_app()"], env)
        worker = None
        if args.consumers == "worker":
            worker = start([str(BIN / "lms"), "worker", "-c", "1", "--loglevel", "warning"],
                           env)
        wait_http(f"http://127.0.0.1:{lentera_port}/xapi/about")
        wait_http(f"http://127.0.0.1:{bare_port}/xapi/statements")
        consumers = ("Lentera's consumers on a Celery worker" if worker is not None
                     else "Lentera's consumers off (ingest alone)")
        print(f"Statements of {size:.0f} bytes; wrk -t1 -c{args.connections} "
              f"-d{args.seconds}s; gunicorn -w 2 each; PostgreSQL; {consumers}. {load()}",
              flush=True)
        servers = {"bare": bare_port, "lentera": lentera_port}
        # Warm both up (imports, caches, the first pages of each table).
        for port in servers.values():
            run_wrk(port, single, auth, 3, args.connections, script)
            run_wrk(port, batch, auth, 3, args.connections, script)
        figures: dict[tuple[str, str], list[float]] = {}
        #: CPU ms per statement: (kind, process) -> per round.
        cpu: dict[tuple[str, str], list[float]] = {}
        groups = {"bare": {"gunicorn": bare_server.pid},
                  "lentera": {"gunicorn": lentera_server.pid}}
        if worker is not None:
            groups["lentera"]["worker"] = worker.pid
        if redis is not None:
            groups["lentera"]["redis"] = redis.pid
        errors = 0
        for round_ in range(1, args.rounds + 1):
            for kind, bodies, per in (("single", single, 1), ("batch100", batch, 100)):
                if kind not in kinds:
                    continue
                for name, port in servers.items():
                    used = {p: group_cpu(pid) for p, pid in groups[name].items()}
                    used["postgres"] = command_cpu("postgres")
                    used["wrk"] = WRK_CPU[0]
                    rate, bad = run_wrk(port, bodies, auth, args.seconds, args.connections,
                                        script)
                    stored = rate * per * args.seconds
                    if worker is not None and name == "lentera":  # the worker catches up
                        time.sleep(2)
                    now = {p: group_cpu(pid) for p, pid in groups[name].items()}
                    now["postgres"] = command_cpu("postgres")
                    now["wrk"] = WRK_CPU[0]
                    per_statement = {p: (now[p] - used[p]) * 1000 / max(stored, 1)
                                     for p in now}
                    for p, ms in per_statement.items():
                        cpu.setdefault((kind, f"{name} {p}"), []).append(ms)
                    errors += bad
                    figures.setdefault((kind, name), []).append(rate * per)
                    print(f"round {round_} {kind:8} {name:8} {rate * per:9.0f} statements/s "
                          f"({rate:.1f} requests/s, {bad} errors; CPU ms per statement: "
                          + ", ".join(f"{p} {ms:.2f}" for p, ms in per_statement.items())
                          + f")  {load()}", flush=True)
        print(f"\nMedians of {args.rounds} rounds ({load()}):")
        print(f"{'':10} {'ceiling':>10} {'Lentera':>10} {'ratio':>6}")
        for kind in kinds:
            bare = statistics.median(figures[(kind, "bare")])
            lentera = statistics.median(figures[(kind, "lentera")])
            ratios = [a / b for a, b in zip(figures[(kind, "lentera")],
                                            figures[(kind, "bare")], strict=True)]
            print(f"{kind:10} {bare:10.0f} {lentera:10.0f} {lentera / bare:6.2f}   "
                  f"(per round: {', '.join(f'{r:.2f}' for r in ratios)})")
        print("CPU ms per statement (medians; postgres: every backend of the server, so "
              "meaningful on a quiet machine):")
        for (kind, process), values in cpu.items():
            print(f"  {kind:8} {process:16} {statistics.median(values):6.2f}")
        print(f"errors: {errors}")
        print("command:", " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]))
        return 0 if errors == 0 else 1
    finally:
        for process in reversed(processes):
            stop(process)
        logs.close()
        if os.environ.get("CEILING_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept:", work)


if __name__ == "__main__":
    raise SystemExit(main())
