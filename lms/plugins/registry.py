"""Lentera's registries: the one place where modules add to what other modules use.

A module never edits another module's tables of things. It adds its entries to a named
registry here, in its ``init_app`` (or, for plugins, through an entry-point group loaded
by :func:`lms.plugins.init_app`), and whoever needs the entries looks them up here. This
module sits at the bottom of Lentera: it imports no feature, so every feature may import
it (a test in tests/test_architecture.py keeps it so).

A registry maps names to entries in the order they were added. Adding a second, different
entry under a name that is taken raises :class:`DuplicateName`; adding the very same entry
again does nothing (every app of a process, and every test app, registers again).

The registries (name: what an entry is; who adds; who reads):

``question_types``
    a question type (grading, interaction, editor form): lms.quizzes and plugins; read by
    lms.quizzes, lms.courses (course files, statements), lms.authoring (the quiz builder).
``content_types``
    a module kind (:class:`lms.plugins.content.ContentType`); lms.courses, lms.authoring,
    plugins; read by the course player and the editor.
``module_players``
    ``player(slug, module)`` for a module kind the course player does not play itself;
    lms.authoring (cmi5), plugins; read by lms.courses.views.
``jobs``
    ``function(job, params, progress)`` of a background job kind; lms.courses,
    lms.reports, plugins; read by lms.jobs.
``home_panels``
    ``panel(user) -> (template, context) | None`` of the home page; any module; read by
    lms.people.views.
``zip_importers``
    ``(detect(member names) -> bool, import(path, options))`` of a kind of zip that
    ``lms import-courses`` takes; lms.packages (SCORM), lms.authoring (cmi5); read by
    lms.authoring.cli.
``jp``
    the one JP answer, by function name (``jp_total(user, year)``, ``this_year()``,
    ``transcript(user)``, ``credited_records()``, ``credited_amounts()``); lms.jp; read
    by lms.courses (learner pages) and lms.reports (HR pages), which lms.jp builds on.
``hr_scope``
    ``path(user) -> org-unit path | None`` of the HR reporting scope; lms.reports; read by
    lms.competency (position standards).
``launch_checks``
    ``check(statement) -> message | None`` on statements of a launch credential;
    lms.authoring (cmi5); read by lms.xapi.views.
``mail_categories``
    a :class:`lms.mail.categories.MailCategory`; every module that sends mail; read by
    lms.mail.
``api_authenticators``
    ``authenticate(header) -> credential | None`` for HTTP Basic client keys on /api/v1;
    lms.xapi; read by lms.api.
``after_commit``, ``after_commit_workers``
    what follows a commit (:class:`lms.db.AfterCommit`) and its worker side; lms.xapi
    (consumers), lms.forwarding, lms.mail, lms.lti, lms.jobs; read by
    :func:`lms.db.dispatch`.

Statement consumers are per app (a consumer may hold the app's state): their registry is
:func:`app_registry` ``(app, "statement_consumers")``, filled by the modules' ``init_app``
and the ``lms.statement_consumers`` group, read by lms.xapi.consumers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class DuplicateName(ValueError):
    """A second, different entry under a name a registry holds already."""


def _same(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and a == b)


class Registry(dict[str, T], Generic[T]):
    """Named entries in the order they were added (a ``dict`` for reading)."""

    def __init__(self, name: str, *, same: Callable[[Any, Any], bool] = _same) -> None:
        super().__init__()
        self.name = name
        self._same = same

    def add(self, name: str, entry: T, *, first: bool = False) -> T:
        """Add ``entry`` under ``name``; the same entry again is a no-op, another one an
        error (:class:`DuplicateName`). ``first`` puts a new entry before the others
        (assigned learning leads the home page). Returns ``entry`` (usable as a
        decorator)."""
        if not name or not isinstance(name, str):
            raise ValueError(f"an entry of the {self.name} registry needs a name")
        previous = self.get(name)
        if previous is not None and not self._same(previous, entry):
            raise DuplicateName(f"{name!r} is registered in {self.name} already "
                                f"({previous!r}); refusing {entry!r}")
        if first and previous is None:
            rest = list(self.items())
            self.clear()
            self[name] = entry
            self.update(rest)
        else:
            self[name] = entry
        return entry

    def add_function(self, func: T, *, first: bool = False) -> T:
        """Add a function under its dotted name (for registries that are lists of
        functions: home panels, launch checks). A decorator."""
        return self.add(function_name(func), func, first=first)

    def entries(self) -> list[T]:
        return list(self.values())

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {', '.join(self)}>"


def function_name(func: Any) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def _same_class(a: Any, b: Any) -> bool:
    """Process-wide registries of instances: the same class again is the same entry (a
    module registers a fresh instance of its type with every app)."""
    return a is b or type(a) is type(b)


def _same_function(a: Any, b: Any) -> bool:
    """The same function of the same module again (a module reloaded in a test)."""
    return a is b or (getattr(a, "__qualname__", 1) == getattr(b, "__qualname__", 2)
                      and getattr(a, "__module__", 1) == getattr(b, "__module__", 2))


_REGISTRIES: dict[str, Registry[Any]] = {}


def registry(name: str) -> Registry[Any]:
    """The process-wide registry ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise KeyError(f"no registry named {name!r} (known: {', '.join(NAMES)})")
    found = _REGISTRIES.get(name)
    if found is None:
        found = _REGISTRIES[name] = Registry(name, same=NAMES[name])
    return found


