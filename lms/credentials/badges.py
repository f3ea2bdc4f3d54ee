"""Open Badges 3.0 credentials for course certificates.

Every completion with a certificate number is also an ``OpenBadgeCredential`` (a W3C
Verifiable Credential, data model 2.0), secured as a compact JWS (VC-JWT, the OB 3.0 JOSE
format: the JWT payload *is* the credential, with ``iss``/``jti``/``nbf``) signed EdDSA
(Ed25519) by the platform key (:mod:`lms.credentials.keys`) through joserfc. The credential
is derived from the completion each time it is asked for, and Ed25519 signatures are
deterministic, so the same certificate always gives the same bytes; a completion that is
withdrawn (its statement voided) leaves no credential behind, and the public badge page
then says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import warnings
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.courses.models import Completion
from lms.credentials import case
from lms.credentials.keys import b64url_decode, issuer_did, key_id, signing_key
from lms.db import get_session
from lms.people.models import OrgUnit, OrgUnitKind, User

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


class BadgeError(Exception):
    """A token that is not a valid credential of this platform."""


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def credential_id(number: str) -> str:
    return f"{base_url()}/credentials/badges/{number}"


def achievement_id(slug: str) -> str:
    return f"{base_url()}/credentials/achievements/{slug}"


def _iso(when: dt.datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer_profile() -> dict[str, Any]:
    """The issuer: the regional government (Pemda) that runs this Lentera."""
    name = current_app.config.get("CREDENTIALS_ISSUER_NAME")
    if not name:
        name = (
            get_session().scalar(
                sa.select(OrgUnit.name)
                .where(OrgUnit.parent_id.is_(None), OrgUnit.kind == OrgUnitKind.PEMDA)
                .order_by(OrgUnit.id)
                .limit(1)
            )
            or "Lentera"
        )
    return {
        "id": issuer_did(),
        "type": ["Profile"],
        "name": name,
        "url": base_url() + "/",
        "description": "Penerbit sertifikat pelatihan ASN melalui Lentera.",
    }


def _salt(number: str, what: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{what}:{number}".encode(), hashlib.sha256).hexdigest()[:16]


def _identity(kind: str, value: str, number: str) -> dict[str, Any]:
    salt = _salt(number, kind)
    digest = hashlib.sha256((value + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": kind,
        "hashed": True,
        "salt": salt,
    }


def identity_matches(identifier: dict[str, Any], value: str) -> bool:
    """Whether a hashed identifier of a badge is ``value`` (e-mail or NIP)."""
    expected = hashlib.sha256((value + str(identifier.get("salt", ""))).encode()).hexdigest()
    return hmac.compare_digest(str(identifier.get("identityHash", "")), f"sha256${expected}")


def _competencies(completion: Completion) -> list[dict[str, Any]]:
    """The competencies a completion proves, with their names, IRIs and frameworks."""
    from lms.competency.models import Competency

    targets = [c for c in (completion.competencies or []) if isinstance(c, dict) and c.get("code")]
    if not targets:
        return []
    rows = {
        c.code: c
        for c in get_session().scalars(
            sa.select(Competency).where(Competency.code.in_([t["code"] for t in targets]))
        )
    }
    found = []
    for target in targets:
        comp = rows.get(target["code"])
        level = int(target.get("level") or 1)
        if comp is None:
            found.append(
                {
                    "code": target["code"],
                    "name": target["code"],
                    "level": level,
                    "iri": f"{base_url()}/competency/c/{target['code']}",
                    "framework": "",
                    "level_description": "",
                }
            )
            continue
        row = next((r for r in comp.levels if r.level == level), None)
        found.append(
            {
                "code": comp.code,
                "name": comp.name,
                "level": level,
                "iri": comp.iri,
                "framework": comp.framework.name,
                "framework_code": comp.framework.code,
                "level_description": row.description if row else "",
            }
        )
    return found


def _alignments(comps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in comps:
        base = {"type": ["Alignment"], "targetType": "CFItem"}
        if c["framework"]:
            base["targetFramework"] = c["framework"]
        out.append(
            {
                **base,
                "targetName": f"{c['code']} {c['name']}",
                "targetUrl": c["iri"],
                "targetCode": c["code"],
                **({"targetDescription": c["level_description"]} if c["level_description"] else {}),
            }
        )
        out.append(
            {
                **base,
                "targetName": f"{c['code']} {c['name']} — level {c['level']}",
                "targetUrl": case.level_item_uri(c["iri"], c["level"]),
                "targetCode": f"{c['code']}.{c['level']}",
            }
        )
    return out


def build_credential(
    completion: Completion, user: User, *, with_status: bool = True
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` of a completion. ``with_status`` adds its
    revocation entry (giving the certificate a status-list index the first time)."""
    course = completion.course
    slug = course.slug if course is not None else str(completion.course_id)
    ach_id = achievement_id(slug)
    comps = _competencies(completion)
    number = completion.certificate_number
    course_url = f"{base_url()}/courses/{slug}"
    jp = completion.jp
    jp_text = f"{jp:g}".replace(".", ",")
    result_descriptions: list[dict[str, Any]] = [
        {
            "id": f"{ach_id}#completion",
            "type": ["ResultDescription"],
            "name": "Status penyelesaian pelatihan",
            "resultType": "Status",
        }
    ]
    results: list[dict[str, Any]] = [
        {"type": ["Result"], "resultDescription": f"{ach_id}#completion", "status": "Completed"}
    ]
    for c in comps:
        rd_id = f"{ach_id}#competency-{c['code']}"
        result_descriptions.append(
            {
                "id": rd_id,
                "type": ["ResultDescription"],
                "name": f"Level kompetensi {c['code']} {c['name']}",
                "resultType": "RubricCriterionLevel",
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetType": "CFItem",
                        "targetName": f"{c['code']} {c['name']}",
                        "targetUrl": c["iri"],
                        "targetCode": c["code"],
                    }
                ],
                "rubricCriterionLevel": [
                    {
                        "id": f"{rd_id}-level-{n}",
                        "type": ["RubricCriterionLevel"],
                        "name": f"Level {n}",
                        "level": str(n),
                        "alignment": [
                            {
                                "type": ["Alignment"],
                                "targetType": "CFItem",
                                "targetName": f"{c['code']} level {n}",
                                "targetUrl": case.level_item_uri(c["iri"], n),
                                "targetCode": f"{c['code']}.{n}",
                            }
                        ],
                    }
                    for n in range(1, 6)
                ],
            }
        )
        results.append(
            {
                "type": ["Result"],
                "resultDescription": rd_id,
                "achievedLevel": f"{rd_id}-level-{c['level']}",
            }
        )
    narrative = (
        f'Menyelesaikan pelatihan daring "{completion.course_title}" di Lentera '
        f"({jp_text} JP): mempelajari semua materi dan lulus evaluasi yang "
        "dipersyaratkan kursus."
    )
    if comps:
        narrative += (
            " Kompetensi yang dibuktikan: "
            + "; ".join(f"{c['code']} {c['name']} level {c['level']}" for c in comps)
            + "."
        )
    identifiers = []
    if user.email:
        identifiers.append(_identity("emailAddress", user.email.strip().lower(), number))
    if user.nip:
        identifiers.append(_identity("ext:NIP", user.nip, number))
    identifiers.append(
        {
            "type": "IdentityObject",
            "identityHash": user.name,
            "identityType": "name",
            "hashed": False,
        }
    )
    achievement: dict[str, Any] = {
        "id": ach_id,
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": completion.course_title,
        "description": (
            course.summary
            if course is not None and course.summary
            else f"Pelatihan daring {completion.course_title}."
        ),
        "criteria": {"id": course_url, "narrative": narrative},
        "creditsAvailable": jp,
        "inLanguage": "id",
        "humanCode": slug,
        "image": {"id": f"{base_url()}/static/img/lentera.svg", "type": "Image"},
        "resultDescription": result_descriptions,
    }
    if comps:
        achievement["alignment"] = _alignments(comps)
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id(number),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Sertifikat {completion.course_title}",
        "description": f"Sertifikat nomor {number}.",
        "issuer": issuer_profile(),
        "validFrom": _iso(completion.completed_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": identifiers,
            "achievement": achievement,
            "creditsEarned": jp,
            "result": results,
        },
    }
    if with_status:
        from lms.credentials.status import status_entry

        credential["credentialStatus"] = status_entry(number)
    return credential


