"""Attachments (xAPI 1.0.3 Part Two §2.4.11, 2.0 §4.2.2.6)."""

from __future__ import annotations

import re
from typing import Any, cast

from lms.xapi.validation.common import (
    Context,
    check_iri,
    check_irl,
    check_language_map,
    check_object,
    check_string,
    fail,
)

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
CONTENT_TYPE_RE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$")
SHA2_RE = re.compile(r"^[0-9a-fA-F]{56}$|^[0-9a-fA-F]{64}$|^[0-9a-fA-F]{96}$|^[0-9a-fA-F]{128}$")


def check_attachment(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    """usageType, display, contentType, length and sha2 are required; fileUrl optional."""
    check_object(value, path, ("usageType", "display", "description", "contentType",
                               "length", "sha2", "fileUrl"),
                 ("usageType", "display", "contentType", "length", "sha2"))
    check_iri(value["usageType"], f"{path}.usageType")
    check_language_map(value["display"], f"{path}.display")
    if "description" in value:
        check_language_map(value["description"], f"{path}.description")
    content_type = check_string(value["contentType"], f"{path}.contentType")
    if not CONTENT_TYPE_RE.match(content_type):
        fail(f"{path}.contentType", "must be an Internet Media Type such as image/png")
    length = value["length"]
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        fail(f"{path}.length", "must be a non-negative integer (bytes)")
    sha2 = check_string(value["sha2"], f"{path}.sha2")
    if not SHA2_RE.match(sha2):
        fail(f"{path}.sha2", "must be the hex SHA-2 (SHA-224/256/384/512) of the content")
    if "fileUrl" in value:
        check_irl(value["fileUrl"], f"{path}.fileUrl")
    if value["usageType"] == SIGNATURE_USAGE and content_type != "application/octet-stream":
        fail(f"{path}.contentType", "of a signature attachment must be "
                                    "application/octet-stream")
    return cast("dict[str, Any]", value)


def check_attachments(value: Any, path: str, ctx: Context) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        fail(path, "must be a list of attachment objects")
    for i, item in enumerate(value):
        check_attachment(item, f"{path}[{i}]", ctx)
    return value
