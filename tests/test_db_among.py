"""lms.db.among: ``column IN values`` whose SQL text does not change with the number of
values on PostgreSQL (one JSON parameter), and which finds exactly what IN finds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.db import among, get_engine, get_session
from lms.xapi.models import Activity
from tests.helpers import sql_log

ODD = ["http://example.org/a", "http://example.org/\"quoted\"", "http://example.org/back\\slash",
       "http://example.org/ünïcødé/ジ", "http://example.org/a%20b", "urn:x:'single'"]


def _store(ids: list[str]) -> None:
    session = get_session()
    for activity_id in ids:
        session.add(Activity(activity_id=activity_id, definition={}))
    session.commit()


def test_among_finds_what_in_finds(app: Any) -> None:
    stored = ODD + [f"http://example.org/n/{i}" for i in range(50)]
    _store(stored)
    session = get_session()
    for wanted in ([], ODD[:1], ODD, ODD + ["http://example.org/missing"],
                   [f"http://example.org/n/{i}" for i in range(0, 60, 3)]):
        got = set(session.scalars(sa.select(Activity.activity_id)
                                  .where(among(Activity.activity_id, wanted))))
        expected = set(session.scalars(sa.select(Activity.activity_id)
                                       .where(Activity.activity_id.in_(wanted))))
        assert got == expected
        assert got == set(wanted) & set(stored)


def test_the_sql_is_the_same_for_any_number_of_values(app: Any) -> None:
    engine = get_engine()
    with sql_log(engine) as seen:
        for count in (1, 7, 300):
            get_session().scalars(sa.select(Activity.activity_id).where(
                among(Activity.activity_id, [f"http://example.org/{i}" for i in range(count)])
            )).all()
    if engine.dialect.name == "postgresql":
        assert len(set(seen)) == 1
    else:
        assert len(seen) == 3
