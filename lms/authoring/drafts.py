"""Drafts: a course being edited is a course folder in the courses/ format, on disk.

``UPLOAD_DIR/authoring/drafts/<slug>/`` holds ``course.yaml``, one ``<id>.md`` per lesson,
one ``<id>.yaml`` per quiz and the files lessons use (``gambar/...``). Publishing runs the
courses loader on this folder, so a draft is checked by exactly the rules that files from
a repository are, and exporting is zipping the folder.

Functions here read and write files only; :mod:`lms.authoring.service` adds access checks,
the change log and the database.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from flask import current_app

from lms.courses.format import (
    _FRONT_MATTER,
    CourseFormatError,
    LoadedCourse,
    load_course_folder,
)

DEFAULT_HEIGHT = 480


def drafts_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "authoring" / "drafts"


def draft_dir(slug: str) -> Path:
    return drafts_root() / slug


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def load_yaml(text: str) -> Any:
    return yaml.safe_load(text)


# --- whole folders ----------------------------------------------------------------------


def write_version(definition: dict[str, Any], assets_dir: Path, target: Path) -> None:
    """Write a stored course version back as a course folder in ``target`` (new folder).

    Lessons become ``<id>.md`` and quizzes ``<id>.yaml``, so module ids stay the same and
    loading the folder again gives the same definition.
    """
    target.mkdir(parents=True)
    names = []
    for module in definition["modules"]:
        if module["kind"] == "quiz":
            name = f"{module['id']}.yaml"
            (target / name).write_text(dump_yaml(module["quiz"]), encoding="utf-8")
        else:
            name = f"{module['id']}.md"
            write_lesson_file(target / name, lesson_front(module), module.get("body", ""))
        names.append(name)
    meta = {k: v for k, v in definition.items() if k not in ("modules", "assets")}
    meta = {k: v for k, v in meta.items() if not k.startswith("_")}
    meta["modules"] = names
    write_course_yaml(target, meta)
    for rel in definition.get("assets", []):
        source = assets_dir.joinpath(*rel.split("/"))
        dest = target.joinpath(*rel.split("/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copyfile(source, dest)


def replace_folder(source: Path, target: Path) -> None:
    """Put ``source`` where ``target`` is, replacing it (the old one is removed after)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.rename(old)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check(folder: Path, slug: str) -> LoadedCourse:
    """Load the draft with the courses loader (raises CourseFormatError)."""
    return load_course_folder(
        folder, current_app.config.get("EMBED_ALLOWED_HOSTS"), label=slug
    )


def comparable(definition: dict[str, Any]) -> dict[str, Any]:
    """A definition without what depends on file names and caches (for 'unchanged')."""
    out = {k: v for k, v in definition.items() if not k.startswith("_")}
    out["modules"] = [{k: v for k, v in m.items() if k != "file"} for m in definition["modules"]]
    return out


# --- course.yaml ------------------------------------------------------------------------


def read_course_yaml(folder: Path) -> dict[str, Any]:
    path = folder / "course.yaml"
    if not path.is_file():
        return {}
    data = load_yaml(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def write_course_yaml(folder: Path, data: dict[str, Any]) -> None:
    (folder / "course.yaml").write_text(dump_yaml(data), encoding="utf-8")


# --- modules ----------------------------------------------------------------------------


def lesson_front(module: dict[str, Any]) -> dict[str, Any]:
    front: dict[str, Any] = {"title": module["title"]}
    if module.get("kind", "lesson") != "lesson":
        front["kind"] = module["kind"]
    for key in ("minutes", "video", "embed", "h5p"):
        if module.get(key):
            front[key] = module[key]
    if module.get("height") and module["height"] != DEFAULT_HEIGHT:
        front["height"] = module["height"]
    return front


def write_lesson_file(path: Path, front: dict[str, Any], body: str) -> None:
    path.write_text(f"---\n{dump_yaml(front)}---\n{body}", encoding="utf-8")


def read_lesson_file(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    front = load_yaml(match.group(1)) or {}
    return (front if isinstance(front, dict) else {}), text[match.end() :]


def module_files(folder: Path) -> list[str]:
    modules = read_course_yaml(folder).get("modules") or []
    return [m for m in modules if isinstance(m, str)]


def read_module(folder: Path, name: str) -> dict[str, Any]:
    """A module file as the editor sees it: kind, id, title and its data."""
    path = folder / name
    stem = PurePosixPath(name).stem
    if name.endswith((".yaml", ".yml")):
        data = load_yaml(path.read_text(encoding="utf-8")) if path.is_file() else {}
        data = data if isinstance(data, dict) else {}
        return {"file": name, "id": data.get("id") or stem, "kind": "quiz",
                "title": data.get("title", ""), "quiz": data}
    front, body = read_lesson_file(path) if path.is_file() else ({}, "")
    return {"file": name, "id": front.get("id") or stem, "kind": front.get("kind", "lesson"),
            "title": front.get("title", ""), "front": front, "body": body}


_NOT_IDENT = re.compile(r"[^a-z0-9]+")


def new_module_id(folder: Path, title: str) -> str:
    """A module id from the title, unique in the folder (also as a file name)."""
    base = _NOT_IDENT.sub("-", title.lower()).strip("-")[:48] or "modul"
    if not base[0].isalnum():
        base = "m-" + base
    taken = {PurePosixPath(n).stem for n in module_files(folder)}
    taken |= {p.stem for p in folder.glob("*") if p.is_file()}
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def add_module(folder: Path, name: str) -> None:
    data = read_course_yaml(folder)
    data["modules"] = [*module_files(folder), name]
    write_course_yaml(folder, data)


def remove_module(folder: Path, name: str) -> None:
    data = read_course_yaml(folder)
    data["modules"] = [m for m in module_files(folder) if m != name]
    write_course_yaml(folder, data)
    completion = data.get("completion")
    if isinstance(completion, dict):
        stem = PurePosixPath(name).stem
        for key in ("modules", "quizzes"):
            if isinstance(completion.get(key), list) and stem in completion[key]:
                completion[key] = [m for m in completion[key] if m != stem]
        write_course_yaml(folder, data)
    (folder / name).unlink(missing_ok=True)


def move_module(folder: Path, name: str, offset: int) -> None:
    modules = module_files(folder)
    if name not in modules:
        return
    i = modules.index(name)
    j = max(0, min(len(modules) - 1, i + offset))
    modules.insert(j, modules.pop(i))
    data = read_course_yaml(folder)
    data["modules"] = modules
    write_course_yaml(folder, data)


def format_errors(exc: CourseFormatError) -> list[str]:
    return [str(e) for e in exc.errors]
