"""Community operations: spaces, threads, replies, helpful answers, following, reports
and moderation. Plain values and models in; functions flush and never commit.

Access rules (checked here, so views and any later API share them):

- a course space: the course's enrolled learners, its trainers, HR and admins read and
  post; its trainers (and admins) moderate it;
- a topic space: every signed-in user reads and posts; admins, HR and the moderators they
  designate moderate it; admins and HR create topics.

Posting is rate limited (``COMMUNITY_POST_LIMITS``: ``[(posts, seconds), ...]``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from lms.community import notify
from lms.community import statements as st
from lms.community.models import (
    Follow,
    ModerationAction,
    Post,
    PostStatus,
    Preference,
    Report,
    ReportReason,
    Space,
    SpaceKind,
    SpaceModerator,
    Thread,
    ThreadKind,
)
from lms.courses.models import Course, Enrollment
from lms.db import get_session, utcnow
from lms.errors import Conflict, Forbidden, LmsError, NotFound, ValidationError
from lms.people.models import OrgUnit, OrgUnitKind, Role, User, UserRole

TITLE_MAX = 200
BODY_MAX = 20_000
REASON_MAX = 1_000
DEFAULT_POST_LIMITS = [(5, 60), (40, 3600)]
#: Reports a user may file per hour (reports mail every moderator).
REPORT_LIMIT = (10, 3600)


class TooManyPosts(LmsError):
    """Posting faster than the limits allow (HTTP 429)."""

    status = 429


# --- who may do what -----------------------------------------------------------------


def course_of(space: Space) -> Course | None:
    return get_session().get(Course, space.course_id) if space.course_id else None


def course_trainer_ids(course: Course) -> set[int]:
    """The trainers of ``course`` (the authoring module records them per course slug)."""
    try:
        from lms.authoring.models import AuthoredCourse, CourseTrainer
    except ImportError:  # pragma: no cover - authoring ships with Lentera
        return set()
    return set(
        get_session().scalars(
            sa.select(CourseTrainer.user_id)
            .join(AuthoredCourse)
            .where(AuthoredCourse.slug == course.slug)
        )
    )


def is_enrolled(user: User, course: Course) -> bool:
    return (
        get_session().scalar(
            sa.select(Enrollment.id).where(
                Enrollment.user_id == user.id, Enrollment.course_id == course.id
            )
        )
        is not None
    )


def is_staff(user: User) -> bool:
    return user.has_role(Role.ADMIN, Role.HR)


def moderator_ids(space: Space) -> set[int]:
    """Who moderates ``space`` by name: the course's trainers, or the designated
    moderators of a topic (admins and HR moderate topics by their role)."""
    if space.kind == SpaceKind.COURSE:
        course = course_of(space)
        return course_trainer_ids(course) if course else set()
    return set(
        get_session().scalars(
            sa.select(SpaceModerator.user_id).where(SpaceModerator.space_id == space.id)
        )
    )


def is_moderator(user: User, space: Space) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.ADMIN):
        return True
    if space.kind == SpaceKind.TOPIC and user.has_role(Role.HR):
        return True
    return user.id in moderator_ids(space)


def can_read(user: User, space: Space) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if space.kind == SpaceKind.TOPIC or is_staff(user):
        return True
    course = course_of(space)
    if course is None:
        return False
    return user.id in course_trainer_ids(course) or is_enrolled(user, course)


def can_post(user: User, space: Space) -> bool:
    return not space.archived and can_read(user, space)


def require_read(user: User, space: Space) -> None:
    if not can_read(user, space):
        raise Forbidden(
            _l(
                "This discussion is open to the course's learners and trainers. "
                "Enrol in the course to join it."
            )
        )


def require_post(user: User, space: Space) -> None:
    require_read(user, space)
    if space.archived:
        raise Forbidden(_l("This space is archived: it can be read but takes no new posts."))


def require_moderator(user: User, space: Space) -> None:
    if not is_moderator(user, space):
        raise Forbidden(_l("Only the moderators of this space may do that."))


def can_create_topic(user: User) -> bool:
    return user.has_role(Role.ADMIN, Role.HR)


# --- spaces --------------------------------------------------------------------------


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80] or "topik"


def get_space(slug: str) -> Space:
    space = get_session().scalar(sa.select(Space).where(Space.slug == slug))
    if space is None:
        raise NotFound(_l("There is no discussion space %(slug)s.", slug=slug))
    return space


def ensure_course_space(course: Course) -> Space:
    """The space of ``course``, created on first use (idempotent)."""
    session = get_session()
    space = session.scalar(sa.select(Space).where(Space.course_id == course.id))
    if space is None:
        base = f"kursus-{course.slug}"[:90]
        slug, n = base, 2
        while session.scalar(sa.select(Space.id).where(Space.slug == slug)):
            slug, n = f"{base}-{n}", n + 1  # a topic took the name first
        space = Space(
            kind=SpaceKind.COURSE,
            slug=slug,
            title=course.title,
            description=course.summary or "",
            course_id=course.id,
        )
        session.add(space)
        session.flush()
    elif space.title != course.title:
        space.title = course.title
    return space


def ensure_course_spaces() -> int:
    """A space for every published course that has none yet; how many were made."""
    session = get_session()
    missing = session.scalars(
        sa.select(Course).where(
            Course.published.is_(True), ~sa.exists().where(Space.course_id == Course.id)
        )
    )
    made = 0
    for course in missing:
        ensure_course_space(course)
        made += 1
    return made


def course_space(slug: str) -> Space:
    """The space of the course ``slug`` (made now when missing) or NotFound."""
    course = get_session().scalar(sa.select(Course).where(Course.slug == slug))
    if course is None:
        raise NotFound(_l("There is no course %(slug)s.", slug=slug))
    existing = get_session().scalar(sa.select(Space).where(Space.course_id == course.id))
    if existing is None and not course.published:
        raise NotFound(_l("There is no course %(slug)s.", slug=slug))
    return existing or ensure_course_space(course)


def create_topic(title: str, description: str, by: User) -> Space:
    """A new topic space (admins and HR)."""
    if not can_create_topic(by):
        raise Forbidden(_l("Only administrators and HR may create topic spaces."))
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError(_l("Give the topic a title."), field="title")
    if len(title) > TITLE_MAX:
        raise ValidationError(
            _l("The title is too long (at most %(n)d characters).", n=TITLE_MAX), field="title"
        )
    session = get_session()
    if session.scalar(
        sa.select(Space.id).where(
            Space.kind == SpaceKind.TOPIC, sa.func.lower(Space.title) == title.lower()
        )
    ):
        raise Conflict(_l("A topic with this title exists already."), field="title")
    base = slugify(title)
    slug, n = base, 2
    while session.scalar(sa.select(Space.id).where(Space.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    space = Space(
        kind=SpaceKind.TOPIC,
        slug=slug,
        title=title,
        description=(description or "").strip()[:BODY_MAX],
        created_by_id=by.id,
    )
    session.add(space)
    session.flush()
    return space


def add_moderator(space: Space, by: User, identifier: str) -> User:
    """Designate the user with this e-mail or NIP as a moderator of a topic space."""
    from lms.people.service import find_user

    if space.kind != SpaceKind.TOPIC:
        raise ValidationError(_l("A course space is moderated by the course's trainers."))
    if not can_create_topic(by):
        raise Forbidden(_l("Only administrators and HR may designate moderators."))
    user = find_user((identifier or "").strip())
    if user is None:
        raise ValidationError(_l("No user with this e-mail or NIP."), field="user")
    session = get_session()
    if session.get(SpaceModerator, (space.id, user.id)) is not None:
        raise Conflict(_l("%(name)s moderates this space already.", name=user.name), field="user")
    session.add(SpaceModerator(space_id=space.id, user_id=user.id, added_by_id=by.id))
    _log(space, by, "moderator_added", user.name)
    session.flush()
    return user


def remove_moderator(space: Space, by: User, user_id: int) -> None:
    if not can_create_topic(by):
        raise Forbidden(_l("Only administrators and HR may designate moderators."))
    session = get_session()
    row = session.get(SpaceModerator, (space.id, user_id))
    if row is None:
        raise NotFound(_l("This user is not a moderator of the space."))
    user = session.get(User, user_id)
    session.delete(row)
    _log(space, by, "moderator_removed", user.name if user else str(user_id))
    session.flush()


def moderators_of(space: Space) -> list[User]:
    ids = moderator_ids(space)
    if not ids:
        return []
    return list(get_session().scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.name)))


def spaces_for(user: User) -> dict[str, list[Space]]:
    """The spaces ``user`` can read: ``{"topics": [...], "courses": [...]}``."""
    session = get_session()
    topics = list(
        session.scalars(
            sa.select(Space)
            .where(Space.kind == SpaceKind.TOPIC)
            .order_by(Space.archived, Space.title)
        )
    )
    query = sa.select(Space).join(Course, Course.id == Space.course_id).order_by(Space.title)
    if not is_staff(user):
        trained = [c for c in trained_course_ids(user)]
        query = query.where(
            sa.or_(
                Space.course_id.in_(
                    sa.select(Enrollment.course_id).where(Enrollment.user_id == user.id)
                ),
                Space.course_id.in_(trained or [-1]),
            )
        )
    return {"topics": topics, "courses": list(session.scalars(query))}


def trained_course_ids(user: User) -> list[int]:
    if not user.has_role(Role.TRAINER):
        return []
    try:
        from lms.authoring.models import AuthoredCourse, CourseTrainer
    except ImportError:  # pragma: no cover
        return []
    return list(
        get_session().scalars(
            sa.select(Course.id)
            .join(AuthoredCourse, AuthoredCourse.slug == Course.slug)
            .join(CourseTrainer, CourseTrainer.course_id == AuthoredCourse.id)
            .where(CourseTrainer.user_id == user.id)
        )
    )


def moderated_spaces(user: User) -> list[Space]:
    """The spaces ``user`` moderates (every space for admins)."""
    session = get_session()
    if user.has_role(Role.ADMIN):
        return list(session.scalars(sa.select(Space).order_by(Space.title)))
    conditions: list[sa.ColumnElement[bool]] = [
        Space.id.in_(sa.select(SpaceModerator.space_id).where(SpaceModerator.user_id == user.id))
    ]
    if user.has_role(Role.HR):
        conditions.append(Space.kind == SpaceKind.TOPIC)
    trained = trained_course_ids(user)
    if trained:
        conditions.append(Space.course_id.in_(trained))
    return list(session.scalars(sa.select(Space).where(sa.or_(*conditions)).order_by(Space.title)))


# --- posting -------------------------------------------------------------------------


def author_unit(user: User) -> str:
    """The OPD the user works in now (or the unit of their position), for attribution."""
    position = user.position
    if position is None:
        return ""
    unit: OrgUnit | None = position.org_unit
    while unit is not None and unit.kind not in (OrgUnitKind.OPD, OrgUnitKind.PEMDA):
        unit = unit.parent
    return (unit or position.org_unit).name[:200]


def check_rate(user: User) -> None:
    """Raise :class:`TooManyPosts` when ``user`` posted too often lately."""
    limits = current_app.config.get("COMMUNITY_POST_LIMITS", DEFAULT_POST_LIMITS)
    now = utcnow()
    for count, seconds in limits:
        since = now - dt.timedelta(seconds=seconds)
        recent = get_session().scalar(
            sa.select(sa.func.count(Post.id)).where(
                Post.author_id == user.id, Post.created_at >= since
            )
        )
        if (recent or 0) >= count:
            raise TooManyPosts(
                _l("You are posting very quickly. Please wait a few minutes and try again.")
            )


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError(_l("Write something first."), field="body")
    if len(body) > BODY_MAX:
        raise ValidationError(
            _l("The text is too long (at most %(n)d characters).", n=BODY_MAX), field="body"
        )
    return body


def _follow(thread: Thread, user: User, explicit: bool = False) -> None:
    """Make ``user`` follow ``thread``; an earlier unfollow wins unless ``explicit``."""
    session = get_session()
    row = session.get(Follow, (thread.id, user.id))
    if row is None:
        session.add(Follow(thread_id=thread.id, user_id=user.id, active=True))
    elif explicit:
        row.active = True


def _course_slug(space: Space) -> str | None:
    course = course_of(space)
    return course.slug if course else None


def start_thread(space: Space, user: User, kind: str, title: str, body: str) -> Thread:
    """A new question or shared practice in ``space``, with its ``asked``/``shared``
    statement; the author follows it."""
    require_post(user, space)
    try:
        thread_kind = ThreadKind(kind)
    except ValueError:
        raise ValidationError(_l("Choose a question or sharing practice."), field="kind") from None
    title = " ".join((title or "").split())
    if len(title) < 5:
        raise ValidationError(
            _l("Give the thread a title of at least 5 characters."), field="title"
        )
    if len(title) > TITLE_MAX:
        raise ValidationError(
            _l("The title is too long (at most %(n)d characters).", n=TITLE_MAX), field="title"
        )
    body = _clean_body(body)
    check_rate(user)
    session = get_session()
    now = utcnow()
    thread = Thread(
        space_id=space.id,
        author_id=user.id,
        kind=thread_kind,
        title=title,
        created_at=now,
        last_activity_at=now,
    )
    session.add(thread)
    session.flush()
    post = Post(
        thread_id=thread.id,
        author_id=user.id,
        author_unit=author_unit(user),
        is_opening=True,
        body=body,
        created_at=now,
    )
    session.add(post)
    _follow(thread, user)
    session.flush()
    post.statement_id = st.store(
        st.thread_statement(
            user, st.verb_for_new_thread(thread), thread, space, _course_slug(space)
        )
    )
    return thread


def reply(thread: Thread, user: User, body: str, *, quiet: bool = False) -> Post:
    """A reply to ``thread`` (``answered`` or ``commented``); followers get an e-mail
    (unless ``quiet``: demo data) and the replier follows the thread (unless they
    unfollowed it before)."""
    space = thread.space
    require_post(user, space)
    if thread.locked and not is_moderator(user, space):
        raise Forbidden(_l("This thread is locked: it takes no new replies."))
    if not thread.visible and not is_moderator(user, space):
        raise NotFound(_l("There is no such thread."))
    body = _clean_body(body)
    check_rate(user)
    session = get_session()
    now = utcnow()
    post = Post(
        thread_id=thread.id,
        author_id=user.id,
        author_unit=author_unit(user),
        body=body,
        created_at=now,
    )
    session.add(post)
    thread.reply_count += 1
    thread.last_activity_at = now
    session.flush()
    post.statement_id = st.store(
        st.thread_statement(
            user, st.verb_for_reply(thread, user), thread, space, _course_slug(space)
        )
    )
    if not quiet:
        notify.reply_posted(thread, post, user)
    _follow(thread, user)
    session.flush()
    return post


def get_thread(thread_id: int, user: User) -> Thread:
    """The thread ``thread_id`` if ``user`` may read it (hidden threads: moderators only)."""
    thread = get_session().get(Thread, thread_id)
    if thread is None:
        raise NotFound(_l("There is no such thread."))
    require_read(user, thread.space)
    if not thread.visible and not is_moderator(user, thread.space):
        raise NotFound(_l("There is no such thread."))
    return thread


def get_post(post_id: int, user: User) -> Post:
    post = get_session().get(Post, post_id)
    if post is None:
        raise NotFound(_l("There is no such post."))
    get_thread(post.thread_id, user)
    return post


def posts_of(thread: Thread, user: User) -> list[Post]:
    """The posts of ``thread`` to show ``user``: the opening post, then the helpful
    replies, then the others in order. Hidden and deleted posts stay in place as a notice
    (moderators see hidden text)."""
    posts = list(
        get_session().scalars(
            sa.select(Post).where(Post.thread_id == thread.id).order_by(Post.created_at, Post.id)
        )
    )
    opening = [p for p in posts if p.is_opening]
    replies = [p for p in posts if not p.is_opening]
    helpful = [p for p in replies if p.helpful_at is not None and p.visible]
    rest = [p for p in replies if p not in helpful]
    return opening + helpful + rest


def search_threads(
    space: Space, user: User, text: str = "", kind: str = "", unanswered: bool = False
) -> sa.Select[Any]:
    """Threads of ``space``, newest activity first, matching ``text`` in the title or
    any visible post; hidden threads only for moderators."""
    query = sa.select(Thread).where(Thread.space_id == space.id)
    if not is_moderator(user, space):
        query = query.where(Thread.visible.is_(True))
    if kind in (ThreadKind.QUESTION.value, ThreadKind.PRACTICE.value):
        query = query.where(Thread.kind == ThreadKind(kind))
    if unanswered:
        query = query.where(Thread.kind == ThreadKind.QUESTION, Thread.answered.is_(False))
    for word in (text or "").split()[:8]:
        like = f"%{_escape_like(word.lower())}%"
        in_posts = sa.select(Post.id).where(
            Post.thread_id == Thread.id,
            Post.status == PostStatus.VISIBLE,
            sa.func.lower(Post.body).like(like, escape="\\"),
        )
        query = query.where(
            sa.or_(sa.func.lower(Thread.title).like(like, escape="\\"), sa.exists(in_posts))
        )
    return query.order_by(Thread.last_activity_at.desc(), Thread.id.desc())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def recent_threads(
    user: User, limit: int = 5, spaces: dict[str, list[Space]] | None = None
) -> list[Thread]:
    """The threads with the latest activity in the spaces ``user`` reads (``spaces``:
    what :func:`spaces_for` gave, when the caller has it already)."""
    if spaces is None:
        spaces = spaces_for(user)
    ids = [s.id for s in spaces["topics"] + spaces["courses"]]
    return list(
        get_session().scalars(
            sa.select(Thread)
            .options(orm.joinedload(Thread.space))
            .where(Thread.space_id.in_(ids or [-1]), Thread.visible.is_(True))
            .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
            .limit(limit)
        )
    )


# --- helpful answers, following, e-mail preference -----------------------------------


def mark_helpful(post: Post, by: User, helpful: bool = True, *, quiet: bool = False) -> None:
    """A moderator (the course's trainer) marks a reply helpful, or takes it back; the
    reply's author gets an e-mail when it is marked."""
    thread = post.thread
    require_moderator(by, thread.space)
    if post.is_opening:
        raise ValidationError(_l("Only replies can be marked helpful."))
    if not post.visible:
        raise ValidationError(_l("A hidden or deleted post cannot be marked helpful."))
    if helpful == (post.helpful_at is not None):
        return
    post.helpful_at = utcnow() if helpful else None
    post.helpful_by_id = by.id if helpful else None
    _log(thread.space, by, "helpful" if helpful else "unhelpful", "", thread, post)
    get_session().flush()
    _update_answered(thread)
    if helpful and not quiet:
        notify.marked_helpful(thread, post, by)


def _update_answered(thread: Thread) -> None:
    helpful = get_session().scalar(
        sa.select(sa.func.count(Post.id)).where(
            Post.thread_id == thread.id,
            Post.helpful_at.is_not(None),
            Post.status == PostStatus.VISIBLE,
        )
    )
    thread.answered = bool(helpful)


def set_following(thread: Thread, user: User, follow: bool) -> None:
    require_read(user, thread.space)
    session = get_session()
    row = session.get(Follow, (thread.id, user.id))
    if row is None:
        session.add(Follow(thread_id=thread.id, user_id=user.id, active=follow))
    else:
        row.active = follow
    session.flush()


def is_following(thread: Thread, user: User) -> bool:
    row = get_session().get(Follow, (thread.id, user.id))
    return bool(row and row.active)


def email_opt_out(user: User) -> bool:
    row = get_session().get(Preference, user.id)
    return bool(row and row.email_opt_out)


def set_email_opt_out(user: User, opt_out: bool) -> None:
    session = get_session()
    row = session.get(Preference, user.id)
    if row is None:
        session.add(Preference(user_id=user.id, email_opt_out=opt_out))
    else:
        row.email_opt_out = opt_out
    session.flush()


# --- reports and moderation ----------------------------------------------------------


def report_post(post: Post, user: User, reason: str, detail: str = "") -> Report:
    """Report ``post`` (once per user); the space's moderators get an e-mail."""
    get_thread(post.thread_id, user)
    if not post.visible:
        raise ValidationError(_l("This post is hidden already."))
    if post.author_id == user.id:
        raise ValidationError(_l("You cannot report your own post."))
    try:
        why = ReportReason(reason)
    except ValueError:
        raise ValidationError(_l("Choose a reason for the report."), field="reason") from None
    detail = (detail or "").strip()
    if len(detail) > REASON_MAX:
        raise ValidationError(
            _l("The explanation is too long (at most %(n)d characters).", n=REASON_MAX),
            field="detail",
        )
    if why == ReportReason.OTHER and not detail:
        raise ValidationError(_l("Say what is wrong with the post."), field="detail")
    session = get_session()
    if session.scalar(
        sa.select(Report.id).where(Report.post_id == post.id, Report.reporter_id == user.id)
    ):
        raise Conflict(_l("You have reported this post already; the moderators will look at it."))
    count, seconds = REPORT_LIMIT
    recent = session.scalar(
        sa.select(sa.func.count(Report.id)).where(
            Report.reporter_id == user.id,
            Report.created_at >= utcnow() - dt.timedelta(seconds=seconds),
        )
    )
    if (recent or 0) >= count:
        raise TooManyPosts(_l("You have sent many reports lately. Please wait a while."))
    report = Report(post_id=post.id, reporter_id=user.id, reason=why, detail=detail)
    session.add(report)
    session.flush()
    space = post.thread.space
    recipients = moderator_ids(space)
    if not recipients:
        # Nobody named: the administrators look after it.
        recipients = set(
            session.scalars(sa.select(UserRole.user_id).where(UserRole.role == Role.ADMIN))
        )
    notify.post_reported(report, recipients)
    return report


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _l("Give a reason: it is recorded in the moderation log."), field="reason"
        )
    if len(reason) > REASON_MAX:
        raise ValidationError(
            _l("The reason is too long (at most %(n)d characters).", n=REASON_MAX), field="reason"
        )
    return reason


