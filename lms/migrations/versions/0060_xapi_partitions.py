"""xapi: statements and their index rows partitioned by month of ``stored`` (PostgreSQL).

A national LRS holds billions of statements; monthly partitions let queries with
``since``/``until`` read only their months, and let old months be detached and archived.

On PostgreSQL ``xapi_statement``, ``xapi_statement_activity`` and ``xapi_statement_agent``
become tables partitioned by RANGE (stored), one partition per month that has rows, the
current month and three ahead, and a DEFAULT partition each. The rows are copied in
``stored`` order, ``seq`` values kept and the sequence kept (consumers' cursors go on
where they were). A partitioned table's unique keys must hold the partition key, so the
uniqueness of statement ids moves to ``xapi_statement_id`` (statement_id primary key,
seq, stored), which ingest fills first; the index tables get a ``stored`` column; their
foreign keys to ``xapi_statement.seq`` go (a partitioned table is referenced only by a
key that holds ``stored``).

On SQLite the tables stay plain: the id table, the ``stored`` columns and the same
keys, so one code path serves both.

The copy takes the tables' locks for its whole run (about a minute per million
statements here): run it in a maintenance window. Downgrade copies back into plain
tables (the statement ids are unique there again).

Revision ID: 0060_xapi_partitions
Revises: 0020_xapi_consumer_failures
Create Date: 2026-12-05 21:30:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0060_xapi_partitions"
down_revision = "0020_xapi_consumer_failures"
branch_labels = None
depends_on = None

#: Months created ahead of the current one.
AHEAD = 3

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_STATEMENT_COLUMNS = """
    seq bigint NOT NULL DEFAULT nextval('xapi_statement_seq_seq'),
    statement_id varchar(36) NOT NULL,
    actor_key varchar(2048),
    verb_id varchar(2048) NOT NULL,
    activity_id varchar(2048),
    object_agent_key varchar(2048),
    ref_id varchar(36),
    registration varchar(36),
    authority_key varchar(2048),
    "timestamp" timestamptz NOT NULL,
    stored timestamptz NOT NULL,
    voided boolean NOT NULL,
    data jsonb NOT NULL
