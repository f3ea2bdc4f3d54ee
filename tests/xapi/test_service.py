"""The internal API of the LRS: store_statements and get_statement."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.errors import Conflict, ValidationError
from lms.xapi import service
from lms.xapi.models import Statement, StatementActivity, StatementAgent
from tests.xapi.helpers import ACTIVITY, agent, make_statement, new_id, voiding


def test_store_sets_id_stored_authority_version(app, db):
    (sid,) = service.store_statements([make_statement()])
    db.commit()
    stored = service.get_statement(sid)
    assert stored["id"] == sid
    assert stored["stored"].endswith("Z")
    assert stored["timestamp"] == stored["stored"]
    assert stored["version"] == "1.0.0"
    assert stored["authority"] == {"objectType": "Agent", "name": "Lentera",
                                   "account": {"homePage": "http://lentera.test",
                                               "name": "lentera"}}


def test_store_keeps_given_id_and_uses_given_authority(app, db):
    sid = new_id()
    authority = {"objectType": "Agent", "mbox": "mailto:moodle@x.go.id"}
    assert service.store_statements([make_statement(id=sid)], authority) == [sid]
    assert service.get_statement(sid)["authority"] == authority


def test_store_flushes_without_committing(app, db):
    (sid,) = service.store_statements([make_statement()])
    db.rollback()
    assert service.get_statement(sid) is None


def test_invalid_statement_names_the_property(app, db):
    bad = make_statement(actor={"mbox": "budi@x.go.id"})
    with pytest.raises(ValidationError, match=r"statement\.actor\.mbox: must be a mailto IRI"):
        service.store_statements([bad])


def test_bad_statement_in_a_list_rejects_the_whole_list(app, db):
    good = make_statement()
    bad = make_statement(verb={"id": "not an iri"})
    with pytest.raises(ValidationError, match=r"statements\[1\]\.verb\.id"):
        service.store_statements([good, bad])
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Statement)) == 0


def test_same_id_same_content_is_not_stored_twice(app, db):
    sid = new_id()
    service.store_statements([make_statement(id=sid)])
    assert service.store_statements([make_statement(id=sid)]) == [sid]
    assert db.scalar(sa.select(sa.func.count()).select_from(Statement)) == 1


def test_same_id_other_content_is_a_conflict(app, db):
    sid = new_id()
    service.store_statements([make_statement(id=sid)])
    with pytest.raises(Conflict):
        service.store_statements([make_statement(id=sid, actor=agent(2))])


def test_voiding_marks_the_target_voided(app, db):
    (target,) = service.store_statements([make_statement()])
    service.store_statements([voiding(target)])
    row = db.scalar(sa.select(Statement).where(Statement.statement_id == target))
    assert row.voided is True


def test_a_voiding_statement_cannot_be_voided(app, db):
    (target,) = service.store_statements([make_statement()])
    (void_id,) = service.store_statements([voiding(target)])
    with pytest.raises(ValidationError, match="cannot be voided"):
        service.store_statements([voiding(void_id)])


def test_voiding_needs_a_statement_ref(app, db):
    bad = make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"})
    with pytest.raises(ValidationError, match="StatementRef"):
        service.store_statements([bad])


def test_related_index_rows(app, db):
    parent = "http://lentera.test/activities/course/pelatihan-dasar"
    statement = make_statement(context={
        "contextActivities": {"parent": {"id": parent}},
        "instructor": agent(9)})
    service.store_statements([statement])
    activities = set(db.scalars(sa.select(StatementActivity.activity_id)))
    assert activities == {ACTIVITY, parent}
    agents = set(db.scalars(sa.select(StatementAgent.agent_key)))
    assert "mbox:mailto:pegawai9@x.go.id" in agents
    assert "mbox:mailto:pegawai1@x.go.id" in agents


def test_context_activity_object_is_stored_as_list(app, db):
    (sid,) = service.store_statements([make_statement(
        context={"contextActivities": {"parent": {"id": "http://lentera.test/a"}}})])
    stored = service.get_statement(sid)
    assert stored["context"]["contextActivities"]["parent"] == [{"id": "http://lentera.test/a"}]


def test_get_statement_unknown_is_none(app, db):
    assert service.get_statement(new_id()) is None


def test_numbers_come_back_exactly_as_sent(app, db):
    """The JSON columns may be read by a faster parser (orjson): it must never change a
    value, e.g. integers beyond 64 bits (orjson would make them floats)."""
    extensions = {"http://x.test/big": 123456789012345678901234567890,
                  "http://x.test/small": -9007199254740993,
                  "http://x.test/float": 0.30000000000000004,
                  "http://x.test/text": "9" * 30}
    (statement_id,) = service.store_statements([make_statement(
        result={"extensions": extensions})])
    db.commit()
    db.expire_all()
    stored = db.scalar(sa.select(Statement.data).where(Statement.statement_id == statement_id))
    assert stored["result"]["extensions"] == extensions
    assert isinstance(stored["result"]["extensions"]["http://x.test/big"], int)
