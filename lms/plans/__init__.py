"""Individual development plans (rencana pengembangan kompetensi individu): proposed from
an employee's gaps, agreed with the supervisor, tracked against the LRS, rolled up into
the organisation's plan for the year with JP and cost.

- :mod:`lms.plans.models`, :mod:`lms.plans.service`, :mod:`lms.plans.tracking` (the
  ``plans`` statement consumer), :mod:`lms.plans.views` (``/plans``),
  :mod:`lms.plans.demo`. See docs/plans.md.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and the home panel.

    The statement consumer that tracks plan items (``plans``) registers through the
    ``lms.statement_consumers`` entry-point group, like every built-in consumer.
    """
    from lms.plans import models  # noqa: F401
    from lms.plans.notify import register
    from lms.plans.views import home_panel, plans_bp
    from lms.web import register_home_panel

    app.register_blueprint(plans_bp)
    register_home_panel(home_panel)
    register()  # its kinds of e-mail (lms.mail)
