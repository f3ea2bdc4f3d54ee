"""LTI 1.3 tool: registered platforms, Lentera's own keys, launches, links and score posts.

A *platform* (Moodle, Canvas, a national LMS) is registered by an administrator, by hand or
through LTI Dynamic Registration. Every launch goes through a single-use *launch state*
(OIDC state and nonce, stored here so any app server can finish a login another started).
What a platform placed in its courses is a *resource link* pointing at a Lentera course or
module; a *binding* remembers which Lentera user launched which link, so the statement
consumer knows where a quiz result or a completion must be reported; *score posts* are the
outbox of those reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow

#: How a launch finds the Lentera account of the platform user (besides an earlier link).
MATCH_EMAIL = "email"
MATCH_NIP = "nip"
MATCH_MODES = (MATCH_EMAIL, MATCH_NIP)

# Score post statuses (the outbox).
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"
SCORE_STATUSES = (QUEUED, SENDING, SENT, FAILED, CANCELLED)


class LtiPlatform(Model):
    """A platform that may launch Lentera: its issuer, the client id it gave Lentera, and
    its endpoints. ``(issuer, client_id)`` identifies a registration (one platform may
    register Lentera twice, e.g. for two faculties)."""

    __tablename__ = "lti_platform"
    __table_args__ = (sa.UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    issuer: Mapped[str] = mapped_column(sa.String(500))
    client_id: Mapped[str] = mapped_column(sa.String(255))
    #: The OIDC authorization endpoint (where the login is sent).
    auth_url: Mapped[str] = mapped_column(sa.String(1000))
    #: The OAuth2 token endpoint (client credentials for AGS/NRPS).
    token_url: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: The audience of client assertions when it is not the token URL (rare: Brightspace).
    token_audience: Mapped[str] = mapped_column(sa.String(1000), default="")
    jwks_url: Mapped[str] = mapped_column(sa.String(1000))
    #: Origins allowed to frame Lentera after a launch from this platform (space separated;
    #: default: the origins of the issuer and of the authorization endpoint).
    frame_origins: Mapped[str] = mapped_column(sa.String(2000), default="")
    match_by: Mapped[str] = mapped_column(sa.String(10), default=MATCH_EMAIL)
    #: Where the NIP is in the launch: ``custom.nip`` (a custom parameter),
    #: ``lis.person_sourcedid``, ``preferred_username`` or ``sub``.
    nip_claim: Mapped[str] = mapped_column(sa.String(100), default="custom.nip")
    create_users: Mapped[bool] = mapped_column(default=True)
    #: Platform instructors get Lentera's trainer role (off: they may only deep-link).
    grant_trainer: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    #: "manual" or "dynamic" (LTI Dynamic Registration).
    registered_via: Mapped[str] = mapped_column(sa.String(10), default="manual")
    #: What the platform said about itself (product family, version), for the admin page.
    product: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The platform's key set as last fetched, and when (refetched on an unknown key id).
    jwks_cache: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    jwks_fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deployments: Mapped[list[LtiDeployment]] = orm.relationship(
        back_populates="platform", cascade="all, delete-orphan",
        order_by="LtiDeployment.id", lazy="selectin")

    @property
    def deployment_ids(self) -> list[str]:
        return [d.deployment_id for d in self.deployments]

    def __repr__(self) -> str:
        return f"<LtiPlatform {self.id} {self.issuer} {self.client_id}>"


class LtiDeployment(Model):
    """A deployment id the platform uses for Lentera (every message names one)."""

    __tablename__ = "lti_deployment"
    __table_args__ = (sa.UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(sa.String(255))

    platform: Mapped[LtiPlatform] = orm.relationship(back_populates="deployments")


class LtiKey(Model):
    """One of Lentera's RSA signing keys (RS256), published in its JWK set.

    The private key is encrypted at rest (Fernet; see :mod:`lms.lti.secrets`), so a copy of
    the database does not give away the key platforms trust. The newest key that is not
    retired signs; a retired key stays published until ``retired_at`` plus the grace
    period, so platforms that cached the set still verify what it signed.
    """

    __tablename__ = "lti_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(sa.String(100), unique=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    private_token: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LtiLaunchState(Model):
    """An OIDC login in progress: ``state`` and ``nonce`` are single use and expire.

    Kept in the database (not in process memory) so that a login started on one app
    server finishes on another. ``used_at`` is set by the launch that consumes it.
    """

    __tablename__ = "lti_launch_state"

    state: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    target_link_uri: Mapped[str] = mapped_column(sa.String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LtiRegistrationInvite(Model):
    """A one-time link an administrator gives a platform for Dynamic Registration."""

    __tablename__ = "lti_registration_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token in the link (the token itself is shown once).
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    platform_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("lti_platform.id", ondelete="SET NULL"))


class LtiUserLink(Model):
    """The platform user (``sub``) behind a Lentera account."""

    __tablename__ = "lti_user_link"
    __table_args__ = (sa.UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    sub: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    #: True when the first launch created the Lentera account.
    created_user: Mapped[bool] = mapped_column(default=False)
    #: The platform course of the first launch (the context the account was made in).
    first_context_title: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_launch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LtiContext(Model):
    """A platform course (LTI context) Lentera was launched from."""

    __tablename__ = "lti_context"
    __table_args__ = (sa.UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    label: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The Names and Role Provisioning Service URL of the context, when the platform gave one.
    memberships_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    roster_pulled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LtiResourceLink(Model):
    """A link placed in a platform course, pointing at a Lentera course or module."""

    __tablename__ = "lti_resource_link"
    __table_args__ = (sa.UniqueConstraint("platform_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(sa.String(255))
    resource_link_id: Mapped[str] = mapped_column(sa.String(255))
    context_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("lti_context.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The Lentera activity the link opens: a course IRI, or a module/quiz IRI.
    activity_iri: Mapped[str] = mapped_column(sa.String(1000), index=True)
    course_slug: Mapped[str] = mapped_column(sa.String(200), index=True)
    #: "course", "module" or "quiz".
    target_kind: Mapped[str] = mapped_column(sa.String(10))
    module_id: Mapped[str] = mapped_column(sa.String(200), default="")
    # Assignment and Grade Services, from the last launch.
    lineitem_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    lineitems_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    ags_scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    platform: Mapped[LtiPlatform] = orm.relationship()
    context: Mapped[LtiContext | None] = orm.relationship()


class LtiBinding(Model):
    """A Lentera user who launched a resource link (where their results are reported)."""

    __tablename__ = "lti_binding"
    __table_args__ = (sa.UniqueConstraint("resource_link_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_resource_link.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    sub: Mapped[str] = mapped_column(sa.String(255))
    roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    first_launch_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_launch_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    resource_link: Mapped[LtiResourceLink] = orm.relationship()


class LtiScorePost(Model):
    """A score to send to a platform's gradebook (Assignment and Grade Services).

    One row per (resource link, user, source statement): the statement consumer adds rows
    inside its own transaction, so replaying the statements finds them and adds nothing.
    A sender claims a row (``queued`` -> ``sending`` with a lease, one conditional UPDATE),
    posts the score, and marks it ``sent``, or ``queued`` again with a growing delay, or
    ``failed`` after the last attempt (administrators see those and can send them again).
    """

    __tablename__ = "lti_score_post"
    __table_args__ = (
        sa.UniqueConstraint("resource_link_id", "user_id", "statement_id"),
        sa.Index("ix_lti_score_post_status_next", "status", "next_attempt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_resource_link.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    #: The statement the score comes from (a quiz ``passed`` or a course ``completed``).
    statement_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    sub: Mapped[str] = mapped_column(sa.String(255))
    score_given: Mapped[float] = mapped_column(sa.Float)
    score_maximum: Mapped[float] = mapped_column(sa.Float)
    activity_progress: Mapped[str] = mapped_column(sa.String(20), default="Completed")
    grading_progress: Mapped[str] = mapped_column(sa.String(20), default="FullyGraded")
    #: When the learner did it (the statement's timestamp): the platform keeps the newest.
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: The line item the score went to (the link's, or one Lentera created).
    lineitem_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    resource_link: Mapped[LtiResourceLink] = orm.relationship()


class LtiMember(Model):
    """One member of a platform course, from the last roster pull (NRPS)."""

    __tablename__ = "lti_member"
    __table_args__ = (sa.UniqueConstraint("context_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_context.id", ondelete="CASCADE"), index=True)
    sub: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(300), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(20), default="Active")
    #: The Lentera account of this member, when one is linked.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))


class LtiDeepLink(Model):
    """A deep-linking request being answered: the instructor picks Lentera content in a
    page addressed by a random token (no cookie needed inside the platform's frame)."""

    __tablename__ = "lti_deep_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lti_platform.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(sa.String(255))
    return_url: Mapped[str] = mapped_column(sa.String(2000))
    #: The platform's opaque ``data``, sent back unchanged.
    data: Mapped[str | None] = mapped_column(sa.Text)
    accept_multiple: Mapped[bool] = mapped_column(default=True)
    accept_lineitem: Mapped[bool] = mapped_column(default=True)
    sub: Mapped[str] = mapped_column(sa.String(255))
    user_name: Mapped[str] = mapped_column(sa.String(200), default="")
    context_title: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    platform: Mapped[LtiPlatform] = orm.relationship()
