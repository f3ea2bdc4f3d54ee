"""The ``lms`` command."""

from __future__ import annotations

import sqlalchemy as sa

from lms.people.models import OrgUnit, User


def test_help_lists_the_commands(runner) -> None:
    from lms.cli import main

    result = runner.invoke(main, ["--help"])
    for command in ("init", "demo", "serve", "import-employees", "user"):
        assert command in result.output


def test_demo_is_idempotent(runner, db) -> None:
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = (
        db.scalar(sa.select(sa.func.count(User.id))),
        db.scalar(sa.select(sa.func.count(OrgUnit.id))),
    )
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert counts == (
        db.scalar(sa.select(sa.func.count(User.id))),
        db.scalar(sa.select(sa.func.count(OrgUnit.id))),
    )
    assert counts[0] >= 50
    emails = set(db.scalars(sa.select(User.email)))
    for role in ("admin", "hr", "trainer", "learner"):
        assert f"{role}@demo.lentera.local" in emails


def test_demo_accounts_sign_in_with_the_documented_password(runner, client) -> None:
    runner.invoke(args=["demo"])
    for role in ("admin", "hr", "trainer", "learner"):
        response = client.post(
            "/login", data={"identifier": f"{role}@demo.lentera.local", "password": "lentera-demo"}
        )
        assert response.status_code == 302, role
        client.post("/logout")


def test_user_create(runner, db) -> None:
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--name",
            "Ani",
            "--email",
            "ani@example.go.id",
            "--role",
            "hr",
            "--role",
            "learner",
            "--password",
            "rahasia-123",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(sa.select(User).where(User.email == "ani@example.go.id"))
    assert {r.value for r in user.roles} == {"hr", "learner"}


def test_user_create_with_bad_nip_fails_cleanly(runner, db) -> None:
    result = runner.invoke(
        args=["user", "create", "--name", "Ani", "--nip", "123", "--password", "rahasia-123"]
    )
    assert result.exit_code == 1
    assert "18 digit" in result.output
    assert db.scalar(sa.select(sa.func.count(User.id))) == 0


def test_import_employees_reports_bad_rows_and_imports_nothing(runner, db, tmp_path) -> None:
    path = tmp_path / "pegawai.csv"
    path.write_text(
        "nip,name,email,org_unit,position\n"
        "198501012010011001,Budi,budi@example.go.id,Pemkab / Dinas,Staf\n"
        "198501012010013001,Ani,ani@example.go.id,Pemkab / Dinas,Staf\n"
    )
    result = runner.invoke(args=["import-employees", str(path)])
    assert result.exit_code == 1
    assert f"{path}:3:" in result.output and "harus 1 atau 2" in result.output
    assert db.scalar(sa.select(sa.func.count(User.id))) == 0


def test_import_employees(runner, db, tmp_path) -> None:
    path = tmp_path / "pegawai.csv"
    path.write_text(
        "nip,name,email,org_unit,position\n"
        "198501012010011001,Budi,budi@example.go.id,Pemkab / Dinas,Staf\n"
    )
    result = runner.invoke(args=["import-employees", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output
    assert db.scalar(sa.select(User.name).where(User.nip == "198501012010011001")) == "Budi"
