"""The H5P player (``/h5p``): the module page, the sandboxed player frame, and the
package files and player assets it loads.

- ``/courses/<slug>/modules/<id>`` (a module of kind ``h5p``) renders
  ``h5p/player.html``: Lentera's page, with a frame ``sandbox="allow-scripts"`` (no
  ``allow-same-origin``), so the content runs in an opaque origin: no cookies, no
  storage of Lentera's, and requests it makes carry no session.
- ``/h5p/frame/<key>``: the player frame; its configuration (the LRS endpoint, the launch
  credential, the learner as an xAPI agent, the registration and activity) travels in
  the URL fragment, which never reaches a server or a log. It answers with
  ``Content-Security-Policy: sandbox allow-scripts`` too, so it is sandboxed even when
  opened on its own.
- ``/h5p/content/<key>/<path>`` and ``/h5p/player/<path>``: files of the extracted package
  and of the vendored ``h5p-standalone`` player, readable from that opaque origin (CORS).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.db import get_session
from lms.errors import LmsError
from lms.h5p import package

h5p_bp = Blueprint("h5p", __name__, url_prefix="/h5p")

#: Launch credentials of an H5P module are valid this long (a long exercise, a break).
CREDENTIAL_TTL = 4 * 3600
#: The activity id of an H5P module: outside Lentera's own IRI space, so the content's
#: sub-activities (``<id>?subContentId=...``) are its own (lms.xapi.launch.within).
IRI_PREFIX = "urn:lentera:h5p:"


def activity_iri(slug: str, module_id: str) -> str:
    return f"{IRI_PREFIX}{slug}:{module_id}"


def parse_activity_iri(iri: str) -> tuple[str, str] | None:
    """(course slug, module id) of an H5P activity id, or None."""
    if not iri.startswith(IRI_PREFIX):
        return None
    slug, sep, module_id = iri[len(IRI_PREFIX):].partition(":")
    return (slug, module_id) if sep and slug and module_id else None


def play(slug: str, module: dict[str, Any]) -> Any:
    """The module page of an H5P module (registered as the ``h5p`` kind's player)."""
    return _play(slug, module)


@login_required
def _play(slug: str, module: dict[str, Any]) -> Any:
    from lms.courses import service as courses
    from lms.people.actors import actor_for
    from lms.xapi.auth import issue_launch_credentials

    course, version, enrollment = courses.learner_view(current_user, slug)
    if enrollment is None:
        flash(_("Enrol in the course first."), "info")
        return redirect(url_for("courses.course", slug=slug))
    file = PurePosixPath(module.get("h5p") or "")
    path = Path(courses.content_dir()) / version.content_hash / file
    error = None
    key = ""
    title = module["title"]
    try:
        if not module.get("h5p") or ".." in file.parts or not path.is_file():
            raise LmsError(_("The H5P file of this module is missing."))
        key, manifest = package.extracted(path)
        title = module["title"] or manifest.get("title") or title
    except LmsError as exc:
        error = str(exc.message)
    base = current_app.config["BASE_URL"]
    frame_url = None
    if error is None:
        from lms.courses.journey import Journey

        # Opened: the module is in progress, like a lesson that was opened.
        Journey(current_user, course, version, enrollment).experienced(module)
        activity = activity_iri(slug, module["id"])
        actor = actor_for(current_user)
        session_id = str(uuid.uuid4())
        auth = issue_launch_credentials(actor, enrollment.registration, CREDENTIAL_TTL,
                                        activity_id=activity, session_id=session_id)
        config = {
            "endpoint": f"{base}/xapi/", "auth": auth, "actor": actor,
            "registration": enrollment.registration, "activity": activity,
            "session": session_id, "title": title, "parent": base,
            "content": f"{base}{url_for('h5p.content', key=key, path='')}".rstrip("/"),
            "player": f"{base}{url_for('h5p.player', path='')}".rstrip("/"),
            "language": (course.language or "id")[:2],
        }
        frame_url = url_for("h5p.frame", key=key) + "#" + quote(
            json.dumps(config, separators=(",", ":")), safe="")
    definition = courses.definition_of(version)
    modules = definition["modules"]
    index = next(i for i, m in enumerate(modules) if m["id"] == module["id"])
    nxt = modules[index + 1] if index + 1 < len(modules) else None
    from lms.courses.content import render_markdown

    def asset_url(ref: str) -> str:
        clean = ref.split("#", 1)[0].split("?", 1)[0].lstrip("./")
        return url_for("courses.asset", slug=course.slug, version=version.number, path=clean)

    body = render_markdown(module["body"], asset_url,
                           list(current_app.config.get("EMBED_ALLOWED_HOSTS") or [])) \
        if (module.get("body") or "").strip() else None
    get_session().commit()
    return render_template("h5p/player.html", course=course, module=module, title=title,
                           frame_url=frame_url, error=error, next_module=nxt, body=body)


def preview_frame(path: Path, title: str) -> Any:
    """The player frame of a trainer's preview (authoring): the package plays, and nothing
    is recorded (no credential, no statements, no saved state). Markup, or a message when
    the package cannot be played."""
    from markupsafe import Markup, escape

    try:
        key, _manifest = package.extracted(path)
    except LmsError as exc:
        return Markup('<div class="alert alert-danger" role="alert">{}</div>').format(
            exc.message)
    base = current_app.config["BASE_URL"]
    config = {
        "preview": True, "parent": base, "title": title,
        "content": f"{base}{url_for('h5p.content', key=key, path='')}".rstrip("/"),
        "player": f"{base}{url_for('h5p.player', path='')}".rstrip("/"),
    }
    src = url_for("h5p.frame", key=key) + "#" + quote(json.dumps(config,
                                                                 separators=(",", ":")),
                                                      safe="")
    return Markup('<iframe class="h5p-frame w-100 border rounded" id="h5p-frame" src="{}" '
                  'title="{}" sandbox="allow-scripts allow-popups"></iframe>').format(
        src, escape(title))


def _cors(response: Any) -> Any:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _sandbox_policy() -> str:
    origin = current_app.config["BASE_URL"]
    return ("sandbox allow-scripts allow-popups; "
            f"default-src 'self' {origin} data: blob:; "
            f"script-src 'self' {origin} 'unsafe-inline' 'unsafe-eval'; "
            f"style-src 'self' {origin} 'unsafe-inline'; "
            f"img-src 'self' {origin} data: blob:; media-src 'self' {origin} data: blob:; "
            f"font-src 'self' {origin} data:; connect-src 'self' {origin}; "
            "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


@h5p_bp.get("/frame/<key>")
def frame(key: str) -> Any:
    """The player frame of package ``key``; the page of the module frames it."""
    if package.folder_of(key) is None:
        abort(404)
    response = current_app.make_response(render_template("h5p/frame.html"))
    response.headers["Content-Security-Policy"] = _sandbox_policy()
    response.headers["Cache-Control"] = "no-store"
    return response


def _send(folder: Path, path: str) -> Any:
    rel = PurePosixPath(path)
    if not path or rel.is_absolute() or ".." in rel.parts:
        abort(404)
    response = send_from_directory(folder, rel.as_posix(), max_age=3600)
    response.headers["Content-Security-Policy"] = _sandbox_policy()
    return _cors(response)


@h5p_bp.get("/content/<key>/<path:path>")
def content(key: str, path: str) -> Any:
    """A file of an extracted package (its h5p.json, content and libraries)."""
    folder = package.folder_of(key)
    if folder is None:
        abort(404)
    return _send(folder, path)


@h5p_bp.get("/player/<path:path>")
def player(path: str) -> Any:
    """The vendored h5p-standalone player (main and frame bundles, styles, fonts)."""
    return _send(Path(current_app.static_folder or "static") / "vendor" / "h5p-standalone"
                 / "dist", path)
