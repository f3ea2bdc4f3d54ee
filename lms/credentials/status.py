"""Revocation of badges: W3C Bitstring Status List v1.0.

The first time a certificate's badge is issued it gets an index (a ``credential_status``
row), and its credential carries a ``BitstringStatusListEntry`` pointing at
``/credentials/status/<n>``. That list is a ``BitstringStatusListCredential`` (VC-JWT
signed by the platform key, like the badges) whose bit for the index is set when no
completion holds the certificate number any more: the completion was withdrawn (its
``completed`` statement voided). The list is computed on each request and valid for a day.
"""

from __future__ import annotations

import datetime as dt
import gzip
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.courses.models import Completion
from lms.credentials.keys import b64url, issuer_did
from lms.credentials.models import CredentialStatus
from lms.db import get_session

#: Entries per list: 131,072 bits (16 KB), the minimum the specification asks for privacy.
LIST_SIZE = 131_072
PURPOSE = "revocation"


def _base() -> str:
    from lms.credentials.badges import base_url

    return base_url()


def list_url(number: int) -> str:
    return f"{_base()}/credentials/status/{number}"


def status_index(certificate_number: str) -> int:
    """The index of a certificate's badge, given the first time it is asked for."""
    session = get_session()
    query = sa.select(CredentialStatus.id).where(
        CredentialStatus.certificate_number == certificate_number
    )
    found = session.scalar(query)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = CredentialStatus(certificate_number=certificate_number)
            session.add(row)
        return row.id
    except IntegrityError:  # another request gave it one at the same moment
        found = session.scalar(query)
        assert found is not None
        return found


def status_entry(certificate_number: str) -> dict[str, Any]:
    index = status_index(certificate_number)
    number, bit = divmod(index, LIST_SIZE)
    url = list_url(number + 1)
    return {
        "id": f"{url}#{bit}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": str(bit),
        "statusListCredential": url,
    }


def revoked_bits(list_number: int) -> list[int]:
    """Indices within list ``list_number`` whose certificate no longer exists."""
    low = (list_number - 1) * LIST_SIZE
    rows = get_session().scalars(
        sa.select(CredentialStatus.id)
        .outerjoin(Completion, Completion.certificate_number == CredentialStatus.certificate_number)
        .where(
            CredentialStatus.id >= low,
            CredentialStatus.id < low + LIST_SIZE,
            Completion.id.is_(None),
        )
    )
    return [i - low for i in rows]


def encoded_list(bits: list[int]) -> str:
    """Multibase base64url (``u`` prefix) of the GZIP-compressed bitstring, MSB first."""
    raw = bytearray(LIST_SIZE // 8)
    for bit in bits:
        raw[bit // 8] |= 0x80 >> (bit % 8)
    return "u" + b64url(gzip.compress(bytes(raw), mtime=0))


def status_list_credential(list_number: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    url = list_url(list_number)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(),
        "validFrom": now.isoformat().replace("+00:00", "Z"),
        "validUntil": (now + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encoded_list(revoked_bits(list_number)),
        },
    }
