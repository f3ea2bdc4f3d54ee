"""Open Badges 3.0: issuing, the independent verifier, pages and access."""

from __future__ import annotations

import json
from typing import Any

import pytest

# The independent verifier comes with the test extra (openbadgeslib, which brings
# cryptography, the one library the platform itself signs with).
pytest.importorskip("openbadgeslib", reason="pip install -e .[test] (openbadgeslib)")
from openbadgeslib.ob3.verifier import OB3VerificationError, OB3Verifier  # noqa: E402

from lms.credentials import badges  # noqa: E402
from lms.credentials.keys import b64url, b64url_decode, issuer_did, key_path

NUMBER = "LEN-2026-000123"


def _download(client: Any):
    """The fetcher the independent verifier uses for did:web and the status list: it maps
    their https addresses onto this app, so the check runs offline."""

    def fetch(url: str, *args: Any, **kwargs: Any) -> bytes:
        assert url.startswith("https://lentera.test/credentials/"), url
        response = client.get(url.removeprefix("https://lentera.test"))
        assert response.status_code == 200, url
        return response.data

    return fetch


def test_badge_verifies_with_an_independent_open_badges_library(client, login_as, certificate):
    login_as("learner")
    token = client.get(f"/credentials/badges/{NUMBER}.jwt").get_data(as_text=True)
    did = issuer_did()
    assert did == "did:web:lentera.test:credentials"

    verifier = OB3Verifier.for_issuer_did(did, download=_download(client))
    credential = verifier.verify(token)

    assert credential.issuer.id == did
    assert credential.issuer.name == "Pemerintah Kabupaten Sukamaju"
    assert credential.achievement.name == "Komunikasi Publik"
    assert credential.achievement.achievement_type == "CertificateOfCompletion"
    assert credential.credits_earned == 4
    targets = {(a.target_code, a.target_framework) for a in credential.achievement.alignments}
    assert ("M.03", "Kompetensi Manajerial dan Sosial Kultural ASN") in targets or any(
        code == "M.03" for code, _fw in targets
    )
    assert any(
        a.target_url == "http://lentera.test/competency/c/M.03"
        for a in credential.achievement.alignments
    )
    # The learner is identified by hashed e-mail and NIP, never in clear
    kinds = {i.identity_type: i for i in credential.identifiers}
    assert kinds["emailAddress"].hashed and kinds["ext:NIP"].hashed
    assert "learner@test.lentera.local" not in token
    raw = credential.raw
    assert badges.identity_matches(
        raw["credentialSubject"]["identifier"][0], "learner@test.lentera.local"
    )


def test_independent_verifier_rejects_a_changed_badge(client, login_as, certificate):
    login_as("learner")
    token = client.get(f"/credentials/badges/{NUMBER}.jwt").get_data(as_text=True)
    header, payload, signature = token.split(".")
    data = json.loads(b64url_decode(payload))
    data["credentialSubject"]["creditsEarned"] = 40
    forged = f"{header}.{b64url(json.dumps(data).encode())}.{signature}"
    verifier = OB3Verifier.for_issuer_did(issuer_did(), download=_download(client))
    with pytest.raises(OB3VerificationError):
        verifier.verify(forged)
    # and with the public key from the JWK set, no DID at all
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    jwk = client.get("/credentials/jwks.json").get_json()["keys"][0]
    pem = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert OB3Verifier(pem).verify(token).achievement.name == "Komunikasi Publik"
    with pytest.raises(OB3VerificationError):
        OB3Verifier(pem).verify(forged)


