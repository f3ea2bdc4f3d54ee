"""The ``/xapi`` blueprint: the xAPI REST resources (1.0.3 Part Three, 2.0 §4.1).

Each request: parse (including the 1.0.3 alternate request syntax), check the version
header and the client key's scopes, call a service, commit once, answer. Every response
carries ``X-Experience-API-Version``; errors are JSON ``{"error", "message"}``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any, cast
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from lms.db import commit_opened_session, get_session
from lms.errors import Forbidden, LmsError, NotFound, ValidationError
from lms.web import add_missing_headers
from lms.xapi import auth, documents, launch, service
from lms.xapi.documents import ACTIVITY_PROFILE, AGENT_PROFILE, STATE, DocumentKey
from lms.xapi.formats import format_statement
from lms.xapi.multipart import build_multipart, parse_multipart, sha2_matches
from lms.xapi.validation.agents import agent_key, check_actor, check_agent
from lms.xapi.validation.common import (
    Context,
    check_iri,
    check_uuid,
    format_timestamp,
    load_json,
    parse_timestamp,
)

xapi_bp = Blueprint("xapi", __name__, url_prefix="/xapi")

#: Versions a client may ask for, and the behaviour each gets.
VERSIONS = {"1.0": "1.0.3", "1.0.0": "1.0.3", "1.0.1": "1.0.3", "1.0.2": "1.0.3",
            "1.0.3": "1.0.3", "2.0": "2.0.0", "2.0.0": "2.0.0"}
SERVED_VERSIONS = ["1.0.3", "2.0.0"]
ALTERNATE_HEADERS = ("authorization", "x-experience-api-version", "content-type",
                     "content-length", "if-match", "if-none-match")
STATEMENT_GET_PARAMS = {"statementId", "voidedStatementId", "agent", "verb", "activity",
                        "registration", "related_activities", "related_agents", "since",
                        "until", "limit", "format", "attachments", "ascending", "more"}


class XapiError(LmsError):
    """An error with an explicit status (400, 401, 403, 413...)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# --- request plumbing --------------------------------------------------------------------


def _header(name: str) -> str | None:
    overrides = g.get("xapi_headers")
    if overrides is not None and name.lower() in overrides:
        return cast("str | None", overrides[name.lower()])
    return request.headers.get(name)


def _params() -> dict[str, str]:
    return cast("dict[str, str]", g.xapi_params)


def _body() -> bytes:
    if g.get("xapi_body") is None:
        g.xapi_body = request.get_data(cache=False)
    return cast("bytes", g.xapi_body)


def _content_type() -> str:
    return (_header("Content-Type") or "").strip()


def _is_v2() -> bool:
    return str(g.get("xapi_version", "1.0.3")).startswith("2.")


@xapi_bp.before_request
def _prepare() -> Any:
    # Until the request's own version is known (errors before that carry the default).
    g.xapi_version = VERSIONS.get(str(current_app.config["XAPI_DEFAULT_VERSION"]), "2.0.0")
    if request.method == "OPTIONS":
        return Response(status=204)
    limit = current_app.config["XAPI_MAX_BODY"]
    if request.content_length is not None and request.content_length > limit:
        raise XapiError(413, f"The request body is {request.content_length} bytes; this LRS "
                             f"accepts at most {limit} bytes per request. Send fewer "
                             "statements or smaller attachments per request.")
    request.max_content_length = limit
    g.xapi_method = request.method
    g.xapi_params = dict(request.args.items())
    requested = request.headers.get("X-Experience-API-Version")
    if request.method == "POST" and "method" in request.args:
        _alternate_syntax(requested)
        requested = _header("X-Experience-API-Version")
    if request.endpoint == "xapi.about":
        return None
    if requested is not None and requested.strip() in VERSIONS:
        g.xapi_version = VERSIONS[requested.strip()]
    if requested is None:
        raise XapiError(400, "The X-Experience-API-Version header is required (for example "
                             "X-Experience-API-Version: 1.0.3 or 2.0.0).")
    version = VERSIONS.get(requested.strip())
    if version is None:
        raise XapiError(400, f"X-Experience-API-Version {requested!r} is not supported; this "
                             f"LRS serves {', '.join(SERVED_VERSIONS)}.")
    g.xapi_version = version
    credential = auth.authenticate_basic(_header("Authorization"))
    if credential is None:
        raise XapiError(401, "Authentication failed: send HTTP Basic credentials of an "
                             "active client key (Authorization: Basic base64(key:secret)).")
    if credential.launch_actor is not None:
        for check in auth.SESSION_CHECKS:
            message = check(credential.launch_session)
            if message:
                raise XapiError(401, message)
    g.xapi_credential = credential
    return None


