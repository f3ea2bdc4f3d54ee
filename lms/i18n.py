"""Translation catalogs: one per module, merged at run time by Flask-Babel.

The core catalog (``lms/translations``) covers ``lms/*.py``, ``lms/people`` and the shared
templates; a module ``lms/<name>`` with a ``translations`` folder owns its own code and
``templates/<name>/``. English is the source language; ``id`` must be complete (a test
checks it) because Bahasa Indonesia is the default UI language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
#: Locales with a catalog; English needs none (it is the source language).
CATALOG_LOCALES = ("id",)
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    # A message context keeps a module's wording apart from another catalog's same msgid
    # (catalogs are merged: the last one read would win otherwise).
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
#: Template folders of the core catalog (everything else under templates/ is a module's).
CORE_TEMPLATE_DIRS = ("errors", "people", "admin")


@dataclass(frozen=True)
class Catalog:
    name: str
    directory: Path  # the translations folder
    sources: tuple[tuple[Path, str], ...]  # (folder, "python" | "jinja2") pairs

    def po_path(self, locale: str) -> Path:
        return self.directory / locale / "LC_MESSAGES" / "messages.po"


def translation_directories() -> list[str]:
    """The folders Flask-Babel reads, core first so a module can refine a core message."""
    dirs = [PACKAGE / "translations"]
    dirs += sorted(p for p in PACKAGE.glob("*/translations") if p.is_dir())
    return [str(d) for d in dirs]


def catalogs(root: Path) -> list[Catalog]:
    """Every catalog and the sources it is extracted from."""
    templates = root / "templates"
    modules = sorted(p.parent.name for p in PACKAGE.glob("*/translations") if p.is_dir())
    # Packages without a catalog of their own (people, api...) belong to the core one.
    core_packages = sorted(
        p.parent
        for p in PACKAGE.glob("*/__init__.py")
        if p.parent.name not in modules and p.parent.name != "migrations"
    )
    core_sources: list[tuple[Path, str]] = [(PACKAGE, "python-top")]
    core_sources += [(package, "python") for package in core_packages]
    core_sources.append((templates, "jinja2-top"))
    core_sources += [(templates / d, "jinja2") for d in CORE_TEMPLATE_DIRS]
    found = [Catalog("core", PACKAGE / "translations", tuple(core_sources))]
    for name in modules:
        srcs = [(PACKAGE / name, "python")]
        if (templates / name).is_dir():
            srcs.append((templates / name, "jinja2"))
        found.append(Catalog(name, PACKAGE / name / "translations", tuple(srcs)))
    return found


def _files(folder: Path, kind: str) -> list[Path]:
    if kind == "python-top":
        return sorted(folder.glob("*.py"))
    if kind == "jinja2-top":
        return sorted(folder.glob("*.html"))
    pattern = "*.py" if kind == "python" else "*.html"
    return sorted(p for p in folder.rglob(pattern) if "migrations" not in p.parts)


def extract_catalog(catalog: Catalog) -> Any:
    """A Babel catalog of every message in the sources of ``catalog``."""
    from babel.messages.catalog import Catalog as BabelCatalog
    from babel.messages.extract import extract_from_file

    template = BabelCatalog(project="Lentera")
    for folder, kind in catalog.sources:
        method = "python" if kind.startswith("python") else "jinja2"
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for path in _files(folder, kind):
            for lineno, message, comments, context in extract_from_file(
                method, str(path), keywords=KEYWORDS, options=options
            ):
                template.add(
                    message, None, [(str(path), lineno)], auto_comments=comments, context=context
                )
    return template


def missing_translations(catalog: Catalog, locale: str, template: Any | None = None) -> list[str]:
    """The msgids of ``catalog`` that have no translation in ``locale``."""
    from babel.messages.pofile import read_po

    template = template if template is not None else extract_catalog(catalog)
    path = catalog.po_path(locale)
    translated: dict[Any, Any] = {}
    if path.exists():
        with path.open("rb") as fh:
            po = read_po(fh, locale=locale)
        translated = {(m.id, m.context): m.string for m in po if m.id and not m.fuzzy}
    missing = []
    for message in template:
        if not message.id:
            continue
        string = translated.get((message.id, message.context))
        if not string or (isinstance(string, tuple) and not all(string)):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


# --- dates in the Pemda's time zone, numbers by locale ----------------------------------


def pemda_timezone() -> Any:
    """The Pemda's time zone (``BABEL_DEFAULT_TIMEZONE``, WIB unless configured)."""
    from zoneinfo import ZoneInfo

    from flask import current_app, has_app_context

    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(str(name or "Asia/Jakarta"))


def local_datetime(value: Any) -> Any:
    """A moment (naive values are UTC, as stored) in the Pemda's time zone; a date or None
    as given."""
    import datetime as dt

    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(pemda_timezone())


def local_date(value: Any) -> Any:
    """The Pemda's calendar date of a moment (a date or None as given)."""
    import datetime as dt

    local = local_datetime(value)
    return local.date() if isinstance(local, dt.datetime) else local


def format_date(value: Any, format: str = "medium") -> str:  # noqa: A002
    """A date, or a moment's date in the Pemda's time zone, in the UI language ("5 Des
    2026"); empty for None. ``format`` is Babel's: short, medium, long, full or a pattern."""
    from flask_babel import format_date as babel_date

    return "" if value is None else babel_date(local_date(value), format)


def format_datetime(value: Any, format: str = "medium") -> str:  # noqa: A002
    """A moment in the Pemda's time zone in the UI language; empty for None."""
    import datetime as dt

    from flask_babel import format_datetime as babel_datetime

    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return format_date(value, format)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return babel_datetime(value, format)  # Flask-Babel rebases to BABEL_DEFAULT_TIMEZONE


def format_number(value: Any, digits: int = 2) -> str:
    """A number in the UI language (a comma for decimals in Bahasa Indonesia), with at most
    ``digits`` decimals and no trailing zeros: 2.5 -> "2,5", 20.0 -> "20", 1500 -> "1.500";
    empty for None."""
    from decimal import Decimal

    from flask_babel import format_decimal

    if value is None or value == "":
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(Decimal(str(value)), pattern)


def init_app(app: Any) -> None:
    """Jinja filters for the above: ``{{ x | format_date }}``, ``| format_datetime``,
    ``| format_number``, ``| local_date``."""
    app.jinja_env.filters.update({
        "format_date": format_date,
        "format_datetime": format_datetime,
        "format_number": format_number,
        "local_date": local_date,
    })


def language_name(code: str | None) -> str:
    """The name of a content language (``id``, ``en-US``...) in the UI language, as CLDR
    spells it (``Bahasa Indonesia``, ``Inggris (Amerika Serikat)``); the code itself when
    it is not a language CLDR knows."""
    from babel import Locale, UnknownLocaleError
    from flask_babel import get_locale

    if not code:
        return ""
    if code == "id":
        return "Bahasa Indonesia"
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(get_locale() or "id")
    except (ValueError, UnknownLocaleError):
        return code
    return (name[:1].upper() + name[1:]) if name else code
