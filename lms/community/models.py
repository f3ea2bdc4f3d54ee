"""Tables of the learning community: spaces (per course and per topic), threads, posts,
followers, reports of abuse and the moderation log.

A thread's opening post is its first :class:`Post` (``is_opening``), so reporting, hiding
and deleting work the same for questions and replies. ``author_unit`` keeps the OPD the
author worked in when posting: practice is shared between OPDs, and a later transfer
should not rewrite who said what from where.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class SpaceKind(enum.StrEnum):
    COURSE = "course"  # one per published course; its trainers moderate it
    TOPIC = "topic"  # created by admins/HR; designated moderators


class ThreadKind(enum.StrEnum):
    QUESTION = "question"
    PRACTICE = "practice"  # sharing of (good) practice

    @property
    def label(self) -> str:
        return str(THREAD_KIND_LABELS[self])


THREAD_KIND_LABELS = {
    ThreadKind.QUESTION: _l("Question"),
    ThreadKind.PRACTICE: _l("Sharing practice"),
}


class PostStatus(enum.StrEnum):
    VISIBLE = "visible"
    HIDDEN = "hidden"  # by a moderator; can be restored
    DELETED = "deleted"  # by a moderator; the text is erased


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"  # insults, harassment, hate
    PRIVACY = "privacy"  # personal data of someone else
    OFF_TOPIC = "off_topic"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(REPORT_REASON_LABELS[self])


REPORT_REASON_LABELS = {
    ReportReason.SPAM: _l("Spam or advertising"),
    ReportReason.ABUSE: _l("Insulting, harassing or hateful"),
    ReportReason.PRIVACY: _l("Discloses someone's personal data"),
    ReportReason.OFF_TOPIC: _l("Off topic"),
    ReportReason.OTHER: _l("Something else"),
}


def _enum(cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(
        cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class Space(Model):
    """A discussion space: one per course (``course_id``) or one per topic."""

    __tablename__ = "community_space"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SpaceKind] = mapped_column(_enum(SpaceKind))
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    course_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<Space {self.slug}>"


class SpaceModerator(Model):
    """A user an admin or HR designated to moderate a topic space."""

    __tablename__ = "community_moderator"

    space_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_space.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Thread(Model):
    """A question or a piece of shared practice, with its replies (posts)."""

    __tablename__ = "community_thread"

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_space.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[ThreadKind] = mapped_column(_enum(ThreadKind))
    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_activity_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Visible replies (not counting the opening post).
    reply_count: Mapped[int] = mapped_column(default=0)
    #: Hidden or deleted opening post: the thread is out of lists for non-moderators.
    visible: Mapped[bool] = mapped_column(default=True)
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: A reply is marked helpful (the question counts as answered).
    answered: Mapped[bool] = mapped_column(default=False)

    space: Mapped[Space] = orm.relationship(lazy="joined")
    posts: Mapped[list[Post]] = orm.relationship(
        back_populates="thread", order_by="Post.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.Index("ix_community_thread_space_activity", "space_id", "last_activity_at"),
    )

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


class Post(Model):
    """The opening post of a thread or a reply, in Markdown."""

    __tablename__ = "community_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_thread.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    #: The OPD (or unit) the author worked in when posting.
    author_unit: Mapped[str] = mapped_column(sa.String(200), default="")
    is_opening: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    status: Mapped[PostStatus] = mapped_column(_enum(PostStatus), default=PostStatus.VISIBLE)
    helpful_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    helpful_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    statement_id: Mapped[str | None] = mapped_column(sa.String(36))

    thread: Mapped[Thread] = orm.relationship(back_populates="posts")

    @property
    def visible(self) -> bool:
        return self.status == PostStatus.VISIBLE


class Follow(Model):
    """A user following a thread (``active``) or having unfollowed it: an inactive row
    keeps a later reply of theirs from following them again."""

    __tablename__ = "community_follow"

    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_thread.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    active: Mapped[bool] = mapped_column(default=True)


class Preference(Model):
    """A user's community e-mail choice (no row: e-mails on)."""

    __tablename__ = "community_preference"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    email_opt_out: Mapped[bool] = mapped_column(default=False)


class Report(Model):
    """A report of abuse on a post, open until a moderator acts on it or dismisses it."""

    __tablename__ = "community_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_post.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reason: Mapped[ReportReason] = mapped_column(_enum(ReportReason))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    #: What resolved it: "hide", "delete", "dismiss".
    resolution: Mapped[str] = mapped_column(sa.String(20), default="")

    post: Mapped[Post] = orm.relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("post_id", "reporter_id"),)


class ModerationAction(Model):
    """One moderation action: who did what to which thread or post, when and why."""

    __tablename__ = "community_moderation"

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_space.id", ondelete="CASCADE"), index=True
    )
    thread_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("community_thread.id", ondelete="SET NULL")
    )
    post_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("community_post.id", ondelete="SET NULL")
    )
    moderator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    #: hide, restore, delete, lock, unlock, helpful, unhelpful, dismiss, moderator_added...
    action: Mapped[str] = mapped_column(sa.String(30))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
