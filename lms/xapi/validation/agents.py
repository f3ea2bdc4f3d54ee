"""Actors: Agents and Groups (xAPI 1.0.3 Part Two §2.4.2, 2.0 §4.2.2.1).

An Agent is identified by exactly one Inverse Functional Identifier (IFI): ``mbox``,
``mbox_sha1sum``, ``openid`` or ``account``. A Group is anonymous (members, no IFI) or
identified (one IFI); its members are Agents, never Groups.
"""

from __future__ import annotations

import re
from typing import Any, cast

from lms.xapi.validation.common import (
    Context,
    check_irl,
    check_object,
    check_string,
    fail,
)

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
MAILTO_RE = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")


def check_ifi(value: dict[str, Any], path: str, required: bool) -> None:
    """Exactly one IFI (§2.4.2.3); the Agent must have one, an anonymous Group none."""
    present = [name for name in IFIS if name in value]
    if len(present) > 1:
        fail(path, f"must have exactly one identifier (mbox, mbox_sha1sum, openid or "
                   f"account), not {', '.join(present)}")
    if required and not present:
        fail(path, "must have one identifier: mbox, mbox_sha1sum, openid or account")
    if "mbox" in value:
        mbox = value["mbox"]
        if not isinstance(mbox, str) or not MAILTO_RE.match(mbox):
            fail(f"{path}.mbox", "must be a mailto IRI such as mailto:budi@example.go.id")
    if "mbox_sha1sum" in value and (not isinstance(value["mbox_sha1sum"], str)
                                    or not SHA1_RE.match(value["mbox_sha1sum"])):
        fail(f"{path}.mbox_sha1sum", "must be the 40-character hex SHA-1 of a mailto IRI")
    if "openid" in value:
        check_irl(value["openid"], f"{path}.openid")
    if "account" in value:
        account = check_object(value["account"], f"{path}.account", ("homePage", "name"),
                               ("homePage", "name"))
        check_irl(account["homePage"], f"{path}.account.homePage")
        check_string(account["name"], f"{path}.account.name")


def check_agent(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """An Agent (§2.4.2.1): optional objectType "Agent", optional name, one IFI."""
    check_object(value, path, ("objectType", "name", *IFIS))
    if value.get("objectType", "Agent") != "Agent":
        fail(f"{path}.objectType", 'must be "Agent"')
    if "name" in value:
        check_string(value["name"], f"{path}.name")
    check_ifi(value, path, required=True)
    return cast("dict[str, Any]", value)


def check_group(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """A Group (§2.4.2.2): objectType "Group"; anonymous ones must list members."""
    check_object(value, path, ("objectType", "name", "member", *IFIS), ("objectType",))
    if value["objectType"] != "Group":
        fail(f"{path}.objectType", 'must be "Group"')
    if "name" in value:
        check_string(value["name"], f"{path}.name")
    identified = any(name in value for name in IFIS)
    check_ifi(value, path, required=False)
    if "member" in value:
        members = value["member"]
        if not isinstance(members, list):
            fail(f"{path}.member", "must be a list of Agents")
        for i, member in enumerate(members):
            if isinstance(member, dict) and member.get("objectType") == "Group":
                fail(f"{path}.member[{i}]", "must be an Agent; a Group cannot contain Groups")
            check_agent(member, f"{path}.member[{i}]", ctx)
    if not identified and not value.get("member"):
        fail(f"{path}.member", "is required (with at least one Agent) for an anonymous "
                               "Group, that is a Group without mbox, mbox_sha1sum, openid "
                               "or account")
    return cast("dict[str, Any]", value)


def check_actor(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """An Agent or a Group, told apart by ``objectType``."""
    if isinstance(value, dict) and value.get("objectType") == "Group":
        return check_group(value, path, ctx)
    if isinstance(value, dict) and value.get("objectType", "Agent") != "Agent":
        fail(f"{path}.objectType", 'must be "Agent" or "Group"')
    return check_agent(value, path, ctx)


def agent_key(value: dict[str, Any] | None) -> str | None:
    """The canonical IFI string of an Agent or identified Group, None when anonymous.

    "mbox:mailto:a@b", "mbox_sha1sum:<hex>", "openid:<uri>", "account:<homePage>|<name>".
    Agents and identified Groups compare equal by IFI alone (Part Three §2.1.3, agent).
    """
    if not isinstance(value, dict):
        return None
    if "mbox" in value:
        return f"mbox:{value['mbox']}"
    if "mbox_sha1sum" in value:
        return f"mbox_sha1sum:{str(value['mbox_sha1sum']).lower()}"
    if "openid" in value:
        return f"openid:{value['openid']}"
    account = value.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    return None
