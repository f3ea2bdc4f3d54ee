"""H5P packages (``.h5p`` files): checked, extracted safely once, and found again.

An ``.h5p`` file is a zip holding ``h5p.json`` (title, main library, dependencies),
``content/content.json`` (the content's parameters, plus its media under ``content/``) and
one folder per library (``<machineName>-<major>.<minor>/library.json`` with its scripts and
styles) — the H5P libraries travel inside the package, so nothing is fetched from
elsewhere at run time.

A package is extracted with :func:`lms.authoring.archives.extract_archive` (no paths
outside the folder, no links, size and file-count limits) into
``<UPLOAD_DIR>/h5p/<sha256 of the file>/``, once: the same file is the same folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.authoring.archives import ArchiveError, Limits, extract_archive
from lms.errors import ValidationError

#: At most 50 MB per .h5p file (the course format's limit for any file).
MAX_BYTES = 50 * 1024 * 1024
LIMITS = Limits(max_files=5000, max_total=200 * 1024 * 1024, max_member=MAX_BYTES)
#: File types H5P allows in a package (the H5P core's default whitelist); anything else
#: (HTML pages, server scripts, executables) is refused.
_ALLOWED = (
    "json png jpg jpeg gif bmp tif tiff svg eot ttf woff woff2 otf webm mp4 ogg mp3 m4a wav "
    "txt pdf rtf doc docx xls xlsx ppt pptx odt ods odp xml csv diff patch md textile vtt "
    "webvtt gltf glb js css")
ALLOWED_SUFFIXES = frozenset(_ALLOWED.split())
_MACHINE_NAME = re.compile(r"^[A-Za-z][\w.-]{0,126}$")
_VERSION = re.compile(r"^[0-9]{1,5}\Z")


def root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "h5p"


def _json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationError(_l("%(name)s in the H5P file is not valid JSON.", name=name)) \
            from None


def _version(value: Any) -> int | None:
    """A library version number: an integer, or its digits as a string (as many exported
    packages write them, and as the H5P core accepts: up to five digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99999:
        return value
    if isinstance(value, str) and _VERSION.match(value):
        return int(value)
    return None


def _dependency(item: Any, where: str) -> str:
    """The folder name ``<machineName>-<major>.<minor>`` of a dependency entry."""
    if isinstance(item, dict):
        name = item.get("machineName")
        major, minor = _version(item.get("majorVersion")), _version(item.get("minorVersion"))
        if isinstance(name, str) and _MACHINE_NAME.match(name) and major is not None \
                and minor is not None:
            return f"{name}-{major}.{minor}"
    raise ValidationError(_l("%(where)s: every dependency needs machineName, "
                             "majorVersion and minorVersion.", where=where))


def check_folder(folder: Path) -> dict[str, Any]:
    """Check an extracted package; return its ``h5p.json`` (ValidationError when broken).

    h5p.json has a title, a main library among its preloaded dependencies, and every
    dependency (of the package and of each library, recursively) is a library folder in
    the package with a library.json; content/content.json is JSON; every file's type is
    one H5P allows."""
    manifest_path = folder / "h5p.json"
    if not manifest_path.is_file():
        raise ValidationError(_l("This is not an H5P file: h5p.json is missing at the top "
                                 "of the package."))
    manifest = _json(manifest_path.read_bytes(), "h5p.json")
    if not isinstance(manifest, dict):
        raise ValidationError(_l("h5p.json must be a JSON object."))
    title, main = manifest.get("title"), manifest.get("mainLibrary")
    if not isinstance(title, str) or not title.strip():
        raise ValidationError(_l("h5p.json has no title."))
    if not isinstance(main, str) or not _MACHINE_NAME.match(main):
        raise ValidationError(_l("h5p.json has no valid mainLibrary."))
    dependencies = manifest.get("preloadedDependencies")
    if not isinstance(dependencies, list) or not dependencies:
        raise ValidationError(_l("h5p.json lists no preloadedDependencies."))
    if not any(isinstance(d, dict) and d.get("machineName") == main for d in dependencies):
        raise ValidationError(_l("h5p.json: the main library %(name)s is not among its "
                                 "preloadedDependencies.", name=main))
    content = folder / "content" / "content.json"
    if not content.is_file():
        raise ValidationError(_l("content/content.json is missing in the H5P file."))
    _json(content.read_bytes(), "content/content.json")
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix.lower().lstrip(".") not in ALLOWED_SUFFIXES:
            raise ValidationError(_l("%(name)s: files of this type are not allowed in an H5P "
                                     "package.", name=path.relative_to(folder).as_posix()))
    pending = [(d, "h5p.json") for d in dependencies]
    seen: set[str] = set()
    while pending:
        item, where = pending.pop()
        name = _dependency(item, where)
        if name in seen:
            continue
        seen.add(name)
        library = folder / name / "library.json"
        if not library.is_file():
            raise ValidationError(_l("The library %(name)s that %(where)s needs is not in the "
                                     "H5P file.", name=name, where=where))
        data = _json(library.read_bytes(), f"{name}/library.json")
        if not isinstance(data, dict):
            raise ValidationError(_l("%(name)s/library.json must be a JSON object.", name=name))
        for key in ("preloadedJs", "preloadedCss"):
            for entry in data.get(key) or []:
                wanted = entry.get("path") if isinstance(entry, dict) else None
                if not isinstance(wanted, str) or not (folder / name / wanted).is_file():
                    raise ValidationError(_l("%(name)s/library.json names a file %(path)s that "
                                             "is not in the package.", name=name,
                                             path=str(wanted)))
        pending.extend((d, f"{name}/library.json")
                       for d in data.get("preloadedDependencies") or [])
    return manifest


def check_bytes(data: bytes) -> dict[str, Any]:
    """Check an uploaded .h5p file without keeping it; return its ``h5p.json``."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_l("The H5P file is larger than %(mb)s MB.",
                                 mb=MAX_BYTES // 2**20))
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "p"
        extract_archive(io.BytesIO(data), target, LIMITS)
        return check_folder(target)


def digest_of(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def extracted(path: Path) -> tuple[str, dict[str, Any]]:
    """The folder key (sha256 of the file) and h5p.json of the package at ``path``,
    extracting it on first use. ValidationError when the package is broken."""
    key = digest_of(path)
    folder = root() / key
    if (folder / "h5p.json").is_file():
        return key, _json((folder / "h5p.json").read_bytes(), "h5p.json")
    root().mkdir(parents=True, exist_ok=True)
    tmp = root() / f".new-{uuid.uuid4().hex}"
    try:
        extract_archive(path, tmp, LIMITS)
        manifest = check_folder(tmp)
        try:
            tmp.rename(folder)
        except OSError:  # extracted meanwhile by another request: use that one
            if not (folder / "h5p.json").is_file():
                raise
    except (ArchiveError, ValidationError):
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return key, manifest


def folder_of(key: str) -> Path | None:
    """The extracted folder of a package key, or None for an unknown or malformed key."""
    if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
        return None
    folder = root() / key
    return folder if folder.is_dir() else None
