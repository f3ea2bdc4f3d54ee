"""The learner's pages: catalog, course, module player, certificates, transcript, verify."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.courses import certificates, service
from lms.courses.content import render_version_markdown
from lms.courses.content_types import module_url
from lms.courses.journey import Journey
from lms.courses.models import Course, CourseVersion
from lms.db import get_session
from lms.people.models import Role, User
from lms.plugins import registry

courses_bp = Blueprint("courses", __name__, url_prefix="/courses")
verify_bp = Blueprint("verify", __name__)


#: Players for module kinds other modules provide (e.g. "cmi5" from authoring):
#: kind -> function(slug, module) returning the response for the module's page.
#: (The ``module_players`` registry of lms.plugins.registry.)
MODULE_PLAYERS = registry.MODULE_PLAYERS
#: Kinds a learner marks as done by themselves (other kinds report their own completion).
SELF_PACED_KINDS = frozenset({"lesson", "video", "embed"})


def register_module_player(kind: str, player: Callable[[str, dict[str, Any]], Any]) -> None:
    """Let another module play modules of ``kind``; a second player for a kind is an error."""
    if kind in ("lesson", "video", "embed", "quiz"):
        raise ValueError(f"module kind {kind!r} is played by the courses module")
    MODULE_PLAYERS.add(kind, player)


#: Session key: the lesson whose ``experienced`` statement the redirecting request stored.
EXPERIENCED_KEY = "courses.experienced"


def _experienced_next(enrollment: Any, module: dict[str, Any] | None) -> dict[str, Any] | None:
    """The lesson a redirect is about to open, recorded now (see Journey.launched)."""
    if module is None or module["kind"] not in SELF_PACED_KINDS:
        session.pop(EXPERIENCED_KEY, None)
        return None
    session[EXPERIENCED_KEY] = f"{enrollment.registration}/{module['id']}"
    return module


def allowed_hosts() -> list[str]:
    return list(current_app.config.get("EMBED_ALLOWED_HOSTS") or [])


def asset_url(course: Course, version: CourseVersion) -> Any:
    def url(ref: str) -> str:
        clean = ref.split("#", 1)[0].split("?", 1)[0].lstrip("./")
        return url_for("courses.asset", slug=course.slug, version=version.number, path=clean)

    return url


def learner_context(slug: str, need_enrolment: bool = True) -> dict[str, Any]:
    """The course as ``current_user`` sees it: an enrolled learner's pinned version (also
    of an archived course), otherwise the current version of a published course."""
    course, version, enrollment = service.learner_view(current_user, slug)
    if need_enrolment and enrollment is None:
        flash(_("Enrol in the course first."), "info")
        abort(redirect(url_for("courses.course", slug=slug)))
    return {
        "course": course,
        "version": version,
        "definition": service.definition_of(version),
        "enrollment": enrollment,
    }


def _with_frames(response: Any) -> Any:
    """Let lesson pages frame the allowed embed hosts (the default CSP frames nothing)."""
    sources = " ".join(f"https://{h} https://*.{h}" for h in allowed_hosts())
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; media-src 'self'; "
        f"frame-src 'self' {sources}; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return response


# --- catalog and course page ----------------------------------------------------------


@courses_bp.get("/")
@login_required
def catalog() -> Any:
    args = request.args
    jp_max = args.get("jp_max", type=float)
    courses = service.catalog_listing(
        text=args.get("q", "")[:100],
        competency=args.get("competency", "")[:20],
        topic=args.get("topic", "")[:100],
        level=args.get("level", "")[:20],
        jp_max=jp_max,
    )
    mine = {item["course"].id: item for item in service.my_courses(current_user)}
    return render_template(
        "courses/catalog.html",
        courses=courses,
        facets=service.catalog_facets(),
        mine=mine,
        args=args,
        names=certificates.competency_names(),
    )


@courses_bp.get("/<slug>")
@login_required
def course(slug: str) -> Any:
    ctx = learner_context(slug, need_enrolment=False)
    rows = service.module_progress(current_user, ctx["course"]) if ctx["enrollment"] else {}
    progress = service.progress_percent(ctx["definition"], rows)
    completion = service.completion_for(current_user, ctx["course"])
    resume = service.course_progress(current_user, ctx["course"])
    nxt = service.next_module(ctx["definition"], rows, resume.last_module_id if resume else None)
    description = render_version_markdown(
        ctx["version"].id,
        ctx["definition"].get("description", ""),
        asset_url(ctx["course"], ctx["version"]),
        allowed_hosts(),
    )
    return render_template(
        "courses/course.html",
        **ctx,
        newer=service.newer_version(ctx["enrollment"]),
        rows=rows,
        progress=progress,
        completion=completion,
        next_module=nxt,
        description=description,
        names=certificates.competency_names(),
        done=service.module_done,
        started=bool(rows),
        module_url=lambda m: module_url(ctx["course"].slug, m),
    )


@courses_bp.post("/<slug>/enrol")
@login_required
def enrol(slug: str) -> Any:
    ctx = learner_context(slug, need_enrolment=False)
    enrollment, created = service.enrol(current_user, ctx["course"])
    journey = Journey(current_user, ctx["course"], ctx["version"], enrollment)
    if created:
        journey.enrolled()
    first = ctx["definition"]["modules"][0]
    journey.launched(then=_experienced_next(enrollment, first))
    get_session().commit()
    if created:
        flash(_("You are enrolled. Happy learning!"), "success")
    return redirect(_module_url(ctx["course"], first))


@courses_bp.post("/<slug>/move")
@login_required
def move_version(slug: str) -> Any:
    """The learner chooses to follow the newest version (records are kept)."""
    ctx = learner_context(slug)
    if service.newer_version(ctx["enrollment"]) is None:
        flash(_("You already follow the newest version of this course."), "info")
        return redirect(url_for(".course", slug=slug))
    version = service.move_to_newest(ctx["enrollment"])
    Journey(current_user, ctx["course"], version, ctx["enrollment"]).moved()
    get_session().commit()
    flash(
        _("You now follow version %(n)s of this course. Your records are kept.", n=version.number),
        "success",
    )
    return redirect(url_for(".course", slug=slug))


@courses_bp.post("/<slug>/start")
@login_required
def start(slug: str) -> Any:
    """Start or resume: launched + initialized, then the module to continue with."""
    ctx = learner_context(slug)
    rows = service.module_progress(current_user, ctx["course"])
    resume = service.course_progress(current_user, ctx["course"])
    nxt = service.next_module(ctx["definition"], rows, resume.last_module_id if resume else None)
    Journey(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).launched(
        then=_experienced_next(ctx["enrollment"], nxt)
    )
    get_session().commit()
    return redirect(_module_url(ctx["course"], nxt) if nxt else url_for(".course", slug=slug))


@courses_bp.post("/<slug>/exit")
@login_required
def exit_course(slug: str) -> Any:
    ctx = learner_context(slug)
    Journey(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).terminated()
    get_session().commit()
    return redirect(url_for("home.index"))


def _module_url(course: Course, module: dict[str, Any]) -> str:
    return module_url(course.slug, module)


def _neighbours(definition: dict[str, Any], module_id: str) -> tuple[Any, Any]:
    modules = definition["modules"]
    index = next(i for i, m in enumerate(modules) if m["id"] == module_id)
    prev = modules[index - 1] if index > 0 else None
    nxt = modules[index + 1] if index + 1 < len(modules) else None
    return prev, nxt


def module_page(ctx: dict[str, Any], module: dict[str, Any], template: str, **extra: Any) -> Any:
    rows = service.module_progress(current_user, ctx["course"])
    prev, nxt = _neighbours(ctx["definition"], module["id"])
    progress = service.progress_percent(ctx["definition"], rows)
    completion = service.completion_for(current_user, ctx["course"])
    return render_template(
        template,
        **ctx,
        module=module,
        rows=rows,
        prev=prev,
        nxt=nxt,
        progress=progress,
        completion=completion,
        done=service.module_done,
        module_url=lambda m: _module_url(ctx["course"], m),
        **extra,
    )


@courses_bp.get("/<slug>/modules/<module_id>")
@login_required
def module(slug: str, module_id: str) -> Any:
    ctx = learner_context(slug)
    module = service.find_module(ctx["definition"], module_id)
    own_page = module_url(slug, module)
    if own_page != url_for("courses.module", slug=slug, module_id=module_id):
        return redirect(own_page)  # a kind with pages of its own (quizzes)
    player = MODULE_PLAYERS.get(module["kind"])
    if player is not None:
        return player(slug, module)
    marker = f"{ctx['enrollment'].registration}/{module['id']}"
    if session.pop(EXPERIENCED_KEY, None) != marker:
        Journey(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).experienced(module)
        get_session().commit()
    assets = asset_url(ctx["course"], ctx["version"])
    hosts = allowed_hosts()
    body = _rendered_lesson(ctx["version"], module, assets, hosts)
    from lms.courses.content import media_html

    media = None
    if module["kind"] == "video" and module.get("video"):
        media = media_html("video", module["video"], assets, hosts, module["title"])
    elif module["kind"] == "embed" and module.get("embed"):
        media = media_html(
            "embed", module["embed"], assets, hosts, module["title"], module.get("height") or 480
        )
    from markupsafe import Markup

    response = current_app.make_response(
        module_page(
            ctx, module, "courses/module.html", body=body, media=Markup(media) if media else None
        )
    )
    return _with_frames(response)


def _rendered_lesson(
    version: CourseVersion, module: dict[str, Any], asset_url: Any, hosts: list[str]
) -> Any:
    return render_version_markdown(version.id, module["body"], asset_url, hosts)


@courses_bp.post("/<slug>/modules/<module_id>/complete")
@login_required
def complete_module(slug: str, module_id: str) -> Any:
    ctx = learner_context(slug)
    module = service.find_module(ctx["definition"], module_id)
    if module["kind"] not in SELF_PACED_KINDS:
        abort(400)
    rows = service.module_progress(current_user, ctx["course"])
    _prev, nxt = _neighbours(ctx["definition"], module_id)
    if not service.module_done(module, rows.get(module_id)):
        Journey(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).module_completed(
            module, then=_experienced_next(ctx["enrollment"], nxt)
        )
        get_session().commit()
    if (
        request.form.get("last") == "1"
        and service.completion_for(current_user, ctx["course"]) is not None
    ):
        return redirect(url_for(".course", slug=slug))
    if nxt is None:
        return redirect(url_for(".course", slug=slug))
    return redirect(_module_url(ctx["course"], nxt))


@courses_bp.get("/<slug>/files/<int:version>/<path:path>")
@login_required
def asset(slug: str, version: int, path: str) -> Any:
    course, _version, _enrollment = service.learner_view(current_user, slug)
    row = get_session().scalar(
        service.version_query().where(
            CourseVersion.course_id == course.id, CourseVersion.number == version
        )
    )
    if row is None or path not in service.definition_of(row).get("assets", []):
        abort(404)
    folder = Path(service.content_dir()) / row.content_hash
    response = send_from_directory(folder, path, max_age=7 * 24 * 3600)
    # Course files are data, never pages: an SVG opened on its own runs no script.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    return response


# --- records ----------------------------------------------------------------------------


@courses_bp.get("/mine")
@login_required
def mine() -> Any:
    return render_template(
        "courses/mine.html",
        items=service.my_courses(current_user),
        jp=registry.JP["jp_total"](current_user, registry.JP["this_year"]()),
        target=service.JP_TARGET_PER_YEAR,
    )


def _transcript_user(nip: str | None) -> User:
    if nip is None or nip == current_user.nip:
        return current_user._get_current_object()  # type: ignore[no-any-return]
    if not current_user.has_role(Role.HR, Role.ADMIN):
        abort(403)
    user = get_session().scalar(sa.select(User).where(User.nip == nip))
    if user is None:
        abort(404)
    return user


@courses_bp.get("/transcript")
@courses_bp.get("/transcript/<nip>")
@login_required
def transcript(nip: str | None = None) -> Any:
    user = _transcript_user(nip)
    return render_template("courses/transcript.html", **registry.JP["transcript"](user))


@courses_bp.get("/transcript.pdf")
@courses_bp.get("/transcript/<nip>.pdf")
@login_required
def transcript_pdf(nip: str | None = None) -> Any:
    user = _transcript_user(nip)
    pdf = certificates.transcript_pdf(registry.JP["transcript"](user))
    return _pdf(pdf, f"riwayat-belajar-{user.nip or user.id}.pdf")


@courses_bp.get("/certificates/<number>.pdf")
@login_required
def certificate(number: str) -> Any:
    completion = service.completion_by_number(number)
    if completion is None:
        abort(404)
    if completion.user_id != current_user.id and not current_user.has_role(Role.HR, Role.ADMIN):
        abort(403)
    user = get_session().get(User, completion.user_id)
    assert user is not None  # a completion's user is kept (foreign key)
    pdf = certificates.certificate_pdf(
        completion,
        user,
        url_for("verify.verify", number=completion.certificate_number, _external=False),
    )
    return _pdf(pdf, f"sertifikat-{completion.certificate_number}.pdf")


def _pdf(data: bytes, filename: str) -> Any:
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


#: Other certificates checked at ``/verify/<number>`` when no course certificate has the
#: number: callables taking the number and returning a response, or None when not theirs
#: (e.g. learning programs, ``lms.assignments.certificates``).
CERTIFICATE_LOOKUPS: list[Any] = []


@verify_bp.get("/verify/<number>")
def verify(number: str) -> Any:
    """Public: anyone holding a certificate number (or its QR code) can check it."""
    completion = service.completion_by_number(number[:40])
    if completion is None:
        for lookup in CERTIFICATE_LOOKUPS:
            found = lookup(number[:40])
            if found is not None:
                return found
    user = get_session().get(User, completion.user_id) if completion else None
    status = 200 if completion else 404
    return render_template(
        "courses/verify.html",
        completion=completion,
        user=user,
        number=number[:40],
        names=certificates.competency_names(),
        issuer=certificates.issuer_for(user) if user is not None else None,
    ), status


def masked_nip(nip: str | None) -> str:
    """A NIP with its middle hidden, for the public verification page."""
    if not nip:
        return ""
    return nip[:4] + "•" * (len(nip) - 8) + nip[-4:]


verify_bp.add_app_template_filter(masked_nip, "masked_nip")
