"""Names of LTI 1.3 claims and scopes, and how platform roles map to Lentera's.

References: LTI Core 1.3 (https://www.imsglobal.org/spec/lti/v1p3/), Deep Linking 2.0,
Assignment and Grade Services 2.0, Names and Role Provisioning Services 2.0.
"""

from __future__ import annotations

from typing import Any

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
LIS = LTI + "lis"
TOOL_PLATFORM = LTI + "tool_platform"
LAUNCH_PRESENTATION = LTI + "launch_presentation"

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"

AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
#: What Lentera asks platforms for (dynamic registration, token requests).
TOOL_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE,
               SCOPE_NRPS)

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
LTI_VERSION = "1.3.0"

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

#: Roles that may choose content (deep linking) and, when the platform allows it, become
#: Lentera trainers. Short forms ("Instructor") are accepted as the spec deprecates but
#: platforms still send them.
INSTRUCTOR_ROLES = frozenset({
    _MEMBERSHIP + "Instructor", _MEMBERSHIP + "ContentDeveloper",
    _MEMBERSHIP + "Administrator", _MEMBERSHIP + "Instructor#TeachingAssistant",
    _MEMBERSHIP + "Mentor",
    _INSTITUTION + "Instructor", _INSTITUTION + "Faculty", _INSTITUTION + "Administrator",
    _SYSTEM + "Administrator", _SYSTEM + "SysAdmin",
    "Instructor", "ContentDeveloper", "Administrator", "TeachingAssistant",
})


def role_names(roles: Any) -> list[str]:
    """The role URIs of a ``roles`` claim (strings only, at most 50, each cut to 200)."""
    if not isinstance(roles, list):
        return []
    return [r[:200] for r in roles if isinstance(r, str) and r][:50]


def is_instructor(roles: list[str]) -> bool:
    """True when the launch comes from someone who teaches the platform course."""
    return any(r in INSTRUCTOR_ROLES for r in roles)


def lookup(claims: dict[str, Any], path: str) -> str:
    """The string at ``path`` in the launch: ``custom.<name>``, ``lis.<name>``, or a
    top-level claim such as ``preferred_username``, ``email`` or ``sub``; '' when absent."""
    if path.startswith("custom."):
        container: Any = claims.get(CUSTOM)
        name = path[7:]
    elif path.startswith("lis."):
        container = claims.get(LIS)
        name = path[4:]
    else:
        container, name = claims, path
    value = container.get(name) if isinstance(container, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) else ""
