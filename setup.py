"""Build hook: any install of Lentera serves Bahasa Indonesia and has its pages.

Everything else is declared in pyproject.toml. `pip install .`, a wheel or an sdist build
runs ``build_py``, which here also

- compiles every translation catalog (``lms/**/translations/*/LC_MESSAGES/messages.po``)
  into the ``.mo`` file Flask-Babel reads (compiled catalogs are never committed), and
- bundles ``templates/``, ``static/`` and ``courses/`` (which live beside the package in
  the repository) into the package as ``lms/_files/``, where lms.config finds them.

An editable install (`pip install -e .`, what `make` does) compiles the catalogs in place
and keeps reading templates, static files and courses from the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("templates", "static", "courses")


def compile_catalogs(source: Path, target: Path) -> list[Path]:
    """Compile each messages.po under ``source``/lms into the same place under ``target``."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted((source / "lms").glob("**/translations/*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        with mo.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        written.append(mo)
    return written


class BuildWithCatalogsAndFiles(build_py):
    def run(self) -> None:
        super().run()
        if self.dry_run:
            return
        if getattr(self, "editable_mode", False):
            compile_catalogs(ROOT, ROOT)
            return
        build = Path(self.build_lib)
        compile_catalogs(ROOT, build)
        files = build / "lms" / "_files"
        for name in BUNDLED:
            source = ROOT / name
            if source.is_dir():
                shutil.rmtree(files / name, ignore_errors=True)
                shutil.copytree(source, files / name,
                                # axe-core is for the browser tests only.
                                ignore=shutil.ignore_patterns("__pycache__", ".copied", "axe-core"))


setup(cmdclass={"build_py": BuildWithCatalogsAndFiles})
