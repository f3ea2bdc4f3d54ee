"""The platform's signing key for credentials: Ed25519, kept in the instance folder.

The private key is generated on first use into ``<instance>/credentials/issuer-ed25519.pem``
(mode 0600; never in the repository) unless ``LMS_CREDENTIALS_KEY_FILE`` names another file.
Its public half is published as a JWK set and inside the issuer's DID document
(``did:web``), and its key id is the DID URL ``<did>#<thumbprint>``: a new key gets a new
id, so badges signed by a retired key can still name theirs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from flask import current_app

# cryptography is imported where it is used, so the rest of the app starts without it.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

_lock = threading.Lock()
_cache: dict[str, SigningKey] = {}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public: Ed25519PublicKey

    @property
    def public_bytes(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        canonical = json.dumps(
            {"crv": "Ed25519", "kty": "OKP", "x": b64url(self.public_bytes)},
            separators=(",", ":"),
            sort_keys=True,
        )
        return b64url(hashlib.sha256(canonical.encode()).digest())

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.public_bytes),
            "kid": key_id(self),
            "alg": "EdDSA",
            "use": "sig",
        }

    def public_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


def key_path() -> Path:
    configured = current_app.config.get("CREDENTIALS_KEY_FILE")
    if configured:
        return Path(configured)
    return Path(current_app.instance_path) / "credentials" / "issuer-ed25519.pem"


def signing_key() -> SigningKey:
    """The platform key, loaded once per process; generated when the file is missing."""
    path = key_path()
    cached = _cache.get(str(path))
    if cached is not None:
        return cached
    with _lock:
        if str(path) in _cache:
            return _cache[str(path)]
        if not path.exists():
            _generate(path)
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise RuntimeError(f"{path} does not hold an Ed25519 private key")
        key = SigningKey(private, private.public_key())
        _cache[str(path)] = key
        return key


def _generate(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Created exclusively with owner-only permissions: two workers starting at once
    # keep whichever key was written first.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def issuer_did() -> str:
    """``did:web`` of the platform: ``did:web:<host>[%3A<port>][:<path>]:credentials``,
    which resolves to ``<LMS_BASE_URL>/credentials/did.json``."""
    parts = urlsplit(current_app.config["BASE_URL"])
    host = quote(parts.netloc, safe="")
    path = [quote(p, safe="") for p in parts.path.strip("/").split("/") if p]
    return ":".join(["did:web", host, *path, "credentials"])


def key_id(key: SigningKey | None = None) -> str:
    return f"{issuer_did()}#{(key or signing_key()).thumbprint}"


def did_document() -> dict[str, object]:
    key = signing_key()
    did = issuer_did()
    kid = key_id(key)
    jwk = {k: v for k, v in key.public_jwk().items() if k in ("kty", "crv", "x")}
    return {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/jws-2020/v1",
        ],
        "id": did,
        "verificationMethod": [
            {"id": kid, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
        ],
        "assertionMethod": [kid],
        "authentication": [kid],
    }
