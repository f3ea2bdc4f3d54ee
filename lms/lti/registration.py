"""LTI Dynamic Registration 1.0 (as Moodle 4.x and Canvas do it).

An administrator makes a one-time registration link (:func:`create_invite`, valid for
``LMS_LTI_INVITE_HOURS``, 24 h) and pastes it into the platform ("Tool URL" of a new
tool in Moodle's *Manage tools*; a Dynamic Registration key in Canvas). The platform opens
it with ``openid_configuration`` (the address of its OpenID configuration) and, usually,
``registration_token``. Lentera reads the configuration (:func:`read_configuration`),
shows what it found, and on confirmation posts its client registration to the platform's
``registration_endpoint`` (:func:`register`) and records the platform with the client id
and deployment id the platform answered.

The invite gates it: without an unused, unexpired invite nobody can make Lentera fetch a
URL or create a registration.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.db import get_session, utcnow
from lms.errors import Conflict, NotFound, ValidationError
from lms.lti import net, service
from lms.lti.models import LtiPlatform, LtiRegistrationInvite
from lms.people.models import User

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_invite(user: User | None, hours: float | None = None) -> tuple[LtiRegistrationInvite,
                                                                        str]:
    """A new registration link: ``(row, url)``; the URL holds a token shown only now."""
    hours = float(hours if hours is not None
                  else current_app.config.get("LTI_INVITE_HOURS", 24))
    if not 0 < hours <= 24 * 30:
        raise ValidationError(_l("A registration link is valid for 1 hour to 30 days."),
                              field="hours")
    token = secrets.token_urlsafe(32)
    row = LtiRegistrationInvite(token_hash=_hash(token),
                                created_by_id=user.id if user is not None else None,
                                expires_at=utcnow() + dt.timedelta(hours=hours))
    get_session().add(row)
    get_session().flush()
    return row, current_app.config["BASE_URL"] + f"/lti/register/{token}"


def invite_for(token: str) -> LtiRegistrationInvite:
    """The open invite of ``token`` or NotFound (unknown, used or expired)."""
    row = None
    if token and len(token) <= 100:
        row = get_session().scalar(sa.select(LtiRegistrationInvite).where(
            LtiRegistrationInvite.token_hash == _hash(token)))
    if row is None or row.expires_at < utcnow():
        raise NotFound(_l("This registration link is unknown or has expired. Ask the Lentera "
                          "administrator for a new one."))
    if row.used_at is not None:
        raise NotFound(_l("This registration link was used already. Ask the Lentera "
                          "administrator for a new one."))
    return row


def open_invites() -> list[LtiRegistrationInvite]:
    return list(get_session().scalars(
        sa.select(LtiRegistrationInvite).where(LtiRegistrationInvite.used_at.is_(None),
                                               LtiRegistrationInvite.expires_at > utcnow())
        .order_by(LtiRegistrationInvite.created_at.desc()).limit(20)))


@dataclass
class PlatformConfiguration:
    """What a platform's OpenID configuration says (the parts Lentera uses)."""

    url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product: str
    version: str
    messages: list[str]
    raw: dict[str, Any]

    @property
    def origins(self) -> list[str]:
        return list(dict.fromkeys(o for o in (net.origin(self.issuer), net.origin(self.url),
                                              net.origin(self.authorization_endpoint)) if o))


