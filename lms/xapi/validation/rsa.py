"""RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) and the public key of an X.509
certificate, enough to check JWS signatures of signed statements without a crypto
library (the arithmetic is Python's ``pow``; only public keys are involved)."""

from __future__ import annotations

#: DER DigestInfo prefixes (RFC 8017 §9.2, note 1).
DIGEST_INFO = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
RSA_OID = bytes.fromhex("2a864886f70d010101")


def _read(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``pos``."""
    tag = der[pos]
    length = der[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(der[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(der):
        raise ValueError("truncated DER")
    return tag, pos, end


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    items = []
    pos = start
    while pos < end:
        tag, cstart, cend = _read(der, pos)
        items.append((tag, cstart, cend))
        pos = cend
    return items


def public_key_from_certificate(der: bytes) -> tuple[int, int]:
    """(modulus, exponent) of the RSA key in a DER X.509 certificate."""
    _tag, start, end = _read(der, 0)
    tbs = _children(der, start, end)[0]
    fields = _children(der, tbs[1], tbs[2])
    for tag, fstart, fend in fields:
        if tag != 0x30:
            continue
        parts = _children(der, fstart, fend)
        if len(parts) == 2 and parts[0][0] == 0x30 and parts[1][0] == 0x03:
            algorithm = _children(der, parts[0][1], parts[0][2])
            if algorithm and der[algorithm[0][1]:algorithm[0][2]] == RSA_OID:
                bits = der[parts[1][1] + 1:parts[1][2]]  # skip the unused-bits byte
                _t, kstart, kend = _read(bits, 0)
                n_item, e_item = _children(bits, kstart, kend)[:2]
                n = int.from_bytes(bits[n_item[1]:n_item[2]], "big")
                e = int.from_bytes(bits[e_item[1]:e_item[2]], "big")
                return n, e
    raise ValueError("no RSA public key in the certificate")


def verify_pkcs1_v15(n: int, e: int, signature: bytes, digest: bytes, hash_name: str) -> bool:
    """Whether ``signature`` is a valid PKCS#1 v1.5 signature of ``digest``."""
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    message = pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big")
    suffix = DIGEST_INFO[hash_name] + digest
    expected = b"\x00\x01" + b"\xff" * (size - len(suffix) - 3) + b"\x00" + suffix
    return message == expected
