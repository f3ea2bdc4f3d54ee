"""SIASN: the export of verified records in the shape of riwayat kursus, and the push
client against a local server of the published contract (127.0.0.1, a random port):
both tokens, save then upload-document, retries, exactly once across a restart, secrets
never in plain text."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from lms.db import get_session
from tests.jp.conftest import PDF, form, sign_in
from tests.jp.siasn_contract import ContractServer


@pytest.fixture
def contract():
    server = ContractServer()
    yield server
    server.stop()


def _verified(client, org, **overrides) -> int:
    sign_in(client, org["a1"])
    response = client.post("/jp/submissions/new", data=form(**overrides),
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    submission_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    sign_in(client, org["head"])
    client.post(f"/jp/submissions/{submission_id}/confirm")
    sign_in(client, org["hr"])
    client.post(f"/jp/submissions/{submission_id}/verify")
    return submission_id


def test_export_has_the_fields_of_siasn_course_history(client, org):
    from openpyxl import load_workbook

    _verified(client, org)
    sign_in(client, org["hr"])
    response = client.get("/jp/hr/siasn.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    row = dict(zip(header, rows[0], strict=True))
    assert len(rows) == 1
    for name in ("jenisDiklatId", "jenisKursusSertipikat", "namaKursus",
                 "institusiPenyelenggara", "jumlahJam", "nomorSertipikat", "tahunKursus",
                 "tanggalKursus", "tanggalSelesaiKursus", "dokumen"):
        assert name in header
    assert row["nip"] == org["a1"].nip and row["jenisDiklatId"] == 9
    assert row["namaKursus"] == "Seminar Nasional Transformasi Digital"
    assert row["jumlahJam"] == 6 and row["nomorSertipikat"] == "SEM-2026-001"
    assert row["dokumen"] == "certificate.pdf"
    csv = client.get("/jp/hr/siasn.csv").get_data(as_text=True)
    assert "SEM-2026-001" in csv and "tanggalSelesaiKursus" in csv
    # Outside HR: no export.
    sign_in(client, org["a1"])
    assert client.get("/jp/hr/siasn.xlsx").status_code == 403


def test_push_sends_each_record_once_across_a_restart(client, org, contract, make_app, app):
    from lms.jp import siasn
    from lms.jp.models import SiasnPush
    from lms.reports.scope import EVERYONE

    first = _verified(client, org)
    settings = contract.config(lambda value: siasn.encrypt_secret(value, app))
    app.config.update(settings)
    result = siasn.push(EVERYONE, siasn.SiasnClient(app))
    assert (result.sent, result.uploaded, result.failed) == (1, 1, 0)
    [saved] = contract.courses.values()
    assert saved["pnsOrangId"] == f"ORANG-{org['a1'].nip}"
    assert saved["tanggalKursus"].count("-") == 2 and saved["jumlahJam"] == 6
    assert contract.documents[0]["bytes"] == PDF and contract.documents[0]["type"] == "881"
    row = get_session().scalar(sa.select(SiasnPush).where(
        SiasnPush.record_key == f"submission:{first}"))
    assert row.status == "done" and row.siasn_id == saved["id"] and row.payload["namaKursus"]

    # A second record: the process dies right after SIASN saved it, before its id was kept.
    second = _verified(client, org, title="Workshop SPBE", certificate_number="WS-9")

    class Died(Exception):
        pass

    client_ = siasn.SiasnClient(app)
    real = client_.save_course

    def save_then_die(body):
        real(body)
        raise Died

    client_.save_course = save_then_die  # type: ignore[method-assign]
    with pytest.raises(Died):
        siasn.push(EVERYONE, client_)
    assert len(contract.courses) == 2
    get_session().rollback()

    # A restart: a new app (new tokens, new client) pushes again; nothing is sent twice.
    other = make_app(**settings)
    with other.app_context():
        result = siasn.push(EVERYONE, siasn.SiasnClient(other))
        assert (result.sent, result.found, result.skipped, result.failed) == (0, 1, 1, 0)
        result = siasn.push(EVERYONE, siasn.SiasnClient(other))
        assert (result.sent, result.found, result.skipped) == (0, 0, 2)
    assert len(contract.courses) == 2 and len(contract.documents) == 2
    get_session().expire_all()
    row = get_session().scalar(sa.select(SiasnPush).where(
        SiasnPush.record_key == f"submission:{second}"))
    assert row.status == "done" and row.siasn_id in contract.courses


def test_push_retries_busy_answers_and_reports_failures(client, org, contract, app):
    from lms.jp import siasn
    from lms.jp.models import SiasnPush
    from lms.reports.scope import EVERYONE

    _verified(client, org)
    app.config.update(contract.config(lambda value: siasn.encrypt_secret(value, app)))
    contract.fail_next = 2  # the retries get through
    result = siasn.push(EVERYONE, siasn.SiasnClient(app))
    assert (result.sent, result.failed) == (1, 0)
    _verified(client, org, title="Seminar B", certificate_number="SB-1")
    contract.fail_next = 100  # SIASN down: recorded as failed, retried next time
    result = siasn.push(EVERYONE, siasn.SiasnClient(app))
    assert result.failed == 1
    failed = get_session().scalar(sa.select(SiasnPush).where(SiasnPush.status == "failed"))
    assert "503" in failed.last_error
    contract.fail_next = 0
    result = siasn.push(EVERYONE, siasn.SiasnClient(app))
    assert (result.sent, result.skipped, result.failed) == (1, 1, 0)
    assert len(contract.courses) == 2


def test_secrets_are_never_plain_text(app, contract):
    from lms.jp import siasn

    settings = contract.config(lambda value: value)  # given in plain text
    app.config.update(settings)
    with pytest.raises(siasn.SiasnError, match="encrypted"):
        siasn.SiasnClient(app)
    sealed = siasn.encrypt_secret("rahasia", app)
    assert "rahasia" not in sealed and siasn.decrypt_secret(sealed, app) == "rahasia"


def test_hr_page_pushes_with_one_click(client, org, contract, app):
    from lms.jp import siasn

    _verified(client, org)
    sign_in(client, org["hr"])
    page = client.get("/jp/hr/siasn").get_data(as_text=True)
    assert "Seminar Nasional Transformasi Digital" in page
    app.config.update(contract.config(lambda value: siasn.encrypt_secret(value, app)))
    response = client.post("/jp/hr/siasn/push")
    assert response.status_code == 303
    assert len(contract.courses) == 1
    page = client.get("/jp/hr/siasn").get_data(as_text=True)
    assert next(iter(contract.courses)) in page


def test_structural_training_goes_to_riwayat_diklat(client, org, contract, app):
    from openpyxl import load_workbook

    from lms.jp import siasn
    from lms.jp.models import SiasnPush
    from lms.reports.scope import EVERYONE

    first = _verified(client, org, title="Diklat PIM IV Angkatan XII", type_id="1",
                      provider="BPSDM Provinsi", amount="40", certificate_number="PIM4-77")
    _verified(client, org)  # a seminar: riwayat kursus, as before
    sign_in(client, org["hr"])
    sheet = load_workbook(io.BytesIO(client.get("/jp/hr/siasn.xlsx").data),
                          read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    by_title = {row[header.index("namaKursus")]: dict(zip(header, row, strict=True))
                for row in rows}
    assert by_title["Diklat PIM IV Angkatan XII"]["riwayat"] == "diklat"
    assert by_title["Diklat PIM IV Angkatan XII"]["latihanStrukturalId"] == 2
    assert by_title["Seminar Nasional Transformasi Digital"]["riwayat"] == "kursus"

    settings = contract.config(lambda value: siasn.encrypt_secret(value, app))
    app.config.update(settings)
    result = siasn.push(EVERYONE, siasn.SiasnClient(app))
    assert (result.sent, result.uploaded, result.failed) == (2, 2, 0)
    [diklat] = contract.diklats.values()
    [kursus] = contract.courses.values()
    assert kursus["namaKursus"] == "Seminar Nasional Transformasi Digital"
    assert diklat["latihanStrukturalId"] == "2" and diklat["nomor"] == "PIM4-77"
    assert diklat["jumlahJam"] == 40 and diklat["institusiPenyelenggara"] == "BPSDM Provinsi"
    assert diklat["pnsOrangId"] == f"ORANG-{org['a1'].nip}"
    assert diklat["tanggal"].count("-") == 2 and diklat["tahun"] >= 2026
    types = {d["id_riwayat"]: d["type"] for d in contract.documents}
    assert types == {diklat["id"]: "874", kursus["id"]: "881"}
    row = get_session().scalar(sa.select(SiasnPush).where(
        SiasnPush.record_key == f"submission:{first}"))
    assert row.siasn_id == diklat["id"] and row.status == "done"

    # A crash between diklat/save and keeping its id: found in riwayat diklat, not resent.
    row.siasn_id, row.status, row.document_uploaded = None, "failed", False
    get_session().commit()
    result = siasn.push(EVERYONE, siasn.SiasnClient(app))
    assert (result.sent, result.found) == (0, 1) and len(contract.diklats) == 1


@pytest.mark.parametrize(("title", "expected"), [
    ("Diklatpim Tingkat III", 3), ("Diklat PIM Tk. IV", 2), ("DIKLAT PIM III Angkatan 2", 3),
    ("Diklat PIM II", 4),
    ("Diklat Pim I", 5), ("SEPADA 2026", 1), ("Sespim Polri", 6), ("SESPATI", 7),
    ("Pelatihan Kepemimpinan Pengawas", 8)])
def test_latihan_struktural_id_is_read_from_the_title_only_when_named(title, expected):
    import datetime as dt

    from lms.jp.siasn import Record

    record = Record(key="x", user=None, type_id=1, title=title, provider="p",  # type: ignore[arg-type]
                    start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 2), hours=1, jp=1.0,
                    certificate_number="", document=None, source="submission")
    assert record.structural_id == expected


def test_voiding_a_sent_record_deletes_it_in_siasn(client, org, contract, app):
    from lms.jp import siasn
    from lms.jp.models import SiasnPush
    from lms.reports.scope import EVERYONE

    kursus = _verified(client, org)
    diklat = _verified(client, org, title="Diklat PIM III", type_id="1",
                       certificate_number="PIM3-1")
    app.config.update(contract.config(lambda value: siasn.encrypt_secret(value, app)))
    assert siasn.push(EVERYONE, siasn.SiasnClient(app)).sent == 2
    rows = {r.record_key: r for r in get_session().scalars(sa.select(SiasnPush))}
    kursus_id = rows[f"submission:{kursus}"].siasn_id
    diklat_id = rows[f"submission:{diklat}"].siasn_id

    # HR voids the kursus with SIASN set up: deleted there at once, by the id kept.
    sign_in(client, org["hr"])
    response = client.post(f"/jp/submissions/{kursus}/void", data={"reason": "Ganda"},
                           follow_redirects=True)
    assert "juga sudah dihapus di SIASN" in response.get_data(as_text=True)
    assert contract.deleted == [("kursus", kursus_id)] and kursus_id not in contract.courses

    # SIASN is down when the diklat is voided: it waits on the SIASN page, then the push
    # deletes it with diklat/delete.
    contract.fail_next = 100
    response = client.post(f"/jp/submissions/{diklat}/void", data={"reason": "Salah"},
                           follow_redirects=True)
    assert "pengiriman berikutnya akan mencoba lagi" in response.get_data(as_text=True)
    page = client.get("/jp/hr/siasn").get_data(as_text=True)
    assert "Dibatalkan setelah dikirim ke SIASN" in page and "perlu dihapus di SIASN" in page
    contract.fail_next = 0
    result = siasn.push(EVERYONE, siasn.SiasnClient(app))
    assert (result.deleted, result.sent, result.failed) == (1, 0, 0)
    assert contract.deleted[-1] == ("diklat", diklat_id) and not contract.diklats
    assert siasn.push(EVERYONE, siasn.SiasnClient(app)).deleted == 0  # once
    page = client.get("/jp/hr/siasn").get_data(as_text=True)
    assert page.count("dihapus di SIASN") >= 2 and "perlu dihapus di SIASN" not in page
