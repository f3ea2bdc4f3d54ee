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
from lms.courses.content import render_markdown
from lms.courses.journey import Journey
from lms.courses.models import Course, CourseVersion
from lms.db import get_session
from lms.errors import Conflict, NotFound
from lms.jp import service as jp_service
from lms.people.models import Role, User
from lms.quizzes import service as quiz_service

courses_bp = Blueprint("courses", __name__, url_prefix="/courses")
verify_bp = Blueprint("verify", __name__)


#: Players for module kinds other modules provide (e.g. "cmi5" from authoring):
#: kind -> function(slug, module) returning the response for the module's page.
MODULE_PLAYERS: dict[str, Callable[[str, dict[str, Any]], Any]] = {}
#: Kinds a learner marks as done by themselves (other kinds report their own completion).
SELF_PACED_KINDS = frozenset({"lesson", "video", "embed"})


def register_module_player(kind: str, player: Callable[[str, dict[str, Any]], Any]) -> None:
    """Let another module play modules of ``kind``; a second player for a kind is an error."""
    if kind in ("lesson", "video", "embed", "quiz"):
        raise ValueError(f"module kind {kind!r} is played by the courses module")
    if MODULE_PLAYERS.get(kind, player) is not player:
        raise ValueError(f"a player for module kind {kind!r} is registered already")
    MODULE_PLAYERS[kind] = player


#: Session key: the lesson whose ``experienced`` statement the redirecting request stored.
EXPERIENCED_KEY = "courses.experienced"


def _experienced_next(enrollment: Any, module: dict[str, Any] | None) -> dict[str, Any] | None:
    """The lesson a redirect is about to open, recorded now (see Journey.launched)."""
    if module is None or module["kind"] not in SELF_PACED_KINDS:
        session.pop(EXPERIENCED_KEY, None)
        return None
    session[EXPERIENCED_KEY] = f"{enrollment.registration}/{module['id']}"
    return module


def _allowed_hosts() -> list[str]:
    return list(current_app.config.get("EMBED_ALLOWED_HOSTS") or [])


def _asset_url(course: Course, version: CourseVersion) -> Any:
    def url(ref: str) -> str:
        clean = ref.split("#", 1)[0].split("?", 1)[0].lstrip("./")
        return url_for("courses.asset", slug=course.slug, version=version.number, path=clean)

    return url


def _context(slug: str, need_enrolment: bool = True) -> dict[str, Any]:
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
    sources = " ".join(f"https://{h} https://*.{h}" for h in _allowed_hosts())
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
    courses = service.search_catalog(
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
    ctx = _context(slug, need_enrolment=False)
    rows = service.module_progress(current_user, ctx["course"]) if ctx["enrollment"] else {}
    progress = service.progress_percent(ctx["definition"], rows)
    completion = service.completion_for(current_user, ctx["course"])
    resume = service.course_progress(current_user, ctx["course"])
    nxt = service.next_module(ctx["definition"], rows, resume.last_module_id if resume else None)
    description = render_markdown(
        ctx["definition"].get("description", ""),
        _asset_url(ctx["course"], ctx["version"]),
        _allowed_hosts(),
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
    )


@courses_bp.post("/<slug>/enrol")
@login_required
def enrol(slug: str) -> Any:
    ctx = _context(slug, need_enrolment=False)
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
    ctx = _context(slug)
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
    ctx = _context(slug)
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
    ctx = _context(slug)
    Journey(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).terminated()
    get_session().commit()
    return redirect(url_for("home.index"))


def _module_url(course: Course, module: dict[str, Any]) -> str:
    if module["kind"] == "quiz":
        return url_for("courses.quiz", slug=course.slug, quiz_id=module["id"])
    return url_for("courses.module", slug=course.slug, module_id=module["id"])


def _neighbours(definition: dict[str, Any], module_id: str) -> tuple[Any, Any]:
    modules = definition["modules"]
    index = next(i for i, m in enumerate(modules) if m["id"] == module_id)
    prev = modules[index - 1] if index > 0 else None
    nxt = modules[index + 1] if index + 1 < len(modules) else None
    return prev, nxt


def _player(ctx: dict[str, Any], module: dict[str, Any], template: str, **extra: Any) -> Any:
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
    ctx = _context(slug)
    module = service.find_module(ctx["definition"], module_id)
    if module["kind"] == "quiz":
        return redirect(_module_url(ctx["course"], module))
    player = MODULE_PLAYERS.get(module["kind"])
    if player is not None:
        return player(slug, module)
    marker = f"{ctx['enrollment'].registration}/{module['id']}"
    if session.pop(EXPERIENCED_KEY, None) != marker:
        Journey(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).experienced(module)
        get_session().commit()
    asset_url = _asset_url(ctx["course"], ctx["version"])
    hosts = _allowed_hosts()
    body = _rendered_lesson(ctx["version"], module, asset_url, hosts)
    from lms.courses.content import media_html

    media = None
    if module["kind"] == "video" and module.get("video"):
        media = media_html("video", module["video"], asset_url, hosts, module["title"])
    elif module["kind"] == "embed" and module.get("embed"):
        media = media_html(
            "embed", module["embed"], asset_url, hosts, module["title"], module.get("height") or 480
        )
    from markupsafe import Markup

    response = current_app.make_response(
        _player(
            ctx, module, "courses/module.html", body=body, media=Markup(media) if media else None
        )
    )
    return _with_frames(response)


#: Rendered lessons by (version id, module id, allowed hosts): versions never change.
_RENDERED: dict[tuple[int, str, tuple[str, ...]], Any] = {}


def _rendered_lesson(
    version: CourseVersion, module: dict[str, Any], asset_url: Any, hosts: list[str]
) -> Any:
    key = (version.id, module["id"], tuple(hosts))
    html = _RENDERED.get(key)
    if html is None:
        if len(_RENDERED) > 1000:
            _RENDERED.clear()
        html = _RENDERED[key] = render_markdown(module["body"], asset_url, hosts)
    return html


@courses_bp.post("/<slug>/modules/<module_id>/complete")
@login_required
def complete_module(slug: str, module_id: str) -> Any:
    ctx = _context(slug)
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
        service.completion_for(current_user, ctx["course"]) is not None
        and request.form.get("last") == "1"
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
        sa.select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.number == version
        )
    )
    if row is None or path not in row.definition.get("assets", []):
        abort(404)
    folder = Path(service.content_dir()) / row.content_hash
    response = send_from_directory(folder, path, max_age=7 * 24 * 3600)
    # Course files are data, never pages: an SVG opened on its own runs no script.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    return response


