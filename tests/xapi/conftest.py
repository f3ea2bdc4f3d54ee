"""Fixtures of the LRS tests: client keys and an xAPI request helper."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lms.db import get_session
from lms.xapi import auth


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


class Xapi:
    """Requests to /xapi with a client key and a version header."""

    def __init__(self, client: Any, authorization: str, version: str = "1.0.3"):
        self.client, self.authorization, self.version = client, authorization, version

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": self.authorization,
                   "X-Experience-API-Version": self.version}
        headers.update(extra or {})
        return headers

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"/xapi/{path}", headers=self.headers(kw.pop("headers", None)),
                               **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        if body is not None and "data" not in kw:
            kw["data"] = json.dumps(body)
            kw.setdefault("content_type", "application/json")
        return self.client.post(f"/xapi/{path}", headers=self.headers(kw.pop("headers", None)),
                                **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        if body is not None and "data" not in kw:
            kw["data"] = json.dumps(body)
            kw.setdefault("content_type", "application/json")
        return self.client.put(f"/xapi/{path}", headers=self.headers(kw.pop("headers", None)),
                               **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(f"/xapi/{path}",
                                  headers=self.headers(kw.pop("headers", None)), **kw)


def make_key(scopes: str, name: str = "test client") -> tuple[str, str]:
    credential, secret = auth.create_credential(name, scopes)
    get_session().commit()
    return credential.key, secret


@pytest.fixture
def xapi(client: Any) -> Xapi:
    """A client with scope ``all`` speaking xAPI 1.0.3."""
    return Xapi(client, basic(*make_key("all")))


@pytest.fixture
def xapi2(client: Any) -> Xapi:
    """A client with scope ``all`` speaking xAPI 2.0.0."""
    return Xapi(client, basic(*make_key("all")), "2.0.0")


@pytest.fixture
def xapi_with() -> Any:
    """``xapi_with(client, "statements/read")``: a client whose key has these scopes."""

    def make(client: Any, scopes: str, version: str = "1.0.3") -> Xapi:
        return Xapi(client, basic(*make_key(scopes)), version)

    return make
