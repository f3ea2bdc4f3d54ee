"""Context (xAPI 1.0.3 Part Two §2.4.6, 2.0 §4.2.2.5)."""

from __future__ import annotations

from typing import Any, cast

from lms.xapi.validation.agents import check_actor, check_agent, check_group
from lms.xapi.validation.common import (
    Context,
    check_extensions,
    check_iri,
    check_language_tag,
    check_object,
    check_string,
    check_uuid,
    fail,
)
from lms.xapi.validation.objects import check_activity, check_statement_ref

CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")
V1_KEYS = ("registration", "instructor", "team", "contextActivities", "revision", "platform",
           "language", "statement", "extensions")
V2_KEYS = (*V1_KEYS, "contextAgents", "contextGroups")


def check_context_activities(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """contextActivities (§2.4.6.2): each key holds an Activity or a list of them.

    A single Activity is accepted and returned as a one-element list (the LRS stores the
    array form, as the specification asks).
    """
    check_object(value, path, CONTEXT_ACTIVITY_KEYS)
    for key in CONTEXT_ACTIVITY_KEYS:
        if key not in value:
            continue
        items = value[key]
        if isinstance(items, dict):
            items = value[key] = [items]
        if not isinstance(items, list):
            fail(f"{path}.{key}", "must be an Activity or a list of Activities")
        for i, item in enumerate(items):
            check_activity(item, f"{path}.{key}[{i}]", ctx)
    return cast("dict[str, Any]", value)


def _check_relevant_types(item: dict[str, Any], path: str) -> None:
    if "relevantTypes" in item:
        types = item["relevantTypes"]
        if not isinstance(types, list) or not types:
            fail(f"{path}.relevantTypes", "must be a non-empty list of IRIs")
        for i, iri in enumerate(types):
            check_iri(iri, f"{path}.relevantTypes[{i}]")


def check_context(value: Any, path: str, ctx: Context, statement_object: dict[str, Any],
                  ) -> dict[str, Any]:
    check_object(value, path, V2_KEYS if ctx.is_v2 else V1_KEYS)
    if "registration" in value:
        check_uuid(value["registration"], f"{path}.registration")
    if "instructor" in value:
        check_actor(value["instructor"], f"{path}.instructor", ctx)
    if "team" in value:
        team = value["team"]
        if not isinstance(team, dict) or team.get("objectType") != "Group":
            fail(f"{path}.team", 'must be a Group (objectType "Group")')
        check_group(team, f"{path}.team", ctx)
    if "contextActivities" in value:
        check_context_activities(value["contextActivities"], f"{path}.contextActivities", ctx)
    is_activity = statement_object.get("objectType", "Activity") == "Activity"
    for key in ("revision", "platform"):
        if key in value:
            check_string(value[key], f"{path}.{key}")
            if not is_activity:
                fail(f"{path}.{key}", "may only be used when the statement's object is an "
                                      "Activity")
    if "language" in value:
        check_language_tag(value["language"], f"{path}.language")
    if "statement" in value:
        statement = value["statement"]
        if not isinstance(statement, dict) or statement.get("objectType") != "StatementRef":
            fail(f"{path}.statement", 'must be a StatementRef (objectType "StatementRef")')
        check_statement_ref(statement, f"{path}.statement", ctx)
    if "extensions" in value:
        check_extensions(value["extensions"], f"{path}.extensions")
    # xAPI 2.0 §4.2.2.5: contextAgents and contextGroups.
    if "contextAgents" in value:
        items = value["contextAgents"]
        if not isinstance(items, list):
            fail(f"{path}.contextAgents", "must be a list of contextAgent objects")
        for i, item in enumerate(items):
            ipath = f"{path}.contextAgents[{i}]"
            check_object(item, ipath, ("objectType", "agent", "relevantTypes"),
                         ("objectType", "agent"))
            if item["objectType"] != "contextAgent":
                fail(f"{ipath}.objectType", 'must be "contextAgent"')
            check_agent(item["agent"], f"{ipath}.agent", ctx)
            _check_relevant_types(item, ipath)
    if "contextGroups" in value:
        items = value["contextGroups"]
        if not isinstance(items, list):
            fail(f"{path}.contextGroups", "must be a list of contextGroup objects")
        for i, item in enumerate(items):
            ipath = f"{path}.contextGroups[{i}]"
            check_object(item, ipath, ("objectType", "group", "relevantTypes"),
                         ("objectType", "group"))
            if item["objectType"] != "contextGroup":
                fail(f"{ipath}.objectType", 'must be "contextGroup"')
            group = item["group"]
            if not isinstance(group, dict) or group.get("objectType") != "Group":
                fail(f"{ipath}.group", 'must be a Group (objectType "Group")')
            check_group(group, f"{ipath}.group", ctx)
            _check_relevant_types(item, ipath)
    return cast("dict[str, Any]", value)
