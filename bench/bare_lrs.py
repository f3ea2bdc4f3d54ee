"""The bare ceiling for ``bench/lrs_ceiling.py``: the least a Flask app can do to store
xAPI statements on this machine.

``POST /xapi/statements`` takes one statement or a list, gives each an id when it has
none, and writes one row per statement into a table shaped like Lentera's
``xapi_statement`` (the same columns and indexes, JSONB, a unique statement id): one
INSERT for a single statement, one multi-row INSERT for a batch. No validation, no
authentication, no index tables, no consumers. It answers the ids, as an LRS does.

    BARE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_bare \\
        gunicorn -w 2 -b 127.0.0.1:5099 'bench.bare_lrs:create_app()'
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from typing import Any

import psycopg
from flask import Flask, Response, request
from psycopg.types.json import Jsonb

SCHEMA = """
CREATE TABLE IF NOT EXISTS xapi_statement (
    seq BIGSERIAL PRIMARY KEY,
    statement_id VARCHAR(36) NOT NULL UNIQUE,
    actor_key VARCHAR(2048),
    verb_id VARCHAR(2048) NOT NULL,
    activity_id VARCHAR(2048),
    object_agent_key VARCHAR(2048),
    ref_id VARCHAR(36),
    registration VARCHAR(36),
    authority_key VARCHAR(2048),
    "timestamp" TIMESTAMPTZ NOT NULL,
    stored TIMESTAMPTZ NOT NULL,
    voided BOOLEAN NOT NULL,
    data JSONB NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_xapi_statement_actor_seq ON xapi_statement (actor_key, seq);
CREATE INDEX IF NOT EXISTS ix_xapi_statement_verb_seq ON xapi_statement (verb_id, seq);
CREATE INDEX IF NOT EXISTS ix_xapi_statement_activity_seq ON xapi_statement (activity_id, seq);
CREATE INDEX IF NOT EXISTS ix_xapi_statement_object_agent_seq
    ON xapi_statement (object_agent_key, seq) WHERE object_agent_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_xapi_statement_registration_seq
    ON xapi_statement (registration, seq);
CREATE INDEX IF NOT EXISTS ix_xapi_statement_ref_seq ON xapi_statement (seq)
    WHERE ref_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_xapi_statement_ref_id ON xapi_statement (ref_id, seq)
    WHERE ref_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_xapi_statement_stored ON xapi_statement (stored);
"""

INSERT = ("INSERT INTO xapi_statement (statement_id, actor_key, verb_id, activity_id, "
          "registration, \"timestamp\", stored, voided, data) VALUES ")
ROW = "(%s, %s, %s, %s, %s, %s, %s, false, %s)"


def _row(statement: dict[str, Any], now: dt.datetime) -> tuple[Any, ...]:
    statement.setdefault("id", str(uuid.uuid4()))
    account = statement["actor"].get("account") or {}
    registration = (statement.get("context") or {}).get("registration")
    return (statement["id"], f"account:{account.get('homePage')}|{account.get('name')}",
            statement["verb"]["id"], statement["object"]["id"], registration, now, now,
            Jsonb(statement))


def create_schema(url: str) -> None:
    """The table, created once before the servers start (workers would race on it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)


def create_app() -> Flask:
    url = os.environ["BARE_DATABASE_URL"]
    app = Flask(__name__)
    conn = psycopg.connect(url)

    @app.post("/xapi/statements")
    def statements() -> Response:
        data = json.loads(request.get_data())
        items = data if isinstance(data, list) else [data]
        now = dt.datetime.now(dt.UTC)
        rows = [_row(statement, now) for statement in items]
        with conn.cursor() as cur:
            cur.execute(INSERT + ", ".join([ROW] * len(rows)),
                        [value for row in rows for value in row])
        conn.commit()
        return Response(json.dumps([row[0] for row in rows]), mimetype="application/json")

    return app