def _alternate_syntax(requested: str | None) -> None:
    """The 1.0.3 alternate request syntax (Part Three §1.3): a form POST carrying the
    method, headers and content. xAPI 2.0 removed it, so 2.0 requests are refused."""
    if requested and VERSIONS.get(requested.strip(), "").startswith("2."):
        raise XapiError(400, "The alternate request syntax (?method=) is not part of xAPI "
                             "2.0; send the request with its own HTTP method.")
    if len(request.args) != 1:
        raise XapiError(400, "With the alternate request syntax, 'method' must be the only "
                             "query parameter; send the others as form fields.")
    method = request.args["method"].upper()
    if method not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        raise XapiError(400, f"method={request.args['method']!r} is not an HTTP method of "
                             "the xAPI resources.")
    if not request.mimetype == "application/x-www-form-urlencoded":
        raise XapiError(400, "The alternate request syntax needs "
                             "Content-Type: application/x-www-form-urlencoded.")
    raw = request.get_data(cache=True).decode("utf-8", errors="replace")
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if form.get("X-Experience-API-Version", "").startswith("2."):
        raise XapiError(400, "The alternate request syntax (?method=) is not part of xAPI 2.0.")
    headers = {}
    params = {}
    for name, value in form.items():
        if name.lower() in ALTERNATE_HEADERS:
            headers[name.lower()] = value
        elif name != "content":
            params[name] = value
    g.xapi_headers = headers
    g.xapi_params = params
    g.xapi_body = form.get("content", "").encode()
    g.xapi_method = method
    if "content-type" not in headers and g.xapi_body:
        headers["content-type"] = "application/json"


# Every LRS response may be read cross-origin (content in a browser calls the LRS from
# its own origin); what the browser may send is the preflight's answer only, which it
# keeps for two hours (without Max-Age it asks again before nearly every request, since
# each request carries Authorization).
_CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers",
     "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through"),
)
_PREFLIGHT_HEADERS = (
    *_CORS_HEADERS,
    ("Access-Control-Allow-Headers",
     "Content-Type, Authorization, X-Experience-API-Version, If-Match, If-None-Match"),
    ("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE, OPTIONS"),
    ("Access-Control-Max-Age", "7200"),
)


@xapi_bp.after_app_request
def _version_header(response: Response) -> Response:
    path = request.path
    if path.startswith("/xapi"):
        version = g.get("xapi_version") or VERSIONS.get(
            str(current_app.config["XAPI_DEFAULT_VERSION"]), "2.0.0")
        defaults = [("X-Experience-API-Version", version),
                    *(_PREFLIGHT_HEADERS if request.method == "OPTIONS" else _CORS_HEADERS)]
        if "X-Experience-API-Version" in response.headers:
            response.headers["X-Experience-API-Version"] = version
        if path.startswith("/xapi/statements"):
            defaults.append(("X-Experience-API-Consistent-Through",
                             format_timestamp(dt.datetime.now(dt.UTC))))
        add_missing_headers(response.headers, defaults)
    return response


def _error(status: int, name: str, message: str) -> Response:
    body = json.dumps({"error": name, "message": message}, ensure_ascii=False)
    return Response(body, status=status, mimetype="application/json")


