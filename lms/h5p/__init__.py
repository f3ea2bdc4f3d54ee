"""H5P content as modules of a course, played from Lentera's own server.

A module of kind ``h5p`` names an ``.h5p`` file of the course (``h5p: latihan.h5p`` in the
lesson's front matter; trainers upload it in authoring). The package carries its own H5P
libraries; :mod:`lms.h5p.package` checks and extracts it, :mod:`lms.h5p.views` plays it with
the vendored ``h5p-standalone`` player in a sandboxed frame (an opaque origin: the content's
scripts cannot read Lentera's session or call its pages as the learner), and the xAPI
statements H5P emits go to the LRS with a launch credential bound to this learner,
registration and H5P activity (:mod:`lms.xapi.launch`). :mod:`lms.h5p.consumer` turns a
completing statement of the activity into the module's completion, like a lesson's.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.plugins.content import ContentType


class H5PContentType(ContentType):
    """Modules of kind ``h5p``: an .h5p package, completed by its own xAPI statements."""

    name = "h5p"
    label = _l("Interactive (H5P)")
    self_paced = False

    def player(self, slug: str, module: dict[str, Any]) -> Any:
        from lms.h5p.views import play

        return play(slug, module)


def init_app(app: Flask) -> None:
    from lms.h5p.views import h5p_bp
    from lms.web import FRAMEABLE_ENDPOINTS

    app.register_blueprint(h5p_bp)
    # The player frame is framed by Lentera's own module page.
    FRAMEABLE_ENDPOINTS.update({"h5p.frame"})
