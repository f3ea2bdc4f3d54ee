"""Lentera's own key set: RSA keys (RS256) that sign what Lentera sends platforms.

Deep-linking responses and the client assertions of grade and roster requests are signed
with the *current* key: the newest one not retired. ``lms lti keys rotate`` (or the admin
page) adds a new key and retires the others; a retired key stays in the published set
(``/lti/jwks``) for ``LMS_LTI_KEY_GRACE_DAYS`` (default 7) so a platform that cached the
set, or a message signed just before the rotation, still verifies. ``lms lti keys purge``
deletes keys past their grace period (rotation does too).

Keys are generated with ``cryptography`` and handled as JWKs by ``joserfc``; the private
half is encrypted at rest (:mod:`lms.lti.secrets`).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import sqlalchemy as sa
from flask import current_app
from joserfc import jwt
from joserfc.jwk import RSAKey

from lms.db import get_session, utcnow
from lms.lti import secrets
from lms.lti.models import LtiKey

ALGORITHM = "RS256"
KEY_SIZE = 2048

_lock = threading.Lock()
#: Decrypted private keys by key id, per process (a key never changes once made).
_private: dict[str, RSAKey] = {}


def _grace() -> dt.timedelta:
    return dt.timedelta(days=float(current_app.config.get("LTI_KEY_GRACE_DAYS", 7)))


def create_key() -> LtiKey:
    """A new key pair in the caller's transaction (the caller commits)."""
    row = LtiKey(**_new_key_row())
    session = get_session()
    session.add(row)
    session.flush()
    return row


def _new_key_row() -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    jwk = RSAKey.import_key(pem)
    kid = jwk.thumbprint()
    public = dict(jwk.as_dict(private=False))
    public.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return {"kid": kid, "public_jwk": public, "private_token": secrets.encrypt(pem),
            "created_at": utcnow()}


_CURRENT = (sa.select(LtiKey).where(LtiKey.retired_at.is_(None))
            .order_by(LtiKey.created_at.desc(), LtiKey.id.desc()).limit(1))


def current_key() -> LtiKey:
    """The key that signs: the newest one not retired.

    The first key is made on first use in a transaction of its own, committed before it
    signs anything: a platform that fetches the key set while the caller's transaction is
    still open (a grade post waiting for its access token) must already find it there.
    """
    session = get_session()
    row = session.scalar(_CURRENT)
    if row is not None:
        return row
    from lms.db import get_engine

    made = _new_key_row()
    if session.new or session.dirty or session.deleted or session.info.get("lms.lti.wrote"):
        return create_key()  # the caller writes already: one transaction, its commit
    with get_engine().begin() as connection:
        connection.execute(sa.insert(LtiKey).values(**made))
    row = session.scalar(_CURRENT)
    assert row is not None
    return row


def published_keys(now: dt.datetime | None = None) -> list[LtiKey]:
    """Keys in the public set: the current ones and those retired within the grace period."""
    now = now or utcnow()
    return list(get_session().scalars(
        sa.select(LtiKey).where(sa.or_(LtiKey.retired_at.is_(None),
                                       LtiKey.retired_at > now - _grace()))
        .order_by(LtiKey.created_at.desc(), LtiKey.id.desc())))


def jwks() -> dict[str, Any]:
    """Lentera's public JWK set (RFC 7517), as ``/lti/jwks`` publishes it."""
    keys = published_keys()
    if not keys:
        keys = [current_key()]
    return {"keys": [dict(k.public_jwk) for k in keys]}


def rotate() -> LtiKey:
    """Make a new current key; the previous ones are retired (published for the grace
    period). Keys past their grace period are deleted."""
    now = utcnow()
    session = get_session()
    session.execute(sa.update(LtiKey).where(LtiKey.retired_at.is_(None))
                    .values(retired_at=now).execution_options(synchronize_session=False))
    session.expire_all()
    row = create_key()
    purge(now)
    return row


def purge(now: dt.datetime | None = None) -> int:
    """Delete retired keys whose grace period has passed; returns how many."""
    now = now or utcnow()
    result = get_session().execute(
        sa.delete(LtiKey).where(LtiKey.retired_at.is_not(None),
                                LtiKey.retired_at <= now - _grace())
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def reencrypt() -> int:
    """Encrypt every stored private key again with the first configured key."""
    count = 0
    for row in get_session().scalars(sa.select(LtiKey)):
        row.private_token = secrets.rotate(row.private_token)
        count += 1
    get_session().flush()
    return count


def _private_key(row: LtiKey) -> RSAKey:
    key = _private.get(row.kid)
    if key is None:
        with _lock:
            key = _private.get(row.kid)
            if key is None:
                key = RSAKey.import_key(secrets.decrypt(row.private_token))
                _private[row.kid] = key
    return key


def sign(claims: dict[str, Any]) -> str:
    """``claims`` as a JWT signed with the current key (RS256, ``kid`` in the header)."""
    row = current_key()
    return jwt.encode({"alg": ALGORITHM, "kid": row.kid, "typ": "JWT"}, claims,
                      _private_key(row), algorithms=[ALGORITHM])
