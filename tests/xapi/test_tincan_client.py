"""An independent xAPI client library (TinCanPython, the ``tincan`` package) against a
live Lentera server: statements, voiding, queries with more, and State documents.

(Its About parser only knows versions up to 1.0.3 and rejects the "2.0.0" Lentera also
serves, so About is tested in test_statements_api.py instead.)"""

from __future__ import annotations

import uuid

import pytest

from tests.xapi.conftest import make_key

tincan = pytest.importorskip("tincan")


@pytest.fixture
def lrs(live_server, app):
    key, secret = make_key("all", name="tincan")
    return tincan.RemoteLRS(endpoint=f"{live_server.url}/xapi/", username=key,
                            password=secret, version="1.0.3")


def learner() -> tincan.Agent:
    return tincan.Agent(name="Siti Rahma", mbox="mailto:siti@bkpsdm.example.go.id")


def statement(verb: str = "completed") -> tincan.Statement:
    return tincan.Statement(
        actor=learner(),
        verb=tincan.Verb(id=f"http://adlnet.gov/expapi/verbs/{verb}",
                         display=tincan.LanguageMap({"en-US": verb})),
        object=tincan.Activity(
            id="http://lentera.test/activities/course/pelayanan-publik",
            definition=tincan.ActivityDefinition(
                name=tincan.LanguageMap({"id-ID": "Pelayanan Publik"}))),
        context=tincan.Context(registration=uuid.uuid4()),
        result=tincan.Result(success=True, score=tincan.Score(scaled=0.9)),
    )


def test_save_retrieve_and_void(lrs):
    saved = lrs.save_statement(statement())
    assert saved.success, saved.data
    sid = str(saved.content.id)
    fetched = lrs.retrieve_statement(sid)
    assert fetched.success
    assert fetched.content.verb.id == "http://adlnet.gov/expapi/verbs/completed"
    assert fetched.content.result.score.scaled == 0.9
    voiding = tincan.Statement(
        actor=learner(), verb=tincan.Verb(id="http://adlnet.gov/expapi/verbs/voided"),
        object=tincan.StatementRef(id=sid))
    assert lrs.save_statement(voiding).success
    assert not lrs.retrieve_statement(sid).success
    assert lrs.retrieve_voided_statement(sid).success


def test_batch_query_and_more(lrs):
    saved = lrs.save_statements([statement("experienced") for _ in range(3)])
    assert saved.success, saved.data
    page = lrs.query_statements({"agent": learner(), "limit": 2})
    assert page.success, page.data
    assert len(page.content.statements) == 2
    assert page.content.more
    rest = lrs.more_statements(page.content)
    assert rest.success, rest.data
    assert len(rest.content.statements) == 1


def test_state_documents(lrs):
    activity = tincan.Activity(id="http://lentera.test/activities/course/pelayanan-publik")
    document = tincan.StateDocument(id="bookmark", activity=activity, agent=learner(),
                                    content='{"page": 4}', content_type="application/json")
    assert lrs.save_state(document).success
    got = lrs.retrieve_state(activity=activity, agent=learner(), state_id="bookmark")
    assert got.success
    assert bytes(got.content.content) == b'{"page": 4}'
    ids = lrs.retrieve_state_ids(activity=activity, agent=learner())
    assert ids.success and ids.content == ["bookmark"]
    assert lrs.delete_state(document).success
    assert lrs.retrieve_state_ids(activity=activity, agent=learner()).content == []
