"""H5P test packages and a course folder with an H5P module."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

COURSE_YAML = """slug: latihan-h5p
title: Latihan H5P
summary: Satu latihan interaktif H5P.
jp: 1
level: dasar
language: id
topic: Integritas
competencies:
  - code: M.01
    level: 1
modules:
  - 01-latihan.md
"""
LESSON = """---
title: Latihan benar atau salah
kind: h5p
h5p: latihan.h5p
---
Jawab pertanyaan di atas.
"""


def h5p_file(files: dict[str, Any], manifest: dict[str, Any] | None = None) -> bytes:
    """An .h5p zip of ``files`` (name -> bytes, str or JSON-able) plus h5p.json."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if manifest is not None:
            archive.writestr("h5p.json", json.dumps(manifest))
        for name, data in files.items():
            if not isinstance(data, (bytes, str)):
                data = json.dumps(data)
            archive.writestr(name, data)
    return buffer.getvalue()


def course_folder(root: Path, package: bytes) -> Path:
    folder = root / "latihan-h5p"
    folder.mkdir()
    (folder / "course.yaml").write_text(COURSE_YAML, encoding="utf-8")
    (folder / "01-latihan.md").write_text(LESSON, encoding="utf-8")
    (folder / "latihan.h5p").write_bytes(package)
    return folder


@pytest.fixture
def sample_h5p() -> bytes:
    """The sample course's own H5P package (a real H5P library written for Lentera)."""
    from lms.config import PROJECT_ROOT

    return (PROJECT_ROOT / "courses" / "integritas-antikorupsi" / "latihan-gratifikasi.h5p") \
        .read_bytes()