# --- quizzes ----------------------------------------------------------------------------


def _quiz_context(slug: str, quiz_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ctx = _context(slug)
    module = service.find_module(ctx["definition"], quiz_id)
    if module["kind"] != "quiz":
        raise NotFound(_("No such quiz."))
    return ctx, module


@courses_bp.get("/<slug>/quizzes/<quiz_id>")
@login_required
def quiz(slug: str, quiz_id: str) -> Any:
    ctx, module = _quiz_context(slug, quiz_id)
    attempts = quiz_service.attempts_for(ctx["enrollment"], quiz_id)
    for previous in attempts:
        _close_if_expired(ctx, module, previous)
    current = quiz_service.open_attempt(attempts)
    left = quiz_service.attempts_left(module["quiz"], attempts)
    return _player(
        ctx,
        module,
        "quizzes/intro.html",
        quiz=module["quiz"],
        attempts=attempts,
        current=current,
        left=left,
        passed=any(a.passed for a in attempts),
    )


@courses_bp.post("/<slug>/quizzes/<quiz_id>/start")
@login_required
def quiz_start(slug: str, quiz_id: str) -> Any:
    ctx, module = _quiz_context(slug, quiz_id)
    for previous in quiz_service.attempts_for(ctx["enrollment"], quiz_id):
        _close_if_expired(ctx, module, previous)
    attempt, created = quiz_service.start_attempt(
        current_user.id, ctx["enrollment"], ctx["version"], module["quiz"]
    )
    if created:
        Journey(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).quiz_attempted(
            module
        )
    get_session().commit()
    return redirect(url_for(".attempt", slug=slug, quiz_id=quiz_id, attempt_id=attempt.uuid))


def _attempt_for(ctx: dict[str, Any], quiz_id: str, attempt_id: str) -> Any:
    from lms.quizzes.models import QuizAttempt

    attempt = get_session().scalar(sa.select(QuizAttempt).where(QuizAttempt.uuid == attempt_id))
    if (
        attempt is None
        or attempt.enrollment_id != ctx["enrollment"].id
        or attempt.quiz_id != quiz_id
    ):
        abort(404)
    return attempt


def _close_if_expired(ctx: dict[str, Any], module: dict[str, Any], attempt: Any) -> None:
    """End an attempt whose time ran out while its page was closed: the answers saved
    before the deadline are graded and reported (lms.quizzes.expiry)."""
    from lms.quizzes.expiry import close_and_report

    if close_and_report(attempt):
        get_session().commit()


def _attempt_quiz(attempt: Any, quiz_id: str) -> dict[str, Any]:
    """The quiz as it was in the version the attempt began in."""
    version = get_session().get(CourseVersion, attempt.course_version_id)
    return service.find_module(service.definition_of(version), quiz_id)["quiz"]


@courses_bp.get("/<slug>/quizzes/<quiz_id>/attempts/<attempt_id>")
@login_required
def attempt(slug: str, quiz_id: str, attempt_id: str) -> Any:
    ctx, module = _quiz_context(slug, quiz_id)
    attempt = _attempt_for(ctx, quiz_id, attempt_id)
    quiz = _attempt_quiz(attempt, quiz_id)
    # Time ran out with the page closed: the answers saved by then are graded.
    _close_if_expired(ctx, module, attempt)
    if attempt.submitted_at is None:
        questions = quiz_service.public_questions(attempt, quiz)
        prompts = {
            q["id"]: render_markdown(
                q["prompt"], _asset_url(ctx["course"], ctx["version"]), _allowed_hosts()
            )
            for q in questions
        }
        return _player(
            ctx,
            module,
            "quizzes/attempt.html",
            quiz=quiz,
            attempt=attempt,
            questions=questions,
            prompts=prompts,
            saved=quiz_service.saved_values(attempt),
            last_saved=quiz_service.last_saved(attempt),
        )
    items = quiz_service.review(attempt, quiz)
    asset_url = _asset_url(ctx["course"], ctx["version"])
    for item in items:
        item["prompt"] = render_markdown(item["prompt"], asset_url, _allowed_hosts())
    attempts = quiz_service.attempts_for(ctx["enrollment"], quiz_id)
    left = quiz_service.attempts_left(quiz, attempts)
    return _player(
        ctx,
        module,
        "quizzes/review.html",
        quiz=quiz,
        attempt=attempt,
        items=items,
        left=left,
        passed=any(a.passed for a in attempts),
    )


@courses_bp.post("/<slug>/quizzes/<quiz_id>/attempts/<attempt_id>")
@login_required
def attempt_submit(slug: str, quiz_id: str, attempt_id: str) -> Any:
    ctx, module = _quiz_context(slug, quiz_id)
    attempt = _attempt_for(ctx, quiz_id, attempt_id)
    quiz = _attempt_quiz(attempt, quiz_id)
    back = redirect(url_for(".attempt", slug=slug, quiz_id=quiz_id, attempt_id=attempt_id))
    if attempt.submitted_at is not None:
        return back
    if quiz_service.expired(attempt):
        # Late: what this request carries came after the deadline; the saved answers count.
        _close_if_expired(ctx, module, attempt)
        flash(_("Time was up before the answers arrived: the answers saved before the "
                "deadline were graded."), "warning")
        return back
    try:
        graded = quiz_service.submit_attempt(attempt, quiz, request.form.getlist)
    except Conflict:  # a second tab or a double click sent it already
        get_session().rollback()
        return back
    module_for_statements = {**module, "quiz": quiz}
    Journey(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).quiz_submitted(
        module_for_statements, attempt, graded
    )
    get_session().commit()
    if attempt.passed:
        flash(_("You passed the quiz with %(score)s%%.", score=_pct(attempt.scaled)), "success")
    else:
        flash(
            _(
                "Not passed yet: %(score)s%%. Review the feedback and try again.",
                score=_pct(attempt.scaled),
            ),
            "warning",
        )
    return redirect(url_for(".attempt", slug=slug, quiz_id=quiz_id, attempt_id=attempt_id))


@courses_bp.post("/<slug>/quizzes/<quiz_id>/attempts/<attempt_id>/answers")
@login_required
def attempt_save(slug: str, quiz_id: str, attempt_id: str) -> Any:
    """Save answers as they are given (JSON ``{"rev": n, "answers": {question id: {field:
    [values]}}}``); the page calls it after each change. Not a submission: no statement."""
    from flask import jsonify

    from lms.errors import ValidationError

    ctx, _module = _quiz_context(slug, quiz_id)
    attempt = _attempt_for(ctx, quiz_id, attempt_id)
    quiz = _attempt_quiz(attempt, quiz_id)
    payload = _small_json(quiz_service.MAX_SAVE_BYTES)
    if not isinstance(payload, dict):
        raise ValidationError(_("An answer could not be read."))
    saved_at = quiz_service.save_answers(attempt, quiz, payload.get("answers"),
                                         payload.get("rev"))
    get_session().commit()
    from flask_babel import format_time

    return jsonify(saved=True, saved_at=saved_at.isoformat(),
                   saved_at_text=format_time(saved_at, "medium"))


def _small_json(limit: int) -> Any:
    """The request's JSON body when it is at most ``limit`` bytes and parses; else None
    (413 for a larger body). Deeply nested JSON is refused, not a crash."""
    import json

    if request.content_length is not None and request.content_length > limit:
        abort(413)
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        abort(413)
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _pct(value: float | None) -> str:
    return f"{(value or 0) * 100:.0f}"


# --- records ----------------------------------------------------------------------------


@courses_bp.get("/mine")
@login_required
def mine() -> Any:
    return render_template(
        "courses/mine.html",
        items=service.my_courses(current_user),
        jp=jp_service.jp_total(current_user, jp_service.this_year()),
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
    return render_template("courses/transcript.html", **jp_service.transcript(user))


@courses_bp.get("/transcript.pdf")
@courses_bp.get("/transcript/<nip>.pdf")
@login_required
def transcript_pdf(nip: str | None = None) -> Any:
    user = _transcript_user(nip)
    pdf = certificates.transcript_pdf(jp_service.transcript(user))
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
