"""Signed statements (JWS with an x5c certificate): verified with ``cryptography``, with the
work one signature may cost bounded before any arithmetic."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from functools import cache
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from lms.xapi.multipart import build_multipart
from tests.xapi.helpers import make_statement

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@cache
def _key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _certificate(public_key: Any, signer: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lentera test signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(public_key).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(signer, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _with_modulus_zero(der: bytes) -> bytes:
    """``der`` with its subject public key replaced by an RSA key whose modulus is 0 (what a
    hand-written parser took at face value). Built from DER pieces: no library makes one."""
    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    zero_key = _der(0x30, _der(0x02, b"\x00") + _der(0x02, b"\x01\x00\x01"))
    algorithm = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    bad_spki = _der(0x30, algorithm + _der(0x03, b"\x00" + zero_key))
    tbs = cert.tbs_certificate_bytes.replace(spki, bad_spki)
    tbs = _der(0x30, _read_content(tbs))
    rest = der[len(_header(der)) + len(cert.tbs_certificate_bytes):]
    return _der(0x30, tbs + rest)


def _header(der: bytes) -> bytes:
    return der[:2 + (der[1] & 0x7F if der[1] & 0x80 else 0)]


def _read_content(der: bytes) -> bytes:
    return der[len(_header(der)):]


def _jws(statement: dict[str, Any], key: rsa.RSAPrivateKey, certificate: bytes | None,
         alg: str = "RS256") -> bytes:
    header: dict[str, Any] = {"alg": alg}
    if certificate is not None:
        header["x5c"] = [base64.b64encode(certificate).decode()]
    signing_input = f"{_b64url(json.dumps(header).encode())}." \
                    f"{_b64url(json.dumps(statement).encode())}"
    hash_algorithm = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384()}[alg]
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hash_algorithm)
    return f"{signing_input}.{_b64url(signature)}".encode()


def _post_signed(xapi: Any, statement: dict[str, Any], jws: bytes) -> Any:
    sha2 = hashlib.sha256(jws).hexdigest()
    sent = dict(statement, attachments=[{
        "usageType": SIGNATURE, "display": {"en-US": "signature"},
        "contentType": "application/octet-stream", "length": len(jws), "sha2": sha2}])
    body, content_type = build_multipart(json.dumps(sent).encode(),
                                         [(sha2, "application/octet-stream", jws)])
    return xapi.post("statements", data=body, content_type=content_type)


def test_a_statement_signed_with_an_x5c_certificate_is_stored(xapi):
    key = _key(2048)
    statement = make_statement()
    jws = _jws(statement, key, _certificate(key.public_key(), key))
    response = _post_signed(xapi, statement, jws)
    assert response.status_code == 200, response.json


def test_a_signature_that_does_not_verify_is_400(xapi):
    key, other = _key(2048), _key(3072)
    statement = make_statement()
    jws = _jws(statement, other, _certificate(key.public_key(), key))
    response = _post_signed(xapi, statement, jws)
    assert response.status_code == 400
    assert "does not verify" in response.json["message"]


@pytest.mark.parametrize("bits", [1024, 20000])
def test_a_key_size_outside_the_bounds_is_refused_before_any_arithmetic(xapi, bits):
    """A modulus of 20,000 bits made one request cost minutes of CPU with hand-written
    RSA; it is now refused for its size alone."""
    signer = _key(2048)
    if bits == 1024:
        public = _key(1024).public_key()
    else:
        n = (1 << (bits - 1)) | 1 | (1 << 5)
        public = rsa.RSAPublicNumbers(65537, n).public_key()
    statement = make_statement()
    jws = _jws(statement, signer, _certificate(public, signer))
    response = _post_signed(xapi, statement, jws)
    assert response.status_code == 400
    assert f"has {bits} bits" in response.json["message"]


def test_a_certificate_with_modulus_zero_is_400(xapi):
    key = _key(2048)
    statement = make_statement()
    certificate = _with_modulus_zero(_certificate(key.public_key(), key))
    jws = _jws(statement, key, certificate)
    response = _post_signed(xapi, statement, jws)
    assert response.status_code == 400
    assert "x5c" in response.json["message"]


@pytest.mark.parametrize("x5c", ["not base64!", ["%%%"], [123], {"a": 1}, ["A" * 40000]])
def test_an_unreadable_x5c_is_400(xapi, x5c):
    key = _key(2048)
    statement = make_statement()
    header = _b64url(json.dumps({"alg": "RS256", "x5c": x5c}).encode())
    payload = _b64url(json.dumps(statement).encode())
    jws = f"{header}.{payload}.{_b64url(b'x' * 256)}".encode()
    response = _post_signed(xapi, statement, jws)
    assert response.status_code == 400, response.json
    del key
