"""Statement formats for GET (Part Three §2.1.3 ``format``; 2.0 §4.1.6.1):
``exact`` (as stored), ``ids`` (only identifying properties), ``canonical`` (one
language per language map, chosen by Accept-Language)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from lms.xapi.validation.agents import IFIS

LANGUAGE_MAP_KEYS = ("display", "name", "description")


def _agent_ids(agent: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"objectType": agent.get("objectType", "Agent")}
    for key in IFIS:
        if key in agent:
            out[key] = agent[key]
    identified = any(key in agent for key in IFIS)
    if agent.get("objectType") == "Group" and not identified and "member" in agent:
        out["member"] = [_agent_ids(m) for m in agent["member"]]
    return out


def _object_ids(obj: dict[str, Any]) -> dict[str, Any]:
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        return _agent_ids(obj)
    if kind == "Activity":
        return {"id": obj["id"]}
    if kind == "SubStatement":
        return _statement_ids(obj)
    return obj


def _statement_ids(statement: dict[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    out["actor"] = _agent_ids(statement["actor"])
    out["verb"] = {"id": statement["verb"]["id"]}
    out["object"] = _object_ids(statement["object"])
    if "context" in statement:
        context = dict(statement["context"])
        for key in ("instructor", "team"):
            if key in context:
                context[key] = _agent_ids(context[key])
        if "contextActivities" in context:
            context["contextActivities"] = {
                key: [{"id": a["id"]} for a in items]
                for key, items in context["contextActivities"].items()}
        if "contextAgents" in context:
            context["contextAgents"] = [{**c, "agent": _agent_ids(c["agent"])}
                                        for c in context["contextAgents"]]
        if "contextGroups" in context:
            context["contextGroups"] = [{**c, "group": _agent_ids(c["group"])}
                                        for c in context["contextGroups"]]
        out["context"] = context
    if "authority" in statement:
        out["authority"] = _agent_ids(statement["authority"])
    return out


def _canonical(value: Any, choose: Callable[[dict[str, str]], dict[str, str]],
               key: str | None = None) -> Any:
    if isinstance(value, dict):
        if key in LANGUAGE_MAP_KEYS and value and all(isinstance(v, str)
                                                      for v in value.values()):
            return choose(value)
        return {k: (v if k == "extensions" else _canonical(v, choose, k))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v, choose, key if key in ("choices", "scale", "source", "target",
                                                     "steps") else None) for v in value]
    return value


def language_chooser(accept: list[str]) -> Callable[[dict[str, str]], dict[str, str]]:
    """Pick one entry of a language map: the first accepted language, else the first."""
    wanted = [tag.lower() for tag in accept]

    def choose(language_map: dict[str, str]) -> dict[str, str]:
        lowered = {k.lower(): k for k in language_map}
        for tag in wanted:
            if tag in lowered:
                return {lowered[tag]: language_map[lowered[tag]]}
            for k_low, k in lowered.items():
                if k_low.split("-")[0] == tag.split("-")[0]:
                    return {k: language_map[k]}
        first = next(iter(language_map))
        return {first: language_map[first]}

    return choose


def format_statement(statement: dict[str, Any], fmt: str, accept: list[str]) -> dict[str, Any]:
    """``statement`` in format ``fmt`` (exact, ids or canonical)."""
    if fmt == "ids":
        return _statement_ids(statement)
    if fmt == "canonical":
        canonical: dict[str, Any] = _canonical(copy.deepcopy(statement),
                                               language_chooser(accept))
        return canonical
    return statement