@contextlib.contextmanager
def _eddsa() -> Iterator[None]:
    """joserfc warns that RFC 9864 deprecates the algorithm name "EdDSA" in favour of
    "Ed25519"; Open Badges 3.0 and the VC-JOSE verifiers in use still expect "EdDSA", so
    tokens keep it (the signature is the same Ed25519 either way)."""
    from joserfc.errors import SecurityWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SecurityWarning, message=".*EdDSA.*")
        yield


def _jose_key(private: bool) -> Any:
    """The platform key as a joserfc key (the private one to sign)."""
    from joserfc.jwk import OKPKey

    key = signing_key()
    return OKPKey.import_key(key.private if private else key.public)


def sign(credential: dict[str, Any]) -> str:
    """The credential as a compact JWS (VC-JWT), signed EdDSA by the platform key (with
    joserfc)."""
    from joserfc import jws

    header = {"alg": "EdDSA", "typ": "JWT", "kid": key_id(signing_key())}
    payload = dict(credential)
    issuer = credential["issuer"]
    issued = dt.datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    payload.update(
        {
            "iss": issuer["id"] if isinstance(issuer, dict) else issuer,
            "jti": credential["id"],
            "nbf": int(issued.timestamp()),
            "iat": int(issued.timestamp()),
        }
    )
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with _eddsa():
        return jws.serialize_compact(header, body, _jose_key(private=True),
                                     algorithms=["EdDSA"])


