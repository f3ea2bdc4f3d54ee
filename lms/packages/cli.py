"""``lms import-courses FILE.zip`` for SCORM zips (dispatched by content: a zip with
``imsmanifest.xml`` at its top is a SCORM package; see lms.authoring.cli)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from lms.packages import service


def is_scorm(names: list[str]) -> bool:
    return service.is_scorm_zip(names)


def _slug_of(path: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:80].strip("-")
    return slug if len(slug) >= 3 else f"scorm-{slug or 'paket'}"


def _competencies(values: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for value in values or ("M.01:1",):
        code, _sep, level = value.partition(":")
        out.append({"code": code.strip().upper(), "level": int(level or 1)})
    return out


def import_scorm_zip(path: Path, options: dict[str, Any]) -> str:
    """Import one SCORM zip (with ``check``: only check it); returns the course slug.
    Raises LmsError when refused."""
    if options.get("check"):
        with path.open("rb") as handle:
            manifest = service.check_package(handle)
        label = "SCORM 1.2" if manifest.version == "1.2" else \
            f"SCORM 2004 {manifest.edition}".strip()
        click.echo(f"{path.name}: valid {label} package, {len(manifest.scos)} item(s).")
        return ""
    with path.open("rb") as handle:
        package, version = service.import_package(
            handle, None, slug=options.get("slug") or _slug_of(path),
            jp=float(options.get("jp") or 1), topic=options.get("topic") or "E-learning",
            competencies=_competencies(options.get("competency") or ()),
            title=options.get("title") or "")
    label = package.structure.get("label", "SCORM")
    click.echo(f"{package.slug}: {label} imported (version {version.number}, "
               f"{len(package.structure['scos'])} item(s))")
    return package.slug
