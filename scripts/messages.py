"""Extract UI strings into per-module catalogs and update their translations.

Each module keeps its own catalog (``lms/<module>/translations``) for its Python code and
its templates (``templates/<module>/``), so modules can be worked on side by side; the core
catalog (``lms/translations``) covers the shared code and templates. Run ``make messages``
after changing UI strings, then translate the new entries in the ``id`` catalogs.

Usage: python scripts/messages.py [--check] [CATALOG ...]
  --check  exit 1 when a catalog lacks a translation (what the test suite checks too)
  CATALOG  only these catalogs ("core", or a module name such as "courses")
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms.i18n import CATALOG_LOCALES, catalogs, extract_catalog, missing_translations  # noqa: E402


def main(argv: list[str]) -> int:
    from babel.messages.pofile import read_po, write_po

    check = "--check" in argv
    only = {a for a in argv if not a.startswith("--")}
    problems = 0
    for catalog in catalogs(ROOT):
        if only and catalog.name not in only:
            continue
        template = extract_catalog(catalog)
        for locale in CATALOG_LOCALES:
            po_path = catalog.po_path(locale)
            if check:
                missing = missing_translations(catalog, locale, template)
                for msgid in missing:
                    print(f"{po_path.relative_to(ROOT)}: untranslated: {msgid!r}")
                problems += len(missing)
                continue
            po_path.parent.mkdir(parents=True, exist_ok=True)
            if po_path.exists():
                with po_path.open("rb") as fh:
                    po = read_po(fh, locale=locale)
            else:
                from babel.messages.catalog import Catalog

                po = Catalog(locale=locale, project="Lentera")
            created = po.creation_date
            po.update(template, no_fuzzy_matching=True)
            po.creation_date = created  # keep the header stable so diffs show real changes
            po.obsolete.clear()
            po.fuzzy = False  # a new catalog's header is fuzzy, and compile skips those
            with po_path.open("wb") as fh:
                write_po(fh, po, omit_header=False, sort_output=True, no_location=True, width=100)
            print(f"updated {po_path.relative_to(ROOT)} ({len(template)} messages)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
