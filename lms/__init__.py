"""Lentera: a competency-based learning platform for ASN with its own xAPI LRS."""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask

from lms.config import BUNDLED, PROJECT_ROOT, load_config

#: Modules wired into the app, in order. Each exposes ``init_app(app)``.
MODULES = (
    "lms.db",
    "lms.web",
    "lms.xapi",
    "lms.people",
    # Before the courses: its demo loads the frameworks that course targets name.
    "lms.competency",
    "lms.courses",
    "lms.quizzes",
    "lms.authoring",
    # SCORM 1.2 / 2004 packages as courses (after authoring: its zip importer).
    "lms.packages",
    # H5P packages as course modules (after authoring: its archive checks).
    "lms.h5p",
    "lms.reports",
    # The development loop: e-mail outbox first (the others notify through it), then
    # assessment, development plans, training evaluation, community, portable credentials.
    "lms.mail",
    "lms.assessment",
    "lms.plans",
    "lms.evaluation",
    "lms.community",
    "lms.credentials",
    # JP: the one JP service, learning submitted for JP and its verification, SIASN.
    "lms.jp",
    # Mandatory learning assigned by HR (after mail, reports and credentials it uses).
    "lms.assignments",
    # Lentera as an LTI 1.3 tool of other platforms (launch, deep linking, grades).
    "lms.lti",
    # Plugins (entry points): after the registries they add to, before the API.
    "lms.plugins",
    # Forwarding to and pulling from other LRSs; Celery tasks and `lms worker`.
    "lms.forwarding",
    "lms.jobs",
    "lms.tasks",
    # Keep last: modules add their /api/v1 routes to its blueprint before it registers.
    "lms.api",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the Lentera app. ``config`` overrides defaults and ``LMS_*`` variables."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        # The instance folder (secret key, SQLite database, uploads, job files): the
        # INSTANCE_PATH setting, LMS_INSTANCE_PATH in the environment, or instance/ (in
        # the checkout; in the current directory when installed from a wheel).
        instance_path=str((config or {}).get("INSTANCE_PATH")
                          or os.environ.get("LMS_INSTANCE_PATH")
                          or (Path.cwd() if BUNDLED else PROJECT_ROOT) / "instance"),
    )
    load_config(app, config)
    for name in MODULES:
        import_module(name).init_app(app)
    from lms import cli

    cli.init_app(app)
    _tune_garbage_collector(app)
    return app


def _tune_garbage_collector(app: Flask) -> None:
    """Keep the cyclic garbage collector off what lives as long as the process.

    Everything the app built at start (modules, the app, its registries, templates'
    caches...) is alive until the process ends, yet every full collection walked it again:
    about a third of the consumer worker's CPU and a tenth of a statement POST's went to
    the collector. ``gc.freeze()`` moves what exists now out of its sight, and collections
    start after ``GC_THRESHOLD[0]`` new container objects instead of 700 (a request or a
    consumer batch makes thousands, most freed at once by reference counting).
    ``LMS_GC_FREEZE=false`` and ``LMS_GC_THRESHOLD=[700,10,10]`` give Python's defaults.
    """
    import gc

    threshold = app.config.get("GC_THRESHOLD")
    if threshold:
        gc.set_threshold(*[int(n) for n in threshold])
    if app.config.get("GC_FREEZE", True):
        gc.collect()
        gc.freeze()
