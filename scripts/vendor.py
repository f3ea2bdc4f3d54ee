"""Copy the front-end libraries Lentera serves from node_modules/ into static/vendor/.

The libraries come from npm (package.json, package-lock.json) through the project's
install step (`make install`, which runs `npm ci` first); their built files are copied
here with their licences and served by Lentera itself, so no page loads anything from
another host at run time. static/vendor/ is never committed.

Usage: python scripts/vendor.py [--check]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

#: target folder under static/vendor/ -> (npm package, [files or folders in the package])
FILES: dict[str, tuple[str, list[str]]] = {
    "chartjs": ("chart.js", ["dist/chart.umd.js", "LICENSE.md"]),
    "scorm-again": (
        "scorm-again",
        [
            "dist/scorm12.min.js",
            "dist/scorm2004.min.js",
            "dist/cross-frame-api.min.js",
            "dist/cross-frame-lms.min.js",
            "LICENSE",
        ],
    ),
    "h5p-standalone": ("h5p-standalone", ["dist", "LICENSE"]),
    # Only the browser tests load it (accessibility checks); no page includes it.
    "axe-core": ("axe-core", ["axe.min.js", "LICENSE"]),
}


def copy_all() -> list[Path]:
    """Copy every listed file; return what was written. Raise when a package is missing."""
    written: list[Path] = []
    for target, (package, items) in FILES.items():
        source_root = NODE_MODULES / package
        if not source_root.is_dir():
            raise SystemExit(
                f"{package} is not installed in node_modules/: run `npm ci` (make does)"
            )
        dest_root = VENDOR / target
        if dest_root.exists():
            shutil.rmtree(dest_root)
        dest_root.mkdir(parents=True)
        for item in items:
            source = source_root / item
            dest = dest_root / Path(item).name
            if source.is_dir():
                shutil.copytree(source, dest)
            else:
                shutil.copy2(source, dest)
            written.append(dest)
    return written


def check() -> list[str]:
    """The listed files that are not in static/vendor/ (empty when all are there)."""
    return [
        f"{target}/{Path(item).name}"
        for target, (_package, items) in FILES.items()
        for item in items
        if not (VENDOR / target / Path(item).name).exists()
    ]


if __name__ == "__main__":
    if "--check" in sys.argv:
        missing = check()
        if missing:
            print("missing in static/vendor/:", ", ".join(missing))
            sys.exit(1)
        sys.exit(0)
    paths = copy_all()
    print(f"static/vendor/: {len(paths)} files and folders from node_modules/")
