"""HR reporting: dashboards, drill-downs, completion records and exports, training needs
analysis (AKPK), offline training recorded as xAPI statements, and HR scopes.

- :mod:`lms.reports.scope`: who may see whose records (every query goes through it)
- :mod:`lms.reports.service`: figures, drill-downs, completion records, transcripts
- :mod:`lms.reports.needs`: gaps, job-person match, routes and the budget plan
- :mod:`lms.reports.training`: offline training, its statements, and the ``jp-credits``
  statement consumer
- :mod:`lms.reports.exports`: streamed CSV and XLSX
- :mod:`lms.reports.guard`: the HR scope on other modules' per-employee endpoints
- :mod:`lms.reports.views` (``/reports``), :mod:`lms.reports.api` (``/api/v1/reports``)
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.reports import api  # noqa: F401  (adds its routes to the API blueprint)
    from lms.reports.guard import check_scope
    from lms.reports.views import home_panel, reports_bp
    from lms.web import register_home_panel

    app.config.setdefault("REPORTS_COST_PER_JP", None)
    # Its statement consumer (jp-credits, lms.reports.training.JpLedger) is declared in the
    # lms.statement_consumers entry-point group and registered by lms.plugins.
    app.register_blueprint(reports_bp)
    register_home_panel(home_panel)
    from lms.reports.notify import register

    register()  # its kind of e-mail (lms.mail)
    from lms.reports.summary import listen

    # The JP summary also counts course enrolments, which the courses module writes itself.
    listen()
    # The HR scope also holds on other modules' per-employee pages (see guard.py).
    app.before_request(check_scope)
