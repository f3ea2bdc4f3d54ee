"""Signed statements (xAPI 1.0.3 Part Two §2.6, 2.0 §4.3 "Signed Statements").

A signed statement carries a JWS (compact serialization, RS256/RS384/RS512) as an
attachment with usageType ``http://adlnet.gov/expapi/attachments/signature`` and content
type ``application/octet-stream``. The LRS rejects (400) a JWS that is malformed, uses
another algorithm, whose payload is not logically equivalent to the statement, or whose
signature does not verify against the X.509 certificate in its ``x5c`` header.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import hashlib
import json
import re
from typing import Any

from lms.errors import ValidationError
from lms.xapi.validation import rsa
from lms.xapi.validation.common import parse_timestamp

ALGORITHMS = {"RS256": "sha256", "RS384": "sha384", "RS512": "sha512"}
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
    except (ValueError, UnicodeDecodeError, binascii.Error):
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
        try:
            der = base64.b64decode(chain[0])
            n, e = rsa.public_key_from_certificate(der)
        except (ValueError, IndexError, TypeError, binascii.Error):
            raise ValidationError(f"{path}: the x5c certificate of the JWS cannot be read",
                                  field=path) from None
        signing_input = f"{header_b64}.{payload_b64}".encode()
        digest = hashlib.new(ALGORITHMS[header["alg"]], signing_input).digest()
        if not rsa.verify_pkcs1_v15(n, e, signature, digest, ALGORITHMS[header["alg"]]):
            raise ValidationError(f"{path}: the JWS signature does not verify against its "
                                  "x5c certificate", field=path)
