"""Step 1, validate: every statement against the specification, the attachments against
their parts, and the ids of one request (Part Two §2, Part Three §1.5.2, 2.0 §4.1.2.3).

Nothing is stored and nothing is changed here but the statements' own normalisation
(contextActivities as lists); an invalid statement raises
:class:`~lms.errors.ValidationError` naming the property.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from lms.errors import ValidationError
from lms.xapi.validation import Context, check_statement
from lms.xapi.validation.attachments import SIGNATURE_USAGE


@dataclass
class AttachmentPart:
    """The raw content of an attachment sent in a multipart/mixed request."""

    content_type: str
    content: bytes


def validate(statements: Any, ctx: Context, attachments: dict[str, AttachmentPart] | None,
             *, copy_input: bool) -> tuple[list[dict[str, Any]], dict[str, AttachmentPart]]:
    """The checked statements (copies when ``copy_input``) and the attachment parts by
    lower-case SHA-2."""
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValidationError("statements: send one statement object or a non-empty list "
                              "of them", field="statements")
    many = len(statements) > 1
    checked: list[dict[str, Any]] = []
    for i, statement in enumerate(statements):
        if copy_input:
            statement = json_copy(statement)
        check_statement(statement, f"statements[{i}]" if many else "statement", ctx)
        checked.append(statement)
    parts = check_attachments(checked, {k.lower(): v for k, v in (attachments or {}).items()})
    given = [s["id"].lower() for s in checked if "id" in s]
    if len(set(given)) != len(given):
        raise ValidationError("statements: the same statement id is used twice in one "
                              "request", field="id")
    return checked, parts


def json_copy(value: Any) -> Any:
    """A copy of parsed JSON (dicts, lists, scalars): several times cheaper than
    ``copy.deepcopy``, which the learner's every action paid for."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return copy.deepcopy(value)


def check_attachments(statements: list[dict[str, Any]],
                      parts: dict[str, AttachmentPart]) -> dict[str, AttachmentPart]:
    """Every attachment without a fileUrl must come as a part with matching SHA-2, and
    every part must belong to an attachment (Part Three §1.5.2 / 2.0 §4.1.2.3)."""
    from lms.xapi.validation import signatures

    needed: dict[str, dict[str, Any]] = {}
    for i, statement in enumerate(statements):
        for j, attachment in enumerate(statement.get("attachments", [])):
            sha2 = attachment["sha2"].lower()
            if sha2 in parts:
                needed[sha2] = attachment
            elif "fileUrl" not in attachment:
                raise ValidationError(
                    f"statements[{i}].attachments[{j}]: has no fileUrl, so its content must "
                    f"be sent as a part of a multipart/mixed request with "
                    f"X-Experience-API-Hash {attachment['sha2']}",
                    field=f"statements[{i}].attachments[{j}]")
            if attachment["usageType"] == SIGNATURE_USAGE:
                if sha2 not in parts:
                    raise ValidationError(
                        f"statements[{i}].attachments[{j}]: a signature attachment must be "
                        "sent as a part of the request", field="attachments")
                signatures.check_signature(statement, parts[sha2].content,
                                           f"statements[{i}].attachments[{j}]")
    for sha2 in parts:
        if sha2 not in needed:
            raise ValidationError(
                f"the request has an attachment part with X-Experience-API-Hash {sha2} that "
                "no statement's attachments list (sha2)", field="attachments")
    return parts
