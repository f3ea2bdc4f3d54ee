"""Community pages (``/community``): spaces, threads, replies, moderation and settings.

Views parse input, call :mod:`lms.community.service` (which checks access), commit once
and map domain errors to 4xx pages through the app's error handler.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.community import service
from lms.community.forms import (
    CsrfForm,
    ModerateForm,
    ModeratorForm,
    ReplyForm,
    ReportForm,
    SettingsForm,
    ThreadForm,
    TopicForm,
)
from lms.community.markdown import excerpt, render_post
from lms.community.models import REPORT_REASON_LABELS, SpaceKind, Thread
from lms.db import get_session
from lms.errors import LmsError
from lms.web import paginate

community_bp = Blueprint("community", __name__, url_prefix="/community")
PER_PAGE = 20


@community_bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "render_post": render_post,
        "excerpt": excerpt,
        "reason_labels": {k.value: v for k, v in REPORT_REASON_LABELS.items()},
    }


def _int_arg(name: str, default: int = 1) -> int:
    value = request.args.get(name, default=default, type=int)
    return value if value and value > 0 else default


# --- spaces --------------------------------------------------------------------------


@community_bp.get("/")
@login_required
def index() -> Any:
    if service.ensure_course_spaces():
        get_session().commit()
    spaces = service.spaces_for(current_user)
    return render_template(
        "community/index.html",
        spaces=spaces,
        recent=service.recent_threads(current_user, limit=10),
        can_create_topic=service.can_create_topic(current_user),
        moderates=bool(service.moderated_spaces(current_user)),
    )


@community_bp.get("/course/<slug>")
@login_required
def course_space(slug: str) -> Any:
    """The discussion of course ``slug`` (the course page links here)."""
    space = service.course_space(slug)
    get_session().commit()
    return redirect(url_for(".space", slug=space.slug))


@community_bp.get("/s/<slug>")
@login_required
def space(slug: str) -> Any:
    space = service.get_space(slug)
    service.require_read(current_user, space)
    text = request.args.get("q", "")[:200]
    kind = request.args.get("kind", "")
    unanswered = request.args.get("unanswered") == "1"
    page = paginate(
        service.search_threads(space, current_user, text, kind, unanswered),
        _int_arg("page"),
        PER_PAGE,
    )
    authors = service.users_by_id({t.author_id for t in page.items})
    return render_template(
        "community/space.html",
        space=space,
        page=page,
        q=text,
        kind=kind,
        unanswered=unanswered,
        authors=authors,
        course=service.course_of(space),
        can_post=service.can_post(current_user, space),
        is_moderator=service.is_moderator(current_user, space),
        moderators=service.moderators_of(space),
    )


@community_bp.route("/s/<slug>/new", methods=["GET", "POST"])
@login_required
def new_thread(slug: str) -> Any:
    space = service.get_space(slug)
    service.require_post(current_user, space)
    form = ThreadForm()
    if request.method == "GET" and request.args.get("kind") in ("question", "practice"):
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        try:
            thread = service.start_thread(
                space,
                current_user,
                form.kind.data or "",
                form.title.data or "",
                form.body.data or "",
            )
        except service.TooManyPosts:
            raise
        except LmsError as exc:
            get_session().rollback()
            _field_error(form, exc)
        else:
            get_session().commit()
            flash(
                _("Your thread is posted. You will get an e-mail when someone replies."), "success"
            )
            return redirect(url_for(".thread", thread_id=thread.id))
    status = 400 if request.method == "POST" else 200
    return render_template("community/new_thread.html", space=space, form=form), status


def _field_error(form: Any, exc: LmsError) -> None:
    field = getattr(form, exc.field or "", None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*list(field.errors or []), str(exc.message)]
    else:
        flash(str(exc.message), "danger")


# --- threads -------------------------------------------------------------------------


def _thread_page(thread: Thread, reply_form: ReplyForm | None = None, status: int = 200) -> Any:
    space = thread.space
    posts = service.posts_of(thread, current_user)
    authors = service.users_by_id({p.author_id for p in posts} | {p.helpful_by_id for p in posts})
    return render_template(
        "community/thread.html",
        thread=thread,
        space=space,
        posts=posts,
        authors=authors,
        course=service.course_of(space),
        reply_form=reply_form or ReplyForm(),
        report_form=ReportForm(),
        moderate_form=ModerateForm(),
        csrf_form=CsrfForm(),
        can_post=service.can_post(current_user, space)
        and (not thread.locked or service.is_moderator(current_user, space)),
        is_moderator=service.is_moderator(current_user, space),
        following=service.is_following(thread, current_user),
    ), status


@community_bp.get("/t/<int:thread_id>")
@login_required
def thread(thread_id: int) -> Any:
    return _thread_page(service.get_thread(thread_id, current_user))


@community_bp.post("/t/<int:thread_id>/reply")
@login_required
def reply(thread_id: int) -> Any:
    thread = service.get_thread(thread_id, current_user)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _thread_page(thread, form, 400)
    try:
        post = service.reply(thread, current_user, form.body.data or "")
    except service.TooManyPosts:
        raise
    except LmsError as exc:
        if exc.status != 400:
            raise
        get_session().rollback()
        _field_error(form, exc)
        return _thread_page(service.get_thread(thread_id, current_user), form, 400)
    get_session().commit()
    flash(_("Your reply is posted."), "success")
    return redirect(url_for(".thread", thread_id=thread.id, _anchor=f"post-{post.id}"))


@community_bp.post("/t/<int:thread_id>/follow")
@login_required
def follow(thread_id: int) -> Any:
    thread = service.get_thread(thread_id, current_user)
    follow = request.form.get("follow") == "1"
    service.set_following(thread, current_user, follow)
    get_session().commit()
    flash(
        _("You follow this thread: replies come by e-mail.")
        if follow
        else _("You no longer follow this thread."),
        "info",
    )
    return redirect(url_for(".thread", thread_id=thread.id))


@community_bp.post("/t/<int:thread_id>/lock")
@login_required
def lock(thread_id: int) -> Any:
    thread = service.get_thread(thread_id, current_user)
    locked = request.form.get("action") == "lock"
    service.set_locked(thread, current_user, locked, request.form.get("reason", ""))
    get_session().commit()
    flash(_("The thread is locked.") if locked else _("The thread is open again."), "info")
    return redirect(url_for(".thread", thread_id=thread.id))


# --- posts ---------------------------------------------------------------------------


@community_bp.post("/p/<int:post_id>/helpful")
@login_required
def helpful(post_id: int) -> Any:
    post = service.get_post(post_id, current_user)
    mark = request.form.get("helpful", "1") == "1"
    service.mark_helpful(post, current_user, mark)
    get_session().commit()
    flash(_("Marked as a helpful answer.") if mark else _("No longer marked helpful."), "success")
    return redirect(url_for(".thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


@community_bp.post("/p/<int:post_id>/report")
@login_required
def report(post_id: int) -> Any:
    post = service.get_post(post_id, current_user)
    service.report_post(
        post, current_user, request.form.get("reason", ""), request.form.get("detail", "")
    )
    get_session().commit()
    flash(_("Thank you. The moderators will review the post."), "success")
    return redirect(url_for(".thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


@community_bp.post("/p/<int:post_id>/moderate")
@login_required
def moderate(post_id: int) -> Any:
    post = service.get_post(post_id, current_user)
    action = request.form.get("action", "")
    service.moderate_post(post, current_user, action, request.form.get("reason", ""))
    get_session().commit()
    messages = {
        "hide": _("The post is hidden."),
        "restore": _("The post is visible again."),
        "delete": _("The post is deleted."),
    }
    flash(messages.get(action, ""), "info")
    target = request.form.get("next", "")
    if target == "queue":
        return redirect(url_for(".moderation"))
    return redirect(url_for(".thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


# --- moderation ----------------------------------------------------------------------


@community_bp.get("/moderation")
@login_required
def moderation() -> Any:
    spaces = service.moderated_spaces(current_user)
    if not spaces:
        abort(403, description=_("You do not moderate any discussion space."))
    reports = service.open_reports(current_user)
    log = paginate(service.moderation_log(current_user), _int_arg("page"), 30)
    users = service.users_by_id(
        {r.reporter_id for r in reports}
        | {r.post.author_id for r in reports}
        | {a.moderator_id for a in log.items}
    )
    return render_template(
        "community/moderation.html",
        reports=reports,
        log=log,
        users=users,
        spaces={s.id: s for s in spaces},
        moderate_form=ModerateForm(),
        csrf_form=CsrfForm(),
    )


@community_bp.post("/reports/<int:report_id>/dismiss")
@login_required
def dismiss(report_id: int) -> Any:
    report = service.get_report(report_id)
    service.dismiss_report(report, current_user, request.form.get("reason", ""))
    get_session().commit()
    flash(_("The report is closed; the post stays visible."), "info")
    return redirect(url_for(".moderation"))


# --- topics and moderators (admins, HR) ----------------------------------------------


@community_bp.route("/topics/new", methods=["GET", "POST"])
@login_required
def new_topic() -> Any:
    if not service.can_create_topic(current_user):
        abort(403, description=_("Only administrators and HR may create topic spaces."))
    form = TopicForm()
    if form.validate_on_submit():
        try:
            space = service.create_topic(
                form.title.data or "", form.description.data or "", current_user
            )
        except LmsError as exc:
            get_session().rollback()
            _field_error(form, exc)
        else:
            get_session().commit()
            flash(_("The topic space is open."), "success")
            return redirect(url_for(".space", slug=space.slug))
    status = 400 if request.method == "POST" else 200
    return render_template("community/new_topic.html", form=form), status


@community_bp.route("/s/<slug>/moderators", methods=["GET", "POST"])
@login_required
def moderators(slug: str) -> Any:
    space = service.get_space(slug)
    if space.kind != SpaceKind.TOPIC or not service.can_create_topic(current_user):
        abort(
            403,
            description=_("Only administrators and HR designate the moderators of topic spaces."),
        )
    form = ModeratorForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = service.add_moderator(space, current_user, form.user.data or "")
        except LmsError as exc:
            get_session().rollback()
            _field_error(form, exc)
            status = exc.status
        else:
            get_session().commit()
            flash(_("%(name)s now moderates this space.", name=user.name), "success")
            return redirect(url_for(".moderators", slug=space.slug))
    elif request.method == "POST":
        status = 400
    return render_template(
        "community/moderators.html",
        space=space,
        form=form,
        csrf_form=CsrfForm(),
        moderators=service.moderators_of(space),
    ), status


@community_bp.post("/s/<slug>/moderators/<int:user_id>/remove")
@login_required
def remove_moderator(slug: str, user_id: int) -> Any:
    space = service.get_space(slug)
    service.remove_moderator(space, current_user, user_id)
    get_session().commit()
    flash(_("The moderator is removed."), "info")
    return redirect(url_for(".moderators", slug=space.slug))


# --- settings ------------------------------------------------------------------------


@community_bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    form = SettingsForm()
    if request.method == "GET":
        form.email_opt_out.data = service.email_opt_out(current_user)
    elif form.validate_on_submit():
        service.set_email_opt_out(current_user, bool(form.email_opt_out.data))
        get_session().commit()
        flash(_("Your choice is saved."), "success")
        return redirect(url_for(".settings"))
    return render_template("community/settings.html", form=form)


def home_panel(user: Any) -> tuple[str, dict[str, Any]] | None:
    """Recent activity in the user's discussion spaces and the discussions of their
    courses, on the home page."""
    spaces = service.spaces_for(user)
    threads = service.recent_threads(user, limit=5, spaces=spaces)
    courses = spaces["courses"] if not service.is_staff(user) else []
    if not threads and not courses:
        return None
    return "community/_home_panel.html", {"threads": threads, "course_spaces": courses[:6]}
