"""Lentera module `lms.credentials`: portable credentials and low-bandwidth delivery.

- Open Badges 3.0 credentials for course certificates, signed by the platform key
  (``badges``, ``keys``); the learner's *Kredensial Saya* and the public badge page.
- 1EdTech CASE export and import of competency frameworks (``case``).
- Small pages on slow connections: compression, long-cached static files and the service
  worker for offline lessons (``lowband``). See docs/credentials.md and
  docs/low-bandwidth.md.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.credentials import lowband
    from lms.credentials import models as _models  # noqa: F401  (tables known to Alembic)
    from lms.credentials.views import case_bp, credentials_bp

    app.config.setdefault("CREDENTIALS_KEY_FILE", None)
    app.config.setdefault("CREDENTIALS_ISSUER_NAME", None)
    app.register_blueprint(credentials_bp)
    app.register_blueprint(case_bp)
    lowband.init_app(app)
    from lms.credentials.cli import credentials_cli

    app.cli.add_command(credentials_cli)