#: Every process-wide registry and how it tells "the same entry again" from a clash.
NAMES: dict[str, Callable[[Any, Any], bool]] = {
    "question_types": _same_class,
    "content_types": _same_class,
    "module_players": _same,
    "jobs": _same_function,
    "home_panels": _same,
    "launch_checks": _same,
    "jp": _same_function,
    "hr_scope": _same_function,
    "zip_importers": _same,
    "mail_categories": lambda a, b: a is b or getattr(a, "owner", 1) == getattr(b, "owner", 2),
    "api_authenticators": _same,
    "after_commit": _same,
    "after_commit_workers": _same,
}

QUESTION_TYPES: Registry[Any] = registry("question_types")
CONTENT_TYPES: Registry[Any] = registry("content_types")
MODULE_PLAYERS: Registry[Callable[[str, dict[str, Any]], Any]] = registry("module_players")
JOBS: Registry[Callable[..., Any]] = registry("jobs")
HOME_PANELS: Registry[Callable[[Any], Any]] = registry("home_panels")
LAUNCH_CHECKS: Registry[Callable[[Any], Any]] = registry("launch_checks")
JP: Registry[Callable[..., Any]] = registry("jp")
HR_SCOPE: Registry[Callable[[Any], str | None]] = registry("hr_scope")
ZIP_IMPORTERS: Registry[tuple[Callable[[list[str]], bool], Callable[..., Any]]] = registry(
    "zip_importers")
MAIL_CATEGORIES: Registry[Any] = registry("mail_categories")
API_AUTHENTICATORS: Registry[Callable[[str], Any]] = registry("api_authenticators")
AFTER_COMMIT: Registry[Any] = registry("after_commit")
AFTER_COMMIT_WORKERS: Registry[Callable[..., None]] = registry("after_commit_workers")


def app_registry(app: Any, name: str) -> Registry[Any]:
    """A registry that belongs to one app (``app.extensions``), e.g. its statement
    consumers: an entry may hold that app's state, so a second app has its own."""
    key = f"lms.plugins.{name}"
    found = app.extensions.get(key)
    if found is None:
        found = app.extensions[key] = Registry(name)
    return cast("Registry[Any]", found)


def iter_registries() -> Iterator[Registry[Any]]:
    return (registry(name) for name in NAMES)
