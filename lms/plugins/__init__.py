"""The plugin surface: Python entry points that add to Lentera's registries.

Groups (declare them in a package's ``pyproject.toml`` under ``[project.entry-points]``):

``lms.question_types``
    ``name = "package.module:Class"``: a :class:`lms.quizzes.grading.QuestionType`
    subclass (or instance) whose ``name`` equals the entry-point name. Lentera's own seven
    types are declared the same way in its ``pyproject.toml``. A plugin type may set
    ``model`` (a pydantic model, subclass of :class:`lms.courses.format.QuestionBase`)
    to validate quiz files and the editor, ``label`` for the authoring UI,
    ``from_form(get, getlist)`` to read the editor's fields, and ``template_folder``: its
    templates live under ``plugins/<name>/`` there (``attempt.html``, ``editor.html``,
    ``preview.html``).
``lms.content_types``
    ``name = "package.module:Class"``: a :class:`lms.plugins.content.ContentType` (module
    kind) whose ``name`` equals the entry-point name; its ``player(slug, module)`` plays
    the modules of that kind. Lentera's own (lesson, video, embed, quiz, cmi5) too.
``lms.statement_consumers``
    ``name = "package.module:Class"``: a :class:`lms.xapi.consumers.StatementConsumer`
    (class, instance, or a function ``f(app)`` returning one); registered with every app,
    exactly-once through its own cursor. Lentera's own consumers too.
``lms.jobs``
    ``name = "package.module:function"``: a background job kind for
    :func:`lms.jobs.service.submit_job` (``function(job, params, progress)``).
``lms.plugins``
    ``name = "package.module:function"``: called with the app at start-up, for anything
    else (a blueprint, a signal receiver, a CLI command).

A duplicate name in a group is an error, not a silent override. A plugin that fails to
import stops the start-up with its name in the message: a half-loaded plugin set would
grade or derive differently from one process to the next. Lentera's own entries belong to
a module (the ``lms.<module>`` their value names, or their ``module`` attribute); they
are skipped when that module is not in :data:`lms.MODULES`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from flask import Flask

from lms.plugins.content import (
    CONTENT_TYPES,
    PLAYED_BY_COURSES,
    ContentType,
    content_type_label,
)
from lms.plugins.registry import JOBS, MODULE_PLAYERS, DuplicateName, app_registry

log = logging.getLogger(__name__)

GROUPS = ("lms.question_types", "lms.content_types", "lms.statement_consumers", "lms.jobs",
          "lms.plugins")

#: Lentera's own entries per group: name -> (the module they belong to, the value
#: declared in pyproject.toml; a test keeps the two equal). The group is what is loaded;
#: the value here is only the fallback for an environment whose installed metadata
#: predates an entry (a checkout newer than its ``pip install -e .``).
BUILTINS: dict[str, dict[str, tuple[str, str]]] = {
    "lms.content_types": {
        "lesson": ("lms.courses", "lms.courses.content_types:Lesson"),
        "video": ("lms.courses", "lms.courses.content_types:Video"),
        "embed": ("lms.courses", "lms.courses.content_types:Embed"),
        "quiz": ("lms.quizzes", "lms.quizzes.content_types:Quiz"),
        "cmi5": ("lms.authoring", "lms.authoring:Cmi5ContentType"),
        "scorm": ("lms.packages", "lms.packages:ScormContentType"),
        "h5p": ("lms.h5p", "lms.h5p:H5PContentType"),
    },
    "lms.statement_consumers": {
        "courses": ("lms.courses", "lms.courses.ledger:LearningLedger"),
        "cmi5": ("lms.authoring", "lms.authoring.cmi5:Cmi5Consumer"),
        "packages": ("lms.packages", "lms.packages.service:PackagesConsumer"),
        "h5p": ("lms.h5p", "lms.h5p.consumer:H5PConsumer"),
        "competency": ("lms.competency", "lms.competency:competency_consumer"),
        "jp-credits": ("lms.reports", "lms.reports.training:JpLedger"),
        "assignments": ("lms.assignments", "lms.assignments.ledger:AssignmentsLedger"),
        "plans": ("lms.plans", "lms.plans.tracking:PlanTracker"),
        "evaluation": ("lms.evaluation", "lms.evaluation.consumer:EvaluationConsumer"),
        "lti": ("lms.lti", "lms.lti.consumer:GradeConsumer"),
    },
    "lms.jobs": {
        "courses.certificates": ("lms.reports", "lms.reports.certificate_jobs:certificates_job"),
        "courses.transcript": ("lms.reports", "lms.reports.certificate_jobs:transcript_job"),
        "reports.completions": ("lms.reports", "lms.reports.jobs:completions_job"),
        "reports.needs": ("lms.reports", "lms.reports.jobs:needs_job"),
        "people.invitations": ("lms.people", "lms.people.accounts:invitations_job"),
    },
}


class PluginError(RuntimeError):
    """A plugin cannot be loaded (import error, duplicate name, wrong kind)."""


_WARNED: set[str] = set()
#: The installed entry points per group: reading every distribution's metadata takes a
#: while and does not change while the process runs (every app of it asks again).
_INSTALLED: dict[str, list[EntryPoint]] = {}
_READ_METADATA = entry_points


def _installed(group: str) -> list[EntryPoint]:
    if entry_points is not _READ_METADATA:  # replaced (a test): no caching
        return list(entry_points(group=group))
    if group not in _INSTALLED:
        _INSTALLED[group] = list(entry_points(group=group))
    return _INSTALLED[group]


def _entry_points(group: str) -> list[EntryPoint]:
    seen: dict[str, EntryPoint] = {}
    own = BUILTINS.get(group, {})
    # An installed metadata older than the checkout may name a built-in entry at its old
    # place: the declaration in BUILTINS wins for Lentera's own names.
    declared = [ep for ep in _installed(group)
                if not (ep.name in own and ep.value.startswith("lms.")
                        and ep.value != own[ep.name][1])]
    pairs = {(ep.name, ep.value) for ep in declared}
    stale = [EntryPoint(name, value, group)
             for name, (_module, value) in BUILTINS.get(group, {}).items()
             if (name, value) not in pairs]
    if stale and group not in _WARNED:
        _WARNED.add(group)
        log.warning("the installed metadata of Lentera lacks %s in %s (run: pip install -e "
                    ".); using the declarations in lms.plugins.BUILTINS",
                    ", ".join(ep.name for ep in stale), group)
    for ep in [*declared, *stale]:
        previous = seen.get(ep.name)
        if previous is not None:
            if previous.value == ep.value:
                continue  # the same distribution seen twice on sys.path
            raise PluginError(f"two plugins register {ep.name!r} in {group}: "
                              f"{previous.value} and {ep.value}")
        seen[ep.name] = ep
    return sorted(seen.values(), key=lambda ep: ep.name)


def load_group(group: str, *, instantiate: bool = True,
               only: Callable[[EntryPoint], bool] | None = None) -> dict[str, Any]:
    """Every entry point of ``group`` (those ``only`` accepts) loaded, by name; classes
    are instantiated."""
    loaded: dict[str, Any] = {}
    for ep in _entry_points(group):
        if only is not None and not only(ep):
            continue
        try:
            obj = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) in {group} cannot be "
                              f"loaded: {type(exc).__name__}: {exc}") from exc
        if instantiate and isinstance(obj, type):
            obj = obj()
        loaded[ep.name] = obj
    return loaded


def _owning_module(group: str, ep: EntryPoint, obj: Any = None) -> str | None:
    """The Lentera module an entry belongs to (None for a plugin of another package)."""
    if ep.value.startswith("lms.") and ep.name in BUILTINS.get(group, {}):
        return BUILTINS[group][ep.name][0]
    declared = getattr(obj, "module", None)
    if isinstance(declared, str) and declared.startswith("lms."):
        return declared
    parts = ep.value.split(":", 1)[0].split(".")
    return ".".join(parts[:2]) if parts[0] == "lms" and len(parts) > 1 else None


def _enabled(group: str, app: Flask) -> dict[str, Any]:
    """``group`` loaded, without Lentera's own entries whose module the app leaves out
    (they are not even imported)."""
    from lms import MODULES

    eps = {ep.name: ep for ep in _entry_points(group)}
    keep = {name for name, ep in eps.items()
            if (module := _owning_module(group, ep)) is None or module in MODULES}
    loaded = load_group(group, instantiate=False, only=lambda ep: ep.name in keep)
    return {name: obj for name, obj in loaded.items()
            if (module := _owning_module(group, eps[name], obj)) is None or module in MODULES}


#: One stable player function per content kind (every app of the process registers it
#: again; the registry accepts the very same function twice).
_PLAYERS: dict[str, Callable[[str, dict[str, Any]], Any]] = {}


def _player(kind: str) -> Callable[[str, dict[str, Any]], Any]:
    if kind not in _PLAYERS:
        def play(slug: str, module: dict[str, Any]) -> Any:
            return CONTENT_TYPES[kind].player(slug, module)

        play.__name__ = f"play_{kind}"
        _PLAYERS[kind] = play
    return _PLAYERS[kind]


def _register_content_types(app: Flask) -> None:
    for name, obj in _enabled("lms.content_types", app).items():
        content_type = obj() if isinstance(obj, type) else obj
        if not isinstance(content_type, ContentType) or content_type.name != name:
            raise PluginError(f"content type {name!r} must be a ContentType whose name is "
                              f"{name!r}")
        try:
            CONTENT_TYPES.add(name, content_type)
        except DuplicateName as exc:
            raise PluginError(f"two content types are named {name!r}") from exc
        if name in PLAYED_BY_COURSES:
            continue
        if content_type.player is None:
            raise PluginError(f"content type {name!r} has no player")
        MODULE_PLAYERS.add(name, _player(name))


def _is_consumer(obj: Any) -> bool:
    return not isinstance(obj, type) and (hasattr(obj, "handle") or
                                          hasattr(obj, "handle_batch"))


def _register_consumers(app: Flask) -> None:
    """The ``lms.statement_consumers`` group into the app's consumer registry (read by
    lms.xapi.consumers; see :class:`lms.xapi.consumers.StatementConsumer`)."""
    consumers = app_registry(app, "statement_consumers")
    for name, obj in _enabled("lms.statement_consumers", app).items():
        if isinstance(obj, type) and type(consumers.get(name)) is obj:
            continue  # its module's init_app registered this very consumer
        if isinstance(obj, type):
            consumer = obj()
        elif callable(obj) and not _is_consumer(obj):
            consumer = obj(app)  # a factory: the consumer needs the app's state
        else:
            consumer = obj
        if not _is_consumer(consumer) or getattr(consumer, "name", None) != name:
            raise PluginError(f"statement consumer {name!r} must be a StatementConsumer "
                              f"whose name is {name!r}")
        if name in consumers:
            raise PluginError(f"a statement consumer named {name!r} is registered already")
        consumers.add(name, consumer)


def _register_jobs(app: Flask) -> None:
    for name, func in _enabled("lms.jobs", app).items():
        if not callable(func):
            raise PluginError(f"job kind {name!r} must be a function")
        if not name or len(name) > 100:
            raise PluginError(f"bad job kind {name!r}")
        try:
            JOBS.add(name, func)
        except DuplicateName as exc:
            raise PluginError(str(exc)) from exc


def init_app(app: Flask) -> None:
    """Load the entry-point groups into the registries (content types, consumers, job
    kinds; question types load on first use, see lms.quizzes.grading); run the
    ``lms.plugins`` hooks."""
    _register_content_types(app)
    app.jinja_env.globals["content_type_label"] = content_type_label
    _register_consumers(app)
    _register_jobs(app)

    for name, hook in load_group("lms.plugins", instantiate=False).items():
        try:
            hook(app)
        except Exception as exc:
            raise PluginError(f"plugin {name!r} failed to start: {exc}") from exc