#: The largest token :func:`verify` reads (a credential is a few KB).
MAX_TOKEN_LENGTH = 256 * 1024


def verify(token: str) -> dict[str, Any]:
    """Check a VC-JWT issued here: our key id, the signature, the credential type (with
    joserfc). Returns the payload; raises :class:`BadgeError` with the reason."""
    from joserfc import jws
    from joserfc.errors import BadSignatureError, JoseError

    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise BadgeError(_l("not a compact JWS (three dot-separated parts)"))
    try:
        header = json.loads(b64url_decode(token.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadgeError(_l("the token is not valid base64url JSON")) from exc
    if not isinstance(header, dict):
        raise BadgeError(_l("the token is not valid base64url JSON"))
    if header.get("alg") != "EdDSA" or header.get("kid") != key_id(signing_key()):
        raise BadgeError(_l("the token was not signed with this platform's key"))
    try:
        with _eddsa():
            token_object = jws.deserialize_compact(token, _jose_key(private=False),
                                                   algorithms=["EdDSA"])
        payload = json.loads(token_object.payload)
    except BadSignatureError as exc:
        raise BadgeError(_l("the signature does not match")) from exc
    except (JoseError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadgeError(_l("the token is not valid base64url JSON")) from exc
    if not isinstance(payload, dict):
        raise BadgeError(_l("the token is not valid base64url JSON"))
    if "OpenBadgeCredential" not in (payload.get("type") or []):
        raise BadgeError(_l("the token is not an OpenBadgeCredential"))
    return payload


#: Other certificates whose badges are signed here (e.g. learning programs): callables
#: telling whether a certificate number is theirs and still stands.
OTHER_CERTIFICATES: list[Any] = []


def number_stands(number: str) -> bool:
    """Whether a badge's certificate number is still held (not withdrawn)."""
    return completion_of(number) is not None or any(
        check(number[:40]) for check in OTHER_CERTIFICATES)


def completion_of(number: str) -> Completion | None:
    from lms.courses.service import completion_by_number

    return completion_by_number(number[:40])


def badge_for(completion: Completion) -> tuple[dict[str, Any], str]:
    """(credential, signed token) of a completion."""
    user = get_session().get(User, completion.user_id)
    assert user is not None  # completions are deleted with their user
    credential = build_credential(completion, user)
    return credential, sign(credential)


def public_keys() -> dict[str, Any]:
    return {"keys": [signing_key().public_jwk()]}
