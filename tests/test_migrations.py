"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lms.db import Model, get_engine
from lms.xapi.partitions import include_name


def test_migrations_match_the_models(app) -> None:
    import lms.models  # noqa: F401

    with get_engine(app).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                      "include_name": include_name})
        diff = compare_metadata(context, Model.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"
