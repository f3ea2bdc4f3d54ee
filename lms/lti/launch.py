"""The LTI 1.3 launch: OIDC third-party initiated login, then the signed launch message.

1. The platform sends the browser to ``/lti/login`` (:func:`begin_login`): Lentera finds the
   registration, stores a fresh ``state`` and ``nonce`` (single use, expiring, in the
   database so any app server can finish it) and sends the browser to the platform's
   authorization endpoint.
2. The platform posts a signed ``id_token`` and the ``state`` to ``/lti/launch``
   (:func:`validate_launch`): the state must be known, unused and unexpired, the token
   signed by a key of the platform's key set, issued by it for Lentera's client id, not
   expired, carrying the nonce of that state, a known deployment and the LTI claims the
   message type requires. The state is consumed in the same transaction.
3. A resource link launch (:func:`enter`) finds or creates the Lentera account, records the
   platform course and link, enrols a learner in the course and stores a ``launched``
   statement; the view signs the user in and opens the course or module.

Every refusal is a :class:`LaunchRefused` with a message a person can act on; it is raised
before anything is written (the view rolls back), so a forged or replayed launch leaves
no account, no statement and no link behind.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from lms.db import get_session, utcnow
from lms.errors import Forbidden, LmsError
from lms.lti import claims as c
from lms.lti import net
from lms.lti.models import (
    MATCH_NIP,
    LtiBinding,
    LtiContext,
    LtiLaunchState,
    LtiPlatform,
    LtiResourceLink,
    LtiUserLink,
)
from lms.people.models import Role, User

#: How long a login may take between ``/lti/login`` and ``/lti/launch``.
STATE_TTL = dt.timedelta(minutes=10)
#: Clock difference tolerated on ``exp`` and ``iat``.
LEEWAY_SECONDS = 60
#: How long a fetched platform key set is trusted before it is fetched again.
JWKS_TTL = dt.timedelta(hours=1)
#: The largest id_token accepted (a launch is a few kB; this leaves room for custom claims).
MAX_TOKEN = 64 * 1024

ADL_LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"


class LaunchRefused(Forbidden):
    """A login or launch that Lentera does not accept (403, with the reason)."""

    def __init__(self, message: Any, *, platform: LtiPlatform | None = None):
        super().__init__(message)
        self.platform = platform


# --- registrations ----------------------------------------------------------------------


def find_platform(issuer: str, client_id: str | None) -> LtiPlatform:
    """The active registration of ``issuer`` (and ``client_id`` when given)."""
    query = sa.select(LtiPlatform).where(LtiPlatform.issuer == issuer,
                                         LtiPlatform.active.is_(True))
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    rows = list(get_session().scalars(query.limit(2)))
    if not rows:
        raise LaunchRefused(_l("This platform is not registered with Lentera (issuer "
                               "%(iss)s). An administrator can register it under "
                               "Administration → LTI platforms.", iss=issuer[:200]))
    if len(rows) > 1:
        raise LaunchRefused(_l("Several registrations share this issuer; the platform must "
                               "send its client_id."))
    return rows[0]


def tool_url(path: str) -> str:
    return current_app.config["BASE_URL"] + path


def redirect_uri() -> str:
    return tool_url("/lti/launch")


# --- step 1: login ----------------------------------------------------------------------


@dataclass
class Login:
    state: str
    url: str
    platform: LtiPlatform


def _param(params: Any, name: str, limit: int = 2000, required: bool = False) -> str:
    value = params.get(name) or ""
    if not isinstance(value, str) or "\x00" in value or len(value) > limit:
        raise LaunchRefused(_l("The login request has an invalid %(name)s.", name=name))
    value = value.strip()
    if required and not value:
        raise LaunchRefused(_l("The login request lacks %(name)s.", name=name))
    return value


def _own_url(url: str) -> bool:
    base = current_app.config["BASE_URL"]
    return url == base or url.startswith(base + "/")


def begin_login(params: Any) -> Login:
    """Start an OIDC login for the platform in ``params`` (the query or form of the
    platform's request): store a state and nonce and return where to send the browser."""
    issuer = _param(params, "iss", 500, required=True)
    login_hint = _param(params, "login_hint", 2000, required=True)
    target = _param(params, "target_link_uri", 2000, required=True)
    client_id = _param(params, "client_id", 255)
    deployment = _param(params, "lti_deployment_id", 255)
    message_hint = _param(params, "lti_message_hint", 4000)
    platform = find_platform(issuer, client_id or None)
    if deployment and deployment not in platform.deployment_ids:
        raise LaunchRefused(_l("Deployment %(id)s of this platform is not registered with "
                               "Lentera.", id=deployment[:100]), platform=platform)
    if not _own_url(target):
        raise LaunchRefused(_l("The launch asks for an address outside Lentera."),
                            platform=platform)
    now = utcnow()
    session = get_session()
    # Expired logins are useless; a small delete per login keeps the table short.
    session.execute(sa.delete(LtiLaunchState).where(LtiLaunchState.expires_at < now))
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    session.add(LtiLaunchState(state=state, nonce=nonce, platform_id=platform.id,
                               target_link_uri=target, created_at=now,
                               expires_at=now + STATE_TTL))
    session.flush()
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": redirect_uri(),
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if message_hint:
        query["lti_message_hint"] = message_hint
    separator = "&" if urlsplit(platform.auth_url).query else "?"
    return Login(state=state, url=platform.auth_url + separator + urlencode(query),
                 platform=platform)


# --- step 2: the signed launch ----------------------------------------------------------


def platform_keys(platform: LtiPlatform, refresh: bool = False) -> dict[str, Any]:
    """The platform's JWK set, from the cache or fetched (then cached on the row)."""
    fresh = (platform.jwks_fetched_at is not None
             and utcnow() - platform.jwks_fetched_at < JWKS_TTL)
    if platform.jwks_cache and fresh and not refresh:
        return platform.jwks_cache
    try:
        keyset = net.get_json(platform.jwks_url)
    except net.PlatformError as exc:
        raise LaunchRefused(_l("Lentera could not read the platform's key set: %(error)s",
                               error=str(exc)), platform=platform) from None
    if not isinstance(keyset, dict) or not isinstance(keyset.get("keys"), list):
        raise LaunchRefused(_l("The platform's key set is not a JWK set."), platform=platform)
    platform.jwks_cache = {"keys": [k for k in keyset["keys"] if isinstance(k, dict)][:50]}
    platform.jwks_fetched_at = utcnow()
    return platform.jwks_cache


def _key_for(platform: LtiPlatform, kid: str) -> RSAKey:
    for refresh in (False, True):
        for jwk in platform_keys(platform, refresh=refresh)["keys"]:
            if jwk.get("kid") == kid:
                if jwk.get("kty") != "RSA":
                    raise LaunchRefused(_l("The platform signs with a key type Lentera does "
                                           "not accept (RS256 is required)."),
                                        platform=platform)
                try:
                    return RSAKey.import_key({k: v for k, v in jwk.items()
                                              if k in ("kty", "n", "e", "kid")})
                except (JoseError, ValueError, TypeError):
                    break
    raise LaunchRefused(_l("The launch was signed with a key the platform does not publish "
                           "(key id %(kid)s).", kid=kid[:100]), platform=platform)


def _header(token: str) -> dict[str, Any]:
    import base64
    import json

    try:
        head = token.split(".")[0]
        value = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, IndexError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise LaunchRefused(_l("The launch message is not a signed LTI 1.3 token."))
    return value


def verify_platform_token(platform: LtiPlatform, token: str) -> dict[str, Any]:
    """The claims of ``token`` when the platform signed it for Lentera and it is current.

    Checks, in order: three parts, RS256 with a ``kid`` the platform publishes, the
    signature, ``iss`` (the platform), ``aud`` (Lentera's client id; with several
    audiences ``azp`` must name it), ``exp`` and ``iat`` (60 s leeway).
    """
    if not token or len(token) > MAX_TOKEN or token.count(".") != 2:
        raise LaunchRefused(_l("The launch message is not a signed LTI 1.3 token."),
                            platform=platform)
    header = _header(token)
    if header.get("alg") != "RS256":
        raise LaunchRefused(_l("The launch message must be signed with RS256."),
                            platform=platform)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise LaunchRefused(_l("The launch message does not name its signing key (kid)."),
                            platform=platform)
    key = _key_for(platform, kid)
    try:
        decoded = jwt.decode(token, key, algorithms=["RS256"])
    except JoseError:
        raise LaunchRefused(_l("The signature of the launch message is not valid."),
                            platform=platform) from None
    claims = decoded.claims
    if not isinstance(claims, dict):
        raise LaunchRefused(_l("The launch message is not a signed LTI 1.3 token."),
                            platform=platform)
    if claims.get("iss") != platform.issuer:
        raise LaunchRefused(_l("The launch message was issued by another platform."),
                            platform=platform)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if platform.client_id not in audiences:
        raise LaunchRefused(_l("The launch message is meant for another tool (audience)."),
                            platform=platform)
    if len(audiences) > 1 and claims.get("azp") != platform.client_id:
        raise LaunchRefused(_l("The launch message is meant for another tool (azp)."),
                            platform=platform)
    registry = jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS,
                                     exp={"essential": True}, iat={"essential": True})
    try:
        registry.validate(claims)
    except JoseError as exc:
        if exc.error == "expired_token":
            raise LaunchRefused(_l("The launch message has expired. Open the link in the "
                                   "platform again."), platform=platform) from None
        raise LaunchRefused(_l("The launch message has invalid times (exp, iat)."),
                            platform=platform) from None
    if isinstance(claims.get("iat"), int | float) and \
            claims["iat"] > utcnow().timestamp() + LEEWAY_SECONDS:
        raise LaunchRefused(_l("The launch message was issued in the future."),
                            platform=platform)
    return claims


