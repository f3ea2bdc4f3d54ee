"""Page weight: the lesson and quiz views of a sample course stay under 200 KB on a first
load with an empty cache (bench/page_weight.py measures every view of the demo)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests import factories

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 200 * 1024


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("page_weight", ROOT / "bench/page_weight.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sample_course(app: Any) -> str:
    return str(factories.import_sample_course().slug)


def test_lesson_and_quiz_are_under_the_budget(client, login_as, sample_course):
    bench = _bench()
    login_as("learner")
    views = bench.course_views(client, sample_course)
    for name in ("lesson", "quiz"):
        result = bench.measure(client, views[name])
        statuses = {f["url"]: f["status"] for f in result["files"]}
        assert all(code == 200 for code in statuses.values()), statuses
        assert result["served"] < BUDGET, (name, result["served"])
        # compressed as served, and the bulk of it is Bootstrap, not the page
        assert result["served"] < result["uncompressed"] / 3
        html = result["files"][0]
        assert html["encoding"] == "gzip"
        assert all("immutable" in f["cache"] for f in result["files"][1:])
        # no charting library on pages that draw no chart
        assert not any("chartjs" in f["url"] for f in result["files"])
