"""Forwarding to, and pulling from, a second Lentera instance over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from lms.db import get_session, utcnow
from lms.forwarding import service
from lms.forwarding.models import DeadLetter, ForwardTarget, PullSource
from lms.xapi.models import Statement
from tests.forwarding.conftest import Remote, closed_port, statement, store_local


def _target(remote: Remote, **kw: Any) -> ForwardTarget:
    target = service.create_target("pusat", remote.endpoint, remote.key, remote.secret, **kw)
    get_session().commit()
    return target


def _reload(model: Any, row_id: int) -> Any:
    get_session().expire_all()
    return get_session().get(model, row_id)


def test_forwarded_statements_arrive_exactly_once(app: Any, remote: Remote) -> None:
    before = store_local(statement())  # stored before the target exists: not sent
    target = _target(remote)
    ids = store_local(*[statement() for _ in range(5)])
    assert service.deliver_all() == 5
    assert sorted(remote.ids()) == sorted(ids)
    assert service.deliver_all() == 0
    # A crash after the POST but before the cursor moved: the batch goes again, harmlessly.
    get_session().execute(sa.update(ForwardTarget).values(last_seq=0))
    get_session().commit()
    service.deliver_all()
    assert sorted(remote.ids()) == sorted(before + ids)
    assert len(remote.ids()) == 6
    assert _reload(ForwardTarget, target.id).last_error is None


def test_forwarded_statement_keeps_its_content(app: Any, remote: Remote) -> None:
    _target(remote)
    sent = statement(result={"success": True, "score": {"scaled": 0.9}})
    store_local(sent)
    service.deliver_all()
    received = remote.statement(sent["id"])
    assert received is not None
    assert received["result"] == sent["result"] and received["actor"] == sent["actor"]


def test_target_filters_by_verb_and_activity_prefix(app: Any, remote: Remote) -> None:
    _target(remote, verbs=[service_verb("completed")],
            activity_prefixes="http://lentera.test/courses/")
    wanted = store_local(statement("completed", "http://lentera.test/courses/x"))
    store_local(statement("attempted", "http://lentera.test/courses/x"),
                statement("completed", "http://elsewhere.test/y"))
    service.deliver_all()
    assert remote.ids() == wanted


def service_verb(verb: str) -> str:
    return "http://adlnet.gov/expapi/verbs/" + verb


def test_target_down_then_up_retries_with_backoff(app: Any, remote: Remote) -> None:
    target = service.create_target("pusat", f"http://127.0.0.1:{closed_port()}/xapi/",
                                   remote.key, remote.secret)
    get_session().commit()
    start = target.last_seq
    ids = store_local(statement(), statement())
    assert service.deliver_all() == 0
    down = _reload(ForwardTarget, target.id)
    assert down.failures == 1 and down.last_error and down.last_seq == start
    first_wait = down.next_attempt - utcnow()
    assert dt.timedelta(0) < first_wait <= service.backoff(1)
    # Still waiting: nothing is tried.
    assert service.deliver_all() == 0
    assert _reload(ForwardTarget, target.id).failures == 1
    # Down again: the wait doubles.
    service.deliver_all(now=down.next_attempt + dt.timedelta(seconds=1))
    assert _reload(ForwardTarget, target.id).failures == 2
    assert service.backoff(2) == 2 * service.backoff(1)
    # The target comes back (here: at its real address).
    get_session().execute(sa.update(ForwardTarget).values(endpoint=remote.endpoint))
    get_session().commit()
    later = utcnow() + service.backoff(3)
    assert service.deliver_all(now=later) == 2
    assert sorted(remote.ids()) == sorted(ids)
    up = _reload(ForwardTarget, target.id)
    assert (up.failures, up.last_error, up.next_attempt, up.delivered) == (0, None, None, 2)


def test_wrong_credentials_are_retried_not_dead_lettered(app: Any, remote: Remote) -> None:
    target = service.create_target("pusat", remote.endpoint, remote.key, "wrong")
    get_session().commit()
    store_local(statement())
    service.deliver_all()
    failed = _reload(ForwardTarget, target.id)
    assert failed.failures == 1 and "401" in failed.last_error
    assert get_session().scalar(sa.select(sa.func.count()).select_from(DeadLetter)) == 0


def test_refused_statement_goes_to_dead_letters_and_the_rest_arrives(
        app: Any, remote: Remote, client: Any, login_as: Any) -> None:
    clash = statement()
    remote.store([dict(clash, result={"success": False})])  # same id, other content there
    _target(remote)
    others = [statement() for _ in range(4)]
    store_local(others[0], others[1], clash, others[2], others[3])
    assert service.deliver_all() == 5
    assert set(remote.ids()) == {clash["id"], *(s["id"] for s in others)}
    letter = get_session().scalars(sa.select(DeadLetter)).one()
    assert (letter.statement_id, letter.status) == (clash["id"], 409)
    assert service.deliver_all() == 0  # the cursor moved past it: no endless retry
    login_as("admin")
    page = client.get("/admin/forwarding/dead-letters")
    assert page.status_code == 200 and clash["id"] in page.text
    # Retrying while the other side still refuses keeps the letter.
    assert service.retry_dead_letter(letter.id) is False
    assert get_session().scalar(sa.select(sa.func.count()).select_from(DeadLetter)) == 1


def test_dead_letter_retry_delivers_once_fixed(app: Any, remote: Remote, client: Any,
                                               login_as: Any) -> None:
    target = service.create_target("pusat", remote.endpoint, remote.key, remote.secret,
                                   version="1.0.3")
    get_session().commit()
    # xAPI 2.0 context agents: valid here, refused by a 1.0.3 endpoint.
    modern = statement(context={"contextAgents": [{"objectType": "contextAgent", "agent": {
        "objectType": "Agent", "mbox": "mailto:mentor@lentera.test"}}]})
    from lms.xapi.service import store_statements

    store_statements([modern], version="2.0.0")
    get_session().commit()
    service.deliver_all()
    letter = get_session().scalars(sa.select(DeadLetter)).one()
    assert letter.status == 400
    get_session().execute(sa.update(ForwardTarget).values(version="2.0.0"))
    get_session().commit()
    login_as("admin")
    response = client.post(f"/admin/forwarding/dead-letters/{letter.id}/retry")
    assert response.status_code == 302
    assert modern["id"] in remote.ids()
    get_session().expire_all()
    assert get_session().scalar(sa.select(sa.func.count()).select_from(DeadLetter)) == 0
    assert _reload(ForwardTarget, target.id).delivered == 1


def test_pull_stores_every_statement_once_following_more(app: Any, remote: Remote,
                                                         monkeypatch: Any) -> None:
    monkeypatch.setattr(service, "PULL_PAGE", 3)  # several pages, linked by `more`
    first = remote.store([statement() for _ in range(7)])
    source = service.create_source("moodle", remote.endpoint, remote.key, remote.secret)
    get_session().commit()
    assert service.pull_source(source.id, force=True) == 7
    here = set(get_session().scalars(sa.select(Statement.statement_id)))
    assert here == set(first)
    assert service.pull_source(source.id, force=True) == 0
    more = remote.store([statement() for _ in range(4)])
    assert service.pull_source(source.id, force=True) == 4
    get_session().expire_all()
    assert set(get_session().scalars(sa.select(Statement.statement_id))) == set(first + more)
    pulled = _reload(PullSource, source.id)
    assert pulled.pulled == 11 and pulled.last_error is None and pulled.since


def test_pull_keeps_the_source_authority(app: Any, remote: Remote) -> None:
    (sid,) = remote.store([statement()])
    source = service.create_source("moodle", remote.endpoint, remote.key, remote.secret)
    get_session().commit()
    service.pull_source(source.id, force=True)
    from lms.xapi.service import get_statement

    assert get_statement(sid)["authority"]["account"]["homePage"] == "http://remote.lentera.test"


def test_pull_waits_for_its_schedule_and_survives_a_source_down(app: Any,
                                                                 remote: Remote) -> None:
    remote.store([statement()])
    source = service.create_source("moodle", f"http://127.0.0.1:{closed_port()}/xapi/",
                                   remote.key, remote.secret, interval_seconds=60)
    get_session().commit()
    assert service.pull_all() == 0
    down = _reload(PullSource, source.id)
    assert down.last_error and down.next_run > utcnow()
    get_session().execute(sa.update(PullSource).values(endpoint=remote.endpoint))
    get_session().commit()
    assert service.pull_all() == 0  # not due yet
    assert service.pull_all(now=utcnow() + dt.timedelta(seconds=61)) == 1


def test_both_directions_between_two_instances(app: Any, remote: Remote) -> None:
    """Here -> there by forwarding, there -> here by pulling: every statement once on
    each side, and the pulled-back copies are no-ops here."""
    _target(remote)
    source = service.create_source("pusat", remote.endpoint, remote.key, remote.secret)
    get_session().commit()
    mine = store_local(*[statement() for _ in range(5)])
    theirs = remote.store([statement() for _ in range(3)])
    service.deliver_all()
    service.pull_source(source.id, force=True)
    service.deliver_all()
    everything = set(mine + theirs)
    assert sorted(remote.ids()) == sorted(everything)
    get_session().expire_all()
    assert sorted(get_session().scalars(sa.select(Statement.statement_id))) == \
        sorted(everything)


def test_admin_adds_a_target_and_a_source(app: Any, remote: Remote, client: Any,
                                          login_as: Any) -> None:
    login_as("admin")
    response = client.post("/admin/forwarding/targets/new", data={
        "name": "BKN", "endpoint": remote.endpoint, "username": remote.key,
        "password": remote.secret, "version": "1.0.3", "verbs": "", "activity_prefixes": ""})
    assert response.status_code == 302
    bad = client.post("/admin/forwarding/sources/new", data={
        "name": "Moodle", "endpoint": "not a url", "username": "k", "password": "s",
        "version": "1.0.3", "interval_seconds": "300"})
    assert bad.status_code == 400
    good = client.post("/admin/forwarding/sources/new", data={
        "name": "Moodle", "endpoint": remote.endpoint, "username": remote.key,
        "password": remote.secret, "version": "1.0.3", "interval_seconds": "300"})
    assert good.status_code == 302
    page = client.get("/admin/forwarding/")
    assert page.status_code == 200 and "BKN" in page.text and "Moodle" in page.text


def test_forwarding_pages_are_for_admins_only(app: Any, client: Any, login_as: Any) -> None:
    login_as("hr")
    assert client.get("/admin/forwarding/").status_code == 403
