"""SCORM pages: the import form (``/packages/``, trainers), the player
(``/packages/<slug>/<module_id>``, enrolled learners) and the package's files
(``/packages/run/<token>/<path>``, in a sandbox).

The player page holds the SCORM API (scorm-again, the build for the package's version
only) and a postMessage bridge (scorm-again's cross-frame LMS side); the SCO runs in an
``<iframe sandbox>`` without ``allow-same-origin``, so its scripts live in an opaque origin:
they cannot read Lentera's cookies or storage, and cannot read Lentera's pages as the
learner. Each HTML file of the package gets the cross-frame client (``window.API`` /
``window.API_1484_11``) injected, primed with the attempt's runtime data so the SCO's
first ``GetValue`` calls (suspend data, location, entry) answer at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.security import safe_join

from lms.authoring.forms import CODE_RULE
from lms.courses import service as courses
from lms.db import get_session, utcnow
from lms.errors import LmsError
from lms.packages import forms, service
from lms.people.models import Role

packages_bp = Blueprint("packages", __name__, url_prefix="/packages")

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)
#: What a package's response may do. ``sandbox`` (without allow-same-origin) gives it an
#: opaque origin even when opened outside the player; it may load its own files and
#: Lentera's static scripts, and talk to nothing else.
SANDBOX = "allow-scripts allow-forms allow-popups allow-modals"


def content_origin() -> str:
    """The separate origin package files are served from (``PACKAGES_CONTENT_ORIGIN``, e.g.
    ``https://konten.lentera.example``: another host name pointing at the same server), or
    "" to serve them from Lentera's own host in an opaque-origin sandbox."""
    return str(current_app.config.get("PACKAGES_CONTENT_ORIGIN") or "").rstrip("/")


def on_content_host() -> bool:
    origin = content_origin()
    return bool(origin) and request.host_url.rstrip("/") == origin


def frame_sandbox() -> str:
    """The iframe's sandbox: with a content origin of its own the package's frames share
    that origin (so a SCORM Driver frameset can talk to its inner frames) and still cannot
    reach Lentera's cookies or pages; without one every document gets an opaque origin."""
    return SANDBOX + (" allow-same-origin" if content_origin() else "")


def _trainer() -> None:
    if not current_user.has_role(Role.TRAINER, Role.ADMIN):
        abort(403)


def parse_competencies(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    targets, problems = [], []
    for n, line in enumerate((text or "").splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 5 or \
                not CODE_RULE.regex.match(parts[0].upper()):
            problems.append(_("Line %(n)s: write a code and a level 1-5, e.g. 'M.05 2'.", n=n))
            continue
        targets.append({"code": parts[0].upper(), "level": int(parts[1])})
    if not targets and not problems:
        problems.append(_("Give at least one competency target."))
    return targets, problems


@packages_bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> Any:
    _trainer()
    form = forms.PackageImportForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            targets, problems = parse_competencies(form.competencies.data)
            form.competencies.errors = list(form.competencies.errors or []) + problems
            if not problems:
                cover = None
                upload = form.cover.data
                if upload is not None and getattr(upload, "filename", None):
                    cover = (upload.filename, upload.read(1024 * 1024 + 1))
                try:
                    package, version = service.import_package(
                        form.package.data.stream, current_user, slug=form.slug.data.strip(),
                        jp=float(form.jp.data or Decimal(1)), topic=form.topic.data.strip(),
                        competencies=targets, title=form.title.data or "",
                        summary=form.summary.data or "", cover=cover,
                        cover_alt=form.cover_alt.data or "")
                except LmsError as exc:
                    get_session().rollback()
                    form.package.errors = [str(exc.message)] + \
                        [str(d) for d in (exc.details or [])][:10]
                else:
                    get_session().commit()
                    flash(_("The %(kind)s package is imported and published as version %(n)s "
                            "of the course.", kind=package.structure.get("label", "SCORM"),
                            n=version.number), "success")
                    return redirect(url_for("courses.course", slug=package.slug), 303)
    return render_template("packages/index.html", form=form,
                           packages=service.packages_of(current_user)), status


@packages_bp.route("/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str) -> Any:
    """Title, summary, topic, JP, competency targets and cover of a SCORM course, saved as
    a new course version with the same package (no re-import)."""
    _trainer()
    course, latest, package = service.settings_of(slug, current_user)
    definition = latest.definition
    form = forms.PackageSettingsForm()
    status = 200
    if request.method == "GET":
        form.title.data = course.title
        form.summary.data = course.summary
        form.topic.data = course.topic
        form.jp.data = Decimal(str(course.jp))
        form.competencies.data = "\n".join(f"{c['code']} {c['level']}"
                                           for c in course.competencies)
        form.cover_alt.data = definition.get("cover_alt", "")
    elif form.validate_on_submit():
        targets, problems = parse_competencies(form.competencies.data)
        form.competencies.errors = list(form.competencies.errors or []) + problems
        status = 400
        if not problems:
            cover = None
            upload = form.cover.data
            if upload is not None and getattr(upload, "filename", None):
                cover = (upload.filename, upload.read(1024 * 1024 + 1))
            try:
                version, outcome = service.update_settings(
                    slug, current_user, title=form.title.data, summary=form.summary.data,
                    topic=form.topic.data, jp=float(form.jp.data), competencies=targets,
                    cover=cover, cover_alt=form.cover_alt.data or "",
                    remove_cover=bool(form.remove_cover.data))
            except LmsError as exc:
                get_session().rollback()
                field = getattr(form, str(getattr(exc, "field", "") or ""), None) or form.title
                field.errors = list(field.errors or []) + [str(exc.message)]
            else:
                get_session().commit()
                if outcome == "unchanged":
                    flash(_("Nothing changed: the course stays at version %(n)s.",
                            n=version.number), "info")
                else:
                    flash(_("The settings are saved and published as version %(n)s of the "
                            "course. The package's parts and what learners did stay as "
                            "they were.", n=version.number), "success")
                return redirect(url_for("packages.settings", slug=slug), 303)
    else:
        status = 400
    return render_template("packages/settings.html", form=form, course=course,
                           version=latest, package=package,
                           cover=definition.get("cover") or ""), status


# --- the player ----------------------------------------------------------------------------


def scorm_player(slug: str, module: dict[str, Any]) -> Any:
    """Registered with the courses module for modules of kind ``scorm``."""
    return redirect(url_for("packages.play", slug=slug, module_id=module["id"]))


@packages_bp.get("/<slug>/<module_id>")
@login_required
def play(slug: str, module_id: str) -> Any:
    if not service.user_may_launch(current_user):
        abort(403)
    course, version, enrollment = courses.learner_view(current_user, slug)
    if enrollment is None:
        flash(_("Enrol in the course first."), "info")
        return redirect(url_for("courses.course", slug=slug))
    package = service.package_for_version(version)
    row, sco = service.sco_of(package, module_id)
    prepared = service.launch(current_user, package, row, sco, enrollment.registration)
    get_session().commit()
    definition = courses.definition_of(version)
    done = service.statuses(enrollment.registration, package)
    modules = definition["modules"]
    index = next(i for i, m in enumerate(modules) if m["id"] == module_id)
    base = current_app.config["BASE_URL"]
    config = {
        "version": package.version,
        "contentUrl": content_origin() + url_for("packages.content", token=prepared["token"],
                                                 path=LAUNCH_PAGE),
        "endpoint": f"{base}/xapi/",
        "auth": prepared["credential"],
        "actor": prepared["actor"],
        "registration": enrollment.registration.lower(),
        "sessionId": prepared["launch"].session_id,
        "sco": {"id": prepared["sco_iri"], "title": sco["title"], "type": sco["scorm_type"]},
        "attempt": prepared["attempt"],
        "courseIri": f"{base}/courses/{slug}",
        "initial": prepared["initial"],
        "resume": prepared["resume"],
        "mode": prepared["mode"],
        "reported": prepared["reported"],
        "masteryOverride": package.version == "1.2" and sco.get("mastery_score") is not None,
        "flow": package.structure.get("control", {}).get("flow", True),
        "choice": package.structure.get("control", {}).get("choice", True),
        "items": {s["identifier"]: f"sco-{i + 1}"
                  for i, s in enumerate(package.structure["scos"])},
        "prev": url_for(".play", slug=slug, module_id=modules[index - 1]["id"])
        if index > 0 else None,
        "next": url_for(".play", slug=slug, module_id=modules[index + 1]["id"])
        if index + 1 < len(modules) else None,
        "playBase": url_for(".play", slug=slug, module_id="MODULE"),
        "courseUrl": url_for("courses.course", slug=slug),
        "messages": {
            "saved": _("Your progress is saved."),
            "saveFailed": _("Your progress could not be saved. Check the connection; "
                            "it is tried again at the next step."),
            "finished": _("This part is finished. Choose the next part, or go back to the "
                          "course."),
        },
    }
    scorm_build = "scorm12.min.js" if package.version == "1.2" else "scorm2004.min.js"
    response = current_app.make_response(render_template(
        "packages/player.html", course=course, definition=definition, modules=modules,
        current=modules[index], sco=sco, package=package, done=done, config=config,
        scorm_build=scorm_build, prepared=prepared, index=index, sandbox=frame_sandbox()))
    response.headers["Cache-Control"] = "no-store"
    if content_origin():
        from lms.web import extend_csp

        extend_csp("frame-src", content_origin())
    return response


# --- the package's files ---------------------------------------------------------------------


def _bridge(launch: Any) -> bytes:
    """The scripts put at the top of each HTML file of a SCO: the cross-frame client of
    the SCORM API, primed with the attempt's runtime data."""
    data = json.dumps({"cmi": launch.initial}, separators=(",", ":"))
    # Inside <script>: nothing may close the element or open a comment.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    client = url_for("static", filename="vendor/scorm-again/cross-frame-api.min.js")
    bridge = url_for("static", filename="js/packages/bridge.js")
    return (f'<script>window.__lenteraScorm={data};</script>'
            f'<script src="{client}"></script><script src="{bridge}"></script>').encode()


#: The page Lentera puts at the top of the package's frame (under the package's own
#: token, so on the package's origin): it holds the SCORM API bridge and opens the SCO in
#: a frame of its own. A SCO that looks for the API in its parent windows first (ADL's
#: algorithm, Rustici's SCORM Driver) finds it here, on its own origin, before reaching
#: Lentera's page, which it cannot read.
LAUNCH_PAGE = "__lentera_launch.html"


def _launch_page(launch: Any, href: str, title: str) -> bytes:
    from markupsafe import escape

    return (b'<!doctype html><html lang="id"><head><meta charset="utf-8">'
            b'<meta name="viewport" content="width=device-width, initial-scale=1">'
            + f"<title>{escape(title)}</title>".encode()
            + b"<style>html,body{margin:0;padding:0;height:100%;overflow:hidden}"
              b"iframe{border:0;width:100%;height:100%;display:block}</style>"
            + _bridge(launch) + b"</head><body>"
            + f'<iframe src="{escape(href)}" title="{escape(title)}" allow="fullscreen">'
              f"</iframe>".encode()
            + b"</body></html>")


@packages_bp.get("/run/<token>/<path:path>")
def content(token: str, path: str) -> Any:
    """A file of the launched package, for the launch's token only, sandboxed."""
    if content_origin() and not on_content_host():
        abort(404)  # with a content origin, package files are never served from Lentera's
    launch = service.launch_by_token(token)
    if launch is None:
        abort(404)
    launched = launch.launched_at if launch.launched_at.tzinfo else \
        launch.launched_at.replace(tzinfo=dt.UTC)
    if utcnow() - launched > dt.timedelta(seconds=service.CREDENTIAL_TTL):
        abort(410)
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or "\\" in path or rel.parts[:1] == (".lentera",):
        abort(404)
    from lms.packages.models import ScormPackage, ScormSco

    sco = get_session().get(ScormSco, launch.sco_id)
    package = get_session().get(ScormPackage, sco.package_id) if sco is not None else None
    if sco is None or package is None:
        abort(404)
    folder = service.packages_root() / package.folder
    if rel.as_posix() == LAUNCH_PAGE:
        index = int(sco.module_id.split("-", 1)[1]) - 1
        item = package.structure["scos"][index]
        response = current_app.response_class(
            _launch_page(launch, item["href"] + (item.get("parameters") or ""),
                         item["title"]), mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
    elif rel.suffix.lower() in HTML_SUFFIXES:
        file = safe_join(str(folder), rel.as_posix())
        if file is None or not Path(file).is_file():
            abort(404)
        body = Path(file).read_bytes()
        bridge = _bridge(launch)
        match = _HEAD.search(body[:65536])
        body = body[:match.end()] + bridge + body[match.end():] if match else bridge + body
        response = current_app.response_class(body, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
    else:
        response = send_from_directory(folder, rel.as_posix(), max_age=0)
    sandbox = SANDBOX + (" allow-same-origin" if on_content_host() else "")
    here = request.host_url.rstrip("/")  # 'self' of a sandboxed document, spelled out
    response.headers["Content-Security-Policy"] = (
        f"sandbox {sandbox}; "
        f"default-src 'self' {here} data: blob:; "
        f"script-src 'self' {here} 'unsafe-inline' 'unsafe-eval' blob:; "
        f"style-src 'self' {here} 'unsafe-inline'; img-src 'self' {here} data: blob:; "
        f"media-src 'self' {here} data: blob:; font-src 'self' {here} data:; "
        f"connect-src 'self' {here}; "
        # No frame-ancestors: a SCO's own frames sit inside the sandbox, whose opaque
        # origin no source expression matches. The files are only reachable under the
        # launch's unguessable token, and run sandboxed wherever they are framed.
        "form-action 'none'; base-uri 'self'"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
