"""xAPI forwarding to other LRSs and pulling from them (see :mod:`lms.forwarding.service`).

- :mod:`lms.forwarding.models`: targets, sources, dead letters
- :mod:`lms.forwarding.service`: delivery with retries and backoff, pulling by ``since``
- :mod:`lms.forwarding.views`: admin pages under ``/admin/forwarding``
- ``lms forwarding ...``: the same from the command line

Delivery follows every commit that stored statements: queued on the Celery workers when a
broker is configured (:mod:`lms.tasks`), else in a background thread of the app process.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask

from lms import db

log = logging.getLogger(__name__)

#: The after-commit handler that forwards new statements (lms.db.on_commit).
DELIVER = "forwarding.deliver"


class _Deliverer:
    """The in-process delivery thread (no broker): wakes after each commit that stored
    statements, and every ``period`` seconds while a target waits out its backoff."""

    def __init__(self, app: Flask, period: float = 15.0):
        self.app = app
        self.period = period
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def poke(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, daemon=True,
                                               name="lms-forwarding")
                self.thread.start()
        self.wake.set()

    def _loop(self) -> None:
        from lms.forwarding.service import deliver_all, has_targets

        while True:
            self.wake.wait(self.period)
            self.wake.clear()
            try:
                if not has_targets(self.app):
                    return
                with self.app.app_context():
                    deliver_all()
            except Exception:  # keep the thread; the next wake retries
                log.exception("forwarding delivery failed")


def wants_delivery(app: Flask) -> bool:
    """Whether statements just stored should be forwarded (a target exists, delivery in
    the background is on)."""
    from lms.forwarding.service import has_targets

    return bool(app.config.get("FORWARDING_BACKGROUND", True)) and has_targets(app)


def _deliver_in_process(app: Flask, _items: list[Any]) -> None:
    """After a commit that stored statements: wake the delivery thread of this process
    (with a broker, :mod:`lms.tasks` queues the delivery task instead)."""
    if not wants_delivery(app):
        return
    deliverer: Any = app.extensions.get("lms.forwarding.deliverer")
    if deliverer is None:
        deliverer = app.extensions["lms.forwarding.deliverer"] = _Deliverer(app)
    deliverer.poke()


def init_app(app: Flask) -> None:
    from lms.forwarding.cli import forwarding_group
    from lms.forwarding.views import forwarding_bp

    app.config.setdefault("FORWARDING_BACKGROUND", True)
    app.register_blueprint(forwarding_bp)
    app.cli.add_command(forwarding_group)
    # Statements stored by a request, and those the consumers derive (mastered...).
    db.on_commit(DELIVER, ("statements", "statements.derived"), inline=_deliver_in_process)
