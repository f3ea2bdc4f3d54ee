"""Verbs (xAPI 1.0.3 Part Two §2.4.3, 2.0 §4.2.2.2): an IRI and an optional display map."""

from __future__ import annotations

from typing import Any, cast

from lms.xapi.validation.common import Context, check_iri, check_language_map, check_object

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def check_verb(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """``id`` is required and an IRI; ``display`` is a language map."""
    check_object(value, path, ("id", "display"), ("id",))
    check_iri(value["id"], f"{path}.id")
    if "display" in value:
        check_language_map(value["display"], f"{path}.display")
    return cast("dict[str, Any]", value)
