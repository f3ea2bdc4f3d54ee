"""multipart/mixed bodies of statement requests and responses (Part Three §1.5.2,
2.0 §4.1.2.3 "Attachments")."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from lms.errors import ValidationError


@dataclass
class Part:
    headers: dict[str, str]  # lower-cased names
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def boundary_of(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _sep, value = param.strip().partition("=")
        if name.strip().lower() == "boundary":
            return value.strip().strip('"')
    raise ValidationError("Content-Type: multipart/mixed needs a boundary parameter")


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """Split a multipart body into parts; raise ValidationError when it is malformed."""
    boundary = boundary_of(content_type).encode()
    delimiter = b"--" + boundary
    sections = body.split(delimiter)
    if len(sections) < 3:
        raise ValidationError("the multipart/mixed body has no parts between boundaries "
                              f"--{boundary.decode()}")
    parts: list[Part] = []
    closed = False
    for section in sections[1:]:
        if section.startswith(b"--"):
            closed = True
            break
        if section.startswith(b"\r\n"):
            section = section[2:]
        elif section.startswith(b"\n"):
            section = section[1:]
        if section.endswith(b"\r\n"):
            section = section[:-2]
        elif section.endswith(b"\n"):
            section = section[:-1]
        head, sep, content = section.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = section.partition(b"\n\n")
        if not sep:
            raise ValidationError("a part of the multipart/mixed body has no blank line "
                                  "between its headers and its content")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise ValidationError(f"bad header line in a multipart part: {line!r}")
            headers[name.strip().lower()] = value.strip()
        parts.append(Part(headers, content))
    if not closed:
        raise ValidationError("the multipart/mixed body does not end with the closing "
                              "boundary")
    return parts


HASHES = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


def sha2_matches(sha2: str, content: bytes) -> bool:
    hasher = HASHES.get(len(sha2))
    return hasher is not None and hasher(content).hexdigest() == sha2.lower()


def build_multipart(first_json: bytes, attachments: list[tuple[str, str, bytes]],
                    ) -> tuple[bytes, str]:
    """A multipart/mixed body: the JSON part, then (sha2, content type, content) parts."""
    boundary = secrets.token_hex(16)
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), first_json]
    for sha2, content_type, content in attachments:
        chunks.append(f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n"
                      f"Content-Transfer-Encoding: binary\r\n"
                      f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode())
        chunks.append(content)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"
