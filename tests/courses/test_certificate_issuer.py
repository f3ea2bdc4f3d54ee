"""The certificate names the agency and its signatory (per Pemda, from the admin page or
the settings), embeds its fonts and keeps the QR code to the verification page."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lms.courses.models import CertificateIssuer, Completion
from lms.db import get_session, utcnow
from lms.xapi.service import store_statements
from tests import factories


def _complete(user: Any, slug: str = "komunikasi-efektif") -> Completion:
    store_statements([{
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": "http://lentera.test",
                                                     "name": user.nip}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"objectType": "Activity", "id": f"http://lentera.test/courses/{slug}"},
        "result": {"completion": True}, "timestamp": utcnow().isoformat()}])
    get_session().commit()
    return get_session().scalar(sa.select(Completion).where(Completion.user_id == user.id))


def _text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


def _fonts(pdf: bytes) -> list[dict[str, Any]]:
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            fonts.append({"name": str(font.get("/BaseFont")),
                          "embedded": descriptor is not None and any(
                              k in descriptor.get_object()
                              for k in ("/FontFile", "/FontFile2", "/FontFile3"))})
    return fonts


@pytest.fixture
def pemda(app: Any) -> dict[str, Any]:
    factories.import_sample_course("komunikasi-efektif")
    root = factories.make_org_unit("Pemerintah Kabupaten Sukamaju")
    opd = factories.make_org_unit("Dinas Kominfo", root)
    holder = factories.make_user(name="Siti Rahmawati, S.Kom.")
    import datetime as dt

    from lms.people import service as people

    people.assign_position(holder, factories.make_position(opd), dt.date(2024, 1, 1))
    get_session().commit()
    return {"root": root, "holder": holder, "completion": _complete(holder)}


def test_the_certificate_names_issuer_and_signatory_and_embeds_its_fonts(
        client, login_as, users, pemda) -> None:
    login_as("admin")
    page = client.get("/admin/certificates/").get_data(as_text=True)
    assert "Pemerintah Kabupaten Sukamaju" in page  # the one Pemda gets the form
    key = str(pemda["root"].id)
    response = client.post(f"/admin/certificates/{key}", data={
        "issuer_name": "Pemerintah Kabupaten Sukamaju",
        "agency_name": "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
        "signatory_name": "Dr. Hj. Ratna Dewi, M.Si.", "signatory_nip": "197503122000032001",
        "signatory_title": "Kepala BKPSDM", "place": "Sukamaju"})
    assert response.status_code == 302, response.get_data(as_text=True)
    number = pemda["completion"].certificate_number
    login_as("admin")
    pdf = client.get(f"/courses/certificates/{number}.pdf").data
    text = _text(pdf)
    for expected in ("PEMERINTAH KABUPATEN SUKAMAJU", "Badan Kepegawaian", "Kepala BKPSDM",
                     "Dr. Hj. Ratna Dewi, M.Si.", "NIP 197503122000032001", "Sukamaju,",
                     "Siti Rahmawati, S.Kom.", number, f"/verify/{number}"):
        assert expected in text, expected
    assert "Diterbitkan oleh Lentera," not in text
    fonts = _fonts(pdf)
    assert fonts and all(f["embedded"] for f in fonts), fonts
    assert not any("Helvetica" in f["name"] for f in fonts)
    # The QR code is there (an image) and the verification page names the issuer too.
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages[0].images) >= 1
    verify = client.get(f"/verify/{number}").get_data(as_text=True)
    assert 'id="verify-issuer">Pemerintah Kabupaten Sukamaju' in verify


def test_settings_fill_in_what_the_page_leaves_empty(make_app, pemda) -> None:
    from lms.courses.certificates import certificate_pdf, issuer_for

    app = make_app(CERTIFICATE_SIGNATORY_NAME="Ir. Bambang Setiadi",
                   CERTIFICATE_SIGNATORY_TITLE="Kepala Badan", CERTIFICATE_PLACE="Sukamaju")
    with app.app_context():
        holder = get_session().merge(pemda["holder"])
        issuer = issuer_for(holder)
        assert issuer.issuer_name == "Pemerintah Kabupaten Sukamaju"  # the Pemda's own name
        assert issuer.signatory_name == "Ir. Bambang Setiadi"
        completion = get_session().merge(pemda["completion"])
        text = _text(certificate_pdf(completion, holder))
        assert "Ir. Bambang Setiadi" in text and "Kepala Badan" in text
        get_session().close()


def _png(width: int = 40, height: int = 20) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (11, 93, 107)).save(out, format="PNG")
    return out.getvalue()


def test_a_logo_is_checked_reencoded_and_printed(client, login_as, users, pemda) -> None:
    login_as("admin")
    key = str(pemda["root"].id)
    response = client.post(f"/admin/certificates/{key}", data={
        "issuer_name": "Pemerintah Kabupaten Sukamaju",
        "logo": (io.BytesIO(_png()), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    row = get_session().scalar(sa.select(CertificateIssuer))
    assert row.logo and row.logo.endswith(".png")
    pdf = client.get(f"/admin/certificates/{key}/sample.pdf").data
    assert pdf.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) >= 2  # logo and QR code
    client.post(f"/admin/certificates/{key}", data={"remove_logo": "1"})
    get_session().expire_all()
    assert get_session().scalar(sa.select(CertificateIssuer)).logo is None


@pytest.mark.parametrize("data, field", [
    ({"issuer_name": "Pemda\x00"}, "issuer_name"),
    ({"issuer_name": "x" * 201}, "issuer_name"),
    ({"signatory_nip": "12345"}, "signatory_nip"),
    ({"signatory_nip": "1975031220000320０1"}, "signatory_nip"),
    ({"place": "y" * 10_000}, "place"),
])
def test_hostile_issuer_fields_are_refused(client, login_as, users, pemda, data, field) -> None:
    login_as("admin")
    response = client.post(f"/admin/certificates/{pemda['root'].id}", data=data)
    assert response.status_code == 400
    assert get_session().scalar(sa.select(sa.func.count()).select_from(CertificateIssuer)) == 0


@pytest.mark.parametrize("upload", [
    b"<svg xmlns='http://www.w3.org/2000/svg'/>",      # not PNG/JPEG
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,              # a broken PNG
    b"x" * (1024 * 1024 + 10),                          # too large
    "big",                                              # too many pixels
])
def test_hostile_logos_are_refused(client, login_as, users, pemda, upload) -> None:
    if upload == "big":
        upload = _png(2500, 10)
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    login_as("admin")
    # Encoded here, in memory: the test client would spool a body this large to a
    # temporary file it never closes.
    boundary, body = encode_multipart(MultiDict({"logo": FileStorage(
        io.BytesIO(upload), filename="logo.png", content_type="image/png")}))
    response = client.post(f"/admin/certificates/{pemda['root'].id}", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert get_session().scalar(sa.select(sa.func.count()).select_from(CertificateIssuer)) == 0


def test_only_admins_change_the_issuer(client, login_as, users, pemda) -> None:
    login_as("hr")
    assert client.get("/admin/certificates/").status_code == 403
    assert client.post(f"/admin/certificates/{pemda['root'].id}",
                       data={"issuer_name": "x"}).status_code == 403
    login_as("admin")
    assert client.post("/admin/certificates/999999", data={}).status_code == 404
    opd = factories.make_org_unit("Bukan Pemda", pemda["root"])
    get_session().commit()
    assert client.post(f"/admin/certificates/{opd.id}", data={}).status_code == 404


def test_the_transcript_embeds_its_fonts_too(client, login_as, users, pemda) -> None:
    login_as("admin")
    pdf = client.get(f"/courses/transcript/{pemda['holder'].nip}.pdf").data
    fonts = _fonts(pdf)
    assert fonts and all(f["embedded"] for f in fonts), fonts