@dataclass
class Launch:
    """A validated launch message."""

    platform: LtiPlatform
    claims: dict[str, Any]
    message_type: str
    deployment_id: str
    sub: str
    roles: list[str] = field(default_factory=list)

    @property
    def instructor(self) -> bool:
        return c.is_instructor(self.roles)


def _same_uri(a: str, b: str) -> bool:
    return unquote(a).rstrip("/") == unquote(b).rstrip("/")


def validate_launch(form: Any, state_cookie: str | None) -> Launch:
    """Check the platform's form post (``id_token``, ``state``) and consume the state.

    ``state_cookie`` is the state cookie the login set in this browser (None when the
    browser did not send it). It must match: a launch finished in another browser than the
    one that started it would sign that browser in as someone else (login forgery).
    """
    state_value = form.get("state") or ""
    token = form.get("id_token") or ""
    if not isinstance(state_value, str) or not state_value or len(state_value) > 64 \
            or "\x00" in state_value:
        raise LaunchRefused(_l("The launch has no valid state. Open the link in the "
                               "platform again."))
    if not isinstance(token, str) or not token:
        raise LaunchRefused(_l("The launch carries no id_token."))
    session = get_session()
    row = session.get(LtiLaunchState, state_value)
    if row is None:
        raise LaunchRefused(_l("This launch is unknown or expired. Open the link in the "
                               "platform again."))
    platform = session.get(LtiPlatform, row.platform_id)
    if platform is None or not platform.active:
        raise LaunchRefused(_l("This platform is no longer registered with Lentera."))
    if row.used_at is not None:
        raise LaunchRefused(_l("This launch was used already (a launch works once). Open "
                               "the link in the platform again."), platform=platform)
    if row.expires_at < utcnow():
        raise LaunchRefused(_l("This launch is unknown or expired. Open the link in the "
                               "platform again."), platform=platform)
    if state_cookie is None:
        raise LaunchRefused(_l("Your browser did not keep Lentera's sign-in cookie inside "
                               "the platform's page (third-party cookies are blocked). Ask "
                               "the platform's administrator to open Lentera in a new "
                               "window, or allow cookies for this site."), platform=platform)
    if state_cookie != state_value:
        raise LaunchRefused(_l("This launch was started in another browser window."),
                            platform=platform)
    claims = verify_platform_token(platform, token)
    if claims.get("nonce") != row.nonce:
        raise LaunchRefused(_l("The launch message does not belong to this login (nonce)."),
                            platform=platform)
    if claims.get(c.VERSION) != c.LTI_VERSION:
        raise LaunchRefused(_l("Only LTI 1.3.0 launches are accepted (version claim)."),
                            platform=platform)
    deployment = claims.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment, str) or not deployment:
        raise LaunchRefused(_l("The launch names no deployment."), platform=platform)
    if deployment not in platform.deployment_ids:
        raise LaunchRefused(_l("Deployment %(id)s of this platform is not registered with "
                               "Lentera.", id=deployment[:100]), platform=platform)
    message_type = claims.get(c.MESSAGE_TYPE)
    if message_type not in (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST):
        raise LaunchRefused(_l("Lentera does not handle this kind of LTI message (%(type)s).",
                               type=str(message_type)[:60]), platform=platform)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
        raise LaunchRefused(_l("The launch does not identify the user (sub)."),
                            platform=platform)
    if c.ROLES not in claims or not isinstance(claims[c.ROLES], list):
        raise LaunchRefused(_l("The launch carries no roles claim."), platform=platform)
    target = claims.get(c.TARGET_LINK_URI)
    if message_type == c.RESOURCE_LINK_REQUEST:
        link = claims.get(c.RESOURCE_LINK)
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) \
                or not link["id"] or len(link["id"]) > 255:
            raise LaunchRefused(_l("The launch names no resource link."), platform=platform)
        if not isinstance(target, str) or not _same_uri(target, row.target_link_uri):
            raise LaunchRefused(_l("The launch opens another address than its login asked "
                                   "for (target_link_uri)."), platform=platform)
    # Single use, also against a concurrent replay on another app server.
    consumed = session.execute(
        sa.update(LtiLaunchState)
        .where(LtiLaunchState.state == state_value, LtiLaunchState.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        raise LaunchRefused(_l("This launch was used already (a launch works once). Open "
                               "the link in the platform again."), platform=platform)
    return Launch(platform=platform, claims=claims, message_type=str(message_type),
                  deployment_id=deployment, sub=sub.strip(),
                  roles=c.role_names(claims.get(c.ROLES)))


# --- step 3: entering Lentera -----------------------------------------------------------


@dataclass
class Target:
    """What a link opens: a course, or one module or quiz of it."""

    slug: str
    kind: str  # "course", "module" or "quiz"
    module_id: str = ""

    @property
    def activity_iri(self) -> str:
        base = tool_url(f"/courses/{self.slug}")
        if self.kind == "module":
            return f"{base}/modules/{self.module_id}"
        if self.kind == "quiz":
            return f"{base}/quizzes/{self.module_id}"
        return base

    @property
    def path(self) -> str:
        return urlsplit(self.activity_iri).path


_TARGET = re.compile(r"/courses/([^/?#]{1,200})(?:/(modules|quizzes)/([^/?#]{1,200}))?/?")


def parse_target(uri: str, custom: Any = None) -> Target | None:
    """The Lentera course or module ``uri`` names (a course page, module page or quiz page
    address), or the ``course``/``module`` custom parameters of a link placed by hand;
    None for Lentera's general entry (the catalog)."""
    base = current_app.config["BASE_URL"]
    path = unquote(uri[len(base):]) if uri.startswith(base) else ""
    match = _TARGET.fullmatch(path)
    if match:
        slug, kind, module_id = match.groups()
        if kind is None:
            return Target(slug, "course")
        return Target(slug, "quiz" if kind == "quizzes" else "module", module_id)
    if isinstance(custom, dict) and isinstance(custom.get("course"), str) and custom["course"]:
        module = custom.get("module")
        if isinstance(module, str) and module:
            return Target(custom["course"][:200], "module", module[:200])
        return Target(custom["course"][:200], "course")
    return None


def _resolve(target: Target) -> tuple[Any, Any, dict[str, Any] | None]:
    """``(course, version, module)`` of a target, or LaunchRefused."""
    from lms.courses import service as courses

    try:
        course, version = courses.course_with_version(target.slug)
    except LmsError:
        raise LaunchRefused(_l("The course %(slug)s is not available in Lentera.",
                               slug=target.slug)) from None
    if target.kind == "course":
        return course, version, None
    try:
        module = courses.find_module(courses.definition_of(version), target.module_id)
    except LmsError:
        raise LaunchRefused(_l("The course %(slug)s has no module %(id)s.", slug=target.slug,
                               id=target.module_id)) from None
    target.kind = "quiz" if module["kind"] == "quiz" else "module"
    return course, version, module


def _display_name(claims: dict[str, Any]) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return (name or "").strip()[:200]


def _email(claims: dict[str, Any]) -> str | None:
    from lms.people.service import normalize_email

    value = claims.get("email")
    if not isinstance(value, str) or not value.strip() or len(value) > 254:
        return None
    try:
        return normalize_email(value)
    except LmsError:
        return None


def _nip(launch: Launch) -> str | None:
    from lms.people.nip import parse_nip

    value = c.lookup(launch.claims, launch.platform.nip_claim or "custom.nip")
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 18:
        return None
    try:
        return parse_nip(digits).value
    except (LmsError, ValueError):
        return None


#: Accounts a launch never signs in as by matching an e-mail or NIP: they see personal
#: data of others, so they are linked to a platform only by signing in themselves.
PROTECTED_ROLES = (Role.ADMIN, Role.HR)


def find_or_create_user(launch: Launch, context_title: str = "") -> tuple[User, bool]:
    """The Lentera account of the launching user: ``(user, created)``.

    An earlier launch's link wins; else the account with the launch's e-mail (or NIP, as
    the platform is configured); else a new learner account when the platform may create
    accounts. Administrator and HR accounts are never matched this way.
    """
    from lms.people import service as people

    session = get_session()
    platform = launch.platform
    link = session.scalar(sa.select(LtiUserLink).where(LtiUserLink.platform_id == platform.id,
                                                       LtiUserLink.sub == launch.sub))
    if link is not None:
        user = session.get(User, link.user_id)
        if user is None or not user.active:
            raise LaunchRefused(_l("Your Lentera account is disabled. Ask an administrator."),
                                platform=platform)
        link.last_launch_at = utcnow()
        _grant_trainer(launch, user)
        return user, False
    email = _email(launch.claims)
    nip = _nip(launch)
    user = None
    if platform.match_by == MATCH_NIP:
        if nip:
            user = session.scalar(sa.select(User).where(User.nip == nip))
    elif email:
        user = session.scalar(sa.select(User).where(User.email == email))
    created = False
    if user is not None:
        if not user.active:
            raise LaunchRefused(_l("Your Lentera account is disabled. Ask an administrator."),
                                platform=platform)
        if user.has_role(*PROTECTED_ROLES):
            raise LaunchRefused(_l("An administrator or HR account cannot be signed in from "
                                   "a platform. Sign in to Lentera directly."),
                                platform=platform)
    else:
        if not platform.create_users:
            raise LaunchRefused(_l("You have no Lentera account yet, and this platform may "
                                   "not create one. Ask an administrator."), platform=platform)
        if not email and not nip:
            raise LaunchRefused(_l("The platform sent neither an e-mail address nor a NIP, "
                                   "so Lentera cannot make your account. Ask the platform's "
                                   "administrator to share e-mail addresses with Lentera."),
                                platform=platform)
        # A NIP or e-mail already taken by another account is not copied onto a new one.
        if nip and session.scalar(sa.select(User.id).where(User.nip == nip)) is not None:
            nip = None
        if email and session.scalar(sa.select(User.id).where(User.email == email)) \
                is not None:
            email = None
        if not email and not nip:
            raise LaunchRefused(_l("Your e-mail address or NIP belongs to another Lentera "
                                   "account. Ask an administrator."), platform=platform)
        roles = [Role.LEARNER]
        if platform.grant_trainer and launch.instructor:
            roles.append(Role.TRAINER)
        user = people.create_user(name=_display_name(launch.claims) or (email or nip or ""),
                                  email=email, nip=nip, roles=roles)
        created = True
    _grant_trainer(launch, user)
    session.add(LtiUserLink(platform_id=platform.id, sub=launch.sub, user_id=user.id,
                            created_user=created, first_context_title=context_title[:300],
                            last_launch_at=utcnow()))
    session.flush()
    return user, created


def _grant_trainer(launch: Launch, user: User) -> None:
    """Platform instructors become trainers where the platform is trusted for that."""
    from lms.people import service as people

    if launch.platform.grant_trainer and launch.instructor and not user.has_role(Role.TRAINER):
        people.set_roles(user, [*user.roles, Role.TRAINER])


def _context(launch: Launch) -> LtiContext | None:
    claim = launch.claims.get(c.CONTEXT)
    if not isinstance(claim, dict) or not isinstance(claim.get("id"), str) or not claim["id"]:
        return None
    session = get_session()
    context_id = claim["id"][:255]
    row = session.scalar(sa.select(LtiContext).where(
        LtiContext.platform_id == launch.platform.id, LtiContext.context_id == context_id))
    if row is None:
        row = LtiContext(platform_id=launch.platform.id, context_id=context_id)
        session.add(row)
    if isinstance(claim.get("title"), str):
        row.title = claim["title"][:300]
    if isinstance(claim.get("label"), str):
        row.label = claim["label"][:300]
    nrps = launch.claims.get(c.NRPS)
    if isinstance(nrps, dict) and isinstance(nrps.get("context_memberships_url"), str):
        row.memberships_url = nrps["context_memberships_url"][:2000]
    return row


def context_iri(platform: LtiPlatform, context_id: str) -> str:
    """The xAPI activity that stands for a platform course."""
    return tool_url(f"/lti/platforms/{platform.id}/contexts/{quote(context_id, safe='')}")


@dataclass
class Entry:
    """What a resource link launch leads to."""

    user: User
    created: bool
    url: str
    link: LtiResourceLink | None


def enter(launch: Launch) -> Entry:
    """Act on a validated resource link launch (see the module docstring, step 3)."""
    try:
        return _enter(launch)
    except LaunchRefused as exc:
        exc.platform = exc.platform or launch.platform
        raise


def _enter(launch: Launch) -> Entry:
    from lms.courses import service as courses
    from lms.courses.journey import Journey

    claims = launch.claims
    target = parse_target(str(claims.get(c.TARGET_LINK_URI) or ""), claims.get(c.CUSTOM))
    course = version = module = None
    if target is not None:
        course, version, module = _resolve(target)
    context = _context(launch)
    user, created = find_or_create_user(launch, context.title if context else "")
    session = get_session()
    link = None
    enrollment = None
    if target is not None and course is not None:
        link_claim = claims[c.RESOURCE_LINK]
        link = session.scalar(sa.select(LtiResourceLink).where(
            LtiResourceLink.platform_id == launch.platform.id,
            LtiResourceLink.resource_link_id == link_claim["id"]))
        if link is None:
            link = LtiResourceLink(platform_id=launch.platform.id,
                                   resource_link_id=link_claim["id"])
            session.add(link)
        link.deployment_id = launch.deployment_id
        link.context = context
        link.title = str(link_claim.get("title") or "")[:300]
        link.activity_iri = target.activity_iri
        link.course_slug = target.slug
        link.target_kind = target.kind
        link.module_id = target.module_id
        ags = claims.get(c.AGS_ENDPOINT)
        if isinstance(ags, dict):
            link.lineitem_url = str(ags.get("lineitem") or "")[:2000]
            link.lineitems_url = str(ags.get("lineitems") or "")[:2000]
            scopes = ags.get("scope")
            link.ags_scopes = [s for s in scopes if isinstance(s, str)][:10] \
                if isinstance(scopes, list) else []
        session.flush()
        binding = session.scalar(sa.select(LtiBinding).where(
            LtiBinding.resource_link_id == link.id, LtiBinding.user_id == user.id))
        if binding is None:
            binding = LtiBinding(resource_link_id=link.id, user_id=user.id, sub=launch.sub)
            session.add(binding)
        binding.sub = launch.sub
        binding.roles = launch.roles
        binding.last_launch_at = utcnow()
        if not launch.instructor:
            enrollment = courses.enrollment_for(user, course)
            if enrollment is None:
                enrollment, _new = courses.enrol(user, course)
                Journey(user, course, courses.pinned_version(enrollment), enrollment).enrolled()
    _store_launched(launch, user, target, course, version, module, context, enrollment)
    session.flush()
    url = target.path if target is not None else "/courses/"
    return Entry(user=user, created=created, url=url, link=link)


def _store_launched(launch: Launch, user: User, target: Target | None, course: Any,
                    version: Any, module: dict[str, Any] | None, context: LtiContext | None,
                    enrollment: Any) -> None:
    """The ``launched`` statement of this launch, through the LRS."""
    from lms.xapi.actors import actor_for
    from lms.xapi.service import store_statements

    base = current_app.config["BASE_URL"]
    if target is not None and version is not None:
        definition = version.definition
        title = module["title"] if module else definition["title"]
        activity_type = ("http://adlnet.gov/expapi/activities/assessment"
                         if target.kind == "quiz" else
                         "http://adlnet.gov/expapi/activities/lesson" if module else
                         "http://adlnet.gov/expapi/activities/course")
        obj = {"objectType": "Activity", "id": target.activity_iri,
               "definition": {"type": activity_type, "name": {"id-ID": title}}}
    else:
        obj = {"objectType": "Activity", "id": base + "/courses/",
               "definition": {"type": "http://adlnet.gov/expapi/activities/link",
                              "name": {"id-ID": "Katalog Lentera"}}}
    context_activities: dict[str, Any] = {"category": [{"id": base + "/xapi/profiles/lti"}]}
    if module is not None and target is not None:
        context_activities["parent"] = [{"id": tool_url(f"/courses/{target.slug}")}]
    if context is not None:
        context_activities["grouping"] = [{
            "id": context_iri(launch.platform, context.context_id),
            "definition": {"type": "http://adlnet.gov/expapi/activities/course",
                           "name": {"und": context.title or context.context_id}}}]
    link = launch.claims.get(c.RESOURCE_LINK) or {}
    statement: dict[str, Any] = {
        "actor": actor_for(user),
        "verb": {"id": ADL_LAUNCHED, "display": {"en-US": "launched", "id-ID": "meluncurkan"}},
        "object": obj,
        "context": {
            "platform": launch.platform.name[:100],
            "contextActivities": context_activities,
            "extensions": {base + "/xapi/extensions/lti-launch": {
                "issuer": launch.platform.issuer,
                "deployment_id": launch.deployment_id,
                "resource_link_id": str(link.get("id") or "")[:255],
                "context_id": context.context_id if context else None,
                "message_type": launch.message_type,
                "roles": launch.roles[:10],
            }},
        },
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
    }
    if enrollment is not None:
        statement["context"]["registration"] = enrollment.registration
    store_statements([statement])
