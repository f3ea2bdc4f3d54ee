"""Low bandwidth: compressed responses, long-cached versioned static files, and the service
worker that keeps lessons for reading offline.

- **Compression**: text responses (HTML, CSS, JS, JSON, SVG) of 500 bytes or more are sent
  gzip-compressed when the browser accepts it. Static files are compressed once per file
  version and kept in memory. The LRS (``/xapi/``) is left as it is.
- **Versioned static URLs**: ``url_for('static', ...)`` (and Bootstrap's files) get
  ``?v=<content hash>``; such requests are answered with ``Cache-Control: public,
  max-age=31536000, immutable``, so a returning learner downloads a file again only when it
  changed.
- **Offline lessons**: ``/sw.js`` (the service worker, scope ``/``) and ``/offline`` (the
  page shown when a page is neither online nor saved). The worker caches nothing by itself:
  ``static/js/app.js`` adds *Simpan untuk dibaca offline* to lesson pages, and the worker
  stores that page and the files it uses when the learner asks.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request, send_from_directory

COMPRESSIBLE = {
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "text/plain",
    "text/csv",
    "application/xml",
    "application/ld+json",
    "application/manifest+json",
}
MIN_SIZE = 500
STATIC_ENDPOINTS = ("static", "bootstrap.static")
#: Endpoints that send files which never change at their address (course files carry the
#: course version in theirs): compressed once and kept, like static files.
FILE_ENDPOINTS = (*STATIC_ENDPOINTS, "courses.asset")
MAX_KEPT = 512  # compressed files kept in memory (each under MAX_KEPT_SIZE)
MAX_KEPT_SIZE = 2 * 1024 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"

offline_bp = Blueprint("offline", __name__)

_lock = threading.Lock()
#: (endpoint, filename) -> (mtime, digest, monotonic time of the last stat)
_versions: dict[tuple[str, str], tuple[float, str, float]] = {}
#: A page names about eight static files; outside debug mode their mtime is looked at
#: again at most this often, not on every page (a deploy that changes a file in place
#: shows in the addresses within this time).
RECHECK_SECONDS = 2.0
_gzipped: dict[tuple[str, str, str], bytes] = {}


def _static_folder(app: Flask, endpoint: str) -> str | None:
    if endpoint == "static":
        return app.static_folder
    blueprint = app.blueprints.get(endpoint.split(".", 1)[0])
    return blueprint.static_folder if blueprint is not None else None


def file_version(app: Flask, endpoint: str, filename: str) -> str | None:
    """A short hash of a static file's content (recomputed when its mtime changes; the
    mtime is read again after :data:`RECHECK_SECONDS`, or on every call in debug mode)."""
    key = (endpoint, filename)
    known = _versions.get(key)
    now = time.monotonic()
    if known and not app.debug and now - known[2] < RECHECK_SECONDS:
        return known[1]
    folder = _static_folder(app, endpoint)
    if not folder:
        return None
    path = Path(folder) / filename
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    digest = known[1] if known and known[0] == mtime else (
        hashlib.sha256(path.read_bytes()).hexdigest()[:12])
    with _lock:
        _versions[key] = (mtime, digest, now)
    return digest


def _version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint in STATIC_ENDPOINTS and "filename" in values and "v" not in values:
        version = file_version(current_app, endpoint, values["filename"])
        if version:
            values["v"] = version


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def _compress(response: Any) -> Any:
    static = request.endpoint in FILE_ENDPOINTS
    if request.endpoint in STATIC_ENDPOINTS and request.args.get("v"):
        response.headers["Cache-Control"] = IMMUTABLE
    if (
        response.status_code != 200
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSIBLE
        or request.path.startswith("/xapi/")
        or request.method not in ("GET", "POST")
    ):
        return response
    if response.is_streamed and not static:
        return response  # generators (CSV exports...) stream as they are
    if response.content_length is not None and response.content_length < MIN_SIZE:
        return response
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding"
    if not _accepts_gzip():
        return response
    response.direct_passthrough = False
    original = response.response
    if static:
        # The file's ETag (name, size, mtime) keeps a replaced file from being served stale.
        key = (request.endpoint or "", request.path, response.get_etag()[0] or "")
        data = _gzipped.get(key)
        if data is None:
            data = gzip.compress(response.get_data(), compresslevel=9, mtime=0)
            if len(data) <= MAX_KEPT_SIZE:
                with _lock:
                    if len(_gzipped) >= MAX_KEPT:
                        _gzipped.clear()
                    _gzipped[key] = data
    else:
        body = response.get_data()
        if len(body) < MIN_SIZE:
            return response
        data = gzip.compress(body, compresslevel=6, mtime=0)
    response.set_data(data)
    close = getattr(original, "close", None)
    if close is not None:
        close()  # the file of a static response, now replaced by its compressed copy
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-gzip", weak=weak)
        # A browser revalidating its compressed copy names the compressed ETag.
        response.make_conditional(request.environ)
    return response


@offline_bp.get("/sw.js")
def service_worker() -> Any:
    """The service worker, served from the root so its scope covers every lesson page."""
    response = send_from_directory(
        current_app.static_folder or "static", "sw.js", mimetype="text/javascript", max_age=0
    )
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@offline_bp.get("/offline")
def offline() -> Any:
    """Shown by the service worker when a page is neither reachable nor saved."""
    return render_template("credentials/offline.html")


def init_app(app: Flask) -> None:
    app.url_defaults(_version_static_urls)
    app.after_request(_compress)
    app.register_blueprint(offline_bp)
