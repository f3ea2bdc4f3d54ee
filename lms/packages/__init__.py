"""SCORM 1.2 and SCORM 2004 packages (see docs/packages.md).

- ``/packages/``: trainers import a SCORM zip as a course (or a new version of one);
  ``lms import-courses FILE.zip`` does the same for a zip with ``imsmanifest.xml``.
- ``/packages/<slug>/<module_id>``: the player, with scorm-again as the SCORM API and the
  SCO in a sandboxed frame (:mod:`lms.packages.views`).
- The ``scorm`` content type and the ``packages`` statement consumer are declared in the
  entry-point groups of pyproject.toml and registered by lms.plugins.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.plugins.content import ContentType


class ScormContentType(ContentType):
    """Modules of kind ``scorm`` (an item of an imported SCORM package), played in a
    sandbox; completed by the statements the SCO's runtime data gives."""

    name = "scorm"
    label = _l("SCORM package")
    self_paced = False

    def player(self, slug: str, module: dict[str, Any]) -> Any:
        from lms.packages.views import scorm_player

        return scorm_player(slug, module)


def init_app(app: Flask) -> None:
    from lms.authoring.cli import register_zip_importer
    from lms.packages.cli import import_scorm_zip, is_scorm
    from lms.packages.views import packages_bp
    from lms.web import FRAMEABLE_ENDPOINTS

    app.config.setdefault("PACKAGES_CONTENT_ORIGIN", "")
    app.register_blueprint(packages_bp)
    app.before_request(_content_host_only)
    FRAMEABLE_ENDPOINTS.add("packages.content")
    register_zip_importer("scorm", is_scorm, import_scorm_zip)


def _content_host_only() -> Any:
    """On the content origin (``PACKAGES_CONTENT_ORIGIN``) only package files and static
    files are served: nothing of Lentera's own pages answers there."""
    from flask import abort, request

    from lms.packages.views import on_content_host

    if on_content_host() and request.endpoint not in ("packages.content", "static"):
        abort(404)
    return None
