"""Benchmark: import N employees from CSV into a fresh database and print the time taken.

Usage: python bench/import_employees.py [--rows 10000] [--database-url URL]

Without --database-url it uses a new SQLite file in a temporary folder (the embedded
default). It measures the same service calls as ``lms import-employees``: parsing and
checking every row (preview), then the all-or-nothing write (apply + commit); then it
imports the same file again to time an idempotent re-import.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_csv(rows: int, seed: int = 7) -> str:
    """A CSV of ``rows`` employees with valid, unique NIPs, spread over 30 agencies."""
    import datetime as dt

    rng = random.Random(seed)
    opds = [f"Dinas {i:02d}" for i in range(30)]
    lines = ["nip,name,email,org_unit,position,position_kind"]
    for i in range(rows):
        # 999 sequence numbers per birth date keep every NIP unique and valid.
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=i // 999)
        appointed = f"{birth.year + 25}{rng.randrange(1, 13):02d}"
        nip = f"{birth:%Y%m%d}{appointed}{rng.choice('12')}{i % 999 + 1:03d}"
        opd = rng.choice(opds)
        bidang = f"Bidang {rng.randrange(1, 5)}"
        position = rng.choice(["Analis", "Pengelola", "Pranata Komputer", "Perencana"])
        lines.append(
            f"{nip},Pegawai {i},pegawai{i}@bench.go.id,Pemkab Bench / {opd} / "
            f"{bidang},{position},pelaksana"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from lms import create_app
    from lms.db import get_session, upgrade_database
    from lms.people import importer

    tmp = Path(tempfile.mkdtemp(prefix="lentera-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp)})
    text = make_csv(args.rows)
    count = text.count("\n") - 1
    with app.app_context():
        upgrade_database(app)
        for label in ("first import", "re-import (no changes)"):
            start = time.perf_counter()
            preview = importer.preview_import(text.encode())
            checked = time.perf_counter()
            if preview.errors:
                raise SystemExit(f"unexpected errors: {preview.errors[:3]}")
            result = importer.apply_import(preview)
            get_session().commit()
            done = time.perf_counter()
            print(
                f"{label}: {count} rows on {app.config['DATABASE_URL'].split(':')[0]}: "
                f"check {checked - start:.2f} s, write {done - checked:.2f} s, "
                f"total {done - start:.2f} s ({count / (done - start):,.0f} rows/s); "
                f"created {result.created}, updated {result.updated}, "
                f"unchanged {result.unchanged}"
            )


if __name__ == "__main__":
    main()
