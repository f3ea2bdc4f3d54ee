"""Administration pages: users, org units and positions; bad input changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from lms.people.models import OrgUnit, Position, PositionAssignment, User
from tests import factories


def _count(db, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_admin_creates_a_user_with_roles_and_position(client, login_as, db) -> None:
    login_as("admin")
    unit = factories.make_org_unit("Pemkab Uji")
    position = factories.make_position(unit, name="Analis Data")
    db.commit()
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Budi Santoso",
            "nip": "198501012010011001",
            "email": "Budi@Example.go.id",
            "roles": ["learner", "trainer"],
            "position_id": position.id,
            "active": "y",
        },
    )
    assert response.status_code == 302
    user = db.scalar(sa.select(User).where(User.nip == "198501012010011001"))
    assert user.email == "budi@example.go.id"
    assert {r.value for r in user.roles} == {"learner", "trainer"}
    assert user.position.id == position.id


def test_bad_nip_in_the_form_is_explained_and_nothing_is_saved(client, login_as, db) -> None:
    login_as("admin")
    before = _count(db, User)
    response = client.post(
        "/admin/users/new",
        data={
            "name": "X",
            "nip": "198513012010011001",
            "email": "x@example.go.id",
            "roles": ["learner"],
            "position_id": 0,
        },
    )
    assert response.status_code == 400
    assert "19851301 bukan tanggal yang sah" in response.get_data(as_text=True)
    assert _count(db, User) == before


def test_duplicate_email_is_refused(client, login_as, users, db) -> None:
    login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Y",
            "email": "learner@test.lentera.local",
            "roles": ["learner"],
            "position_id": 0,
        },
    )
    assert response.status_code == 400
    assert "sudah memakai surel" in response.get_data(as_text=True)


def test_admin_cannot_remove_own_admin_role(client, login_as, db) -> None:
    admin = login_as("admin")
    response = client.post(
        f"/admin/users/{admin.id}",
        data={
            "name": admin.name,
            "email": admin.email,
            "nip": admin.nip,
            "roles": ["learner"],
            "position_id": 0,
            "active": "y",
        },
    )
    assert response.status_code == 400
    db.expire_all()
    assert "admin" in {r.value for r in db.get(User, admin.id).roles}


def test_changing_position_keeps_history(client, login_as, users, db) -> None:
    login_as("admin")
    unit = factories.make_org_unit("Pemkab Uji")
    first = factories.make_position(unit, name="Staf")
    second = factories.make_position(unit, name="Analis")
    learner = users["learner"]
    db.commit()
    for position in (first, second):
        client.post(
            f"/admin/users/{learner.id}",
            data={
                "name": learner.name,
                "email": learner.email,
                "nip": learner.nip,
                "roles": ["learner"],
                "position_id": position.id,
                "active": "y",
            },
        )
    rows = db.scalars(
        sa.select(PositionAssignment)
        .where(PositionAssignment.user_id == learner.id)
        .order_by(PositionAssignment.id)
    ).all()
    assert [r.position_id for r in rows] == [first.id, second.id]
    assert rows[0].end_date is not None and rows[1].end_date is None


def test_user_search(client, login_as, users) -> None:
    login_as("admin")
    page = client.get("/admin/users?q=hr@test").get_data(as_text=True)
    assert "hr@test.lentera.local" in page and "learner@test.lentera.local" not in page


def test_org_unit_tree_and_kinds(client, login_as, db) -> None:
    login_as("admin")
    assert (
        client.post("/admin/org-units/new", data={"name": "Pemkab Uji", "parent_id": 0}).status_code
        == 302
    )
    pemda = db.scalar(sa.select(OrgUnit).where(OrgUnit.name == "Pemkab Uji"))
    client.post("/admin/org-units/new", data={"name": "Dinas A", "parent_id": pemda.id})
    opd = db.scalar(sa.select(OrgUnit).where(OrgUnit.name == "Dinas A"))
    assert opd.kind.value == "opd"
    assert opd.path == f"/{pemda.id}/{opd.id}/"
    # Same name twice under one parent is refused with a message.
    response = client.post("/admin/org-units/new", data={"name": "Dinas A", "parent_id": pemda.id})
    assert response.status_code == 400
    assert "sudah ada" in response.get_data(as_text=True)


def test_unit_with_positions_cannot_be_deleted(client, login_as, db) -> None:
    login_as("admin")
    unit = factories.make_org_unit("Pemkab Uji")
    factories.make_position(unit)
    db.commit()
    response = client.post(f"/admin/org-units/{unit.id}/delete", follow_redirects=True)
    assert "masih memiliki sub-unit atau jabatan" in response.get_data(as_text=True)
    assert db.get(OrgUnit, unit.id) is not None


def test_position_crud(client, login_as, db) -> None:
    login_as("admin")
    unit = factories.make_org_unit("Pemkab Uji")
    db.commit()
    response = client.post(
        "/admin/positions/new",
        data={
            "name": "Perencana Ahli Muda",
            "kind": "fungsional",
            "grade": "Ahli Muda",
            "org_unit_id": unit.id,
        },
    )
    assert response.status_code == 302
    position = db.scalar(sa.select(Position).where(Position.name == "Perencana Ahli Muda"))
    assert position.kind.value == "fungsional"
    assert client.post(f"/admin/positions/{position.id}/delete").status_code == 302
    assert db.scalar(sa.select(Position.id).where(Position.id == position.id)) is None


def test_missing_objects_are_404(client, login_as) -> None:
    login_as("admin")
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/org-units/999999").status_code == 404