"""
_COPY = ("seq, statement_id, actor_key, verb_id, activity_id, object_agent_key, ref_id, "
         "registration, authority_key, \"timestamp\", stored, voided, data")

#: (name, columns, WHERE) of the statement table's secondary indexes (as in the model).
_INDEXES = [
    ("ix_xapi_statement_actor_seq", "actor_key, seq", None),
    ("ix_xapi_statement_verb_seq", "verb_id, seq", None),
    ("ix_xapi_statement_activity_seq", "activity_id, seq", None),
    ("ix_xapi_statement_object_agent_seq", "object_agent_key, seq",
     "object_agent_key IS NOT NULL"),
    ("ix_xapi_statement_registration_seq", "registration, seq", None),
    ("ix_xapi_statement_ref_seq", "seq", "ref_id IS NOT NULL"),
    ("ix_xapi_statement_ref_id", "ref_id, seq", "ref_id IS NOT NULL"),
    ("ix_xapi_statement_stored", "stored", None),
    ("ix_xapi_statement_statement_id", "statement_id", None),
]


def _month(value: dt.datetime) -> dt.datetime:
    value = value.astimezone(dt.UTC)
    return dt.datetime(value.year, value.month, 1, tzinfo=dt.UTC)


def _next(month: dt.datetime, count: int = 1) -> dt.datetime:
    index = month.year * 12 + month.month - 1 + count
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _create_id_table() -> None:
    op.create_table(
        "xapi_statement_id",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("stored", lms.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_xapi_statement_id")),
    )


def _upgrade_postgresql() -> None:
    conn = op.get_bind()
    _create_id_table()
    conn.execute(sa.text("LOCK TABLE xapi_statement, xapi_statement_activity, "
                         "xapi_statement_agent IN ACCESS EXCLUSIVE MODE"))
    # The old tables step aside (their constraint and index names are free for the new).
    conn.execute(sa.text("ALTER TABLE xapi_statement_activity "
                         "DROP CONSTRAINT fk_xapi_statement_activity_seq_xapi_statement"))
    conn.execute(sa.text("ALTER TABLE xapi_statement_agent "
                         "DROP CONSTRAINT fk_xapi_statement_agent_seq_xapi_statement"))
    for table in ("xapi_statement", "xapi_statement_activity", "xapi_statement_agent"):
        conn.execute(sa.text(f"ALTER TABLE {table} RENAME TO {table}_old"))
        conn.execute(sa.text(f"ALTER TABLE {table}_old RENAME CONSTRAINT pk_{table} "
                             f"TO pk_{table}_old"))
    for name, _columns, _where in _INDEXES:
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    conn.execute(sa.text("ALTER TABLE xapi_statement_old "
                         "DROP CONSTRAINT uq_xapi_statement_statement_id"))

    conn.execute(sa.text(f"CREATE TABLE xapi_statement ({_STATEMENT_COLUMNS}) "
                         "PARTITION BY RANGE (stored)"))
    conn.execute(sa.text("CREATE TABLE xapi_statement_activity (activity_id varchar(2048) "
                         "NOT NULL, seq bigint NOT NULL, stored timestamptz NOT NULL) "
                         "PARTITION BY RANGE (stored)"))
    conn.execute(sa.text("CREATE TABLE xapi_statement_agent (agent_key varchar(2048) "
                         "NOT NULL, seq bigint NOT NULL, stored timestamptz NOT NULL) "
                         "PARTITION BY RANGE (stored)"))
    # The months that hold rows (not every month between the oldest and the newest: a
    # statement stored by a wrong clock must not make hundreds of empty partitions), the
    # current one and AHEAD after it.
    months = {_month(m) for m in conn.scalars(sa.text(
        "SELECT DISTINCT date_trunc('month', stored AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' "
        "FROM xapi_statement_old"))}
    now = _month(dt.datetime.now(dt.UTC))
    months.update(_next(now, n) for n in range(AHEAD + 1))
    for table in ("xapi_statement", "xapi_statement_activity", "xapi_statement_agent"):
        for month in sorted(months):
            conn.execute(sa.text(
                f"CREATE TABLE {table}_y{month.year:04d}m{month.month:02d} PARTITION OF "
                f"{table} FOR VALUES FROM ('{month.isoformat()}') "
                f"TO ('{_next(month).isoformat()}')"))
        conn.execute(sa.text(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT"))

    # Rows first, keys and indexes after (building an index once beats updating it per
    # row). In stored order, so each month's rows lie together and in seq order.
    conn.execute(sa.text(f"INSERT INTO xapi_statement ({_COPY}) SELECT {_COPY} "
                         "FROM xapi_statement_old ORDER BY stored, seq"))
    conn.execute(sa.text("INSERT INTO xapi_statement_id (statement_id, seq, stored) "
                         "SELECT statement_id, seq, stored FROM xapi_statement_old"))
    for table, key in (("xapi_statement_activity", "activity_id"),
                       ("xapi_statement_agent", "agent_key")):
        conn.execute(sa.text(
            f"INSERT INTO {table} ({key}, seq, stored) SELECT i.{key}, i.seq, s.stored "
            f"FROM {table}_old i JOIN xapi_statement_old s USING (seq) ORDER BY s.stored, "
            "i.seq"))
    # The sequence goes on serving the new table (it must stop belonging to the old one,
    # which would take it along when dropped).
    conn.execute(sa.text("ALTER SEQUENCE xapi_statement_seq_seq OWNED BY xapi_statement.seq"))
    for table in ("xapi_statement", "xapi_statement_activity", "xapi_statement_agent"):
        conn.execute(sa.text(f"DROP TABLE {table}_old"))

    conn.execute(sa.text("ALTER TABLE xapi_statement ADD CONSTRAINT pk_xapi_statement "
                         "PRIMARY KEY (seq, stored)"))
    conn.execute(sa.text("ALTER TABLE xapi_statement_activity ADD CONSTRAINT "
                         "pk_xapi_statement_activity PRIMARY KEY (activity_id, seq, stored)"))
    conn.execute(sa.text("ALTER TABLE xapi_statement_agent ADD CONSTRAINT "
                         "pk_xapi_statement_agent PRIMARY KEY (agent_key, seq, stored)"))
    for name, columns, where in _INDEXES:
        conn.execute(sa.text(f"CREATE INDEX {name} ON xapi_statement ({columns})"
                             + (f" WHERE {where}" if where else "")))
    for table in ("xapi_statement", "xapi_statement_id", "xapi_statement_activity",
                  "xapi_statement_agent"):
        conn.execute(sa.text(f"ANALYZE {table}"))


def _upgrade_sqlite() -> None:
    # The index tables first: their foreign keys would stop the statement table's
    # rebuild (batch mode drops and recreates it).
    for table, key in (("xapi_statement_activity", "activity_id"),
                       ("xapi_statement_agent", "agent_key")):
        op.create_table(
            f"{table}_new",
            sa.Column(key, sa.String(length=2048), nullable=False),
            sa.Column("seq", _BigId, nullable=False),
            sa.Column("stored", lms.db.UTCDateTime(), nullable=False),
            sa.PrimaryKeyConstraint(key, "seq", "stored", name=op.f(f"pk_{table}")),
        )
        op.execute(f"INSERT INTO {table}_new ({key}, seq, stored) SELECT i.{key}, i.seq, "
                   f"s.stored FROM {table} i JOIN xapi_statement s ON s.seq = i.seq")
        op.drop_table(table)
        op.rename_table(f"{table}_new", table)
    _create_id_table()
    op.execute("INSERT INTO xapi_statement_id (statement_id, seq, stored) "
               "SELECT statement_id, seq, stored FROM xapi_statement")
    with op.batch_alter_table("xapi_statement", schema=None) as batch_op:
        batch_op.drop_constraint("uq_xapi_statement_statement_id", type_="unique")
        batch_op.create_index("ix_xapi_statement_statement_id", ["statement_id"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
    else:
        _downgrade_sqlite()
    op.drop_table("xapi_statement_id")


def _downgrade_postgresql() -> None:
    conn = op.get_bind()
    for table in ("xapi_statement", "xapi_statement_activity", "xapi_statement_agent"):
        conn.execute(sa.text(f"ALTER TABLE {table} RENAME TO {table}_part"))
        conn.execute(sa.text(f"ALTER TABLE {table}_part RENAME CONSTRAINT pk_{table} "
                             f"TO pk_{table}_part"))
    for name, _columns, _where in _INDEXES:
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    conn.execute(sa.text(f"CREATE TABLE xapi_statement ({_STATEMENT_COLUMNS}, "
                         "CONSTRAINT pk_xapi_statement PRIMARY KEY (seq), "
                         "CONSTRAINT uq_xapi_statement_statement_id UNIQUE (statement_id))"))
    conn.execute(sa.text(f"INSERT INTO xapi_statement ({_COPY}) SELECT {_COPY} "
                         "FROM xapi_statement_part ORDER BY seq"))
    conn.execute(sa.text("ALTER SEQUENCE xapi_statement_seq_seq OWNED BY xapi_statement.seq"))
    for table, key in (("xapi_statement_activity", "activity_id"),
                       ("xapi_statement_agent", "agent_key")):
        conn.execute(sa.text(
            f"CREATE TABLE {table} ({key} varchar(2048) NOT NULL, seq bigint NOT NULL, "
            f"CONSTRAINT pk_{table} PRIMARY KEY ({key}, seq), "
            f"CONSTRAINT fk_{table}_seq_xapi_statement FOREIGN KEY (seq) "
            "REFERENCES xapi_statement (seq))"))
        conn.execute(sa.text(f"INSERT INTO {table} ({key}, seq) SELECT {key}, seq "
                             f"FROM {table}_part"))
    for table in ("xapi_statement", "xapi_statement_activity", "xapi_statement_agent"):
        conn.execute(sa.text(f"DROP TABLE {table}_part"))
    for name, columns, where in _INDEXES:
        if name == "ix_xapi_statement_statement_id":
            continue  # the unique constraint's index serves lookups by id
        conn.execute(sa.text(f"CREATE INDEX {name} ON xapi_statement ({columns})"
                             + (f" WHERE {where}" if where else "")))


def _downgrade_sqlite() -> None:
    # The statement table first (rebuilt in batch mode), then the index tables that
    # refer to it.
    with op.batch_alter_table("xapi_statement", schema=None) as batch_op:
        batch_op.drop_index("ix_xapi_statement_statement_id")
        batch_op.create_unique_constraint("uq_xapi_statement_statement_id", ["statement_id"])
    for table, key in (("xapi_statement_activity", "activity_id"),
                       ("xapi_statement_agent", "agent_key")):
        op.create_table(
            f"{table}_old",
            sa.Column(key, sa.String(length=2048), nullable=False),
            sa.Column("seq", _BigId, nullable=False),
            sa.ForeignKeyConstraint(["seq"], ["xapi_statement.seq"],
                                    name=op.f(f"fk_{table}_seq_xapi_statement")),
            sa.PrimaryKeyConstraint(key, "seq", name=op.f(f"pk_{table}")),
        )
        op.execute(f"INSERT INTO {table}_old ({key}, seq) SELECT {key}, seq FROM {table}")
        op.drop_table(table)
        op.rename_table(f"{table}_old", table)
