"""Statements and sub-statements (xAPI 1.0.3 Part Two §2.4, 2.0 §4.2.2)."""

from __future__ import annotations

import re
from typing import Any, cast

from lms.xapi.validation.agents import check_actor, check_agent, check_group
from lms.xapi.validation.attachments import check_attachments
from lms.xapi.validation.common import (
    Context,
    check_object,
    check_uuid,
    fail,
    parse_timestamp,
)
from lms.xapi.validation.contexts import check_context
from lms.xapi.validation.objects import check_statement_object
from lms.xapi.validation.results import check_result
from lms.xapi.validation.verbs import VOIDED, check_verb

STATEMENT_KEYS = ("id", "actor", "verb", "object", "result", "context", "timestamp",
                  "stored", "authority", "version", "attachments")
SUBSTATEMENT_KEYS = ("objectType", "actor", "verb", "object", "result", "context",
                     "timestamp", "attachments")
#: §2.4.10: statements declare a 1.0.x version; xAPI 2.0 (IEEE 9274.1.1) adds 2.0.x.
VERSION_RE = re.compile(r"^(1\.0(\.\d+)?|2\.0(\.\d+)?)$")


def check_authority(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """Authority (§2.4.9): an Agent, or a two-member Group (OAuth consumer + user)."""
    if isinstance(value, dict) and value.get("objectType") == "Group":
        check_group(value, path, ctx)
        if any(key in value for key in ("mbox", "mbox_sha1sum", "openid", "account")):
            fail(path, "as a Group must be anonymous (two members, no identifier)")
        if len(value.get("member", [])) != 2:
            fail(f"{path}.member", "of an authority Group must list exactly two Agents")
        return value
    return check_agent(value, path, ctx)


def _check_core(value: dict[str, Any], path: str, ctx: Context, *, sub: bool) -> None:
    check_actor(value["actor"], f"{path}.actor", ctx)
    check_verb(value["verb"], f"{path}.verb", ctx)
    obj = check_statement_object(value["object"], f"{path}.object", ctx, in_substatement=sub)
    if value["verb"]["id"] == VOIDED and not sub and obj.get("objectType") != "StatementRef":
        fail(f"{path}.object", "of a voiding statement (verb "
                               f"{VOIDED}) must be a StatementRef to the statement it voids")
    if "result" in value:
        check_result(value["result"], f"{path}.result", ctx)
    if "context" in value:
        check_context(value["context"], f"{path}.context", ctx, obj)
    if "timestamp" in value:
        parse_timestamp(value["timestamp"], f"{path}.timestamp")
    if "attachments" in value:
        check_attachments(value["attachments"], f"{path}.attachments", ctx)


def check_substatement(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """Sub-statements (§2.4.4.3): no id, stored, version or authority; no nesting."""
    if isinstance(value, dict):
        for key in ("id", "stored", "version", "authority"):
            if key in value:
                fail(f"{path}.{key}", "is not allowed in a SubStatement")
    check_object(value, path, SUBSTATEMENT_KEYS, ("objectType", "actor", "verb", "object"))
    _check_core(value, path, ctx, sub=True)
    return cast("dict[str, Any]", value)


def check_statement(value: Any, path: str = "statement", ctx: Context | None = None,
                    ) -> dict[str, Any]:
    """A whole statement. Returns it (contextActivities normalised to lists)."""
    ctx = ctx or Context()
    check_object(value, path, STATEMENT_KEYS, ("actor", "verb", "object"))
    if "id" in value:
        check_uuid(value["id"], f"{path}.id")
    _check_core(value, path, ctx, sub=False)
    if "stored" in value:
        parse_timestamp(value["stored"], f"{path}.stored")
    if "authority" in value:
        check_authority(value["authority"], f"{path}.authority", ctx)
    if "version" in value:
        version = value["version"]
        if not isinstance(version, str) or not VERSION_RE.match(version):
            fail(f"{path}.version", 'must be "1.0.x" or "2.0.x" (for example "1.0.3")')
    return cast("dict[str, Any]", value)
