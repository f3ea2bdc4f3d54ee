"""Lentera's LTI private keys, encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The keys live in the database, not in the instance folder, because several app servers
must sign with the same key (a deep-linking response, a grade post) and the database is
what they share. They are encrypted with a key that is not in the database:

- ``LMS_LTI_KEY``: one key, or several separated by commas (the first encrypts, every one
  decrypts: put the new key first to rotate, then ``lms lti keys reencrypt``). A Fernet key
  or any long random string (stretched with HKDF-SHA256);
- otherwise a key derived from the app's ``SECRET_KEY`` (HKDF-SHA256 with a label of its
  own, so the signing secret itself never encrypts anything). The derived key always
  decrypts too, so setting ``LMS_LTI_KEY`` later keeps existing keys readable.

A stored value is ``fernet:<token>``; a database dump without the key reveals no key.
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
_LABEL = b"lentera lti private keys v1"


class SecretError(RuntimeError):
    """A stored private key cannot be decrypted with the configured keys."""


def _derive(material: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(
        material.encode("utf-8"))
    return base64.urlsafe_b64encode(key)


def _as_key(value: str) -> bytes:
    value = value.strip()
    try:
        if len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32:
            return value.encode("ascii")
    except (binascii.Error, ValueError, UnicodeEncodeError):
        pass
    return _derive(value)


def _fernet(app: Flask | None = None) -> MultiFernet:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    configured = str(app.config.get("LTI_KEY") or "")
    secret = str(app.config.get("SECRET_KEY") or "")
    cache_key = (configured, secret)
    cached: Any = app.extensions.get("lms.lti.fernet")
    if cached is not None and cached[0] == cache_key:
        return cached[1]  # type: ignore[no-any-return]
    keys = [_as_key(k) for k in configured.split(",") if k.strip()]
    if secret:
        keys.append(_derive(secret))
    if not keys:
        raise SecretError("no key to encrypt LTI private keys: set LMS_SECRET_KEY or LMS_LTI_KEY")
    fernet = MultiFernet([Fernet(k) for k in keys])
    app.extensions["lms.lti.fernet"] = (cache_key, fernet)
    return fernet


def encrypt(plain: bytes, app: Flask | None = None) -> str:
    """The stored form of ``plain`` (a PEM private key)."""
    return PREFIX + _fernet(app).encrypt(plain).decode("ascii")


def decrypt(stored: str, app: Flask | None = None) -> bytes:
    """The PEM private key from its stored form."""
    if not stored.startswith(PREFIX):
        raise SecretError("an LTI private key is stored unencrypted")
    try:
        return _fernet(app).decrypt(stored[len(PREFIX):].encode("ascii"))
    except InvalidToken:
        raise SecretError("an LTI private key cannot be decrypted with the configured keys "
                          "(LMS_LTI_KEY or LMS_SECRET_KEY changed?)") from None


def rotate(stored: str, app: Flask | None = None) -> str:
    """``stored`` encrypted again with the first configured key."""
    try:
        token = _fernet(app).rotate(stored[len(PREFIX):].encode("ascii"))
    except InvalidToken:
        raise SecretError("cannot decrypt an LTI private key with the configured keys") \
            from None
    return PREFIX + token.decode("ascii")
