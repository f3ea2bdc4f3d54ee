"""One actor key: the keys of a user are those the LRS stores, and each finds the user."""

from __future__ import annotations

import hashlib

from lms.xapi.actors import actor_for, actor_keys, user_for_actor
from lms.xapi.validation.agents import agent_key
from tests import factories


def test_the_keys_of_a_user_are_the_keys_of_the_statements_about_them(app, db) -> None:
    user = factories.make_user(email="sari@bkpsdm.example.go.id")
    db.commit()
    keys = actor_keys(user)
    assert agent_key(actor_for(user)) in keys
    base = app.config["BASE_URL"]
    assert keys == [f"account:{base}|user:{user.id}", f"account:{base}|{user.nip}",
                    "mbox:mailto:sari@bkpsdm.example.go.id",
                    "mbox_sha1sum:" + hashlib.sha1(
                        b"mailto:sari@bkpsdm.example.go.id").hexdigest()]


def test_every_kind_of_actor_finds_the_user(app, db) -> None:
    user = factories.make_user(email="sari@bkpsdm.example.go.id")
    db.commit()
    base = app.config["BASE_URL"]
    sha1 = hashlib.sha1(b"mailto:sari@bkpsdm.example.go.id").hexdigest()
    for actor in ({"account": {"homePage": base, "name": user.nip}},
                  {"account": {"homePage": base + "/", "name": f"user:{user.id}"}},
                  {"mbox": "MAILTO:Sari@BKPSDM.example.go.id"},
                  {"objectType": "Agent", "mbox_sha1sum": sha1.upper()}):
        assert user_for_actor(actor) == user, actor
    for actor in ({"account": {"homePage": "https://elsewhere.example", "name": user.nip}},
                  {"account": {"homePage": base, "name": ""}},
                  {"mbox": "mailto:orang.lain@example.go.id"},
                  {"openid": "https://openid.example/sari"},
                  {"objectType": "Group", "mbox": "mailto:sari@bkpsdm.example.go.id"}):
        assert user_for_actor(actor) is None, actor


def test_finding_the_user_of_an_actor_is_one_query_and_roles_still_load(app, db) -> None:
    """Statement consumers look up the learner of nearly every statement: the user comes
    without a second query for its roles (they load if read)."""
    from flask import current_app

    from lms.db import get_engine
    from lms.people.models import Role
    from tests.helpers import sql_log

    user = factories.make_user(email="sari@bkpsdm.example.go.id", roles=["learner", "hr"])
    db.commit()
    base = app.config["BASE_URL"]
    for actor in ({"account": {"homePage": base, "name": user.nip}},
                  {"account": {"homePage": base, "name": f"user:{user.id}"}},
                  {"mbox": "mailto:sari@bkpsdm.example.go.id"}):
        db.commit()
        db.expunge_all()  # a new transaction that has not met the user (a consumer's batch)
        with sql_log(get_engine(current_app)) as log:
            found = user_for_actor(actor)
        assert found is not None and found.id == user.id, actor
        assert len(log) == 1, (actor, log)
        assert found.has_role(Role.HR) and not found.has_role(Role.ADMIN)


def test_users_remembered_for_a_batch_are_those_each_actor_finds(app, db) -> None:
    """``remember_users`` looks many actors up at once (a query per kind of key); each
    actor then finds, without a query, the very user it finds alone, and no one for an
    actor that is not one of ours."""
    from flask import current_app

    from lms.db import get_engine
    from lms.xapi.actors import remember_users
    from tests.helpers import sql_log

    users = [factories.make_user() for _ in range(3)]
    sari = factories.make_user(email="sari@bkpsdm.example.go.id")
    db.commit()
    base = app.config["BASE_URL"]
    ours = [*({"account": {"homePage": base, "name": u.nip}} for u in users),
            {"account": {"homePage": base + "/", "name": f"user:{users[0].id}"}},
            {"mbox": "MAILTO:Sari@BKPSDM.example.go.id"}]
    strangers = [{"account": {"homePage": "https://elsewhere.example", "name": users[1].nip}},
                 {"account": {"homePage": base, "name": "199001012020121999"}},
                 {"account": {"homePage": base, "name": "user:" + "9" * 40}},
                 {"account": {"homePage": base, "name": "user:\u00b2"}},
                 {"mbox": "mailto:orang.lain@example.go.id"},
                 {"objectType": "Group", "mbox": "mailto:sari@bkpsdm.example.go.id"},
                 "not an actor", None]
    alone = [user_for_actor(a) for a in ours]
    assert [u.id for u in alone] == [*(u.id for u in users), users[0].id, sari.id]
    db.commit()
    db.expunge_all()
    with sql_log(get_engine(current_app)) as log:
        remember_users([*ours, *strangers, *ours])
    assert len(log) == 3, log  # by user id, by NIP, by e-mail address
    with sql_log(get_engine(current_app)) as log:
        found = [user_for_actor(a) for a in ours]
    assert log == [] and [u.id for u in found] == [u.id for u in alone]
    for actor in strangers:
        assert user_for_actor(actor if isinstance(actor, dict) else None) is None, actor