@xapi_bp.errorhandler(LmsError)
def _lms_error(exc: LmsError) -> Response:
    get_session().rollback()
    names = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             409: "conflict", 412: "precondition_failed", 413: "too_large"}
    response = _error(exc.status, names.get(exc.status, type(exc).__name__), str(exc.message))
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Lentera LRS"'
    return response


@xapi_bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    get_session().rollback()
    message = exc.description or exc.name
    if exc.code == 413:
        message = (f"The request body is too large; this LRS accepts at most "
                   f"{current_app.config['XAPI_MAX_BODY']} bytes per request.")
    return _error(exc.code or 500, exc.name.lower().replace(" ", "_"), message)


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status=status, mimetype="application/json", headers=headers)


def _http_date(value: dt.datetime) -> str:
    from email.utils import format_datetime

    return format_datetime(value.astimezone(dt.UTC), usegmt=True)


# --- parameter parsing -------------------------------------------------------------------


def _parse_json_body() -> Any:
    return load_json(_body(), "the request body")


def _agent_param(name: str, required: bool = True) -> dict[str, Any] | None:
    raw = _params().get(name)
    if raw is None:
        if required:
            raise ValidationError(f"The {name} parameter is required (a JSON Agent such as "
                                  '{"mbox": "mailto:budi@example.go.id"}).', field=name)
        return None
    value = load_json(raw, f"the {name} parameter")
    if name == "agent" and isinstance(value, dict) and value.get("objectType") == "Group":
        check_actor(value, name, Context(g.xapi_version))
    else:
        check_agent(value, name, Context(g.xapi_version))
    return cast("dict[str, Any] | None", value)


