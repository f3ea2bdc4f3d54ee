"""The quiz pages of the course player (``/courses/<slug>/quizzes/...``): the quiz's
intro, starting an attempt, answering (saved as given), submitting and the review. A
quiz is a module of a course; :func:`lms.courses.views.learner_context` says which course
version the learner follows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.courses import service
from lms.courses.content import render_version_markdown
from lms.courses.models import CourseVersion
from lms.courses.views import allowed_hosts, asset_url, learner_context, module_page
from lms.db import get_session
from lms.errors import Conflict, NotFound
from lms.quizzes import service as quiz_service
from lms.quizzes.journey import QuizJourney

quizzes_bp = Blueprint("quizzes", __name__, url_prefix="/courses")


# --- quizzes ----------------------------------------------------------------------------


def _quiz_context(slug: str, quiz_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ctx = learner_context(slug)
    module = service.find_module(ctx["definition"], quiz_id)
    if module["kind"] != "quiz":
        raise NotFound(_("No such quiz."))
    return ctx, module


@quizzes_bp.get("/<slug>/quizzes/<quiz_id>")
@login_required
def quiz(slug: str, quiz_id: str) -> Any:
    ctx, module = _quiz_context(slug, quiz_id)
    attempts = quiz_service.attempts_for(ctx["enrollment"], quiz_id)
    for previous in attempts:
        _close_if_expired(ctx, module, previous)
    current = quiz_service.open_attempt(attempts)
    left = quiz_service.attempts_left(module["quiz"], attempts)
    return module_page(
        ctx,
        module,
        "quizzes/intro.html",
        quiz=module["quiz"],
        attempts=attempts,
        current=current,
        left=left,
        passed=any(a.passed for a in attempts),
    )


@quizzes_bp.post("/<slug>/quizzes/<quiz_id>/start")
@login_required
def quiz_start(slug: str, quiz_id: str) -> Any:
    ctx, module = _quiz_context(slug, quiz_id)
    for previous in quiz_service.attempts_for(ctx["enrollment"], quiz_id):
        _close_if_expired(ctx, module, previous)
    attempt, created = quiz_service.start_attempt(
        current_user.id, ctx["enrollment"], ctx["version"], module["quiz"]
    )
    if created:
        QuizJourney(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).quiz_attempted(
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
    assert version is not None  # an attempt's version is kept (foreign key)
    return service.find_module(service.definition_of(version), quiz_id)["quiz"]


@quizzes_bp.get("/<slug>/quizzes/<quiz_id>/attempts/<attempt_id>")
@login_required
def attempt(slug: str, quiz_id: str, attempt_id: str) -> Any:
    ctx, module = _quiz_context(slug, quiz_id)
    attempt = _attempt_for(ctx, quiz_id, attempt_id)
    quiz = _attempt_quiz(attempt, quiz_id)
    # Time ran out with the page closed: the answers saved by then are graded.
    _close_if_expired(ctx, module, attempt)
    if attempt.submitted_at is None:
        questions = quiz_service.public_questions(attempt, quiz)
        assets, hosts = asset_url(ctx["course"], ctx["version"]), allowed_hosts()
        prompts = {
            q["id"]: render_version_markdown(ctx["version"].id, q["prompt"], assets, hosts)
            for q in questions
        }
        return module_page(
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
    assets = asset_url(ctx["course"], ctx["version"])
    hosts = allowed_hosts()
    for item in items:
        item["prompt"] = render_version_markdown(ctx["version"].id, item["prompt"], assets, hosts)
    attempts = quiz_service.attempts_for(ctx["enrollment"], quiz_id)
    left = quiz_service.attempts_left(quiz, attempts)
    return module_page(
        ctx,
        module,
        "quizzes/review.html",
        quiz=quiz,
        attempt=attempt,
        items=items,
        left=left,
        passed=any(a.passed for a in attempts),
    )


@quizzes_bp.post("/<slug>/quizzes/<quiz_id>/attempts/<attempt_id>")
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
    QuizJourney(current_user, ctx["course"], ctx["version"], ctx["enrollment"]).quiz_submitted(
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


@quizzes_bp.post("/<slug>/quizzes/<quiz_id>/attempts/<attempt_id>/answers")
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
