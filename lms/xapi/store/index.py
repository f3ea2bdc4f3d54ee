"""Step 3, index rows: every activity and every agent a statement mentions, for the
``related_activities`` and ``related_agents`` filters (Part Three §2.1.3 / 2.0 §4.1.6.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lms.xapi.validation.agents import agent_key


def walk_activities(statement: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every Activity object in a statement: object, context activities, sub-statement."""
    for part in (statement, statement.get("object") if isinstance(statement.get("object"), dict)
                 and statement["object"].get("objectType") == "SubStatement" else None):
        if not part:
            continue
        obj = part.get("object")
        if isinstance(obj, dict) and obj.get("objectType", "Activity") == "Activity":
            yield obj
        for items in (part.get("context") or {}).get("contextActivities", {}).values():
            yield from items


def walk_agents(statement: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every Agent/Group a statement names (actor, object, instructor, team, context agents
    and groups, also in a sub-statement, and the authority)."""
    parts = [statement]
    obj = statement.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        parts.append(obj)
    for part in parts:
        yield part["actor"]
        obj = part.get("object")
        if isinstance(obj, dict) and obj.get("objectType") in ("Agent", "Group"):
            yield obj
        context = part.get("context") or {}
        for key in ("instructor", "team"):
            if key in context:
                yield context[key]
        for item in context.get("contextAgents", []):
            yield item["agent"]
        for item in context.get("contextGroups", []):
            yield item["group"]
    if "authority" in statement:
        yield statement["authority"]


def agent_keys(statement: dict[str, Any]) -> set[str]:
    """The keys of every agent a statement names, and of the members of its groups."""
    keys = set()
    for agent in walk_agents(statement):
        key = agent_key(agent)
        if key:
            keys.add(key)
        for member in agent.get("member", []) if isinstance(agent, dict) else []:
            key = agent_key(member)
            if key:
                keys.add(key)
    return keys


def activity_ids(statement: dict[str, Any]) -> set[str]:
    """The ids of every activity a statement mentions."""
    return {activity["id"] for activity in walk_activities(statement)}
