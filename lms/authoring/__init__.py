"""Trainer authoring: courses built in the browser, published as course versions;
course packages (zip) in and out; cmi5 packages imported, launched and judged by moveOn;
results and item analysis for trainers."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.plugins.content import ContentType


class Cmi5ContentType(ContentType):
    """Modules of kind ``cmi5`` (imported cmi5 packages), launched in a sandbox and
    completed by moveOn (declared in ``lms.content_types``)."""

    name = "cmi5"
    label = _l("cmi5 package")
    self_paced = False

    def player(self, slug: str, module: dict[str, Any]) -> Any:
        from lms.authoring.views import cmi5_player

        return cmi5_player(slug, module)


def init_app(app: Flask) -> None:
    from lms.authoring.cli import register_cmi5, wrap_import_courses
    from lms.authoring.views import authoring_bp, cmi5_bp
    from lms.courses.explain import format_error_text
    from lms.web import FRAMEABLE_ENDPOINTS, csrf

    app.register_blueprint(authoring_bp)
    app.register_blueprint(cmi5_bp)
    # Problems of a course folder, in the UI language (templates/authoring/course.html).
    app.jinja_env.globals["course_error_text"] = format_error_text
    csrf.exempt("lms.authoring.views.cmi5_fetch")
    FRAMEABLE_ENDPOINTS.update({"cmi5.content", "cmi5.returned"})
    wrap_import_courses(app)
    register_cmi5()  # lms import-courses takes cmi5 zips
    # The cmi5 content type (above) and the cmi5 moveOn consumer are declared in the
    # entry-point groups of pyproject.toml and registered by lms.plugins.
    from lms.authoring.cmi5 import check_session_open, check_session_statement
    from lms.xapi.auth import register_launch_check, register_session_check

    # Statements of an abandoned or terminated AU session are refused by the LRS, and so
    # is its launch credential once the session is over.
    register_launch_check(check_session_statement)
    register_session_check(check_session_open)
