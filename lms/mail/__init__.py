"""E-mail outbox (see docs/mail.md).

- :func:`queue_mail` (the contract other modules call): adds an outbox row to the current
  session; the caller commits; nothing is sent before that commit.
- :func:`register_category` (:mod:`lms.mail.categories`): modules name their kinds of
  e-mail (label, who it is for); each person turns off the ones they do not want on
  ``/notifications/settings``; :func:`recipient_locale` and :func:`absolute_url` help
  write a message in the recipient's language with a link that works outside a request.
- :mod:`lms.mail.service`: delivery over SMTP (``MAIL_SERVER`` ...) or to the log.
- ``lms mail send``: send what is due (cron, or ``--loop``); retries with backoff.
- ``/admin/mail``: the outbox for administrators (status, error, retry).

After a commit that queued mail: with a Celery broker, one ``lms.mail.send`` task is
queued; without one, a background thread of the app process sends it
(``MAIL_BACKGROUND``, on by default, off under ``TESTING``). Either way a row is claimed
with a lease before it is sent, so concurrent senders never send a message twice, and
whatever the background path misses (a dead broker, a restarted process) waits in the
outbox for the next ``lms mail send``.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

from flask import Flask

from lms import db
from lms.mail.categories import category_label, register_category
from lms.mail.service import KIND, absolute_url, queue_mail, recipient_locale

__all__ = ["queue_mail", "register_category", "category_label", "recipient_locale",
           "absolute_url", "init_app"]

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "MAIL_SERVER": "",  # empty: messages go to the log
    "MAIL_PORT": None,  # 25, or 465 with MAIL_USE_SSL
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",  # set LMS_MAIL_PASSWORD in the environment, never in the repo
    "MAIL_USE_TLS": False,  # STARTTLS (usually port 587)
    "MAIL_USE_SSL": False,  # implicit TLS (port 465)
    "MAIL_SENDER": "",  # default: Lentera <noreply@host of BASE_URL>
    "MAIL_TIMEOUT": 10,
    "MAIL_MAX_ATTEMPTS": 5,
    "MAIL_RETRY_SECONDS": 60,
    "MAIL_LEASE_SECONDS": 300,
}


class _Sender:
    """The in-process sender (no broker): wakes after each commit that queued mail.

    At interpreter exit (a CLI command such as ``lms evaluation remind`` or ``lms demo``)
    it is given up to ``MAIL_EXIT_WAIT_SECONDS`` to finish, so a short-lived process does
    not leave its mail half-sent.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.stopping = False
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def poke(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, daemon=True,
                                               name="lms-mail")
                self.thread.start()
                atexit.register(self.stop)
        self.wake.set()

    def stop(self) -> None:
        thread = self.thread
        if thread is None or not thread.is_alive():
            return
        self.stopping = True
        self.wake.set()
        thread.join(float(self.app.config.get("MAIL_EXIT_WAIT_SECONDS", 30)))

    def _loop(self) -> None:
        from lms.mail.service import send_pending

        while self.wake.wait(60):
            self.wake.clear()
            try:
                with self.app.app_context():
                    send_pending()
            except Exception:  # keep the thread; the next commit or the CLI retries
                log.exception("sending e-mail failed")
            if self.stopping:
                return



#: The after-commit handler that sends the outbox (lms.db.on_commit).
SEND = "mail.send"


def _send_in_process(app: Flask, _items: list[Any]) -> None:
    """After a commit that queued mail: wake the sending thread of this process."""
    if not app.config.get("MAIL_BACKGROUND", not app.testing):
        return
    sender: Any = app.extensions.get("lms.mail.sender")
    if sender is None:
        sender = app.extensions["lms.mail.sender"] = _Sender(app)
    sender.poke()


def dispatch(app: Flask) -> None:
    """Start delivery of committed mail now (a Celery task or the background thread)."""
    db.dispatch(app, {KIND: []})


def init_app(app: Flask) -> None:
    from lms.mail.cli import mail_group
    from lms.mail.views import mail_bp, notifications_bp

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(mail_bp)
    app.register_blueprint(notifications_bp)
    app.add_template_filter(category_label, "mail_category")
    app.cli.add_command(mail_group)
    # With a broker, lms.tasks gives it its worker side (the lms.mail.send task).
    db.on_commit(SEND, KIND, inline=_send_in_process)
