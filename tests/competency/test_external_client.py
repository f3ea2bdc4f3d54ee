"""Statements from another platform count exactly as Lentera's own: sent by an independent
xAPI client (Rustici's ``tincan`` library) to the live server's LRS over HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.request
from types import SimpleNamespace

import pytest

from lms.competency import service
from lms.db import get_session
from lms.xapi.auth import create_credential
from tests.competency.conftest import level_of
from tests.factories import make_user

tincan = pytest.importorskip("tincan")

ACTIVITY = "https://moodle.bkpsdm.example.go.id/course/view.php?id=9"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def _statement(actor, verb=COMPLETED, obj=None):
    return tincan.Statement(
        actor=actor,
        verb=tincan.Verb(id=verb, display=tincan.LanguageMap({"en-US": verb.rsplit("/", 1)[1]})),
        object=obj or tincan.Activity(id=ACTIVITY, definition=tincan.ActivityDefinition(
            name=tincan.LanguageMap({"id-ID": "Kearsipan Dinamis"}))),
    )


@pytest.fixture
def lrs(app, live_server, frameworks):
    credential, secret = create_credential("Moodle BKPSDM", "statements/write statements/read "
                                           "api:read")
    service.create_rule(service.RuleSpec(
        name="Moodle: Kearsipan Dinamis", activity_iri=ACTIVITY, match="exact",
        criterion="completed", competency_id=frameworks["T.ARS"].id, level=2,
        source="external"))
    get_session().commit()
    remote = tincan.RemoteLRS(version="1.0.3", endpoint=live_server.url + "/xapi/",
                              username=credential.key, password=secret)
    return SimpleNamespace(remote=remote, auth=(credential.key, secret))


def _api(live_server, lrs, path):
    key, secret = lrs.auth
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    request = urllib.request.Request(live_server.url + path,
                                     headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1)
        return json.loads(response.read())


def test_account_actor_statement_raises_the_level_and_voiding_takes_it_back(
        lrs, live_server):
    user = make_user()
    get_session().commit()
    actor = tincan.Agent(name=user.name, account=tincan.AgentAccount(
        home_page=live_server.url, name=user.nip))
    sent = lrs.remote.save_statement(_statement(actor))
    assert sent.success, sent.data
    get_session().expire_all()
    assert level_of(user, "T.ARS") == 2
    profile = _api(live_server, lrs, f"/api/v1/employees/{user.nip}/competencies")
    row = next(c for c in profile["competencies"] if c["code"] == "T.ARS")
    assert row["level"] == 2 and row["evidence"][0]["statement_id"] == str(sent.content.id)

    voiding = _statement(tincan.Agent(mbox="mailto:admin@bkpsdm.example.go.id"), VOIDED,
                         tincan.StatementRef(id=sent.content.id))
    assert lrs.remote.save_statement(voiding).success
    get_session().expire_all()
    assert level_of(user, "T.ARS") == 0


def test_mbox_and_mbox_sha1sum_actors_count_too(lrs, live_server):
    first, second = make_user(), make_user()
    get_session().commit()
    by_mbox = tincan.Agent(mbox=f"mailto:{first.email}")
    sha1 = hashlib.sha1(f"mailto:{second.email}".encode()).hexdigest()
    by_hash = tincan.Agent(mbox_sha1sum=sha1)
    result = lrs.remote.save_statements([_statement(by_mbox), _statement(by_hash)])
    assert result.success, result.data
    get_session().expire_all()
    assert level_of(first, "T.ARS") == 2
    assert level_of(second, "T.ARS") == 2


def test_statements_of_people_lentera_does_not_know_change_nothing(lrs, live_server):
    stranger = tincan.Agent(account=tincan.AgentAccount(home_page="https://sso.example.go.id",
                                                        name="199001012015031001"))
    assert lrs.remote.save_statement(_statement(stranger)).success
    found = _api(live_server, lrs, "/api/v1/employees?q=199001012015031001")
    assert found["count"] == 0