def _required_url(config: dict[str, Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationError(_l("The platform's configuration lacks %(name)s.", name=name))
    try:
        return net.check_url(value, name)
    except ValidationError:
        raise ValidationError(_l("The platform's %(name)s is not a usable https address.",
                                 name=name)) from None


def parse_configuration(url: str, config: Any) -> PlatformConfiguration:
    """Check a platform's OpenID configuration document."""
    if not isinstance(config, dict):
        raise ValidationError(_l("The platform's configuration is not a JSON object."))
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or not issuer.startswith(("https://", "http://")) \
            or len(issuer) > 500:
        raise ValidationError(_l("The platform's configuration has no valid issuer."))
    platform_config = config.get(PLATFORM_CONFIGURATION)
    if not isinstance(platform_config, dict):
        raise ValidationError(_l("This is not an LTI platform's configuration (no %(claim)s).",
                                 claim=PLATFORM_CONFIGURATION))
    algs = config.get("id_token_signing_alg_values_supported")
    if isinstance(algs, list) and "RS256" not in algs:
        raise ValidationError(_l("The platform does not sign with RS256."))
    # Moodle lists message types as strings, the specification as objects with a type.
    messages = []
    for entry in platform_config.get("messages_supported") or []:
        kind = entry.get("type") if isinstance(entry, dict) else entry
        if isinstance(kind, str):
            messages.append(kind[:60])
    return PlatformConfiguration(
        url=url,
        issuer=issuer.rstrip("/") if issuer.count("/") > 2 else issuer,
        authorization_endpoint=_required_url(config, "authorization_endpoint"),
        token_endpoint=_required_url(config, "token_endpoint"),
        jwks_uri=_required_url(config, "jwks_uri"),
        registration_endpoint=_required_url(config, "registration_endpoint"),
        product=str(platform_config.get("product_family_code") or "")[:60],
        version=str(platform_config.get("version") or "")[:60],
        messages=messages[:20],
        raw=config,
    )


def read_configuration(url: str) -> PlatformConfiguration:
    """Fetch and check the OpenID configuration at ``url``."""
    url = net.check_url(url, "openid_configuration")
    try:
        config = net.get_json(url)
    except net.PlatformError as exc:
        raise ValidationError(_l("Lentera could not read the platform's configuration: "
                                 "%(error)s", error=str(exc))) from None
    return parse_configuration(url, config)


def _platform_name(config: PlatformConfiguration) -> str:
    host = urlsplit(config.issuer).hostname or config.issuer
    product = {"moodle": "Moodle", "canvas": "Canvas"}.get(config.product.lower(),
                                                            config.product)
    return f"{product} {host}".strip()[:200] if product else host[:200]


def register(invite: LtiRegistrationInvite, config: PlatformConfiguration,
             registration_token: str = "") -> LtiPlatform:
    """Send Lentera's registration to the platform and record the platform."""
    if len(registration_token) > 8000 or "\x00" in registration_token:
        raise ValidationError(_l("The registration token is not valid."))
    document = service.registration_document()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        response = net.request("POST", config.registration_endpoint, json_body=document,
                               headers=headers)
    except net.PlatformError as exc:
        raise ValidationError(_l("The platform could not be reached: %(error)s",
                                 error=str(exc))) from None
    if not 200 <= response.status_code < 300:
        raise ValidationError(_l("The platform refused the registration (HTTP %(status)s): "
                                 "%(text)s", status=response.status_code,
                                 text=response.text[:300]))
    try:
        answer = net.json_of(response)
    except net.PlatformError as exc:
        raise ValidationError(str(exc)) from None
    client_id = answer.get("client_id") if isinstance(answer, dict) else None
    if not isinstance(client_id, str) or not client_id or len(client_id) > 255:
        raise ValidationError(_l("The platform's answer has no client_id."))
    tool_config = answer.get(TOOL_CONFIGURATION) if isinstance(answer, dict) else None
    deployment = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    deployments = [str(deployment)[:255]] if isinstance(deployment, str | int) and \
        str(deployment) else []
    existing = get_session().scalar(sa.select(LtiPlatform).where(
        LtiPlatform.issuer == config.issuer, LtiPlatform.client_id == client_id))
    if existing is not None:
        raise Conflict(_l("This platform registered Lentera with this client id already."))
    # Without a deployment id in the answer (Canvas names deployments when the tool is
    # installed), launches are refused until an administrator adds the one the refusal
    # names: an unknown deployment is never accepted.
    platform = service.save_platform(
        None, name=_platform_name(config), issuer=config.issuer, client_id=client_id,
        auth_url=config.authorization_endpoint, jwks_url=config.jwks_uri,
        token_url=config.token_endpoint, deployment_ids=deployments,
        registered_via="dynamic", require_deployment=False,
        product=" ".join(p for p in (config.product, config.version) if p))
    invite.used_at = utcnow()
    invite.platform_id = platform.id
    get_session().flush()
    return platform
