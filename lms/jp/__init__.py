"""JP (jam pelajaran): the one answer to "how many JP has employee X in year Y, and from
what", and the 20 JP workflow around it.

- :mod:`lms.jp.sources` — the one source definition (SQL) every JP figure is built from
- :mod:`lms.jp.service` — one employee's JP, records, pending learning, yearly statement
- :mod:`lms.jp.submissions` — learning done elsewhere: submitted, confirmed by the
  supervisor, verified by HR (every step an xAPI statement); the conversion table
- :mod:`lms.jp.hr` — HR's view: waiting verifications, who is below 20 JP, the 10:20:70 mix
- :mod:`lms.jp.siasn` — export and push to SIASN
- :mod:`lms.jp.views` (``/jp``), :mod:`lms.jp.api` (``/api/v1/employees/<nip>/jp``)

See docs/jp.md.
"""

from __future__ import annotations

from flask import Flask

#: Settings (``LMS_SIASN_*`` in the environment): see lms.jp.siasn and docs/jp.md.
DEFAULTS = {
    "SIASN_API_URL": "",
    "SIASN_TOKEN_URL": "",
    "SIASN_CONSUMER_KEY": "",
    "SIASN_CONSUMER_SECRET": "",
    "SIASN_SSO_URL": "",
    "SIASN_SSO_CLIENT_ID": "",
    "SIASN_SSO_USERNAME": "",
    "SIASN_SSO_PASSWORD": "",
    "SIASN_INSTANSI_ID": "",
    "SIASN_KEY": "",
    "SIASN_RETRIES": 3,
    "SIASN_TIMEOUT": 20,
}


def init_app(app: Flask) -> None:
    from lms.jp import (
        api,  # noqa: F401  (adds its routes to the API blueprint)
        models,  # noqa: F401
    )
    from lms.jp.notify import register
    from lms.jp.views import home_panel, jp_bp
    from lms.web import register_home_panel

    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.register_blueprint(jp_bp)
    register_home_panel(home_panel)
    register()  # its kinds of e-mail (lms.mail)
    from lms.jp import cli

    app.cli.add_command(cli.jp_cli)
