"""Client keys of the LRS (and of the JSON API), scopes, and launch credentials.

Clients authenticate with HTTP Basic: the key as user name, the secret as password. The
secret is a random 256-bit token kept as a SHA-256 hash (a slow password hash would cap
the LRS at a few requests per second per core and protects nothing more for random
tokens). Scopes follow xAPI 1.0.3 Part Three §4.2 (OAuth scope list), plus ``api:read``
and ``api:write`` for ``/api/v1``.

Content launched from Lentera in a learner's browser gets a *launch credential*: a signed,
short-lived token (no database row) bound to one learner, one registration, one launched
activity (the cmi5 AU) and one cmi5 session. What it may do is in :mod:`lms.xapi.launch`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms.db import get_session, utcnow
from lms.errors import NotFound, ValidationError
from lms.xapi.models import Credential

#: xAPI scopes (Part Three §4.2) and the JSON API's own.
SCOPES = {
    "statements/write": "Write statements",
    "statements/read/mine": "Read the statements this key wrote",
    "statements/read": "Read all statements",
    "state": "Read and write the State resource",
    "define": "Define activities (update activity definitions)",
    "profile": "Read and write activity and agent profiles",
    "all/read": "Read everything in the LRS",
    "all": "Everything in the LRS",
    "api:read": "Read the JSON API (/api/v1)",
    "api:write": "Write through the JSON API (/api/v1)",
    "monitor": "Read the health of the statement consumers (GET /api/v1/lrs/consumers)",
}
LAUNCH_PREFIX = "launch."
LAUNCH_SCOPES = "statements/write statements/read/mine state"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: str | list[str] | tuple[str, ...]) -> list[str]:
    """Scopes from a comma- or space-separated string or a list; unknown ones are an error."""
    if isinstance(scopes, str):
        items = scopes.replace(",", " ").split()
    else:
        items = [s.strip() for s in scopes if s.strip()]
    if not items:
        raise ValidationError(f"Give at least one scope: {', '.join(SCOPES)}", field="scopes")
    unknown = [s for s in items if s not in SCOPES]
    if unknown:
        raise ValidationError(f"Unknown scope(s) {', '.join(unknown)}; known scopes: "
                              f"{', '.join(SCOPES)}", field="scopes")
    return list(dict.fromkeys(items))


def create_credential(name: str, scopes: str | list[str]) -> tuple[Credential, str]:
    """Create a client key; return it with its secret (shown once, then only hashed)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the client a name", field="name")
    if len(name) > 200:
        raise ValidationError("The name may have at most 200 characters", field="name")
    scope_list = parse_scopes(scopes)
    key = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)
    credential = Credential(
        key=key, secret_hash=_hash(secret), name=name, scope_list=" ".join(scope_list),
        authority={"objectType": "Agent", "name": name,
                   "account": {"homePage": current_app.config["BASE_URL"],
                               "name": f"client:{key}"}},
    )
    get_session().add(credential)
    get_session().flush()
    return credential, secret


def list_credentials() -> list[Credential]:
    """Every stored client key, newest first."""
    return list(get_session().scalars(sa.select(Credential).order_by(Credential.id.desc())))


def revoke_credential(key: str) -> Credential:
    """Revoke a client key: it stops working at once."""
    credential = get_session().scalar(sa.select(Credential).where(Credential.key == key))
    if credential is None:
        raise NotFound(f"No client key {key}")
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        get_session().flush()
    _cache.pop(key, None)
    return credential


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _launch_signature(user: str) -> str:
    key = f"xapi-launch:{current_app.config['SECRET_KEY']}".encode()
    return hmac.new(key, user.encode(), hashlib.sha256).hexdigest()


def issue_launch_credentials(actor: dict[str, Any], registration: str,
                             ttl_seconds: int = 4 * 3600, *, activity_id: str,
                             session_id: str) -> str:
    """An ``Authorization`` header value for content launched in a learner's browser.

    The credential is bound to the learner ``actor``, the ``registration``, the launched
    ``activity_id`` (the cmi5 AU) and the cmi5 ``session_id``: it writes only what the
    launched AU may write (:func:`lms.xapi.launch.refusal`), reads only that learner's
    statements of that registration, and uses only the AU's State of that learner and
    registration. Statements it writes carry an authority naming the launch
    (:func:`lms.xapi.launch.authority_for`), so consumers can tell them apart. It expires
    after ``ttl_seconds``; it is signed with the app's secret key, so nothing is stored
    and no commit is needed.
    """
    from lms.xapi.validation.agents import agent_key, check_agent
    from lms.xapi.validation.common import Context, check_iri, check_uuid

    check_agent(actor, "actor", Context())
    check_uuid(registration, "registration")
    check_iri(activity_id, "activity_id")
    if not isinstance(session_id, str) or not 0 < len(session_id) <= 200:
        raise ValidationError("session_id: give the launch's session id", field="session_id")
    payload = {"a": actor, "k": agent_key(actor), "r": registration.lower(),
               "au": activity_id, "s": session_id,
               "e": int(time.time()) + int(ttl_seconds)}
    user = LAUNCH_PREFIX + _b64url(json.dumps(payload, separators=(",", ":")).encode())
    token = base64.b64encode(f"{user}:{_launch_signature(user)}".encode()).decode()
    return f"Basic {token}"


