"""Single sign-on by OpenID Connect (Authlib): a Pemda's identity provider (Keycloak, as
SIASN's SSO uses, or any certified provider) signs people in to existing accounts.

Configured by ``LMS_OIDC_*`` settings (see lms/config.py and docs/accounts.md). The flow
is the authorization code flow with PKCE (S256), a ``state`` and a ``nonce`` kept in the
signed session; the ID token is verified against the provider's published keys. The
person is matched by the e-mail claim (``OIDC_MATCH = "email"``, only when the provider
says it is verified) or by the NIP claim (``"nip"``, the claim ``OIDC_NIP_CLAIM``); an
account is never created by a sign-in. With ``LOCAL_PASSWORDS`` false this is the only
way in.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from lms.db import get_session, utcnow
from lms.people.models import User
from lms.people.views import auth_bp
from lms.web import limiter, safe_next_url

log = logging.getLogger(__name__)
EXTENSION = "lms.oidc"
NEXT_KEY = "lms_oidc_next"


def init_app(app: Flask) -> None:
    """Register the provider with Authlib when ``OIDC_CLIENT_ID`` is set."""
    if not app.config.get("OIDC_CLIENT_ID"):
        app.extensions.pop(EXTENSION, None)
        return
    from authlib.integrations.flask_client import OAuth

    discovery = app.config.get("OIDC_DISCOVERY_URL")
    if not discovery:
        issuer = str(app.config.get("OIDC_ISSUER") or "").rstrip("/")
        if not issuer:
            raise RuntimeError("LMS_OIDC_CLIENT_ID is set: set LMS_OIDC_DISCOVERY_URL or "
                               "LMS_OIDC_ISSUER too")
        discovery = issuer + "/.well-known/openid-configuration"
    if app.config.get("OIDC_MATCH") not in ("email", "nip"):
        raise RuntimeError("LMS_OIDC_MATCH must be \"email\" or \"nip\"")
    oauth = OAuth(app)
    oauth.register(
        "idp", client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        server_metadata_url=discovery,
        client_kwargs={"scope": app.config.get("OIDC_SCOPE") or "openid email profile",
                       "code_challenge_method": "S256", "timeout": 10})
    app.extensions[EXTENSION] = oauth


def _client() -> Any:
    oauth = current_app.extensions.get(EXTENSION)
    if oauth is None:
        abort(404)
    return oauth.idp


def callback_url() -> str:
    """The redirect URI to register at the provider: under ``LMS_BASE_URL``."""
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for("auth.oidc_callback")


@auth_bp.get("/login/oidc")
@limiter.limit("60 per minute", scope="oidc-start")
def oidc_login() -> Any:
    client = _client()
    session[NEXT_KEY] = safe_next_url(request.args.get("next"), url_for("home.index"))
    return client.authorize_redirect(callback_url())


def match_user(claims: dict[str, Any]) -> User | None:
    """The active account the claims name, by the configured claim; None otherwise."""
    session_db = get_session()
    if current_app.config.get("OIDC_MATCH") == "nip":
        from lms.people.nip import normalize_nip

        raw = claims.get(current_app.config.get("OIDC_NIP_CLAIM") or "nip")
        if not isinstance(raw, str | int):
            return None
        nip = normalize_nip(str(raw))
        if not nip.isdigit():
            return None
        user = session_db.scalar(sa.select(User).where(User.nip == nip))
    else:
        email = claims.get("email")
        # An address the provider has not verified must not open someone's account.
        if not isinstance(email, str) or claims.get("email_verified") is False:
            return None
        user = session_db.scalar(sa.select(User).where(
            sa.func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active:
        return None
    return user


@auth_bp.get("/login/oidc/callback")
@limiter.limit("60 per minute", scope="oidc-callback")
def oidc_callback() -> Any:
    client = _client()
    label = current_app.config.get("OIDC_LABEL") or "SSO"
    if request.args.get("error"):
        flash(_("Sign-in through %(name)s was cancelled or refused.", name=label), "warning")
        return redirect(url_for("auth.login"))
    try:
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        try:
            extra = client.userinfo(token=token)
            if extra.get("sub") == claims.get("sub"):
                claims.update(extra)
        except Exception:  # the ID token's claims are enough when userinfo fails
            log.info("OIDC userinfo not available; using the ID token's claims")
    except Exception as exc:  # a forged or stale callback, or the provider is down
        log.warning("OIDC sign-in failed: %s", exc)
        flash(_("Sign-in through %(name)s did not work. Try again.", name=label), "danger")
        return redirect(url_for("auth.login")), 302
    user = match_user(claims)
    if user is None:
        flash(_("Your %(name)s account matches no Lentera account. Ask HR to check your "
                "NIP and e-mail address.", name=label), "danger")
        return redirect(url_for("auth.login"))
    target = safe_next_url(session.pop(NEXT_KEY, None), url_for("home.index"))
    locale = user.locale or session.get("locale")
    session.clear()  # a new session for the signed-in user (session fixation)
    if locale:
        session["locale"] = locale
    login_user(user)
    user.last_login_at = utcnow()
    get_session().commit()
    flash(_("Welcome, %(name)s.", name=user.name.rstrip(".")), "success")
    return redirect(target)
