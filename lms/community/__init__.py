"""The learning community: a discussion space per course and per topic, questions and
shared practice between OPDs, answers marked helpful, moderation with reports of abuse,
and e-mail notifications through the outbox of :mod:`lms.mail`.

- :mod:`lms.community.models`: spaces, threads, posts, follows, reports, moderation log
- :mod:`lms.community.service`: access rules and every operation (flush, never commit)
- :mod:`lms.community.notify`: the e-mails; :mod:`lms.community.statements`: xAPI
- :mod:`lms.community.views` (``/community``); ``templates/community``
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def _on_course_published(sender: Any, course: dict[str, Any], **_: Any) -> None:
    """Every published course has a discussion space from its first version on."""
    import sqlalchemy as sa

    from lms.community.service import ensure_course_space
    from lms.courses.models import Course
    from lms.db import get_session

    row = get_session().scalar(sa.select(Course).where(Course.slug == course["slug"]))
    if row is not None and row.published:
        ensure_course_space(row)


def init_app(app: Flask) -> None:
    from lms import signals
    from lms.community.views import community_bp, home_panel
    from lms.web import register_home_panel

    # [(posts, seconds), ...]: at most that many posts in that many seconds per user.
    app.config.setdefault("COMMUNITY_POST_LIMITS", [(5, 60), (40, 3600)])
    app.register_blueprint(community_bp)
    register_home_panel(home_panel)
    from flask_babel import lazy_gettext as _l

    from lms.mail import register_category

    register_category("community", _l("Community: replies to threads you follow, helpful "
                                      "answers, reports to moderate"),
                      _l("Community members"),
                      description=_l("Stop following a single thread on its page."))
    # A weak reference would drop a function defined per app; connect once, module-level.
    signals.course_version_published.connect(_on_course_published, weak=False)
