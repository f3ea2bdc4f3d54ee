"""The competency engine: the ASN competency dictionary, position standards, evidence
rules, profiles derived from xAPI statements, gaps and recommendations.

- :mod:`lms.competency.models`: tables; :mod:`lms.competency.policy`: aggregation
  policies (pure); :mod:`lms.competency.rules`: rule matching and judging (pure)
- :mod:`lms.competency.engine`: the profile engine, a statement consumer
- :mod:`lms.competency.service`: frameworks, standards, rules, profiles (read side)
- :mod:`lms.competency.views` (``/competency``), :mod:`lms.competency.api` (``/api/v1``)
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app


def _on_course_published(_sender: Any, course: dict[str, Any] | None = None,
                         **_kw: Any) -> None:
    from lms.competency.service import apply_course_publication

    if course is not None and current_app.extensions.get("lms.competency.engine"):
        apply_course_publication(course)


def _on_user_created(_sender: Any, user: Any = None, **_kw: Any) -> None:
    """Credit statements that arrived before the person had an account."""
    from lms.competency.service import credit_earlier_statements

    if user is not None and current_app.extensions.get("lms.competency.engine"):
        credit_earlier_statements(user)


def _on_employees_imported(_sender: Any, result: Any = None, **_kw: Any) -> None:
    """Credit statements that arrived before imported employees had accounts."""
    from lms.competency.service import credit_earlier_statements_of

    if result is not None and result.created_user_ids and \
            current_app.extensions.get("lms.competency.engine"):
        credit_earlier_statements_of(list(result.created_user_ids))


def competency_consumer(app: Flask) -> Any:
    """The profile engine of ``app`` as a statement consumer (``lms.statement_consumers``
    entry ``competency``, registered by lms.plugins)."""
    from lms.competency.engine import CompetencyConsumer

    return CompetencyConsumer(app.extensions["lms.competency.engine"])


def init_app(app: Flask) -> None:
    from lms import signals
    from lms.competency import api  # noqa: F401  (adds its routes to the API blueprint)
    from lms.competency.cli import framework_group, profiles_group
    from lms.competency.engine import ProfileEngine
    from lms.competency.views import competency_bp, home_panel
    from lms.web import register_home_panel

    app.config.setdefault("COMPETENCY_EMIT_STATEMENTS", True)
    engine = ProfileEngine()
    app.extensions["lms.competency.engine"] = engine  # its consumer: competency_consumer
    # A weak reference would drop a function defined per app; connect once, module-level.
    signals.course_version_published.connect(_on_course_published, weak=False)
    signals.user_created.connect(_on_user_created, weak=False)
    signals.employees_imported.connect(_on_employees_imported, weak=False)
    app.register_blueprint(competency_bp)
    register_home_panel(home_panel)
    app.cli.add_command(profiles_group)
    app.cli.add_command(framework_group)
