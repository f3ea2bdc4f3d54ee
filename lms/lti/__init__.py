"""Lentera as an LTI 1.3 / LTI Advantage tool (see docs/lti.md).

- ``/lti/login``, ``/lti/launch``: OIDC third-party login and resource-link launches from
  registered platforms (:mod:`lms.lti.launch`); ``/lti/deep-link/<token>``: the content
  picker of Deep Linking (:mod:`lms.lti.deeplink`); ``/lti/register/<token>``: Dynamic
  Registration (:mod:`lms.lti.registration`); ``/lti/jwks``: Lentera's key set
  (:mod:`lms.lti.keys`).
- Grades: the ``lti`` statement consumer (:mod:`lms.lti.consumer`, declared in the
  ``lms.statement_consumers`` group) queues score posts; :mod:`lms.lti.ags` sends them
  after the commit (a Celery task with a broker, a background thread without one, or
  ``lms lti scores send``), with retries and backoff.
- ``/admin/lti/``: platforms, registration links, keys, the score outbox, rosters.

Two small hooks into the shared web plumbing, both only for sign-ins made by a launch
(session key ``lti_platform``): the pages of such a session may be framed by that
platform (:func:`lms.web.extend_csp` with ``frame-ancestors``), and its session cookie is
``SameSite=None; Secure`` so the browser sends it inside the platform's cross-site frame.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from typing import Any

from flask import Flask, g, session
from flask.sessions import SecureCookieSessionInterface

from lms import db

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "LTI_KEY": "",  # Fernet key(s) for the private keys; default: derived from SECRET_KEY
    "LTI_KEY_GRACE_DAYS": 7,  # how long a retired key stays published
    "LTI_ALLOW_HTTP": False,  # accept http:// platform URLs beyond the loopback host
    "LTI_HTTP_TIMEOUT": 10,
    "LTI_MAX_ATTEMPTS": 8,
    "LTI_RETRY_SECONDS": 60,
    "LTI_INVITE_HOURS": 24,
}


def _in_lti_session() -> bool:
    try:
        return bool(session.get("lti_platform"))
    except RuntimeError:  # outside a request
        return False


def _session_interface(base: SecureCookieSessionInterface) -> SecureCookieSessionInterface:
    """The app's session interface, with the cookie of LTI sessions made cross-site."""

    class LtiSessionInterface(type(base)):  # type: ignore[misc]
        def get_cookie_samesite(self, app: Flask) -> str | None:
            if _in_lti_session():
                return "None"
            return super().get_cookie_samesite(app)  # type: ignore[no-any-return]

        def get_cookie_secure(self, app: Flask) -> bool:
            # Browsers drop SameSite=None cookies without Secure; on http they keep Secure
            # cookies only from the loopback host (docs/lti.md: "Cookies").
            return True if _in_lti_session() else super().get_cookie_secure(app)  # type: ignore[no-any-return]

    interface = LtiSessionInterface()
    interface.__dict__.update(base.__dict__)
    return interface


def _frame_for_platform() -> None:
    """Pages of a sign-in made by a launch may be framed by that platform."""
    platform_id = session.get("lti_platform") if session else None
    if not platform_id or not isinstance(platform_id, int):
        return
    from lms.db import get_session
    from lms.lti.models import LtiPlatform
    from lms.lti.views import allow_platform_frames

    allow_platform_frames(get_session().get(LtiPlatform, platform_id))
    g.lti_framed = True


class _Sender:
    """Sends score posts in a background thread of the app process (no broker)."""

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.stopping = False

    def poke(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, daemon=True,
                                               name="lms-lti-scores")
                self.thread.start()
                atexit.register(self.stop)
        self.wake.set()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        if self.thread is not None and self.thread.is_alive():
            self.thread.join(10)

    def _loop(self) -> None:
        from lms.lti.ags import send_pending

        while self.wake.wait(60):
            self.wake.clear()
            if self.stopping:
                return
            try:
                with self.app.app_context():
                    send_pending()
            except Exception:  # the next commit, the periodic task or the CLI retries
                log.exception("sending LTI scores failed")


_broker_paused_until = 0.0


def _send_in_process(app: Flask, _items: list[Any]) -> None:
    """After a commit that queued score posts: wake the sending thread of this process."""
    if not app.config.get("LTI_BACKGROUND", not app.testing):
        return
    sender: Any = app.extensions.get("lms.lti.sender")
    if sender is None:
        sender = app.extensions["lms.lti.sender"] = _Sender(app)
    sender.poke()


def _send_on_worker(app: Flask, _items: list[Any]) -> None:
    """After a commit that queued score posts, with a broker: queue the sending task."""
    global _broker_paused_until
    if not app.config.get("LTI_BACKGROUND", not app.testing):
        return
    if time.monotonic() < _broker_paused_until:
        return
    from lms.lti.tasks import send_scores_task

    try:
        send_scores_task.apply_async(retry=False)
    except Exception:  # the outbox keeps the rows; the periodic task sends them
        _broker_paused_until = time.monotonic() + 5
        log.warning("could not queue the LTI scores task", exc_info=True)


def dispatch(app: Flask) -> None:
    """Start sending queued score posts now (a Celery task, or the background thread)."""
    from lms.lti.ags import KIND

    db.dispatch(app, {KIND: []})


def init_app(app: Flask) -> None:
    from lms.lti import tasks  # noqa: F401  (registers the Celery task)
    from lms.lti.cli import lti_group
    from lms.lti.views import admin_bp, tool_bp
    from lms.web import csrf

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(tool_bp)
    app.register_blueprint(admin_bp)
    # Platforms post these cross-site: no session, so no CSRF token. The launch is
    # protected by the signed token, state and nonce; the picker and the registration by
    # the unguessable single-use token in their address.
    for view in ("login", "launch", "deep_link", "register"):
        csrf.exempt(f"lms.lti.views.{view}")
    app.cli.add_command(lti_group)
    app.session_interface = _session_interface(app.session_interface)  # type: ignore[arg-type]
    app.before_request(_frame_for_platform)
    from lms.lti.ags import KIND

    db.on_commit("lti.scores.send", KIND, inline=_send_in_process, worker=_send_on_worker)