def _log(
    space: Space,
    by: User,
    action: str,
    reason: str,
    thread: Thread | None = None,
    post: Post | None = None,
) -> ModerationAction:
    row = ModerationAction(
        space_id=space.id,
        thread_id=thread.id if thread else None,
        post_id=post.id if post else None,
        moderator_id=by.id,
        action=action,
        reason=reason,
    )
    get_session().add(row)
    return row


def _resolve_reports(post: Post, by: User, resolution: str) -> None:
    for report in get_session().scalars(
        sa.select(Report).where(Report.post_id == post.id, Report.resolved_at.is_(None))
    ):
        report.resolved_at = utcnow()
        report.resolved_by_id = by.id
        report.resolution = resolution


def moderate_post(post: Post, by: User, action: str, reason: str) -> None:
    """Hide, restore or delete ``post`` with a reason (recorded); hiding or deleting the
    opening post takes the whole thread out of the lists. Open reports on it are closed."""
    thread = post.thread
    space = thread.space
    require_moderator(by, space)
    reason = _reason(reason)
    session = get_session()
    was_visible = post.visible
    if action == "hide":
        if post.status != PostStatus.VISIBLE:
            raise Conflict(_l("This post is not visible."))
        post.status = PostStatus.HIDDEN
    elif action == "restore":
        if post.status != PostStatus.HIDDEN:
            raise Conflict(_l("Only a hidden post can be restored."))
        post.status = PostStatus.VISIBLE
    elif action == "delete":
        if post.status == PostStatus.DELETED:
            raise Conflict(_l("This post is deleted already."))
        post.status = PostStatus.DELETED
        post.body = ""  # deleted means gone: the reason stays in the log
        post.helpful_at = None
        post.helpful_by_id = None
    else:
        raise ValidationError(_l("Unknown moderation action."), field="action")
    if action in ("hide", "delete"):
        _resolve_reports(post, by, action)
    if post.is_opening:
        thread.visible = post.visible
    elif was_visible != post.visible:
        thread.reply_count += 1 if post.visible else -1
    _log(space, by, action, reason, thread, post)
    session.flush()
    _update_answered(thread)


