"""Pooled server connections are tested before use only when they have been idle: a
connection the server closed meanwhile is replaced without the request noticing, and a
connection used a moment ago costs no extra round trip (lms.db._ping_when_idle)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import create_db_engine


@pytest.fixture
def server_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("a pool of server connections (PostgreSQL)")
    return database_url


def _terminate(url: str, pid: int) -> None:
    """The server closes connection ``pid`` (a restart, an idle timeout would)."""
    admin = create_db_engine(url)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.commit()
    finally:
        admin.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(server_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_db_engine(server_url, ping_after=60)
    pings: list[Any] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real(c))
    try:
        for _ in range(5):
            with engine.connect() as conn:
                assert conn.scalar(sa.text("SELECT 1")) == 1
        assert pings == []
    finally:
        engine.dispose()


def test_an_idle_connection_is_pinged_and_replaced_when_the_server_closed_it(
        server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_db_engine(server_url, ping_after=0)
    pings: list[Any] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real(c))
    try:
        with engine.connect() as conn:
            first = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        assert pings, "idle for longer than ping_after: tested before use"
        _terminate(server_url, first)  # while it sits idle in the pool
        with engine.connect() as conn:
            second = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        assert second != first  # replaced, and the caller never saw the dead one
    finally:
        engine.dispose()


def test_without_the_ping_a_dead_idle_connection_would_fail(
        server_url: str) -> None:
    """What the test above guards against: the same closed connection, not tested."""
    engine = create_db_engine(server_url, ping_after=3600)
    try:
        with engine.connect() as conn:
            first = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        _terminate(server_url, first)
        with pytest.raises(sa.exc.OperationalError), engine.connect() as conn:
            conn.scalar(sa.text("SELECT 1"))
    finally:
        engine.dispose()
