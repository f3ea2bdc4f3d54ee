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