def _launch_credential(user: str, password: str) -> Credential | None:
    if not hmac.compare_digest(_launch_signature(user), password):
        return None
    try:
        payload = json.loads(_b64url_decode(user[len(LAUNCH_PREFIX):]))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int) \
            or payload["e"] < time.time():
        return None
    if not all(isinstance(payload.get(k), str) and payload[k] for k in ("au", "s", "r")):
        return None  # a credential of an older release, bound to no activity: refused
    from lms.xapi.launch import authority_for

    credential = Credential(key=user[:64], secret_hash="", name="launch",
                            scope_list=LAUNCH_SCOPES,
                            authority=authority_for(payload["au"], payload["s"]))
    credential.launch_actor = payload["a"]
    credential.launch_actor_key = payload["k"]
    credential.launch_registration = payload["r"]
    credential.launch_activity = payload["au"]
    credential.launch_session = payload["s"]
    return credential


def authenticate_basic(header_value: str | None) -> Credential | None:
    """The credential of an ``Authorization: Basic ...`` header, or None.

    None when the header is missing or malformed, the key is unknown, the secret is
    wrong, the key is revoked or a launch credential has expired. The credential returned
    is detached from the session (read its attributes; do not modify it).
    """
    if not header_value or header_value[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header_value[6:].strip(), validate=True).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    if user.startswith(LAUNCH_PREFIX):
        return _launch_credential(user, password)
    secret_hash = _hash(password)
    cached = _cache.get(user)
    now = time.monotonic()
    if cached is not None and cached[0] > now and hmac.compare_digest(cached[1], secret_hash):
        return cached[2]
    credential = get_session().scalar(sa.select(Credential).where(Credential.key == user))
    if credential is None or credential.revoked:
        return None
    if not hmac.compare_digest(credential.secret_hash, secret_hash):
        return None
    get_session().expunge(credential)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[user] = (now + CACHE_SECONDS, secret_hash, credential)
    return credential


#: Verified credentials per process: key -> (valid until, secret hash, credential). Saves a
#: query per request; a key revoked elsewhere stops working here within CACHE_SECONDS.
_cache: dict[str, tuple[float, str, Credential]] = {}
CACHE_SECONDS = 10.0


# --- scopes ------------------------------------------------------------------------------


#: Checks of statements written with a launch credential (content in a learner's
#: browser): ``check(statement) -> message or None``. A message refuses the whole request
#: with 403. Modules that launch content add theirs (cmi5 refuses statements of a
#: session that was abandoned or terminated).
LAUNCH_CHECKS: list[Any] = []


def register_launch_check(check: Any) -> Any:
    """Run ``check`` on every statement written with a launch credential."""
    if check not in LAUNCH_CHECKS:
        LAUNCH_CHECKS.append(check)
    return check


#: Checks of the session behind a launch credential, on every request made with it:
#: ``check(session_id) -> message or None``. A message refuses the request with 401 (cmi5
#: refuses the credential of a session that was abandoned or terminated).
SESSION_CHECKS: list[Any] = []


def register_session_check(check: Any) -> Any:
    """Run ``check`` on the session of every request made with a launch credential."""
    if check not in SESSION_CHECKS:
        SESSION_CHECKS.append(check)
    return check


def can_write_statements(credential: Credential) -> bool:
    return bool(credential.scopes & {"statements/write", "all"})


def statement_read_access(credential: Credential) -> str | None:
    """"all" to read every statement, "mine" for statements/read/mine, None for none."""
    scopes = credential.scopes
    if scopes & {"statements/read", "all/read", "all"}:
        return "all"
    if "statements/read/mine" in scopes:
        return "mine"
    return None


def can_use_state(credential: Credential, write: bool) -> bool:
    scopes = credential.scopes
    return bool(scopes & ({"state", "all"} if write else {"state", "all", "all/read"}))


def can_use_profiles(credential: Credential, write: bool) -> bool:
    scopes = credential.scopes
    return bool(scopes & ({"profile", "all"} if write else {"profile", "all", "all/read"}))


def can_define(credential: Credential) -> bool:
    """Whether statements of this client may (re)define activities (the ``define`` scope)."""
    return bool(credential.scopes & {"define", "all"})


def can_read_answer_keys(credential: Credential) -> bool:
    """Whether the Activities resource shows this client interaction definitions with their
    ``correctResponsesPattern`` (quiz answer keys): only keys that may read every statement
    (which carry those definitions anyway). A write-only key, a ``statements/read/mine``
    key and launch credentials get definitions without them."""
    return credential.launch_actor is None and bool(
        credential.scopes & {"statements/read", "all/read", "all"})


def can_read_definitions(credential: Credential) -> bool:
    """Activities and Agents resources: any LRS scope."""
    return bool(credential.scopes - {"api:read", "api:write", "monitor"})
