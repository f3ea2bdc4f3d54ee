"""Employee CSV import: preview of every bad row, all-or-nothing apply, idempotent re-import."""

from __future__ import annotations

import io

import sqlalchemy as sa

from lms.people import importer
from lms.people.models import OrgUnit, Position, PositionAssignment, User

HEADER = "nip,name,email,org_unit,position,position_kind\n"
GOOD = (
    "198501012010011001,Budi Santoso,budi@example.go.id,Pemkab Uji / Dinas A / Bidang B,"
    "Analis,pelaksana\n"
    "199002022015032002,Sri Lestari,sri@example.go.id,Pemkab Uji / Dinas A,Kepala Dinas,JPT\n"
)


def _count(db, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_preview_lists_every_bad_row_with_line_and_reason(app) -> None:
    text = (
        HEADER
        + GOOD
        + (
            "12345,Tanpa NIP,a@example.go.id,Pemkab Uji,Staf,\n"
            "198501012010011001,Duplikat,dup@example.go.id,Pemkab Uji,Staf,\n"
            "199003032015031003,,bad-email,Pemkab Uji,Staf,\n"
            "199004042015031004,Nama,n@example.go.id,,Staf,bupati\n"
        )
    )
    preview = importer.preview_import(text)
    lines = {e.line: e.message for e in preview.errors}
    assert set(lines) == {4, 5, 6, 7}
    assert "18 digit" in lines[4]
    assert "sudah muncul di baris 2" in lines[5]
    assert "Nama wajib diisi" in lines[6] and "bad-email" in lines[6]
    assert "Unit kerja wajib diisi" in lines[7] and "bupati" in lines[7]
    assert not preview.ok


def test_missing_columns_are_named(app) -> None:
    import pytest

    from lms.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        importer.preview_import("nip;nama\n198501012010011001;Budi\n")
    assert "email, org_unit, position" in str(info.value.message)


def test_apply_creates_units_positions_and_people(app, db) -> None:
    preview = importer.preview_import(HEADER + GOOD)
    assert preview.ok and preview.creates == 2
    assert preview.new_units == [
        "Pemkab Uji",
        "Pemkab Uji / Dinas A",
        "Pemkab Uji / Dinas A / Bidang B",
    ]
    result = importer.apply_import(preview)
    db.commit()
    assert (result.created, result.updated, result.units_created, result.positions_created) == (
        2,
        0,
        3,
        2,
    )
    budi = db.scalar(sa.select(User).where(User.nip == "198501012010011001"))
    assert budi.position.name == "Analis" and budi.position.org_unit.name == "Bidang B"
    assert {r.value for r in budi.roles} == {"learner"}
    kepala = db.scalar(sa.select(Position).where(Position.name == "Kepala Dinas"))
    assert kepala.kind.value == "jpt"


def test_reimport_updates_and_never_duplicates(app, db) -> None:
    importer.apply_import(importer.preview_import(HEADER + GOOD))
    db.commit()
    changed = HEADER + GOOD.replace("Budi Santoso", '"Budi Santoso, S.T."').replace(
        "Bidang B,Analis", "Bidang B,Analis Senior"
    )
    preview = importer.preview_import(changed)
    assert (preview.creates, preview.updates, preview.unchanged) == (0, 1, 1)
    result = importer.apply_import(preview)
    db.commit()
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert _count(db, User) == 2
    assert _count(db, OrgUnit) == 3
    budi = db.scalar(sa.select(User).where(User.nip == "198501012010011001"))
    assert budi.name == "Budi Santoso, S.T." and budi.position.name == "Analis Senior"
    assert _count(db, PositionAssignment) == 3  # the old assignment is kept, ended


def test_semicolon_and_indonesian_headers_and_bom(app) -> None:
    data = (
        "\ufeffNIP;Nama;Email;Unit Kerja;Jabatan\n"
        "198501012010011001;Budi;budi@example.go.id;Pemkab Uji > Dinas A;Staf\n"
    ).encode()
    preview = importer.preview_import(data)
    assert preview.ok and preview.rows[0].unit_path == ("Pemkab Uji", "Dinas A")


def test_browser_upload_shows_bad_rows_and_imports_nothing(client, login_as, db) -> None:
    login_as("admin")
    before = _count(db, User)
    bad = HEADER + GOOD + "199913012015031001,X,x@example.go.id,Pemkab Uji,Staf,\n"
    response = client.post(
        "/admin/import",
        data={"file": (io.BytesIO(bad.encode()), "pegawai.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "1 baris bermasalah" in page and "19991301 bukan tanggal yang sah" in page
    assert _count(db, User) == before


def test_browser_upload_then_confirm(client, login_as, db) -> None:
    import re

    login_as("admin")
    response = client.post(
        "/admin/import",
        data={"file": (io.BytesIO((HEADER + GOOD).encode()), "pegawai.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    token = re.search(
        r'name="token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    ).group(1)
    response = client.post("/admin/import/confirm", data={"token": token}, follow_redirects=True)
    assert "Impor selesai: 2 ditambahkan" in response.get_data(as_text=True)
    assert db.scalar(sa.select(User.id).where(User.nip == "199002022015032002"))
    # The uploaded file is gone: confirming twice cannot import twice.
    assert client.post("/admin/import/confirm", data={"token": token}).status_code == 404


def test_non_csv_upload_is_refused(client, login_as) -> None:
    login_as("admin")
    response = client.post(
        "/admin/import",
        data={"file": (io.BytesIO(b"\x89PNG"), "foto.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Hanya berkas .csv" in response.get_data(as_text=True)
