"""``/api/v1/lrs/consumers``: the statement consumers' lag and failures, for monitoring.

A monitoring system (Prometheus with a JSON exporter, Zabbix, Nagios...) polls it with a
client key that holds only the ``monitor`` scope; administrators can open it signed in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, jsonify

from lms.api import api_bp, require_api
from lms.api.openapi import register_paths
from lms.people.models import Role
from lms.xapi import consumers


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def health() -> dict[str, Any]:
    """The figures, and an overall ``status``: ``failing`` when a consumer stopped (its
    database work failed) or holds statements it could not handle, ``lagging`` when
    statements have waited longer than ``XAPI_LAG_WARNING_SECONDS``, else ``ok``."""
    warn_after = float(current_app.config.get("XAPI_LAG_WARNING_SECONDS", 300))
    rows = consumers.consumer_status()
    overall = "ok"
    out = []
    for row in rows:
        if row["last_error"] or row["failures"]:
            state = "failing"
        elif row["lag_seconds"] > warn_after:
            state = "lagging"
        else:
            state = "ok"
        if state == "failing" or (state == "lagging" and overall == "ok"):
            overall = state
        out.append({
            "name": row["name"], "status": state, "last_seq": row["last_seq"],
            "pending": row["pending"], "pending_capped": row["pending_capped"],
            "oldest_pending": _iso(row["oldest_pending"]),
            "lag_seconds": round(row["lag_seconds"], 3), "failures": row["failures"],
            "skipped": row["skipped"], "last_error": row["last_error"],
            "updated": _iso(row["updated"]),
        })
    return {"status": overall, "checked_at": _iso(dt.datetime.now(dt.UTC)),
            "lag_warning_seconds": warn_after, "consumers": out}


@api_bp.get("/lrs/consumers")
@require_api("monitor", roles=(Role.ADMIN,))
def api_lrs_consumers() -> Any:
    """The statement consumers' lag and failures."""
    return jsonify(health())


_CONSUMER = {
    "type": "object",
    "required": ["name", "status", "last_seq", "pending", "lag_seconds", "failures"],
    "properties": {
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["ok", "lagging", "failing"]},
        "last_seq": {"type": "integer", "description": "The last statement handled (its "
                                                      "stored order)."},
        "pending": {"type": "integer", "description": "Statements stored but not yet "
                                                     "handled."},
        "pending_capped": {"type": "boolean", "description": "pending was counted up to its "
                                                            "cap (1,000,000): at least."},
        "oldest_pending": {"type": ["string", "null"], "format": "date-time"},
        "lag_seconds": {"type": "number", "description": "How long the oldest waiting "
                                                        "statement has waited."},
        "failures": {"type": "integer", "description": "Statements it could not handle, "
                                                      "open (retry or skip them)."},
        "skipped": {"type": "integer"},
        "last_error": {"type": ["string", "null"], "description": "Why its last run stopped "
                                                                 "(the database failed)."},
        "updated": {"type": ["string", "null"], "format": "date-time"},
    },
}

register_paths({
    "/lrs/consumers": {
        "get": {
            "operationId": "lrsConsumers",
            "summary": "Health of the statement consumers (lag and failures)",
            "description": "For monitoring: poll it with a client key holding the `monitor` "
                           "scope (`lms client create --scopes monitor`). Always 200 when "
                           "authorised; read `status`.",
            "tags": ["LRS"],
            "responses": {
                "200": {"description": "The consumers' figures.", "content": {
                    "application/json": {"schema": {
                        "type": "object",
                        "required": ["status", "checked_at", "consumers"],
                        "properties": {
                            "status": {"type": "string",
                                       "enum": ["ok", "lagging", "failing"]},
                            "checked_at": {"type": "string", "format": "date-time"},
                            "lag_warning_seconds": {"type": "number"},
                            "consumers": {"type": "array",
                                          "items": {"$ref": "#/components/schemas/"
                                                            "ConsumerHealth"}},
                        }}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
            },
        }
    }
}, {"ConsumerHealth": _CONSUMER})
