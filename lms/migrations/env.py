"""Alembic environment: the engine comes from the Flask app (see ``lms.db.alembic_config``)."""

from __future__ import annotations

from alembic import context

import lms.models  # noqa: F401  (imports every module's models so metadata is complete)
from lms.db import Model
from lms.xapi.partitions import include_name

config = context.config
target_metadata = Model.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            # The statement tables' monthly partitions are made by lms.xapi.partitions.
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
