"""Trainer authoring: courses built in the browser, published as course versions;
course packages (zip) in and out; cmi5 packages imported, launched and judged by moveOn;
results and item analysis for trainers."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.authoring.cli import wrap_import_courses
    from lms.authoring.cmi5 import Cmi5Consumer
    from lms.authoring.views import authoring_bp, cmi5_bp, cmi5_player
    from lms.courses.views import register_module_player
    from lms.web import FRAMEABLE_ENDPOINTS, csrf

    app.register_blueprint(authoring_bp)
    app.register_blueprint(cmi5_bp)
    csrf.exempt("lms.authoring.views.cmi5_fetch")
    FRAMEABLE_ENDPOINTS.update({"cmi5.content", "cmi5.returned"})
    register_module_player("cmi5", cmi5_player)
    wrap_import_courses(app)
    from lms.xapi.consumers import register_consumer

    register_consumer(app, Cmi5Consumer())
