"""Page weight per view: what a learner downloads on a first visit with an empty cache.

    .venv/bin/python bench/page_weight.py [--json] [--budget 200]

It loads the demo (``lms demo``) into a throw-away SQLite database, signs in as the demo
learner through Flask's test client (the same responses a server would send, headers
included), and for each view fetches the HTML, then every stylesheet, script, image, icon
and font it references (and what the stylesheets reference with ``url()`` or ``@import``),
once each, as a browser with an empty cache does. It prints per view:

- ``served``: bytes on the wire as served to a browser that sends
  ``Accept-Encoding: gzip`` (compressed when the app compresses, raw otherwise);
- ``uncompressed``: the same files decompressed;
- ``gzip-9``: what the same files would weigh if every text file were gzip-compressed
  (a reference for what a compressing proxy could reach).

Views: lesson (a lesson of a course), quiz (an open quiz attempt), catalog, course page,
dashboard (home) and profile (the learner's competency profile). The exit status is 1 when
the lesson or quiz view is over ``--budget`` KB as served.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class Refs(HTMLParser):
    """The subresources an HTML page makes a browser download on load."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if {"stylesheet", "icon", "preload", "modulepreload"} & set(rel):
                self.urls.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag in ("img", "source", "video", "audio") and a.get("src"):
            # counted even when loading="lazy": on a phone screen it may be in view at once
            self.urls.append(a["src"])
        elif tag == "iframe" and a.get("src"):
            self.urls.append(a["src"])


def _local(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob") or (parts.netloc and parts.netloc != "localhost"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def measure(client: Any, path: str) -> dict[str, Any]:
    """Bytes of a first load of ``path`` (HTML and everything it references)."""
    seen: set[str] = set()
    files: list[dict[str, Any]] = []
    queue = [path]
    while queue:
        url = queue.pop(0)
        local = _local(url)
        if local is None or local in seen:
            continue
        seen.add(local)
        response = client.get(local, headers={"Accept-Encoding": "gzip"})
        if response.status_code in (301, 302, 303, 307, 308):
            response.close()
            queue.insert(0, urljoin(local, response.headers["Location"]))
            continue
        served = response.get_data()
        response.close()
        body = (
            gzip.decompress(served)
            if response.headers.get("Content-Encoding") == "gzip"
            else served
        )
        mimetype = response.mimetype or ""
        text = mimetype.startswith(TEXT_TYPES)
        files.append(
            {
                "url": local,
                "status": response.status_code,
                "type": mimetype,
                "served": len(served),
                "uncompressed": len(body),
                "gzip9": len(gzip.compress(body, 9)) if text else len(body),
                "encoding": response.headers.get("Content-Encoding", ""),
                "cache": response.headers.get("Cache-Control", ""),
            }
        )
        if mimetype == "text/html" and url == path:
            parser = Refs()
            parser.feed(body.decode("utf-8", "replace"))
            queue += [urljoin(local, u) for u in parser.urls]
        elif mimetype == "text/css":
            for m in CSS_URL.finditer(body.decode("utf-8", "replace")):
                queue.append(urljoin(local, m.group(1) or m.group(2)))
    return {
        "path": path,
        "files": files,
        "served": sum(f["served"] for f in files),
        "uncompressed": sum(f["uncompressed"] for f in files),
        "gzip9": sum(f["gzip9"] for f in files),
    }


def demo_views(client: Any) -> dict[str, str]:
    """Sign in as the demo learner and find one URL per view."""
    response = client.post(
        "/login", data={"identifier": "learner@demo.lentera.local", "password": "lentera-demo"}
    )
    assert response.status_code == 302, "demo learner cannot sign in"
    views = course_views(client, "komunikasi-efektif")
    # A lesson with a picture (an SVG diagram) of another sample course
    views["lesson+image"] = course_views(client, "pelayanan-publik-prima")["lesson"]
    order = ["lesson", "lesson+image", "quiz", "catalog", "course page", "dashboard", "profile"]
    return {name: views[name] for name in order}


def course_views(client: Any, slug: str) -> dict[str, str]:
    """One URL per view for the signed-in learner, enrolling in course ``slug``."""
    client.post(f"/courses/{slug}/enrol")
    course = client.get(f"/courses/{slug}").get_data(as_text=True)
    modules = re.findall(rf'href="(/courses/{slug}/modules/[^"?#]+)"', course)
    quizzes = re.findall(rf'(/courses/{slug}/quizzes/[^"?#/]+)"', course)
    assert modules and quizzes, "the course has no lesson or quiz"
    start = client.post(f"{quizzes[0]}/start")
    attempt = _local(start.headers.get("Location", quizzes[0])) or quizzes[0]
    return {
        "lesson": modules[0],
        "quiz": attempt,
        "catalog": "/courses/",
        "course page": f"/courses/{slug}",
        "dashboard": "/",
        "profile": "/competency/",
    }


def build_app() -> Any:
    from lms import create_app
    from lms.db import upgrade_database

    tmp = Path(tempfile.mkdtemp(prefix="page-weight-"))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "INSTANCE_PATH": str(tmp),
            "SECRET_KEY": "page-weight",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "BASE_URL": "http://localhost",
        }
    )
    with app.app_context():
        upgrade_database()
    result = app.test_cli_runner().invoke(args=["demo"])
    if result.exit_code:
        raise SystemExit(f"lms demo failed: {result.output}")
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--files", action="store_true", help="list every file per view")
    parser.add_argument(
        "--budget",
        type=float,
        default=200.0,
        help="KB allowed for the lesson and quiz views (default 200)",
    )
    args = parser.parse_args(argv)
    app = build_app()
    client = app.test_client()
    results = {name: measure(client, path) for name, path in demo_views(client).items()}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"{'view':<12} {'files':>5} {'served KB':>10} {'uncompressed KB':>16} "
            f"{'gzip-9 KB':>10}  path"
        )
        for name, r in results.items():
            print(
                f"{name:<12} {len(r['files']):>5} {r['served'] / 1024:>10.1f} "
                f"{r['uncompressed'] / 1024:>16.1f} {r['gzip9'] / 1024:>10.1f}  {r['path']}"
            )
            if args.files:
                for f in r["files"]:
                    print(
                        f"{'':<12} {f['status']:>5} {f['served'] / 1024:>10.1f} "
                        f"{f['uncompressed'] / 1024:>16.1f} {f['gzip9'] / 1024:>10.1f}  "
                        f"{f['url']} {f['encoding']} [{f['cache']}]"
                    )
    over = [n for n in ("lesson", "quiz") if results[n]["served"] / 1024 > args.budget]
    if over:
        print(f"over the {args.budget:g} KB budget: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
