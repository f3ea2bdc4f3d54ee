"""LRS requests neither read nor write the browser session: they authenticate with their
own header, so no session cookie is opened, signed or sent back for them."""

from __future__ import annotations

from typing import Any

from flask import session

from tests.xapi.helpers import make_statement


def test_an_lrs_request_gets_an_empty_session_and_sends_no_cookie(app: Any, client: Any,
                                                                   xapi: Any) -> None:
    with client.session_transaction() as browser:
        browser["_user_id"] = "1"  # a signed-in browser posting to the LRS
    seen: list[dict[str, Any]] = []

    def remember(response: Any) -> Any:
        seen.append(dict(session))
        session["touched"] = True  # even a change is not written for /xapi
        return response

    # (Added directly: the app is built once per run and has served requests already.)
    app.after_request_funcs.setdefault(None, []).append(remember)
    try:
        response = xapi.post("statements", make_statement())
        assert response.status_code == 200
        assert seen[-1] == {}
        assert "Set-Cookie" not in response.headers
        # An ordinary page still reads and writes the cookie.
        page = client.get("/auth/login")
        assert seen[-1].get("_user_id") == "1"
        assert "session=" in page.headers.get("Set-Cookie", "")
    finally:
        app.after_request_funcs[None].remove(remember)
