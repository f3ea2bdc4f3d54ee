"""Fixtures for course tests: a small course with every question type, and quiz helpers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lms.courses import service
from lms.courses.format import load_course_folder
from lms.db import get_session

FIXTURES = Path(__file__).parent / "fixtures"
HOSTS = ["youtube.com", "youtube-nocookie.com", "h5p.org"]


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A writable copy of the mini course (tests may change it)."""
    target = tmp_path / "mini-kursus"
    shutil.copytree(FIXTURES / "mini-kursus", target)
    return target


@pytest.fixture
def course(app: Any, course_dir: Path) -> Any:
    """The mini course, imported and committed."""
    loaded = load_course_folder(course_dir, HOSTS, label="mini-kursus")
    outcome = service.import_course(loaded, source="test")
    get_session().commit()
    return outcome.course


def answers_for(attempt: Any, quiz: dict[str, Any], right: bool = True) -> dict[str, Any]:
    """Form data answering every question of ``attempt`` right (or wrong), using the key
    the way only a test can: through the attempt's layout tokens."""
    data: dict[str, Any] = {}
    for q in quiz["questions"]:
        layout = attempt.layout["questions"][q["id"]]
        name = f"q-{q['id']}"
        kind = q["type"]
        if kind in ("single", "multiple"):
            wanted = {c["id"] for c in q["choices"] if c["correct"] == right}
            tokens = [tok for tok, cid in layout["tokens"] if cid in wanted]
            data[name] = tokens if kind == "multiple" else tokens[0]
        elif kind == "true_false":
            data[name] = "true" if q["answer"] == right else "false"
        elif kind == "fill_in":
            data[name] = f"  {q['answers'][0].upper()} " if right else "salah"
        elif kind == "numeric":
            value = q["answer"] if q.get("answer") is not None else q["min"]
            data[name] = str(value if right else value + 1000).replace(".", ",")
        elif kind == "matching":
            targets = {tid: tok for tok, tid in layout["targets"]}
            ids = [p["id"] for p in q["pairs"]]
            for tok, sid in layout["sources"]:
                tid = sid if right else ids[(ids.index(sid) + 1) % len(ids)]
                data[f"{name}-{tok}"] = targets[tid]
        elif kind == "ordering":
            order = [i["id"] for i in q["items"]]
            if not right:
                order.reverse()
            for tok, iid in layout["tokens"]:
                data[f"{name}-{tok}"] = str(order.index(iid) + 1)
    return data
