"""E-mails of the community, queued in the outbox of :mod:`lms.mail` (the caller's
transaction commits them; nothing is sent before).

- a new reply: to the thread's followers (its author, repliers, people who chose to
  follow), not to the replier, not to those who unfollowed;
- a reply marked helpful: to its author;
- a report: to the moderators of the space.

Anyone can turn all community e-mails off (:class:`~lms.community.models.Preference`).
Each mail is written in the recipient's language.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from lms.community.markdown import excerpt
from lms.community.models import Follow, Post, Preference, Report, Thread
from lms.db import get_session
from lms.people.models import User

log = logging.getLogger(__name__)
CATEGORY = "community"


def _queue_mail(to: User, subject: str, text: str) -> Any:
    from lms.errors import ValidationError
    from lms.mail import queue_mail

    try:
        # The community writes its own footer (unfollow a thread, its settings page).
        return queue_mail(to, subject, text, category=CATEGORY, footer=False)
    except ValidationError:
        # One stored address the outbox refuses must not cost the replier their post.
        log.warning("Community mail to user %s skipped: address refused", to.id)
        return None


def opted_out(user_ids: Iterable[int]) -> set[int]:
    ids = list(set(user_ids))
    if not ids:
        return set()
    return set(
        get_session().scalars(
            sa.select(Preference.user_id).where(
                Preference.user_id.in_(ids), Preference.email_opt_out.is_(True)
            )
        )
    )


def _recipients(user_ids: Iterable[int], exclude: int | None = None) -> list[User]:
    ids = {i for i in user_ids if i and i != exclude}
    ids -= opted_out(ids)
    if not ids:
        return []
    users = get_session().scalars(
        sa.select(User).where(User.id.in_(ids), User.active.is_(True)).order_by(User.id)
    )
    return [u for u in users if u.email]


def _link(endpoint: str, **values: Any) -> str:
    """An absolute link under ``LMS_BASE_URL``, also outside a request (CLI, workers)."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    with current_app.test_request_context("/", base_url=base):
        return url_for(endpoint, _external=True, **values)


def _locale(user: User) -> str:
    languages = current_app.config.get("LANGUAGES") or ["id"]
    if user.locale and user.locale in languages:
        return user.locale
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _footer() -> str:
    return "\n\n-- \n" + _(
        "You get this e-mail from the Lentera learning community. "
        "Stop following the thread on its page, or turn off community "
        "e-mails: %(url)s",
        url=_link("community.settings"),
    )


def reply_posted(thread: Thread, post: Post, replier: User) -> int:
    """Mail the followers of ``thread`` about ``post``; the number of mails queued."""
    followers = get_session().scalars(
        sa.select(Follow.user_id).where(Follow.thread_id == thread.id, Follow.active.is_(True))
    )
    count = 0
    for user in _recipients(followers, exclude=replier.id):
        with force_locale(_locale(user)):
            subject = _("New reply: %(title)s", title=thread.title)
            text = _(
                '%(name)s (%(unit)s) replied in "%(title)s":',
                name=replier.name,
                unit=post.author_unit or "-",
                title=thread.title,
            )
            text += "\n\n" + excerpt(post.body, 600) + "\n\n"
            text += _(
                "Read and reply: %(url)s",
                url=_link("community.thread", thread_id=thread.id, _anchor=f"post-{post.id}"),
            )
            text += _footer()
        if _queue_mail(user, subject, text) is not None:
            count += 1
    return count


def marked_helpful(thread: Thread, post: Post, by: User) -> int:
    """Mail the author of ``post`` that a moderator marked it helpful."""
    if post.author_id is None:
        return 0
    count = 0
    for user in _recipients([post.author_id], exclude=by.id):
        with force_locale(_locale(user)):
            subject = _("Your answer was marked helpful: %(title)s", title=thread.title)
            text = _(
                '%(name)s marked your answer in "%(title)s" as helpful. Thank you for '
                "sharing what you know!",
                name=by.name,
                title=thread.title,
            )
            text += "\n\n" + _(
                "See it: %(url)s",
                url=_link("community.thread", thread_id=thread.id, _anchor=f"post-{post.id}"),
            )
            text += _footer()
        if _queue_mail(user, subject, text) is not None:
            count += 1
    return count


def post_reported(report: Report, moderator_ids: Iterable[int]) -> int:
    """Mail the moderators of the space about a new report."""
    post = report.post
    thread = post.thread
    count = 0
    for user in _recipients(moderator_ids, exclude=report.reporter_id):
        with force_locale(_locale(user)):
            subject = _("Report to review: %(title)s", title=thread.title)
            text = _(
                'A post in "%(title)s" was reported (%(reason)s).',
                title=thread.title,
                reason=report.reason.label,
            )
            if report.detail:
                text += "\n" + _("The reporter wrote: %(detail)s", detail=report.detail)
            text += "\n\n" + excerpt(post.body, 400) + "\n\n"
            text += _(
                "Review it in the moderation queue: %(url)s", url=_link("community.moderation")
            )
            text += _footer()
        if _queue_mail(user, subject, text) is not None:
            count += 1
    return count
