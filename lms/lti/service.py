"""Registering platforms by hand (admin pages, ``lms lti platform``), and what Lentera
tells a platform about itself (the tool's URLs and its registration document)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.db import get_session
from lms.errors import Conflict, NotFound, ValidationError
from lms.lti import claims as c
from lms.lti import net
from lms.lti.models import MATCH_MODES, LtiDeployment, LtiPlatform

NIP_CLAIM = re.compile(r"custom\.[A-Za-z0-9_]{1,50}|lis\.person_sourcedid|preferred_username"
                       r"|sub")
#: What the NIP claim field offers (the platform's custom parameter is the usual way).
NIP_CLAIMS = ("custom.nip", "lis.person_sourcedid", "preferred_username", "sub")


def get_platform(platform_id: int) -> LtiPlatform:
    platform = get_session().get(LtiPlatform, platform_id)
    if platform is None:
        raise NotFound(_l("No such LTI platform."))
    return platform


def list_platforms() -> list[LtiPlatform]:
    return list(get_session().scalars(sa.select(LtiPlatform).order_by(LtiPlatform.name,
                                                                      LtiPlatform.id)))


def _text(value: str | None, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if "\x00" in value or any(ord(ch) < 32 for ch in value):
        raise ValidationError(_l("Remove control characters."), field=field)
    if len(value) > limit:
        raise ValidationError(_l("At most %(n)d characters.", n=limit), field=field)
    if required and not value:
        raise ValidationError(_l("This field is required."), field=field)
    return value


def _lines(values: Iterable[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = re.split(r"[\s,]+", values)
    return [v.strip() for v in values if v and v.strip()]


def parse_origins(values: Iterable[str] | str | None) -> list[str]:
    """Frame origins (``https://host[:port]``), validated."""
    origins = []
    for value in _lines(values):
        url = net.check_url(value, field="frame_origins")
        origin = net.origin(url)
        if not origin or url.rstrip("/") != origin.rstrip("/"):
            raise ValidationError(_l("Give origins only (https://host[:port]), without a "
                                     "path: %(value)s", value=value[:100]),
                                  field="frame_origins")
        origins.append(origin)
    if len(origins) > 20:
        raise ValidationError(_l("At most %(n)d origins.", n=20), field="frame_origins")
    return list(dict.fromkeys(origins))


def frame_origins(platform: LtiPlatform) -> list[str]:
    """Origins allowed to frame Lentera after a launch from ``platform``."""
    configured = _lines(platform.frame_origins)
    if configured:
        return configured
    return list(dict.fromkeys(o for o in (net.origin(platform.issuer),
                                          net.origin(platform.auth_url)) if o))


def save_platform(platform: LtiPlatform | None, *, name: str, issuer: str, client_id: str,
                  auth_url: str, jwks_url: str, token_url: str = "",
                  token_audience: str = "", deployment_ids: Iterable[str] | str = (),
                  frame_origins: Iterable[str] | str = (), match_by: str = "email",
                  nip_claim: str = "custom.nip", create_users: bool = True,
                  grant_trainer: bool = False, active: bool = True,
                  registered_via: str = "manual", product: str = "",
                  require_deployment: bool = True) -> LtiPlatform:
    """Create (``platform`` None) or change a registration; flushes."""
    name = _text(name, "name", 200)
    issuer = _text(issuer, "issuer", 500)
    if not re.match(r"^https?://", issuer):
        raise ValidationError(_l("The issuer is the platform's address (https://...)."),
                              field="issuer")
    client_id = _text(client_id, "client_id", 255)
    auth_url = net.check_url(auth_url, "auth_url")
    jwks_url = net.check_url(jwks_url, "jwks_url")
    token_url = net.check_url(token_url, "token_url") if (token_url or "").strip() else ""
    token_audience = _text(token_audience, "token_audience", 1000, required=False)
    deployments = [_text(d, "deployment_ids", 255) for d in _lines(deployment_ids)]
    if not deployments and require_deployment:
        raise ValidationError(_l("Give at least one deployment id."), field="deployment_ids")
    if len(deployments) > 100:
        raise ValidationError(_l("At most %(n)d deployment ids.", n=100),
                              field="deployment_ids")
    origins = parse_origins(frame_origins)
    if match_by not in MATCH_MODES:
        raise ValidationError(_l("Choose how accounts are matched."), field="match_by")
    nip_claim = (nip_claim or "custom.nip").strip()
    if not NIP_CLAIM.fullmatch(nip_claim):
        raise ValidationError(_l("Name the NIP claim as custom.<name>, lis.person_sourcedid, "
                                 "preferred_username or sub."), field="nip_claim")
    session = get_session()
    clash = session.scalar(sa.select(LtiPlatform.id).where(
        LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id))
    if clash is not None and (platform is None or clash != platform.id):
        raise Conflict(_l("This issuer and client id are registered already."),
                       field="client_id")
    if platform is None:
        platform = LtiPlatform(registered_via=registered_via)
        session.add(platform)
    platform.name, platform.issuer, platform.client_id = name, issuer, client_id
    platform.auth_url, platform.jwks_url, platform.token_url = auth_url, jwks_url, token_url
    platform.token_audience = token_audience
    platform.frame_origins = " ".join(origins)
    platform.match_by, platform.nip_claim = match_by, nip_claim
    platform.create_users, platform.grant_trainer = bool(create_users), bool(grant_trainer)
    platform.active = bool(active)
    if product:
        platform.product = product[:200]
    # A changed key set address must be fetched again.
    platform.jwks_cache, platform.jwks_fetched_at = None, None
    set_deployments(platform, deployments)
    session.flush()
    return platform


def set_deployments(platform: LtiPlatform, deployment_ids: list[str]) -> None:
    wanted = list(dict.fromkeys(deployment_ids))
    keep = [d for d in platform.deployments if d.deployment_id in wanted]
    have = {d.deployment_id for d in keep}
    platform.deployments = keep + [LtiDeployment(deployment_id=d) for d in wanted
                                   if d not in have]


def add_deployment(platform: LtiPlatform, deployment_id: str) -> None:
    deployment_id = _text(deployment_id, "deployment_id", 255)
    if deployment_id not in platform.deployment_ids:
        platform.deployments.append(LtiDeployment(deployment_id=deployment_id))
    get_session().flush()


def delete_platform(platform: LtiPlatform) -> None:
    """Remove a registration with its deployments, links, bindings and queued posts.

    Lentera accounts made by its launches stay (with their learning records)."""
    get_session().delete(platform)
    get_session().flush()


# --- what the tool tells platforms --------------------------------------------------------


def tool_urls() -> dict[str, str]:
    """The addresses a platform administrator enters when adding Lentera by hand."""
    base = current_app.config["BASE_URL"]
    return {
        "tool_url": base + "/courses/",
        "login_url": base + "/lti/login",
        "redirect_uri": base + "/lti/launch",
        "jwks_url": base + "/lti/jwks",
        "deep_link_url": base + "/lti/deep-link",
        "domain": net.origin(base).split("://", 1)[-1],
    }


def registration_document(name: str = "Lentera") -> dict[str, Any]:
    """Lentera's client registration (LTI Dynamic Registration 1.0, OpenID Connect
    Dynamic Client Registration with the LTI tool configuration)."""
    urls = tool_urls()
    base = current_app.config["BASE_URL"]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls["login_url"],
        "redirect_uris": [urls["redirect_uri"]],
        "client_name": name,
        "jwks_uri": urls["jwks_url"],
        "logo_uri": base + "/static/img/logo.svg",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(c.TOOL_SCOPES),
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
            "domain": urls["domain"],
            "target_link_uri": urls["tool_url"],
            "description": "Kursus dan modul Lentera untuk pengembangan kompetensi ASN; "
                           "nilai dan penyelesaian dikirim kembali ke buku nilai.",
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": c.DEEP_LINKING_REQUEST, "target_link_uri": urls["deep_link_url"],
                 "label": "Lentera"},
                {"type": c.RESOURCE_LINK_REQUEST, "target_link_uri": urls["tool_url"]},
            ],
            "custom_parameters": {},
        },
    }
