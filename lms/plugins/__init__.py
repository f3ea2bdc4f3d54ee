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
    :func:`lms.tasks.submit_job` (``function(job, params, progress)``).
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
from pathlib import Path
from typing import Any

from flask import Flask

from lms.plugins.content import CONTENT_TYPES, PLAYED_BY_COURSES, ContentType

log = logging.getLogger(__name__)

GROUPS = ("lms.question_types", "lms.content_types", "lms.statement_consumers", "lms.jobs",
          "lms.plugins")

#: Lentera's own entries per group: name -> (the module they belong to, the value
#: declared in pyproject.toml; a test keeps the two equal). The group is what is loaded;
#: the value here is only the fallback for an environment whose installed metadata
#: predates an entry (a checkout newer than its ``pip install -e .``).
BUILTINS: dict[str, dict[str, tuple[str, str]]] = {
    "lms.content_types": {
        "lesson": ("lms.courses", "lms.plugins.builtin:Lesson"),
        "video": ("lms.courses", "lms.plugins.builtin:Video"),
        "embed": ("lms.courses", "lms.plugins.builtin:Embed"),
        "quiz": ("lms.courses", "lms.plugins.builtin:Quiz"),
        "cmi5": ("lms.authoring", "lms.authoring:Cmi5ContentType"),
        "scorm": ("lms.packages", "lms.packages:ScormContentType"),
    },
    "lms.statement_consumers": {
        "courses": ("lms.courses", "lms.courses.ledger:LearningLedger"),
        "cmi5": ("lms.authoring", "lms.authoring.cmi5:Cmi5Consumer"),
        "packages": ("lms.packages", "lms.packages.service:PackagesConsumer"),
        "competency": ("lms.competency", "lms.competency:competency_consumer"),
        "jp-credits": ("lms.reports", "lms.reports.training:JpLedger"),
        "assignments": ("lms.assignments", "lms.assignments.ledger:AssignmentsLedger"),
        "plans": ("lms.plans", "lms.plans.tracking:PlanTracker"),
        "evaluation": ("lms.evaluation", "lms.evaluation.consumer:EvaluationConsumer"),
        "lti": ("lms.lti", "lms.lti.consumer:GradeConsumer"),
    },
    "lms.jobs": {
        "courses.certificates": ("lms.courses", "lms.plugins.jobs:certificates_job"),
        "courses.transcript": ("lms.courses", "lms.plugins.jobs:transcript_job"),
        "reports.completions": ("lms.reports", "lms.reports.jobs:completions_job"),
        "reports.needs": ("lms.reports", "lms.reports.jobs:needs_job"),
    },
}


class PluginError(RuntimeError):
    """A plugin cannot be loaded (import error, duplicate name, wrong kind)."""


_WARNED: set[str] = set()


def _entry_points(group: str) -> list[EntryPoint]:
    seen: dict[str, EntryPoint] = {}
    declared = list(entry_points(group=group))
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


def plugin_question_types() -> dict[str, Any]:
    """The registered question types that are not Lentera's own."""
    from lms.quizzes.grading import BUILTIN_QUESTION_TYPES, question_types

    return {name: qt for name, qt in question_types().items()
            if name not in BUILTIN_QUESTION_TYPES}


#: One stable player function per content kind (lms.courses.views accepts a player for a
#: kind once, and every app of the process registers it again).
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
        previous = CONTENT_TYPES.get(name)
        if previous is not None and type(previous) is not type(content_type):
            raise PluginError(f"two content types are named {name!r}")
        CONTENT_TYPES[name] = content_type
        if name in PLAYED_BY_COURSES:
            continue
        if content_type.player is None:
            raise PluginError(f"content type {name!r} has no player")
        from lms.courses.views import register_module_player

        register_module_player(name, _player(name))


def _register_consumers(app: Flask) -> None:
    from lms.xapi.consumers import StatementConsumer, register_consumer, registered_consumers

    already = registered_consumers(app)
    for name, obj in _enabled("lms.statement_consumers", app).items():
        if isinstance(obj, type) and type(already.get(name)) is obj:
            continue  # its module's init_app registered this very consumer (older code)
        if isinstance(obj, type):
            consumer = obj()
        elif callable(obj) and not isinstance(obj, StatementConsumer):
            consumer = obj(app)  # a factory: the consumer needs the app's state
        else:
            consumer = obj
        if not isinstance(consumer, StatementConsumer) or consumer.name != name:
            raise PluginError(f"statement consumer {name!r} must be a StatementConsumer "
                              f"whose name is {name!r}")
        register_consumer(app, consumer)


def _register_jobs(app: Flask) -> None:
    from lms.tasks import register_job

    for name, func in _enabled("lms.jobs", app).items():
        if not callable(func):
            raise PluginError(f"job kind {name!r} must be a function")
        try:
            register_job(name, func)
        except ValueError as exc:
            raise PluginError(str(exc)) from exc


def init_app(app: Flask) -> None:
    """Register content types, consumers, job kinds, plugin templates and editor entries;
    run ``lms.plugins`` hooks."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    _register_content_types(app)
    _register_consumers(app)
    _register_jobs(app)

    folders: list[str] = []
    for qt in plugin_question_types().values():
        folder = getattr(qt, "template_folder", None)
        if folder and str(folder) not in folders:
            folders.append(str(Path(folder)))
    if folders:
        assert app.jinja_loader is not None
        app.jinja_loader = ChoiceLoader([app.jinja_loader,
                                         *(FileSystemLoader(f) for f in folders)])
    _add_editor_entries()

    for name, hook in load_group("lms.plugins", instantiate=False).items():
        try:
            hook(app)
        except Exception as exc:
            raise PluginError(f"plugin {name!r} failed to start: {exc}") from exc


def _add_editor_entries() -> None:
    """Offer plugin question types in the quiz builder (lms.authoring.quizedit)."""
    try:
        from lms.authoring import quizedit
    except ImportError:  # pragma: no cover - authoring is part of Lentera
        return
    for name, qt in plugin_question_types().items():
        if getattr(qt, "model", None) is not None and getattr(qt, "from_form", None):
            quizedit.QUESTION_TYPES.setdefault(name, getattr(qt, "label", name))