def _bool_param(name: str) -> bool:
    raw = _params().get(name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise ValidationError(f"The {name} parameter must be true or false.", field=name)
    return raw.lower() == "true"


def _time_param(name: str) -> dt.datetime | None:
    raw = _params().get(name)
    if raw is None:
        return None
    return parse_timestamp(raw, name)


def _uuid_param(name: str, required: bool = False) -> str | None:
    raw = _params().get(name)
    if raw is None:
        if required:
            raise ValidationError(f"The {name} parameter is required.", field=name)
        return None
    return check_uuid(raw, name).lower()


def _iri_param(name: str) -> str:
    raw = _params().get(name)
    if raw is None:
        raise ValidationError(f"The {name} parameter is required (an IRI).", field=name)
    return check_iri(raw, name)


def _forbid(message: str) -> None:
    raise Forbidden(message)


# --- about -------------------------------------------------------------------------------


@xapi_bp.route("/about", methods=["GET", "POST", "PUT", "DELETE"])
def about() -> Response:
    """About (1.0.3 Part Three §2.8, 2.0 §4.1.6.7): the versions this LRS serves."""
    if g.xapi_method not in ("GET", "HEAD"):
        raise XapiError(405, "The About resource only answers GET and HEAD.")
    return _json({"version": SERVED_VERSIONS, "extensions": {}})


# --- statements --------------------------------------------------------------------------


@xapi_bp.route("/statements", methods=["GET", "PUT", "POST", "DELETE"])
def statements() -> Response:
    method = g.xapi_method
    if method in ("GET", "HEAD"):
        return _get_statements()
    if method == "PUT":
        return _put_statement()
    if method == "POST":
        return _post_statements()
    raise XapiError(405, "Statements cannot be deleted; void them with a voiding statement.")


def _statements_from_body() -> tuple[Any, dict[str, service.AttachmentPart]]:
    content_type = _content_type()
    mimetype = content_type.split(";")[0].strip().lower()
    if mimetype == "application/json":
        return _parse_json_body(), {}
    if mimetype == "multipart/mixed":
        parts = parse_multipart(_body(), content_type)
        first = parts[0]
        if first.content_type.split(";")[0].strip().lower() != "application/json":
            raise ValidationError("The first part of a multipart/mixed statement request "
                                  "must be the statement(s) as application/json.")
        data = load_json(first.content, "the statement part")
        attachments: dict[str, service.AttachmentPart] = {}
        for i, part in enumerate(parts[1:], start=1):
            sha2 = part.headers.get("x-experience-api-hash")
            if not sha2:
                raise ValidationError(f"Part {i + 1} of the multipart body has no "
                                      "X-Experience-API-Hash header (the SHA-2 of its content).")
            if part.headers.get("content-transfer-encoding", "binary").lower() != "binary":
                raise ValidationError(f"Part {i + 1} of the multipart body needs the header "
                                      "Content-Transfer-Encoding: binary.")
            if not sha2_matches(sha2, part.content):
                raise ValidationError(f"Part {i + 1}: X-Experience-API-Hash {sha2} is not the "
                                      "SHA-2 of the part's content.")
            attachments[sha2.lower()] = service.AttachmentPart(
                part.content_type or "application/octet-stream", part.content)
        return data, attachments
    if not content_type:
        raise ValidationError("Content-Type is missing: send statements as application/json "
                              "(or multipart/mixed with attachments).")
    raise ValidationError(f"Content-Type {mimetype} is not accepted for statements: use "
                          "application/json, or multipart/mixed with attachments.")


def _check_write(statements: list[dict[str, Any]]) -> None:
    credential = g.xapi_credential
    if not auth.can_write_statements(credential):
        _forbid("This client key may not write statements (scope statements/write needed).")
    if credential.launch_actor is not None:
        for i, statement in enumerate(statements):
            message = launch.refusal(
                statement, actor_key=credential.launch_actor_key,
                registration=credential.launch_registration,
                activity_id=credential.launch_activity, session_id=credential.launch_session,
                statement_actor_key=agent_key(statement.get("actor"))
                if isinstance(statement, dict) and isinstance(statement.get("actor"), dict)
                else None)
            if message:
                _forbid(f"statements[{i}].{message}")
            for check in auth.LAUNCH_CHECKS.values():
                message = check(statement)
                if message:
                    _forbid(f"statements[{i}]: {message}")


def _put_statement() -> Response:
    statement_id = _uuid_param("statementId")
    if statement_id is None:
        raise ValidationError("PUT /xapi/statements needs the statementId parameter; use POST "
                              "to let the LRS choose the id.", field="statementId")
    extra = set(_params()) - {"statementId"}
    if extra:
        raise ValidationError(f"Unknown parameter(s) for PUT statements: {', '.join(extra)}.")
    data, parts = _statements_from_body()
    if not isinstance(data, dict):
        raise ValidationError("PUT takes one statement (a JSON object).")
    if "id" in data and str(data["id"]).lower() != statement_id:
        raise ValidationError("statement.id differs from the statementId parameter.",
                              field="id")
    data = {**data, "id": statement_id}
    _check_write([data])
    service.store_statements([data], g.xapi_credential.authority, version=g.xapi_version,
                             attachments=parts, copy_input=False,
                             define=auth.can_define(g.xapi_credential), alone=True)
    commit_opened_session()
    return Response(status=204)


def _post_statements() -> Response:
    if _params():
        raise ValidationError(f"Unknown parameter(s) for POST statements: "
                              f"{', '.join(_params())}.")
    data, parts = _statements_from_body()
    items = data if isinstance(data, list) else [data]
    if not isinstance(data, list | dict):
        raise ValidationError("The body must be a statement (JSON object) or a list of them.")
    _check_write(items)
    ids = service.store_statements(items, g.xapi_credential.authority,
                                   version=g.xapi_version, attachments=parts,
                                   copy_input=False, define=auth.can_define(g.xapi_credential),
                                   alone=True)
    commit_opened_session()
    return _json(ids)


def _accept_languages() -> list[str]:
    header = _header("Accept-Language") or ""
    langs = []
    for item in header.split(","):
        tag = item.split(";")[0].strip()
        if tag and tag != "*":
            langs.append(tag)
    return langs


def _read_access() -> str:
    access = auth.statement_read_access(g.xapi_credential)
    if access is None:
        _forbid("This client key may not read statements (scope statements/read or "
                "statements/read/mine needed).")
    return access or ""


def _statement_response(items: list[dict[str, Any]], body: dict[str, Any] | list[Any],
                        attachments: bool, last_modified: dt.datetime | None = None,
                        ) -> Response:
    headers = {"X-Experience-API-Consistent-Through": format_timestamp(
        dt.datetime.now(dt.UTC))}
    if last_modified is not None:
        headers["Last-Modified"] = _http_date(last_modified)
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    if attachments:
        contents = service.get_attachment_contents(items)
        parts = [(sha2, a.content_type, a.content) for sha2, a in contents.items()]
        multipart, content_type = build_multipart(payload, parts)
        return Response(multipart, content_type=content_type, headers=headers)
    return Response(payload, mimetype="application/json", headers=headers)


def _get_statements() -> Response:
    params = _params()
    unknown = set(params) - STATEMENT_GET_PARAMS
    if unknown:
        raise ValidationError(f"Unknown parameter(s) for GET statements: "
                              f"{', '.join(sorted(unknown))}.")
    access = _read_access()
    fmt = params.get("format", "exact")
    if fmt not in ("exact", "ids", "canonical"):
        raise ValidationError("format must be exact, ids or canonical.", field="format")
    attachments = _bool_param("attachments")
    languages = _accept_languages()
    credential = g.xapi_credential

    single_id = params.get("statementId")
    voided_id = params.get("voidedStatementId")
    if single_id is not None or voided_id is not None:
        if single_id is not None and voided_id is not None:
            raise ValidationError("Give statementId or voidedStatementId, not both.")
        allowed = {"statementId", "voidedStatementId", "format", "attachments"}
        extra = set(params) - allowed
        if extra:
            raise ValidationError(f"With statementId or voidedStatementId only format and "
                                  f"attachments may be given, not {', '.join(sorted(extra))}.")
        wanted = check_uuid(single_id or voided_id, "statementId" if single_id
                            else "voidedStatementId").lower()
        row = service.get_statement_row(wanted)
        if row is None or row.voided != (voided_id is not None):
            raise NotFound(f"No {'voided ' if voided_id else ''}statement with id {wanted}."
                           + (" It is voided: ask with voidedStatementId." if row is not None
                              and row.voided else ""))
        if not _may_read(row, access, credential):
            raise NotFound(f"No statement with id {wanted}.")
        statement = _for_reader(format_statement(row.data, fmt, languages), credential)
        return _statement_response([row.data], statement, attachments, row.stored)

    query = _query_from_params(params)
    if access == "mine" and credential.launch_actor is None:
        query.authority = agent_key(credential.authority)
    if credential.launch_actor is not None:
        if query.agent not in (None, credential.launch_actor_key) or \
                query.registration not in (None, credential.launch_registration):
            _forbid("This launch credential may only read statements of its own learner and "
                    "registration.")
        query.agent = credential.launch_actor_key
        query.registration = credential.launch_registration
    # Launch credentials get statements rebuilt without answer keys, never raw JSON.
    raw = fmt == "exact" and not attachments and credential.launch_actor is None
    items, more_after, upto = service.query_statements(query, raw=raw)
    more = ""
    if more_after is not None:
        token = _more_token(params, more_after, upto)
        more = f"{request.script_root}/xapi/statements?more={token}"
    if raw:
        # The stored JSON texts spliced into the result: no parse and dump per statement.
        body = ('{"statements":[' + ",".join(items) + '],"more":' + json.dumps(more) + "}")
        return Response(body, mimetype="application/json", headers={
            "X-Experience-API-Consistent-Through": format_timestamp(dt.datetime.now(dt.UTC))})
    formatted = [_for_reader(format_statement(s, fmt, languages), credential) for s in items]
    return _statement_response(items, {"statements": formatted, "more": more}, attachments)


def _for_reader(statement: dict[str, Any], credential: Any) -> dict[str, Any]:
    """``statement`` as ``credential`` may see it.

    Content launched in a learner's browser holds a launch credential; it must not learn
    quiz answer keys, so interaction definitions reach it without correctResponsesPattern.
    """
    if credential.launch_actor is None:
        return statement
    return cast("dict[str, Any]", _without_answer_keys(statement))


def _without_answer_keys(value: Any) -> Any:
    """A copy of ``value`` with every activity definition's correctResponsesPattern removed."""
    if isinstance(value, dict):
        return {key: _without_answer_keys(item) for key, item in value.items()
                if key != "correctResponsesPattern"}
    if isinstance(value, list):
        return [_without_answer_keys(item) for item in value]
    return value


def _query_from_params(params: dict[str, str]) -> service.StatementQuery:
    if "more" in params:
        base, after, upto = _read_more_token(params["more"])
        g.xapi_params = {**base, "format": params.get("format", base.get("format", "exact")),
                         "attachments": params.get("attachments",
                                                   base.get("attachments", "false"))}
        query = _query_from_params(base)
        query.after, query.upto = after, upto
        return query
    agent = _agent_param("agent", required=False)
    limit_raw = params.get("limit", "0")
    if not (limit_raw.isascii() and limit_raw.isdigit()):
        raise ValidationError("limit must be a non-negative integer.", field="limit")
    query = service.StatementQuery(
        agent=agent_key(agent) if agent else None,
        verb=check_iri(params["verb"], "verb") if "verb" in params else None,
        activity=check_iri(params["activity"], "activity") if "activity" in params else None,
        registration=_uuid_param("registration"),
        related_activities=_bool_param("related_activities"),
        related_agents=_bool_param("related_agents"),
        since=_time_param("since"),
        until=_time_param("until"),
        limit=int(limit_raw),
        ascending=_bool_param("ascending"),
    )
    if agent is not None and query.agent is None:
        raise ValidationError("agent: an anonymous Group cannot be used as a filter.",
                              field="agent")
    return query


def _read_more_token(token: str) -> tuple[dict[str, str], int, int]:
    """(query parameters, seq to continue after, highest seq) of a ``more`` token this LRS
    gave; ValidationError for anything else (a 400, never a 500)."""
    refused = ValidationError("The more parameter is not a link this LRS gave.")
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        base, after, upto = state["p"], state["a"], state["u"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise refused from None
    if not isinstance(base, dict) or "more" in base or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in base.items()) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**63
            for n in (after, upto)):
        raise refused
    return base, after, upto