def dismiss_report(report: Report, by: User, reason: str = "") -> None:
    """Close a report without acting on the post (recorded)."""
    space = report.post.thread.space
    require_moderator(by, space)
    if report.resolved_at is not None:
        raise Conflict(_l("This report is closed already."))
    report.resolved_at = utcnow()
    report.resolved_by_id = by.id
    report.resolution = "dismiss"
    _log(space, by, "dismiss", (reason or "").strip()[:REASON_MAX], report.post.thread, report.post)
    get_session().flush()


def set_locked(thread: Thread, by: User, locked: bool, reason: str) -> None:
    """Lock a thread (no new replies) or unlock it, with a reason (recorded)."""
    require_moderator(by, thread.space)
    reason = _reason(reason)
    if locked == thread.locked:
        raise Conflict(
            _l("The thread is locked already.") if locked else _l("The thread is not locked.")
        )
    thread.locked_at = utcnow() if locked else None
    _log(thread.space, by, "lock" if locked else "unlock", reason, thread)
    get_session().flush()


def get_report(report_id: int) -> Report:
    report = get_session().get(Report, report_id)
    if report is None:
        raise NotFound(_l("There is no such report."))
    return report


def open_reports(user: User) -> list[Report]:
    """Open reports in the spaces ``user`` moderates, oldest first."""
    space_ids = [s.id for s in moderated_spaces(user)]
    if not space_ids:
        return []
    return list(
        get_session().scalars(
            sa.select(Report)
            .join(Post, Post.id == Report.post_id)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Report.resolved_at.is_(None), Thread.space_id.in_(space_ids))
            .order_by(Report.created_at, Report.id)
        )
    )


def moderation_log(user: User, space: Space | None = None) -> sa.Select[Any]:
    """Moderation actions in the spaces ``user`` moderates (or in ``space``), newest first."""
    if space is not None:
        require_moderator(user, space)
        ids = [space.id]
    else:
        ids = [s.id for s in moderated_spaces(user)]
    return (
        sa.select(ModerationAction)
        .where(ModerationAction.space_id.in_(ids or [-1]))
        .order_by(ModerationAction.at.desc(), ModerationAction.id.desc())
    )


def users_by_id(ids: set[int | None]) -> dict[int, User]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return {u.id: u for u in get_session().scalars(sa.select(User).where(User.id.in_(wanted)))}