def test_credential_shape(client, login_as, certificate):
    login_as("learner")
    response = client.get(f"/credentials/badges/{NUMBER}.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(f'badge-{NUMBER}.json"')
    vc = response.get_json()
    assert vc["@context"][:2] == [badges.VC_CONTEXT, badges.OB_CONTEXT]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == f"http://lentera.test/credentials/badges/{NUMBER}"
    assert vc["validFrom"] == "2026-03-02T04:05:06Z"
    ach = vc["credentialSubject"]["achievement"]
    assert ach["criteria"]["id"] == "http://lentera.test/courses/komunikasi-publik"
    codes = [a["targetCode"] for a in ach["alignment"]]
    assert codes == ["M.03", "M.03.2", "M.05", "M.05.1"]
    assert all(a["targetType"] == "CFItem" for a in ach["alignment"])
    level_url = ach["alignment"][1]["targetUrl"]
    assert level_url.startswith("http://lentera.test/ims/case/v1p0/CFItems/")
    # the CASE item the alignment names resolves
    item = client.get(level_url.removeprefix("http://lentera.test")).get_json()
    assert item["humanCodingScheme"] == "M.03.2"
    results = vc["credentialSubject"]["result"]
    assert results[0]["status"] == "Completed"
    assert results[1]["achievedLevel"].endswith("#competency-M.03-level-2")
    # same certificate, same bytes (deterministic signature)
    first = client.get(f"/credentials/badges/{NUMBER}.jwt").data
    assert first == client.get(f"/credentials/badges/{NUMBER}.jwt").data


def test_key_lives_in_the_instance_folder_and_is_published(app, client, certificate):
    path = key_path()
    assert path.exists() and str(path).startswith(app.instance_path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    doc = client.get("/credentials/did.json")
    assert doc.status_code == 200 and doc.mimetype == "application/did+json"
    did = doc.get_json()
    assert did["id"] == "did:web:lentera.test:credentials"
    [method] = did["verificationMethod"]
    assert method["publicKeyJwk"]["crv"] == "Ed25519" and "d" not in method["publicKeyJwk"]
    assert did["assertionMethod"] == [method["id"]]
    jwks = client.get("/credentials/jwks.json").get_json()
    assert jwks["keys"][0]["kid"] == method["id"]
    issuer = client.get("/credentials/issuer").get_json()
    assert issuer["id"] == did["id"] and issuer["type"] == ["Profile"]


def test_downloads_belong_to_the_holder(client, login_as, users, certificate):
    assert client.get(f"/credentials/badges/{NUMBER}.jwt").status_code == 302  # sign in
    login_as("trainer")
    assert client.get(f"/credentials/badges/{NUMBER}.jwt").status_code == 403
    assert client.get(f"/credentials/badges/{NUMBER}.json").status_code == 403
    assert client.get("/credentials/badges/NOPE.jwt").status_code == 404
    # HR users open them within their HR scope (lms.reports.guard); admins always
    client.post("/logout")
    login_as("admin")
    assert client.get(f"/credentials/badges/{NUMBER}.jwt").status_code == 200


def test_my_credentials_page(client, login_as, certificate):
    login_as("learner")
    page = client.get("/credentials/").get_data(as_text=True)
    assert "Kredensial Saya" in page and "Komunikasi Publik" in page
    assert f"/credentials/badges/{NUMBER}.jwt" in page
    assert f"http://lentera.test/credentials/badges/{NUMBER}" in page  # share link
    client.post("/logout")
    login_as("trainer")
    assert "Komunikasi Publik" not in client.get("/credentials/").get_data(as_text=True)


def test_public_badge_page_and_checking_a_file(client, login_as, certificate):
    login_as("learner")
    token = client.get(f"/credentials/badges/{NUMBER}.jwt").get_data(as_text=True)
    client.post("/logout")
    page = client.get(f"/credentials/badges/{NUMBER}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Badge ini sah" in text and "Pemerintah Kabupaten Sukamaju" in text
    assert "M.03" in text and certificate.certificate_number in text
    assert client.get("/credentials/badges/LEN-0000").status_code == 404
    ok = client.post("/credentials/verify", data={"token": token}).get_data(as_text=True)
    assert "Badge ini asli" in ok
    bad = client.post("/credentials/verify", data={"token": token[:-4] + "AAAA"})
    assert "tidak sah" in bad.get_data(as_text=True)
    junk = client.post("/credentials/verify", data={"token": "not a token"})
    assert junk.status_code == 200 and "tidak sah" in junk.get_data(as_text=True)


def test_withdrawn_certificate_has_no_badge(client, login_as, certificate, db):
    login_as("learner")
    token = client.get(f"/credentials/badges/{NUMBER}.jwt").get_data(as_text=True)
    db.delete(db.get(type(certificate), certificate.id))
    db.commit()
    assert client.get(f"/credentials/badges/{NUMBER}").status_code == 404
    text = client.post("/credentials/verify", data={"token": token}).get_data(as_text=True)
    assert "ditarik" in text


def test_snippet_for_the_certificate_verification_page(app, certificate):
    from flask import render_template

    with app.test_request_context("/verify/" + NUMBER):
        html = render_template("credentials/_verify_link.html", completion=certificate)
    assert f'href="/credentials/badges/{NUMBER}"' in html and "Open Badges 3.0" in html


def test_withdrawn_badge_is_revoked_in_the_status_list(client, login_as, certificate, db):
    login_as("learner")
    token = client.get(f"/credentials/badges/{NUMBER}.jwt").get_data(as_text=True)
    entry = json.loads(b64url_decode(token.split(".")[1]))["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert entry["statusListCredential"] == "http://lentera.test/credentials/status/1"
    # the independent library fetches the list over https: serve it from this app
    fetch = _download(client)

    def download(url: str, *args: Any, **kwargs: Any) -> bytes:
        return fetch(url.replace("http://lentera.test/", "https://lentera.test/"))

    verifier = OB3Verifier.for_issuer_did(issuer_did(), download=download)
    assert verifier.verify(token, check_status=True, download=download)
    # the same index every time
    again = client.get(f"/credentials/badges/{NUMBER}.jwt").get_data(as_text=True)
    assert json.loads(b64url_decode(again.split(".")[1]))["credentialStatus"] == entry

    db.delete(db.get(type(certificate), certificate.id))  # withdrawn
    db.commit()
    with pytest.raises(OB3VerificationError, match="revocation"):
        verifier.verify(token, check_status=True, download=download)
    assert client.get("/credentials/status/0").status_code == 404