def _more_token(params: dict[str, str], after: int, upto: int) -> str:
    base = {k: v for k, v in params.items() if k != "more"}
    if "more" in params:
        base = _read_more_token(params["more"])[0]
    raw = json.dumps({"p": base, "a": after, "u": upto}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _may_read(row: Any, access: str, credential: Any) -> bool:
    if credential.launch_actor is not None:
        return bool(row.actor_key == credential.launch_actor_key
                    and row.registration == credential.launch_registration)
    if access == "mine":
        return bool(row.authority_key == agent_key(credential.authority))
    return True


# --- activities and agents ---------------------------------------------------------------


def _require_definitions_access() -> None:
    if not auth.can_read_definitions(g.xapi_credential):
        _forbid("This client key has no LRS scope.")


def _only_get() -> None:
    if g.xapi_method not in ("GET", "HEAD"):
        raise XapiError(405, "This resource only answers GET and HEAD.")


@xapi_bp.route("/activities", methods=["GET", "POST", "PUT", "DELETE"])
def activities() -> Response:
    """Activities (1.0.3 Part Three §2.5, 2.0 §4.1.6.4): the merged definition."""
    _only_get()
    _require_definitions_access()
    _only_params({"activityId"})
    activity_id = _iri_param("activityId")
    activity = service.get_activity(activity_id)
    if not auth.can_read_answer_keys(g.xapi_credential):
        activity = _without_answer_keys(activity)
    return _json(activity)


@xapi_bp.route("/agents", methods=["GET", "POST", "PUT", "DELETE"])
def agents() -> Response:
    """Agents (1.0.3 Part Three §2.6, 2.0 §4.1.6.3): the Person object of an agent."""
    _only_get()
    _require_definitions_access()
    _only_params({"agent"})
    agent = _agent_param("agent")
    assert agent is not None
    person: dict[str, Any] = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for key in ("mbox", "mbox_sha1sum", "openid", "account"):
        if key in agent:
            person[key] = [agent[key]]
    return _json(person)


def _only_params(allowed: set[str]) -> None:
    extra = set(_params()) - allowed
    if extra:
        raise ValidationError(f"Unknown parameter(s): {', '.join(sorted(extra))}; this "
                              f"resource takes {', '.join(sorted(allowed))}.")


# --- documents ---------------------------------------------------------------------------


def _document_response(doc: Any) -> Response:
    headers = {"ETag": f'"{doc.etag}"', "Last-Modified": _http_date(doc.updated)}
    return Response(doc.content, content_type=doc.content_type, headers=headers)


def _document_body() -> tuple[bytes, str]:
    content_type = _content_type() or "application/octet-stream"
    body = _body()
    if content_type.split(";")[0].strip().lower() == "application/json":
        load_json(body, "the document (declared application/json)")
    return body, content_type


def _documents(key: DocumentKey, id_param: str, allowed: set[str], *, write_ok: bool,
               read_ok: bool, delete_many: bool = False, profile: bool = False) -> Response:
    _only_params(allowed)
    method = g.xapi_method
    document_id = _params().get(id_param)
    if method in ("GET", "HEAD"):
        if not read_ok:
            _forbid("This client key may not read these documents.")
        if document_id is None:
            since = _time_param("since")
            return _json(documents.list_document_ids(key, since))
        if "since" in _params():
            raise ValidationError(f"since applies to the list of ids, not to one {id_param}.")
        doc = documents.get_document(key, document_id)
        if doc is None:
            raise NotFound(f"No document with {id_param} {document_id!r}.")
        return _document_response(doc)
    if not write_ok:
        _forbid("This client key may not change these documents.")
    if "since" in _params():
        raise ValidationError("since is only allowed when listing document ids (GET).")
    if_match = _header("If-Match")
    if_none_match = _header("If-None-Match")
    if method in ("PUT", "POST"):
        if document_id is None:
            raise ValidationError(f"The {id_param} parameter is required.", field=id_param)
        content, content_type = _document_body()
        is_put = method == "PUT"
        if is_put and profile and if_match is None and if_none_match is None \
                and documents.get_document(key, document_id) is None:
            # 1.0.3 Part Three §3.1: profile writes must say what they expect.
            raise ValidationError("PUT of a profile document needs If-Match (to replace the "
                                  "document you read) or If-None-Match: * (to create it).")
        etag = documents.save_document(
            key, document_id, content, content_type, merge=not is_put,
            if_match=if_match, if_none_match=if_none_match,
            require_precondition=is_put and (profile or _is_v2()))
        get_session().commit()
        return Response(status=204, headers={"ETag": f'"{etag}"'})
    if method == "DELETE":
        if document_id is None:
            if not delete_many:
                raise ValidationError(f"The {id_param} parameter is required.", field=id_param)
            documents.delete_documents(key)
        else:
            documents.delete_document(key, document_id, if_match=if_match,
                                      if_none_match=if_none_match)
        get_session().commit()
        return Response(status=204)
    raise XapiError(405, f"{method} is not allowed here.")


def _check_launch_state(agent: dict[str, Any], activity_id: str,
                        registration: str | None) -> None:
    """A launch credential uses only the State of its learner, registration and AU; it
    reads LMS.LaunchData and never changes it (cmi5 §10)."""
    credential = g.xapi_credential
    if credential.launch_actor is None:
        return
    if agent_key(agent) != credential.launch_actor_key or \
            registration != credential.launch_registration:
        _forbid("This launch credential may only use the State of its own learner and "
                "registration.")
    if not launch.within(activity_id, credential.launch_activity):
        _forbid(f"This launch credential may only use the State of the activity it was "
                f"launched for ({credential.launch_activity}).")
    if g.xapi_method not in ("GET", "HEAD"):
        state_id = _params().get("stateId")
        if state_id is None:
            _forbid("Launched content may not delete every State document at once.")
        if state_id in launch.LMS_STATE_DOCUMENTS:
            _forbid(f"{state_id} is written by the LMS; launched content may read it but "
                    "not change or delete it (cmi5 §10).")


@xapi_bp.route("/activities/state", methods=["GET", "PUT", "POST", "DELETE"])
def state() -> Response:
    """State (1.0.3 Part Three §2.3, 2.0 §4.1.6.2)."""
    activity_id = _iri_param("activityId")
    agent = _agent_param("agent")
    assert agent is not None
    registration = _uuid_param("registration")
    _check_launch_state(agent, activity_id, registration)
    key = DocumentKey(STATE, activity_id=activity_id, agent_key=agent_key(agent) or "",
                      registration=registration or "")
    credential = g.xapi_credential
    return _documents(key, "stateId",
                      {"activityId", "agent", "registration", "stateId", "since"},
                      write_ok=auth.can_use_state(credential, True),
                      read_ok=auth.can_use_state(credential, False), delete_many=True)


def _launch_profile_read(allowed: bool) -> tuple[bool, bool]:
    """(write_ok, read_ok) of a launch credential on a profile document: reading one
    document where cmi5 lets the AU read, never writing (403, which cmi5 §11 allows)."""
    single = g.xapi_method in ("GET", "HEAD") and _params().get("profileId") is not None
    return False, allowed and single


@xapi_bp.route("/activities/profile", methods=["GET", "PUT", "POST", "DELETE"])
def activity_profile() -> Response:
    """Activity Profile (1.0.3 Part Three §2.7, 2.0 §4.1.6.6)."""
    activity_id = _iri_param("activityId")
    key = DocumentKey(ACTIVITY_PROFILE, activity_id=activity_id)
    credential = g.xapi_credential
    write_ok = auth.can_use_profiles(credential, True)
    read_ok = auth.can_use_profiles(credential, False)
    if credential.launch_actor is not None:
        write_ok, read_ok = _launch_profile_read(
            launch.within(activity_id, credential.launch_activity))
    return _documents(key, "profileId", {"activityId", "profileId", "since"},
                      write_ok=write_ok, read_ok=read_ok, profile=True)


@xapi_bp.route("/agents/profile", methods=["GET", "PUT", "POST", "DELETE"])
def agent_profile() -> Response:
    """Agent Profile (1.0.3 Part Three §2.6, 2.0 §4.1.6.5)."""
    agent = _agent_param("agent")
    key = DocumentKey(AGENT_PROFILE, agent_key=agent_key(agent) or "")
    credential = g.xapi_credential
    write_ok = auth.can_use_profiles(credential, True)
    read_ok = auth.can_use_profiles(credential, False)
    if credential.launch_actor is not None:
        # cmi5 §11: the AU reads the learner's cmi5LearnerPreferences.
        write_ok, read_ok = _launch_profile_read(
            key.agent_key == credential.launch_actor_key
            and _params().get("profileId") in launch.READABLE_AGENT_PROFILES)
    return _documents(key, "profileId", {"agent", "profileId", "since"},
                      write_ok=write_ok, read_ok=read_ok, profile=True)
