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
``lms.statement_consumers``
    ``name = "package.module:Class"``: a :class:`lms.xapi.consumers.StatementConsumer`
    (class or instance); registered with every app, exactly-once through its own cursor.
``lms.plugins``
    ``name = "package.module:function"``: called with the app at start-up, for anything
    else (a blueprint, a signal receiver, a CLI command).

A duplicate name in a group is an error, not a silent override. A plugin that fails to
import stops the start-up with its name in the message: a half-loaded plugin set would
grade or derive differently from one process to the next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

GROUPS = ("lms.question_types", "lms.statement_consumers", "lms.plugins")


class PluginError(RuntimeError):
    """A plugin cannot be loaded (import error, duplicate name, wrong kind)."""


def _entry_points(group: str) -> list[EntryPoint]:
    seen: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
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


def plugin_question_types() -> dict[str, Any]:
    """The registered question types that are not Lentera's own."""
    from lms.quizzes.grading import BUILTIN_QUESTION_TYPES, question_types

    return {name: qt for name, qt in question_types().items()
            if name not in BUILTIN_QUESTION_TYPES}


def init_app(app: Flask) -> None:
    """Register plugin consumers, templates and editor entries; run ``lms.plugins`` hooks."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    from lms.xapi.consumers import StatementConsumer, register_consumer

    for name, consumer in load_group("lms.statement_consumers").items():
        if not isinstance(consumer, StatementConsumer) or consumer.name != name:
            raise PluginError(f"statement consumer {name!r} must be a StatementConsumer "
                              f"whose name is {name!r}")
        register_consumer(app, consumer)

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
