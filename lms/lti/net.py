"""HTTP to platforms: their key sets, token endpoints, gradebooks and rosters.

Every URL must be https; plain http is accepted only for the loopback host (a platform
run on the same machine for development and tests) unless ``LMS_LTI_ALLOW_HTTP`` is set
(a closed intranet without TLS: then every hop can be read and changed on the way).
Redirects are not followed, answers are capped at ``MAX_BODY`` bytes, and every call has
a timeout (``LMS_LTI_HTTP_TIMEOUT``, 10 s).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.errors import ValidationError

MAX_BODY = 2 * 1024 * 1024
MAX_URL = 2000


class PlatformError(Exception):
    """A platform could not be reached or answered something unusable."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, field: str = "url") -> str:
    """``url`` when it may be used for a platform endpoint, else ValidationError."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL or any(ord(c) < 33 for c in url):
        raise ValidationError(_l("Give a full address (https://...) without spaces."),
                              field=field)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(_l("Give a full address (https://...) without spaces."),
                              field=field)
    if parts.username or parts.password:
        raise ValidationError(_l("The address must not contain a user name or password."),
                              field=field)
    if parts.scheme == "http" and not (_loopback(parts.hostname)
                                       or current_app.config.get("LTI_ALLOW_HTTP")):
        raise ValidationError(_l("The address must use https."), field=field)
    return url


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` ('' when it has none)."""
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def _timeout() -> float:
    return float(current_app.config.get("LTI_HTTP_TIMEOUT", 10))


def request(method: str, url: str, *, headers: dict[str, str] | None = None,
            data: dict[str, str] | None = None, json_body: Any = None) -> requests.Response:
    """One request to a platform; PlatformError when it cannot be made or read."""
    try:
        check_url(url)
    except ValidationError as exc:
        raise PlatformError(f"{url[:200]}: {exc.message}") from None
    try:
        response = requests.request(
            method, url, headers=headers, data=data, json=json_body,
            timeout=_timeout(), allow_redirects=False, stream=True)
        body = response.raw.read(MAX_BODY + 1, decode_content=True)
        response.close()
    except requests.RequestException as exc:
        raise PlatformError(f"{url[:200]}: {type(exc).__name__}: {exc}"[:500]) from None
    if len(body) > MAX_BODY:
        raise PlatformError(f"{url[:200]}: the answer is larger than {MAX_BODY} bytes")
    response._content = body  # the body as read (bounded), for .json() and .text
    return response


def json_of(response: requests.Response) -> Any:
    """The JSON body of ``response``, or PlatformError."""
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        raise PlatformError(f"{response.url[:200]}: the answer is not JSON "
                            f"(HTTP {response.status_code})", response.status_code) from None


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    """GET ``url`` and return its JSON (2xx only)."""
    response = request("GET", url, headers={"Accept": "application/json", **(headers or {})})
    if not 200 <= response.status_code < 300:
        raise PlatformError(f"{url[:200]}: HTTP {response.status_code}", response.status_code)
    return json_of(response)
