"""The OpenAPI 3.1 document of ``/api/v1``, assembled from what modules register."""

from __future__ import annotations

import copy
from typing import Any

_paths: dict[str, dict[str, Any]] = {}
_schemas: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A short machine-readable code."},
            "message": {"type": "string", "description": "What went wrong and what to do."},
        },
    }
}


def register_paths(paths: dict[str, dict[str, Any]], schemas: dict[str, Any] | None = None) -> None:
    """Add operations (OpenAPI path items keyed by path under /api/v1) and schemas.

    Registering the same path and method twice is an error: two modules would be
    describing one operation.
    """
    for path, item in paths.items():
        existing = _paths.setdefault(path, {})
        for method, operation in item.items():
            if method in existing and existing[method] != operation:
                raise ValueError(f"OpenAPI operation {method.upper()} {path} registered twice")
            existing[method] = operation
    for name, schema in (schemas or {}).items():
        if name in _schemas and _schemas[name] != schema:
            raise ValueError(f"OpenAPI schema {name} registered twice")
        _schemas[name] = schema


def openapi_document() -> dict[str, Any]:
    """The whole document, with the security schemes every operation uses."""
    from flask import current_app

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lentera API",
            "version": "1",
            "description": (
                "Read access to Lentera's catalog, transcripts and competency profiles. "
                "Authenticate with a client key (HTTP Basic; create one with "
                "`lms client create --scopes api:read`) or, from the browser, as an HR user."
            ),
        },
        "servers": [{"url": current_app.config["BASE_URL"] + "/api/v1"}],
        "paths": {p: copy.deepcopy(v) for p, v in sorted(_paths.items())},
        "components": {
            "schemas": copy.deepcopy(_schemas),
            "securitySchemes": {
                "clientKey": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "responses": {
                name: {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for name, text in (
                    ("Unauthorized", "No valid session or client key."),
                    ("Forbidden", "The session or key may not do this."),
                    ("NotFound", "No such resource."),
                )
            },
        },
        "security": [{"clientKey": []}, {"session": []}],
    }
