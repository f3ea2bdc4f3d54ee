"""The LRS answers the paths real clients send, and never with a redirect.

cmi5 launches content with ``endpoint=<base>/xapi/``; libraries such as cmi5.js append
``/activities/state`` to it. A redirect (308 to the tidy path) cannot be followed by a
cross-origin browser request, least of all by its CORS preflight.
"""

from __future__ import annotations

import json

import pytest

from tests.xapi.helpers import agent, make_statement


@pytest.mark.parametrize("path", ["/xapi//statements", "/xapi/statements/",
                                  "/xapi///statements//"])
def test_statements_at_untidy_paths_are_served(client, xapi, path):
    response = client.post(path, data=json.dumps(make_statement()),
                           headers=xapi.headers({"Content-Type": "application/json"}))
    assert response.status_code == 200, response.get_data(as_text=True)
    listed = client.get(path, headers=xapi.headers())
    assert listed.status_code == 200 and len(listed.json["statements"]) == 1


def test_documents_and_about_at_a_double_slash(client, xapi):
    query = {"activityId": "http://x.test/a", "agent": json.dumps(agent()), "stateId": "s"}
    put = client.put("/xapi//activities/state", query_string=query, data=b'{"a": 1}',
                     headers=xapi.headers({"Content-Type": "application/json"}))
    assert put.status_code == 204
    got = client.get("/xapi//activities/state", query_string=query, headers=xapi.headers())
    assert got.status_code == 200 and got.json == {"a": 1}
    assert client.get("/xapi//about").status_code == 200


def test_a_cors_preflight_at_a_double_slash_is_answered_not_redirected(client):
    response = client.options("/xapi//activities/state", headers={
        "Origin": "http://content.example", "Access-Control-Request-Method": "PUT"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_no_xapi_request_is_redirected(client, xapi):
    for path in ("/xapi//statements", "/xapi/activities/state/", "//xapi/statements",
                 "/xapi//agents/profile/", "/xapi/nothing-here/"):
        response = client.get(path, headers=xapi.headers())
        assert not 300 <= response.status_code < 400, (path, response.status_code)
