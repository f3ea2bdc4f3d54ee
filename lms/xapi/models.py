"""Tables of the Learning Record Store.

Statements are append-only rows keyed by ``seq`` (the stored order, what consumer cursors
follow) with the full statement as JSON and the columns queries filter on. Related
activities and agents (for ``related_activities`` / ``related_agents``) live in narrow
index tables whose primary key is (key, seq, stored), so a query is one index range scan.

On PostgreSQL the statement table and both index tables are partitioned by month of
``stored`` (migration ``0060_xapi_partitions``, :mod:`lms.xapi.partitions`): there every
primary key also holds ``stored`` (``xapi_statement``'s is (seq, stored)), and the
uniqueness of a statement id, which a partitioned table cannot enforce, is kept by the
narrow :class:`StatementId` table. SQLite keeps plain tables of the same columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow

#: A big integer on PostgreSQL; SQLite needs plain INTEGER for its rowid primary key.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: JSON everywhere, JSONB on PostgreSQL (indexable, compact).
JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


class Statement(Model):
    """One stored statement. ``data`` is the statement as the LRS returns it (exact).

    ``seq`` comes from one global sequence (``xapi_statement_seq_seq`` on PostgreSQL)
    whatever the partition. The statement id is unique through :class:`StatementId`,
    which is also how statements are found by id (:func:`by_statement_id`).
    """

    __tablename__ = "xapi_statement"

    # On PostgreSQL the primary key is (seq, stored): a partitioned table's keys must hold
    # its partition key (Alembic does not compare primary keys, so the model keeps seq,
    # which SQLite needs as its rowid).
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    statement_id: Mapped[str] = mapped_column(sa.String(36))
    #: Canonical inverse functional identifier of the actor ("mbox:mailto:a@b",
    #: "account:https://x|name"); None for an anonymous group.
    actor_key: Mapped[str | None] = mapped_column(sa.String(2048))
    verb_id: Mapped[str] = mapped_column(sa.String(2048))
    #: The object's activity id when the object is an Activity.
    activity_id: Mapped[str | None] = mapped_column(sa.String(2048))
    #: The object's IFI when the object is an Agent or identified Group.
    object_agent_key: Mapped[str | None] = mapped_column(sa.String(2048))
    #: The target of a StatementRef object (voiding, annotations).
    ref_id: Mapped[str | None] = mapped_column(sa.String(36))
    registration: Mapped[str | None] = mapped_column(sa.String(36))
    authority_key: Mapped[str | None] = mapped_column(sa.String(2048))
    # UTCDateTime given explicitly: values come back timezone-aware on SQLite too.
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    voided: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)

    __table_args__ = (
        sa.Index("ix_xapi_statement_actor_seq", "actor_key", "seq"),
        sa.Index("ix_xapi_statement_verb_seq", "verb_id", "seq"),
        sa.Index("ix_xapi_statement_activity_seq", "activity_id", "seq"),
        # Partial: most statements have no Agent object and no StatementRef, and an index
        # entry per statement would cost every write for nothing.
        sa.Index("ix_xapi_statement_object_agent_seq", "object_agent_key", "seq",
                 postgresql_where=sa.text("object_agent_key IS NOT NULL"),
                 sqlite_where=sa.text("object_agent_key IS NOT NULL")),
        sa.Index("ix_xapi_statement_registration_seq", "registration", "seq"),
        # Statements with a StatementRef object, newest first (the StatementRef filter rule).
        sa.Index("ix_xapi_statement_ref_seq", "seq",
                 postgresql_where=sa.text("ref_id IS NOT NULL"),
                 sqlite_where=sa.text("ref_id IS NOT NULL")),
        # Who refers to a statement (e.g. which statement voided it).
        sa.Index("ix_xapi_statement_ref_id", "ref_id", "seq",
                 postgresql_where=sa.text("ref_id IS NOT NULL"),
                 sqlite_where=sa.text("ref_id IS NOT NULL")),
        sa.Index("ix_xapi_statement_stored", "stored"),
        # No index on statement_id: lookups by id go through StatementId
        # (by_statement_id), which also keeps ids unique.
    )


class StatementId(Model):
    """Every stored statement id with its ``seq`` and ``stored``: what makes ids unique
    across the monthly partitions, and how a lookup by id finds its one partition.

    Ingest inserts here first (``ON CONFLICT DO NOTHING``): an id that goes in is a new
    statement, one that does not was stored already (a re-sent statement).
    """

    __tablename__ = "xapi_statement_id"

    statement_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime())


_Select = TypeVar("_Select", bound="sa.Select[*tuple[Any, ...]]")


def by_statement_id(select: _Select, ids: list[str], *, statement: Any = None) -> _Select:
    """``select`` (of ``statement``, an alias of :class:`Statement` or the class) limited to
    the statements with these ids: found through :class:`StatementId`, so the statement
    table is read by (seq, stored), one partition per statement."""
    s = Statement if statement is None else statement
    return select.join(StatementId, sa.and_(StatementId.seq == s.seq,
                                            StatementId.stored == s.stored)) \
        .where(StatementId.statement_id.in_(ids))


class StatementActivity(Model):
    """Every activity a statement mentions (object, context activities, sub-statement)."""

    __tablename__ = "xapi_statement_activity"

    activity_id: Mapped[str] = mapped_column(sa.String(2048), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The statement's ``stored``: the partition key, and the bound since/until queries
    #: put on this table too so that both sides of the join prune.
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)


class StatementAgent(Model):
    """Every agent a statement mentions (actor, object, authority, instructor, team...)."""

    __tablename__ = "xapi_statement_agent"

    agent_key: Mapped[str] = mapped_column(sa.String(2048), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The statement's ``stored`` (see :class:`StatementActivity`).
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)


class Activity(Model):
    """The merged definition of an activity, from the statements that carried one."""

    __tablename__ = "xapi_activity"

    activity_id: Mapped[str] = mapped_column(sa.String(2048), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(Model):
    """Attachment content, stored once per SHA-2 hash."""

    __tablename__ = "xapi_attachment"

    sha2: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(sa.String(255))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Document(Model):
    """A State, Activity Profile or Agent Profile document.

    Absent parts of the key are stored as "" so the unique constraint covers them (NULLs
    are distinct in unique constraints).
    """

    __tablename__ = "xapi_document"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # state | activity_profile | agent_profile
    activity_id: Mapped[str] = mapped_column(sa.String(2048), default="")
    agent_key: Mapped[str] = mapped_column(sa.String(2048), default="")
    registration: Mapped[str] = mapped_column(sa.String(36), default="")
    document_id: Mapped[str] = mapped_column(sa.String(2048))
    content_type: Mapped[str] = mapped_column(sa.String(255))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    etag: Mapped[str] = mapped_column(sa.String(64))
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("kind", "activity_id", "agent_key", "registration", "document_id"),
    )


class Credential(Model):
    """A client key of the LRS and the JSON API. The secret is kept as a SHA-256 hash.

    Secrets are random 256-bit tokens, so a fast hash is safe and keeps per-request
    authentication in microseconds (a slow password hash would cap the LRS throughput).
    """

    __tablename__ = "xapi_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    scope_list: Mapped[str] = mapped_column("scopes", sa.String(500))
    authority: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    #: Set on launch credentials (never stored): the only actor, registration, activity
    #: (the launched AU) and cmi5 session allowed. (Plain attributes, not columns.)
    # No annotations: declarative mapping would take annotated attributes for columns.
    launch_actor = None
    launch_actor_key = None
    launch_registration = None
    launch_activity = None
    launch_session = None

    @property
    def scopes(self) -> set[str]:
        return set(self.scope_list.split())

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class ConsumerCursor(Model):
    """How far a statement consumer has got: the last ``seq`` it handled."""

    __tablename__ = "xapi_consumer_cursor"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class ConsumerFailure(Model):
    """A statement a consumer could not handle: recorded, passed over, shown to admins.

    One poison statement must not stop a ledger for everyone: the runner records the
    statement with the error and moves the consumer's cursor past it. An administrator
    retries it (after a fix) or skips it for good (``status`` ``skipped``: a replay passes
    it over too, so a rebuild stays equal to the incremental path).
    """

    __tablename__ = "xapi_consumer_failure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(sa.String(100))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    statement_id: Mapped[str] = mapped_column(sa.String(36))
    #: "failed" (open: retry or skip) or "skipped" (an administrator gave it up).
    status: Mapped[str] = mapped_column(sa.String(20), default="failed")
    error: Mapped[str] = mapped_column(sa.Text)
    #: The traceback, for whoever fixes the consumer.
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    attempts: Mapped[int] = mapped_column(default=1)
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    skipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    skipped_by: Mapped[str | None] = mapped_column(sa.String(200))

    __table_args__ = (
        sa.UniqueConstraint("consumer", "seq"),
        sa.Index("ix_xapi_consumer_failure_status", "status", "consumer"),
    )
