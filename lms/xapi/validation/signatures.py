"""Signed statements (xAPI 1.0.3 Part Two §2.6, 2.0 §4.3 "Signed Statements").

A signed statement carries a JWS (compact serialization, RS256/RS384/RS512) as an
attachment with usageType ``http://adlnet.gov/expapi/attachments/signature`` and content
type ``application/octet-stream``. The LRS rejects (400) a JWS that is malformed, uses
another algorithm, whose payload is not logically equivalent to the statement, or whose
signature does not verify against the X.509 certificate in its ``x5c`` header.

The certificate is read and the signature checked by ``cryptography`` (OpenSSL). The work
one signature may cost is bounded before any arithmetic: the certificate at most
:data:`MAX_CERTIFICATE_BYTES`, an RSA key of :data:`MIN_KEY_BITS` to :data:`MAX_KEY_BITS`
bits and a public exponent below 2**32. (A key size taken from the request made one 21 KB
request cost minutes of CPU.)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import json
import re
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lms.errors import ValidationError
from lms.xapi.validation.common import parse_timestamp

ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}
#: Bounds of the RSA keys this LRS verifies with (bits of the modulus).
MIN_KEY_BITS = 2048
MAX_KEY_BITS = 4096
#: The largest public exponent accepted (65537 is what every signer uses).
MAX_EXPONENT = 2**32
#: The largest x5c certificate read (DER bytes).
MAX_CERTIFICATE_BYTES = 16 * 1024
DURATION_SECONDS_RE = re.compile(r"(\d+)(?:[.,](\d+))?S$")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _normalise(statement: dict[str, Any]) -> dict[str, Any]:
    """Drop what the LRS or the signing process changes; align equivalent forms."""
    st = copy.deepcopy(statement)
    for key in ("id", "authority", "stored", "version", "attachments", "timestamp"):
        st.pop(key, None)
    for part in (st, st.get("object") if isinstance(st.get("object"), dict) else None):
        if not part:
            continue
        activities = (part.get("context") or {}).get("contextActivities") or {}
        for key, value in list(activities.items()):
            if isinstance(value, dict):
                activities[key] = [value]
        duration = (part.get("result") or {}).get("duration")
        if isinstance(duration, str):
            # 2.0 §4.2.7: durations compare to 0.01 s precision.
            match = DURATION_SECONDS_RE.search(duration)
            if match and match.group(2):
                part["result"]["duration"] = (duration[:match.start()] + match.group(1)
                                              + "." + match.group(2)[:2].ljust(2, "0") + "S")
        if part is not st and isinstance(part.get("timestamp"), str):
            with contextlib.suppress(ValidationError):
                part["timestamp"] = parse_timestamp(part["timestamp"], "timestamp").isoformat()
    return st


def check_signature(statement: dict[str, Any], jws: bytes, path: str) -> None:
    """Check the JWS of a signed statement; raise ValidationError saying what is wrong."""
    try:
        text = jws.decode("ascii").strip()
        header_b64, payload_b64, signature_b64 = text.split(".")
        header = json.loads(_b64url_decode(header_b64))
        payload = json.loads(_b64url_decode(payload_b64))
        signature = _b64url_decode(signature_b64)
    except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError):
        raise ValidationError(f"{path}: the signature is not a JWS in compact serialization "
                              "(header.payload.signature, base64url)", field=path) from None
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        raise ValidationError(f"{path}: the JWS algorithm must be RS256, RS384 or RS512",
                              field=path)
    if not isinstance(payload, dict):
        raise ValidationError(f"{path}: the JWS payload must be the signed statement",
                              field=path)
    if "id" in payload and "id" in statement and \
            str(payload["id"]).lower() != str(statement["id"]).lower():
        raise ValidationError(f"{path}: the JWS payload has another statement id",
                              field=path)
    received = _normalise(statement)
    signed = _normalise(payload)
    if received != signed:
        raise ValidationError(f"{path}: the JWS payload is not the same statement as the "
                              "one sent", field=path)
    chain = header.get("x5c")
    if chain:
        key = _certificate_key(chain, path)
        signing_input = f"{header_b64}.{payload_b64}".encode()
        try:
            key.verify(signature, signing_input, padding.PKCS1v15(),
                       ALGORITHMS[header["alg"]]())
        except InvalidSignature:
            raise ValidationError(f"{path}: the JWS signature does not verify against its "
                                  "x5c certificate", field=path) from None


def _certificate_key(chain: Any, path: str) -> rsa.RSAPublicKey:
    """The RSA public key of the first certificate of an ``x5c`` chain, within bounds."""
    unreadable = ValidationError(f"{path}: the x5c certificate of the JWS cannot be read",
                                 field=path)
    if not isinstance(chain, list) or not isinstance(chain[0], str) \
            or len(chain[0]) > MAX_CERTIFICATE_BYTES * 4 // 3 + 4:
        raise unreadable
    try:
        der = base64.b64decode(chain[0], validate=True)
        key = x509.load_der_x509_certificate(der).public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error):
        raise unreadable from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValidationError(f"{path}: the x5c certificate must hold an RSA key (the JWS "
                              "algorithms of signed statements are RS256, RS384, RS512)",
                              field=path)
    if not MIN_KEY_BITS <= key.key_size <= MAX_KEY_BITS:
        raise ValidationError(f"{path}: the x5c certificate's RSA key has {key.key_size} "
                              f"bits; this LRS verifies keys of {MIN_KEY_BITS} to "
                              f"{MAX_KEY_BITS} bits", field=path)
    if key.public_numbers().e >= MAX_EXPONENT:
        raise ValidationError(f"{path}: the x5c certificate's RSA public exponent is too "
                              "large (use 65537)", field=path)
    return key
