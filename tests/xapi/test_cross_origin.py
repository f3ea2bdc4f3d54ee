"""Content in a browser calls the LRS from an origin of its own (a package host, an
authoring tool's player): every LRS answer may be read cross-origin, the preflight says
what may be sent and is kept, and nothing the LRS returns can run as a page."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.xapi.conftest import basic, make_key
from tests.xapi.helpers import agent, make_statement

PREFLIGHT = {"Origin": "http://konten.test", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type,"
                                               "x-experience-api-version"}


def test_the_preflight_allows_what_xapi_clients_send_and_is_kept(client):
    response = client.options("/xapi/statements", headers=PREFLIGHT)
    assert response.status_code == 204
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == "*"
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-experience-api-version",
            "if-match", "if-none-match"} <= allowed
    methods = {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "PUT", "POST", "DELETE"} <= methods
    assert int(headers["Access-Control-Max-Age"]) >= 600


def test_answers_carry_what_a_cross_origin_reader_needs_and_no_more(client, xapi):
    posted = xapi.post("statements", make_statement(),
                       headers={"Origin": "http://konten.test"})
    assert posted.status_code == 200
    headers = posted.headers
    assert headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "X-Experience-API-Version",
            "X-Experience-API-Consistent-Through"} <= exposed
    # What the browser may send is the preflight's business only.
    assert "Access-Control-Allow-Methods" not in headers
    assert "Access-Control-Allow-Headers" not in headers
    # Errors are readable cross-origin too (a client must see why it was refused).
    refused = client.post("/xapi/statements", data="{}", content_type="application/json",
                          headers={"Origin": "http://konten.test",
                                   "X-Experience-API-Version": "1.0.3"})
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == "*"


def test_a_stored_html_document_cannot_run_or_be_framed(client, xapi):
    query = {"activityId": "http://konten.test/au", "agent": json.dumps(agent()),
             "stateId": "page"}
    html = b"<html><body><script>parent.document.title='owned'</script></body></html>"
    put = xapi.put("activities/state", query_string=query, data=html,
                   headers={"Content-Type": "text/html"})
    assert put.status_code == 204
    got = xapi.get("activities/state", query_string=query)
    assert got.status_code == 200 and got.data == html
    policy = got.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "frame-ancestors 'none'" in policy
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_keep_their_own_policy(client):
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "sandbox" not in policy


# --- a real browser on another origin -----------------------------------------------------

class _ContentPage(BaseHTTPRequestHandler):
    """A content package's page on a host of its own: any path answers a plain page."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b"<!doctype html><title>AU</title><p>Konten</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def content_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ContentPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.mark.browser
def test_chromium_on_another_origin_writes_and_reads_statements(
        browser: Any, live_server: Any, content_host: str) -> None:
    """The content page comes from a server of its own (another port: another origin),
    the LRS is the live server. Chromium sends its own preflight for the Authorization
    header and must be let through, then read the answer and the exposed headers."""
    with live_server.app.app_context():
        authorization = basic(*make_key("all", name="konten"))
    context = browser.new_context(locale="id-ID")
    try:
        page = context.new_page()
        page.goto(content_host + "/au/index.html")
        statement_id = str(uuid.uuid4())
        result = page.evaluate(
            """async ([endpoint, authorization, statement]) => {
                const headers = {"Authorization": authorization,
                                 "X-Experience-API-Version": "1.0.3",
                                 "Content-Type": "application/json"};
                const posted = await fetch(endpoint + "/statements", {
                    method: "POST", headers, body: JSON.stringify(statement)});
                const ids = await posted.json();
                const read = await fetch(endpoint + "/statements?statementId=" + ids[0],
                                         {headers});
                const stored = await read.json();
                return {status: posted.status, ids, readStatus: read.status,
                        version: read.headers.get("X-Experience-API-Version"),
                        through: read.headers.get("X-Experience-API-Consistent-Through"),
                        storedId: stored.id, origin: location.origin};
            }""",
            [live_server.url + "/xapi", authorization,
             make_statement(id=statement_id)])
    finally:
        context.close()
    assert result["origin"] == content_host != live_server.url
    assert result["status"] == 200 and result["ids"] == [statement_id]
    assert result["readStatus"] == 200 and result["storedId"] == statement_id
    assert result["version"] == "1.0.3" and result["through"]
