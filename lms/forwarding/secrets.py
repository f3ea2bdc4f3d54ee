"""Passwords of external LRSs, encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Lentera must send these passwords (HTTP Basic), so it cannot hash them; it keeps them
encrypted with a key that is not in the database:

- ``LMS_FORWARDING_KEY``: one key, or several separated by commas (the first encrypts,
  every one decrypts: add the new key first to rotate, then ``lms forwarding
  reencrypt``). A key is a Fernet key (``python -c "from cryptography.fernet import
  Fernet; print(Fernet.generate_key().decode())"``) or any long random string (stretched
  with HKDF);
- otherwise a key derived from the app's ``SECRET_KEY`` (HKDF-SHA256 with its own label,
  so the signing key itself is never used to encrypt). The derived key always decrypts
  too, so setting ``LMS_FORWARDING_KEY`` later keeps old rows readable.

A stored value is ``fernet:<token>``. A database dump without the key reveals no password.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

PREFIX = "fernet:"
_LABEL = b"lentera forwarding passwords v1"


class SecretError(RuntimeError):
    """A stored password cannot be decrypted with the configured keys."""


def _derive(material: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(
        material.encode("utf-8"))
    return base64.urlsafe_b64encode(key)


def _as_key(value: str) -> bytes:
    value = value.strip()
    try:
        if len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32:
            return value.encode("ascii")  # a Fernet key as generated
    except (binascii.Error, ValueError, UnicodeEncodeError):
        pass
    return _derive(value)


def _fernet(app: Flask | None = None) -> MultiFernet:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    configured = str(app.config.get("FORWARDING_KEY") or "")
    secret = str(app.config.get("SECRET_KEY") or "")
    cache_key = (configured, secret)
    cached: Any = app.extensions.get("lms.forwarding.fernet")
    if cached is not None and cached[0] == cache_key:
        return cached[1]  # type: ignore[no-any-return]
    keys = [_as_key(k) for k in configured.split(",") if k.strip()]
    if secret:
        keys.append(_derive(secret))
    if not keys:
        raise SecretError("no key to encrypt forwarding passwords: set LMS_SECRET_KEY or "
                          "LMS_FORWARDING_KEY")
    fernet = MultiFernet([Fernet(k) for k in keys])
    app.extensions["lms.forwarding.fernet"] = (cache_key, fernet)
    return fernet


def encrypt(password: str, app: Flask | None = None) -> str:
    """The stored form of ``password`` (empty stays empty)."""
    if not password:
        return ""
    return PREFIX + _fernet(app).encrypt(password.encode("utf-8")).decode("ascii")


def decrypt(stored: str | None, app: Flask | None = None) -> str:
    """The password from its stored form."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise SecretError("a forwarding password is stored unencrypted; run the migrations")
    try:
        return _fernet(app).decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretError("the stored password cannot be decrypted with the configured keys "
                          "(LMS_FORWARDING_KEY or LMS_SECRET_KEY changed?); enter the "
                          "password again") from None


def rotate(stored: str, app: Flask | None = None) -> str:
    """``stored`` encrypted again with the first key (for key rotation)."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return encrypt(stored, app)
    try:
        token = _fernet(app).rotate(stored[len(PREFIX):].encode("ascii"))
    except InvalidToken:
        raise SecretError("cannot decrypt a stored password with the configured keys") \
            from None
    return PREFIX + token.decode("ascii")
