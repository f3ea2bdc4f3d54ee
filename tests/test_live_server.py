"""The browser tests' live server closes what the development server leaves open."""

from __future__ import annotations

import gc
from collections.abc import Iterator

from tests.conftest import _closing_body


class _Body:
    def __init__(self, closed: list[bool]) -> None:
        self.closed = closed

    def __iter__(self) -> Iterator[bytes]:
        yield b"first"
        yield b"second"

    def close(self) -> None:
        self.closed.append(True)


def test_a_body_left_unfinished_and_unclosed_is_closed_when_collected() -> None:
    closed: list[bool] = []
    wsgi = _closing_body(lambda environ, start_response: _Body(closed))
    body = wsgi({}, None)
    assert next(body) == b"first"  # the client went away after the first chunk
    del body  # ... and the server never called close()
    gc.collect()
    assert closed == [True]


def test_a_finished_body_is_closed_once() -> None:
    closed: list[bool] = []
    body = _closing_body(lambda environ, start_response: _Body(closed))({}, None)
    assert list(body) == [b"first", b"second"]
    body.close()
    assert closed == [True]
