"""Results (xAPI 1.0.3 Part Two §2.4.5, 2.0 §4.2.2.4): score, success, completion,
response, duration and extensions."""

from __future__ import annotations

from typing import Any, cast

from lms.xapi.validation.common import (
    Context,
    check_bool,
    check_duration,
    check_extensions,
    check_number,
    check_object,
    check_string,
    fail,
)


def check_score(value: Any, path: str) -> dict[str, Any]:
    """Score (§2.4.5.1): scaled in [-1, 1]; raw between min and max; min below max."""
    check_object(value, path, ("scaled", "raw", "min", "max"))
    for key in value:
        check_number(value[key], f"{path}.{key}")
    if "scaled" in value and not -1 <= value["scaled"] <= 1:
        fail(f"{path}.scaled", "must be between -1 and 1")
    low, high = value.get("min"), value.get("max")
    if low is not None and high is not None and low >= high:
        fail(f"{path}.min", "must be less than score.max")
    raw = value.get("raw")
    if raw is not None:
        if low is not None and raw < low:
            fail(f"{path}.raw", "must not be less than score.min")
        if high is not None and raw > high:
            fail(f"{path}.raw", "must not be greater than score.max")
    return cast("dict[str, Any]", value)


def check_result(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    check_object(value, path, ("score", "success", "completion", "response", "duration",
                               "extensions"))
    if "score" in value:
        check_score(value["score"], f"{path}.score")
    for key in ("success", "completion"):
        if key in value:
            check_bool(value[key], f"{path}.{key}")
    if "response" in value:
        check_string(value["response"], f"{path}.response")
    if "duration" in value:
        check_duration(value["duration"], f"{path}.duration")
    if "extensions" in value:
        check_extensions(value["extensions"], f"{path}.extensions")
    return cast("dict[str, Any]", value)
