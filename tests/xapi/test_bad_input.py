"""Bad input gets a 4xx with a clear message, never a 500, on SQLite and PostgreSQL: the
causes of server errors found by fuzzing the LRS, each one."""

from __future__ import annotations

import base64
import json

import pytest

from tests.xapi.helpers import agent, make_statement, new_id


def _post_raw(xapi, body: str):
    return xapi.post("statements", data=body.encode("utf-8", "surrogatepass"),
                     content_type="application/json")


@pytest.mark.parametrize("fragment, words", [
    ('"name": "a\\u0000b"', "NUL"),
    ('"name": "\\ud800"', "surrogates"),
    ('"name": "\\udfff\\u0041"', "surrogates"),
])
def test_unstorable_text_in_a_statement_is_400(xapi, fragment, words):
    body = ('{"actor": {"objectType": "Agent", "mbox": "mailto:a@x.go.id", ' + fragment +
            '}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, '
            '"object": {"id": "http://x.test/a"}}')
    response = _post_raw(xapi, body)
    assert response.status_code == 400
    assert words in response.json["message"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_numbers_that_are_not_json_numbers_are_400(xapi, number):
    body = json.dumps(make_statement()).replace(
        '"object"', f'"result": {{"score": {{"raw": {number}}}}}, "object"')
    response = _post_raw(xapi, body)
    assert response.status_code == 400
    assert "JSON" in response.json["message"] or "number" in response.json["message"]


def test_json_nested_a_thousand_deep_is_400(xapi):
    deep = "[" * 1000 + "]" * 1000
    statement = json.dumps(make_statement(result={"extensions": {"http://x.test/e": 0}}))
    body = statement.replace('"http://x.test/e": 0', f'"http://x.test/e": {deep}')
    response = _post_raw(xapi, body)
    assert response.status_code == 400
    assert "nested" in response.json["message"]


@pytest.mark.parametrize("param", ["stateId=a%00b", "activityId=http://x.test/a%00"])
def test_nul_in_document_parameters_is_400(xapi, param):
    query = f"activityId=http://x.test/a&agent={json.dumps(agent())}&stateId=s"
    name = param.split("=")[0]
    query = "&".join(p for p in query.split("&") if not p.startswith(name + "=")) + "&" + param
    response = xapi.put(f"activities/state?{query}", {"a": 1})
    assert response.status_code == 400
    assert "NUL" in response.json["message"]


def test_nul_in_the_agent_parameter_is_400(xapi):
    bad = json.dumps({"mbox": "mailto:a\u0000@x.go.id"})
    response = xapi.get(f"activities/state?activityId=http://x.test/a&agent={bad}"
                        "&stateId=s")
    assert response.status_code == 400


@pytest.mark.parametrize("token", [
    "%%%", "e30", base64.urlsafe_b64encode(b'{"p": [], "a": 1, "u": 2}').decode(),
    base64.urlsafe_b64encode(b'{"p": {"agent": 5}, "a": 1, "u": 2}').decode(),
    base64.urlsafe_b64encode(b'{"p": {}, "a": "x", "u": 2}').decode(),
    base64.urlsafe_b64encode(b'{"p": {}, "a": 1e999, "u": 2}').decode(),
    base64.urlsafe_b64encode(b'{"p": {}, "a": 99999999999999999999999, "u": 2}').decode(),
    base64.urlsafe_b64encode(b'{"p": {"more": "x"}, "a": 1, "u": 2}').decode(),
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
])
def test_malformed_more_tokens_are_400(xapi, token):
    response = xapi.get(f"statements?more={token}")
    assert response.status_code == 400
    assert "more" in response.json["message"]


@pytest.mark.parametrize("limit, status", [("²", 400), ("99999999999999999999999", 200),
                                           ("-1", 400)])
def test_limit_values(xapi, limit, status):
    assert xapi.get(f"statements?limit={limit}").status_code == status


@pytest.mark.parametrize("query, status", [
    ("since=0001-01-01T00:00:00Z", 200), ("until=9999-12-31T23:59:59.999Z", 200),
    ("since=0001-01-01T00:00:00%2B01:00", 400), ("until=9999-12-31T23:00:00-05:00", 400),
    ("since=9999-12-31T23:59:59Z&until=0001-01-01T00:00:00Z", 200),
])
def test_since_and_until_at_the_ends_of_the_calendar(xapi, query, status):
    assert xapi.get(f"statements?{query}").status_code == status


@pytest.mark.parametrize("offset", ["+99:00", "+24:00", "-23:60", "+2400"])
def test_an_offset_from_utc_of_a_day_or_more_is_400(xapi, offset):
    response = xapi.post("statements", make_statement(timestamp=f"2026-01-01T00:00:00{offset}"))
    assert response.status_code == 400
    assert "offset from UTC" in response.json["message"]
    since = f"2026-01-01T00:00:00{offset}".replace("+", "%2B")
    assert xapi.get(f"statements?since={since}").status_code == 400


def test_a_year_one_timestamp_comes_back_with_four_digits(xapi):
    statement_id = new_id()
    assert xapi.put(f"statements?statementId={statement_id}",
                    make_statement(timestamp="0001-01-01T00:00:00Z")).status_code == 204
    stored = xapi.get(f"statements?statementId={statement_id}").json
    assert stored["timestamp"] == "0001-01-01T00:00:00.000Z"


def test_documents_with_unstorable_json_are_400(xapi):
    query = f"activityId=http://x.test/a&agent={json.dumps(agent())}&stateId=s"
    for body in ('{"a": NaN}', '{"a": "\\ud800"}', "[" * 2000 + "]" * 2000):
        response = xapi.put(f"activities/state?{query}", data=body.encode(),
                            content_type="application/json")
        assert response.status_code == 400, body[:20]
