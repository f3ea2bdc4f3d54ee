"""Objects (xAPI 1.0.3 Part Two §2.4.4, 2.0 §4.2.2.3): Activity, Agent, Group,
SubStatement and StatementRef, told apart by ``objectType`` (default Activity)."""

from __future__ import annotations

from typing import Any, cast

from lms.xapi.validation.agents import check_agent, check_group
from lms.xapi.validation.common import (
    Context,
    check_extensions,
    check_iri,
    check_irl,
    check_language_map,
    check_object,
    check_string,
    check_uuid,
    fail,
)

INTERACTION_TYPES = {
    "true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
    "sequencing", "likert", "numeric", "other",
}
#: Which interaction component lists each interaction type may carry (§2.4.4.1.1.2).
COMPONENTS = {
    "choice": ("choices",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "matching": ("source", "target"),
    "performance": ("steps",),
}
ALL_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")


def check_definition(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """Activity definitions (§2.4.4.1.1) including interaction activities."""
    check_object(value, path, ("name", "description", "type", "moreInfo", "extensions",
                               "interactionType", "correctResponsesPattern",
                               *ALL_COMPONENT_LISTS))
    for key in ("name", "description"):
        if key in value:
            check_language_map(value[key], f"{path}.{key}")
    if "type" in value:
        check_iri(value["type"], f"{path}.type")
    if "moreInfo" in value:
        check_irl(value["moreInfo"], f"{path}.moreInfo")
    if "extensions" in value:
        check_extensions(value["extensions"], f"{path}.extensions")
    interaction = value.get("interactionType")
    if interaction is not None and (not isinstance(interaction, str)
                                    or interaction not in INTERACTION_TYPES):
        fail(f"{path}.interactionType", f"must be one of {', '.join(sorted(INTERACTION_TYPES))}")
    if "correctResponsesPattern" in value:
        if interaction is None:
            fail(f"{path}.correctResponsesPattern", "needs an interactionType")
        pattern = value["correctResponsesPattern"]
        if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
            fail(f"{path}.correctResponsesPattern", "must be a list of strings")
    allowed = COMPONENTS.get(interaction, ()) if isinstance(interaction, str) else ()
    for key in ALL_COMPONENT_LISTS:
        if key not in value:
            continue
        if key not in allowed:
            fail(f"{path}.{key}", f"is not allowed for interactionType {interaction!r}")
        components = value[key]
        if not isinstance(components, list):
            fail(f"{path}.{key}", "must be a list of interaction components")
        seen: set[str] = set()
        for i, component in enumerate(components):
            cpath = f"{path}.{key}[{i}]"
            check_object(component, cpath, ("id", "description"), ("id",))
            check_string(component["id"], f"{cpath}.id")
            if component["id"] in seen:
                fail(f"{cpath}.id", f"{component['id']!r} is used twice in {key}")
            seen.add(component["id"])
            if "description" in component:
                check_language_map(component["description"], f"{cpath}.description")
    return cast("dict[str, Any]", value)


def check_activity(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """Activities (§2.4.4.1): an IRI ``id`` and an optional definition."""
    check_object(value, path, ("objectType", "id", "definition"), ("id",))
    if value.get("objectType", "Activity") != "Activity":
        fail(f"{path}.objectType", 'must be "Activity"')
    check_iri(value["id"], f"{path}.id")
    if "definition" in value:
        check_definition(value["definition"], f"{path}.definition", ctx)
    return cast("dict[str, Any]", value)


def check_statement_ref(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """Statement references (§2.4.4.3): objectType "StatementRef" and a UUID ``id``."""
    check_object(value, path, ("objectType", "id"), ("objectType", "id"))
    check_uuid(value["id"], f"{path}.id")
    return cast("dict[str, Any]", value)


def check_statement_object(value: Any, path: str, ctx: Context, *,
                           in_substatement: bool = False) -> dict[str, Any]:
    """The object of a statement or sub-statement, by ``objectType``."""
    if not isinstance(value, dict):
        fail(path, "must be a JSON object (an Activity, Agent, Group, SubStatement or "
                   "StatementRef)")
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        return check_activity(value, path, ctx)
    if kind == "Agent":
        return check_agent(value, path, ctx)
    if kind == "Group":
        return check_group(value, path, ctx)
    if kind == "StatementRef":
        return check_statement_ref(value, path, ctx)
    if kind == "SubStatement":
        if in_substatement:
            fail(f"{path}.objectType", "a SubStatement cannot contain another SubStatement")
        from lms.xapi.validation.statements import check_substatement

        return check_substatement(value, path, ctx)
    fail(f"{path}.objectType",
         "must be one of Activity, Agent, Group, SubStatement, StatementRef")
    raise AssertionError  # unreachable
