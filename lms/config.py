"""Settings: safe defaults for one machine, overridden by ``LMS_*`` environment variables.

Every setting can be given as an environment variable with the ``LMS_`` prefix
(``LMS_DATABASE_URL``, ``LMS_SECRET_KEY``, ``LMS_BASE_URL``, ``LMS_REDIS_URL``...).
Values are parsed as JSON when they look like it, so ``LMS_MAX_CONTENT_LENGTH=1048576``
is an int and ``LMS_SESSION_COOKIE_SECURE=true`` a bool (Flask's ``from_prefixed_env``).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask

#: Every PNS has the right to at least 20 JP a year (PP 11/2017 art. 203(4), as amended
#: by PP 17/2020): the target the JP answer (lms.jp) and the HR reports measure against.
JP_TARGET = 20

_PACKAGE = Path(__file__).resolve().parent
#: Where templates/, static/ and courses/ are: beside the package in a checkout (and an
#: editable install), inside it as lms/_files/ in a wheel (setup.py bundles them there).
BUNDLED = (_PACKAGE / "_files" / "templates").is_dir()
PROJECT_ROOT = _PACKAGE / "_files" if BUNDLED else _PACKAGE.parent


class DefaultConfig:
    """Defaults that run on one machine with no service but the app itself."""

    # Database: a SQLite file under instance/ unless LMS_DATABASE_URL says otherwise.
    DATABASE_URL: str | None = None
    DATABASE_ECHO = False
    # A pooled server connection idle for longer than this many seconds is tested with a
    # round trip before use (and replaced when the server closed it); one used more
    # recently is not. 0 tests it before every use.
    DATABASE_PING_AFTER = 5.0

    # Public base URL: used for xAPI account actors and activity IRIs, so keep it stable.
    BASE_URL = "http://127.0.0.1:5000"

    # Optional services (scale-out). Empty means in-process / in-memory.
    REDIS_URL = ""

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None  # None: follow the scheme of BASE_URL
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # "Remember me" keeps a browser signed in for this long (seconds; sign-out and a
    # password change end it at once on the server).
    REMEMBER_COOKIE_DURATION = 30 * 24 * 3600
    PERMANENT_SESSION_LIFETIME = 8 * 3600

    # Request size: large enough for CSV imports and course packages.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024

    # The cyclic garbage collector (lms._tune_garbage_collector): what the app builds at
    # start is frozen out of its sight, and it runs after this many new container objects
    # (Python's default is 700; a consumer batch or a request makes thousands).
    GC_FREEZE = True
    GC_THRESHOLD = (50000, 20, 100)

    # Password hashing (werkzeug method string). scrypt is the default for real use;
    # tests lower the cost because they create many users.
    PASSWORD_HASH_METHOD = "scrypt"

    # Sign-in limits (Flask-Limiter syntax), counted in Redis when LMS_REDIS_URL is set (so
    # every worker and app server shares them), else in each process's memory. Sized for an
    # office of 30 people behind one NAT address all signing in at 08:00:
    # - failed sign-ins per account (password guessing against one person):
    LOGIN_RATE_LIMIT_ACCOUNT = "10 per 15 minutes"
    # - failed sign-ins per client address (guessing across accounts from one place):
    LOGIN_RATE_LIMIT_ADDRESS = "100 per 15 minutes"
    # - every sign-in attempt per client address, successful or not:
    LOGIN_RATE_LIMIT = "600 per 15 minutes"
    RATELIMIT_ENABLED = True
    RATELIMIT_KEY_PREFIX = "lentera"
    # How many reverse proxies (load balancer, nginx) stand in front of the app and append
    # to X-Forwarded-For / set X-Forwarded-Proto. 0: none, the TCP peer is the client. Set
    # it to the exact number: a higher number lets clients choose their own address.
    TRUSTED_PROXY_COUNT = 0

    # Languages: Bahasa Indonesia by default, English available.
    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}

    # Bootstrap-Flask: serve Bootstrap from the package, never from a CDN.
    BOOTSTRAP_SERVE_LOCAL = True

    # Where uploads and generated files go (outside the code tree).
    UPLOAD_DIR: str | None = None

    # Employee import: the most rows one file may hold.
    IMPORT_MAX_ROWS = 200_000

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock

    # Accounts (docs/accounts.md): one-time links to set a password, sent as invitations
    # and by "Lupa kata sandi"; only a SHA-256 of each token is stored.
    INVITATION_VALID_DAYS = 14
    PASSWORD_RESET_VALID_MINUTES = 60
    PASSWORD_RESET_RATE_LIMIT = "5 per 15 minutes"
    # Single sign-on by OpenID Connect (Keycloak, SIASN's SSO...): the provider's discovery
    # URL (or its issuer, to which /.well-known/openid-configuration is added), the client
    # id and secret (LMS_OIDC_CLIENT_SECRET in the environment, never in a file under
    # version control), and how people are matched: "email" or "nip" (the claim named by
    # OIDC_NIP_CLAIM). Accounts are never created by a sign-in: HR imports people first.
    OIDC_DISCOVERY_URL: str | None = None
    OIDC_ISSUER: str | None = None
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None
    OIDC_MATCH = "email"
    OIDC_NIP_CLAIM = "nip"
    OIDC_SCOPE = "openid email profile"
    OIDC_LABEL = "SSO"
    # False: people sign in through OIDC only (no password form, no password reset).
    LOCAL_PASSWORDS = True

    # Courses: hosts whose pages lessons may embed (https only; subdomains included),
    # e.g. H5P content and video players.
    EMBED_ALLOWED_HOSTS = ["youtube.com", "youtube-nocookie.com", "player.vimeo.com",
                           "h5p.org", "h5p.com"]


def load_config(app: Flask, config: dict[str, Any] | None) -> None:
    """Fill ``app.config``: defaults, then ``LMS_*`` variables, then ``config``."""
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("LMS")
    if config:
        app.config.update(config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'lentera.db'}"
    if not app.config.get("UPLOAD_DIR"):
        app.config["UPLOAD_DIR"] = str(instance / "uploads")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(instance)
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        secure = str(app.config["BASE_URL"]).startswith("https://")
        app.config["SESSION_COOKIE_SECURE"] = secure
        app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config["BASE_URL"] = str(app.config["BASE_URL"]).rstrip("/")
    if app.config.get("REDIS_URL") and not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]


def _instance_secret_key(instance: Path) -> str:
    """Read the secret key kept in ``instance/secret_key``, creating it on first run.

    The file is outside version control (instance/ is ignored) and readable by its owner
    only, so a fresh clone gets its own key and no secret is ever committed.
    """
    path = instance / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_hex(32)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(key + "\n")
    return key


def broker_url(app: Any) -> str:
    """The Celery broker URL of ``app`` ('' when background work runs in process):
    ``LMS_CELERY_BROKER_URL``, else ``LMS_REDIS_URL``."""
    return str(app.config.get("CELERY_BROKER_URL") or app.config.get("REDIS_URL") or "")
