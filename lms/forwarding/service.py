"""xAPI forwarding (statements out to other LRSs) and pulling (statements in from them).

Out: every :class:`ForwardTarget` has a cursor over ``xapi_statement.seq``. Delivery reads
the statements after it (with the consumers' rule for gaps in ``seq``), keeps those that
pass the target's filters and POSTs them in batches with HTTP Basic. A 2xx advances the
cursor; a 4xx other than 401/403/404/408/429 means the target refuses some statement: the
batch is split and each refused statement goes to the dead letters, the rest is sent; any
other failure (connection, 5xx, credentials) keeps the cursor and retries later with
exponential backoff. The target answers a statement id it holds already (same content)
as a no-op, so a batch re-sent after a crash is delivered once.

In: every :class:`PullSource` is read with ``GET statements?since=...&ascending=true``,
following ``more`` to the end; pages are stored with :func:`store_statements` keeping the
source's authority, and ``since`` advances to the newest ``stored`` seen (never past the
source's ``X-Experience-API-Consistent-Through``). A statement id stored here already
with the same content is a no-op, so pulling the same range twice stores nothing twice.

Only one process works on a target or source at a time: a lease (a conditional UPDATE
that works the same on SQLite and PostgreSQL) taken in its own short transaction; no
database lock is held during HTTP calls.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
import sqlalchemy as sa
from flask import current_app

from lms.db import get_session, utcnow
from lms.errors import Conflict, LmsError, NotFound, ValidationError
from lms.forwarding.models import DeadLetter, ForwardTarget, PullSource
from lms.forwarding.secrets import SecretError

log = logging.getLogger(__name__)

#: Statements per POST to a target.
BATCH_SIZE = 100
#: Statements asked for per page when pulling.
PULL_PAGE = 500
#: Seconds a delivery or pull may hold its lease before another process may take over.
LEASE_SECONDS = 120
#: Backoff after the n-th consecutive failure: BACKOFF_BASE * 2**(n-1), at most BACKOFF_MAX.
BACKOFF_BASE = 5
BACKOFF_MAX = 3600
TIMEOUT = 20
#: 4xx answers that say nothing about a statement (credentials, rate, a wrong URL).
RETRYABLE_4XX = {401, 403, 404, 408, 429}

_http = requests.Session()


def backoff(failures: int) -> dt.timedelta:
    """How long to wait after the ``failures``-th failure in a row."""
    return dt.timedelta(seconds=min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, failures - 1)))


# --- configuration ----------------------------------------------------------------------------


def _check_endpoint(endpoint: str) -> str:
    endpoint = (endpoint or "").strip()
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("The endpoint must be an http(s) URL such as "
                              "https://lrs.example.go.id/xapi/", field="endpoint")
    return endpoint.rstrip("/") + "/"


def _lines(value: Iterable[str] | str | None) -> list[str]:
    if isinstance(value, str):
        value = value.replace(",", "\n").splitlines()
    return [v.strip() for v in value or [] if v and v.strip()]


def _check_common(name: str, username: str, version: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("Give a name of at most 200 characters", field="name")
    if not (username or "").strip():
        raise ValidationError("Give the key (user name) the LRS issued", field="username")
    if version not in ("1.0.3", "2.0.0"):
        raise ValidationError("The xAPI version must be 1.0.3 or 2.0.0", field="version")
    return name, username.strip(), version


def create_target(name: str, endpoint: str, username: str, password: str, *,
                  version: str = "1.0.3", verbs: Iterable[str] | str | None = None,
                  activity_prefixes: Iterable[str] | str | None = None,
                  from_start: bool = False) -> ForwardTarget:
    """Add a forwarding target. It receives the statements stored from now on, or every
    stored statement when ``from_start``."""
    from lms.xapi.models import Statement

    name, username, version = _check_common(name, username, version)
    session = get_session()
    if session.scalar(sa.select(ForwardTarget.id).where(ForwardTarget.name == name)):
        raise Conflict(f"A forwarding target named {name!r} exists already", field="name")
    start = 0 if from_start else (session.scalar(sa.select(sa.func.max(Statement.seq))) or 0)
    target = ForwardTarget(name=name, endpoint=_check_endpoint(endpoint), username=username,
                           password=password or "", version=version, verbs=_lines(verbs),
                           activity_prefixes=_lines(activity_prefixes), last_seq=start,
                           enabled=True, delivered=0, failures=0)
    session.add(target)
    session.flush()
    return target


def create_source(name: str, endpoint: str, username: str, password: str, *,
                  version: str = "1.0.3", since: str | None = None,
                  interval_seconds: int = 300) -> PullSource:
    """Add a source to pull statements from (all of them, or those stored after ``since``)."""
    name, username, version = _check_common(name, username, version)
    session = get_session()
    if session.scalar(sa.select(PullSource.id).where(PullSource.name == name)):
        raise Conflict(f"A pull source named {name!r} exists already", field="name")
    if since:
        from lms.xapi.validation.common import parse_timestamp

        parse_timestamp(since, "since")
    if interval_seconds < 10:
        raise ValidationError("Pull at most every 10 seconds", field="interval_seconds")
    source = PullSource(name=name, endpoint=_check_endpoint(endpoint), username=username,
                        password=password or "", version=version, since=since or None,
                        interval_seconds=interval_seconds, enabled=True, pulled=0)
    session.add(source)
    session.flush()
    return source


def update_connection(row: ForwardTarget | PullSource, endpoint: str, username: str,
                      password: str | None, version: str) -> None:
    """Change where and how a target or source is reached; an empty ``password`` keeps the
    stored one (forms never show it back)."""
    _name, username, version = _check_common(row.name, username, version)
    row.endpoint = _check_endpoint(endpoint)
    row.username = username
    row.version = version
    if password:
        row.password = password
    if isinstance(row, ForwardTarget):
        row.failures, row.next_attempt, row.last_error = 0, None, None
    else:
        row.last_error, row.next_run = None, None


def reencrypt_passwords() -> int:
    """Encrypt every stored password again with the first configured key (rotation)."""
    from lms.forwarding.secrets import rotate

    session = get_session()
    count = 0
    rows: list[ForwardTarget | PullSource] = [*session.scalars(sa.select(ForwardTarget)),
                                              *session.scalars(sa.select(PullSource))]
    for row in rows:
        row.password_token = rotate(row.password_token)
        count += 1
    session.flush()
    return count


def get_target(target_id: int) -> ForwardTarget:
    target = get_session().get(ForwardTarget, target_id)
    if target is None:
        raise NotFound("No such forwarding target")
    return target


def list_targets() -> list[ForwardTarget]:
    return list(get_session().scalars(sa.select(ForwardTarget).order_by(ForwardTarget.name)))


def list_sources() -> list[PullSource]:
    return list(get_session().scalars(sa.select(PullSource).order_by(PullSource.name)))


def backlog(target: ForwardTarget) -> int:
    """Statements stored after the target's cursor (before filters)."""
    from lms.xapi.models import Statement

    top = get_session().scalar(sa.select(sa.func.max(Statement.seq))) or 0
    return max(0, top - target.last_seq)


# --- leases -------------------------------------------------------------------------------


def _take_lease(model: type[ForwardTarget] | type[PullSource], row_id: int) -> str | None:
    """Take the row's lease in a transaction of its own; return the owner token or None."""
    owner = uuid.uuid4().hex
    now = utcnow()
    session = get_session()
    result = session.execute(
        sa.update(model).where(model.id == row_id, model.enabled.is_(True),
                               sa.or_(model.lease_until.is_(None), model.lease_until < now))
        .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False))
    session.commit()
    return owner if result.rowcount == 1 else None  # type: ignore[attr-defined]


def _release(model: type[ForwardTarget] | type[PullSource], row_id: int, owner: str,
             **values: Any) -> bool:
    """Write ``values`` and give the lease back, if it is still ours; commit."""
    session = get_session()
    result = session.execute(
        sa.update(model).where(model.id == row_id, model.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, **values)
        .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def _renew(model: type[ForwardTarget] | type[PullSource], row_id: int, owner: str,
           **values: Any) -> bool:
    session = get_session()
    result = session.execute(
        sa.update(model).where(model.id == row_id, model.lease_owner == owner)
        .values(lease_until=utcnow() + dt.timedelta(seconds=LEASE_SECONDS), **values)
        .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


# --- forwarding ---------------------------------------------------------------------------


def _headers(version: str) -> dict[str, str]:
    return {"X-Experience-API-Version": version, "Content-Type": "application/json"}


def _outgoing(data: dict[str, Any]) -> dict[str, Any]:
    """The statement as sent: without what the receiving LRS sets itself."""
    return {k: v for k, v in data.items() if k not in ("stored", "authority", "version")}


def _matches(target: ForwardTarget, data: dict[str, Any]) -> bool:
    if target.verbs and data.get("verb", {}).get("id") not in target.verbs:
        return False
    if target.activity_prefixes:
        object_id = str((data.get("object") or {}).get("id") or "")
        return any(object_id.startswith(p) for p in target.activity_prefixes)
    return True


class _Retry(Exception):
    """The target cannot take statements now (network, 5xx, credentials): try later."""


def _post(target: ForwardTarget, statements: list[dict[str, Any]]) -> requests.Response:
    try:
        password = target.password
    except SecretError as exc:
        raise _Retry(str(exc)) from None
    try:
        response = _http.post(urljoin(target.endpoint, "statements"), json=statements,
                              auth=(target.username, password),
                              headers=_headers(target.version), timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None
    if response.status_code >= 500 or response.status_code in RETRYABLE_4XX:
        raise _Retry(f"HTTP {response.status_code}: {response.text[:500]}")
    return response


def _send(target: ForwardTarget, rows: list[Any]) -> list[DeadLetter]:
    """Send ``rows`` to the target; return the dead letters of those it refused for good."""
    if not rows:
        return []
    response = _post(target, [_outgoing(r.data) for r in rows])
    if response.ok:
        return []
    if len(rows) == 1:
        row = rows[0]
        return [DeadLetter(target_id=target.id, statement_id=row.statement_id,
                           statement=row.data, status=response.status_code,
                           error=response.text[:2000] or f"HTTP {response.status_code}")]
    middle = len(rows) // 2  # find the refused ones by halving: log2(n) extra requests each
    return _send(target, rows[:middle]) + _send(target, rows[middle:])


def deliver_target(target_id: int, *, max_batches: int | None = None,
                   now: dt.datetime | None = None) -> int:
    """Send the target its pending statements; return how many were sent (or dead-lettered).

    Does nothing while another process holds the target's lease or before its backoff
    ends. Commits (its own short transactions): call it from a task or CLI, not a view.
    """
    from lms.xapi.consumers import _pending

    session = get_session()
    target = session.get(ForwardTarget, target_id)
    session.commit()
    now = now or utcnow()
    if target is None or not target.enabled or (
            target.next_attempt is not None and target.next_attempt > now):
        return 0
    owner = _take_lease(ForwardTarget, target_id)
    if owner is None:
        return 0
    target = session.get(ForwardTarget, target_id, populate_existing=True)
    assert target is not None
    sent = 0
    batches = 0
    cursor = target.last_seq
    delivered = target.delivered
    try:
        while max_batches is None or batches < max_batches:
            rows = _pending(session, cursor, utcnow())
            session.commit()
            if not rows:
                break
            chosen = [r for r in rows if _matches(target, r.data)]
            for start in range(0, len(chosen), BATCH_SIZE):
                part = chosen[start:start + BATCH_SIZE]
                dead = _send(target, part)
                # The cursor moves past what was sent, with the dead letters, at once.
                cursor = part[-1].seq
                delivered += len(part) - len(dead)
                session.add_all(dead)
                _renew(ForwardTarget, target_id, owner, last_seq=cursor, delivered=delivered,
                       failures=0, next_attempt=None, last_error=None,
                       last_success=utcnow())
                sent += len(part)
            cursor = rows[-1].seq
            _renew(ForwardTarget, target_id, owner, last_seq=cursor)
            batches += 1
    except _Retry as exc:
        failures = target.failures + 1
        session.rollback()
        _release(ForwardTarget, target_id, owner, failures=failures,
                 next_attempt=utcnow() + backoff(failures), last_error=str(exc)[:2000])
        log.warning("forwarding to %s failed (%s in a row): %s", target.name, failures, exc)
        return sent
    except Exception:
        session.rollback()
        _release(ForwardTarget, target_id, owner)
        raise
    _release(ForwardTarget, target_id, owner)
    return sent


def deliver_all(now: dt.datetime | None = None) -> int:
    """Deliver to every enabled target that is due; return the statements sent."""
    session = get_session()
    ids = list(session.scalars(sa.select(ForwardTarget.id)
                               .where(ForwardTarget.enabled.is_(True))
                               .order_by(ForwardTarget.id)))
    session.commit()
    total = 0
    for target_id in ids:
        try:
            total += deliver_target(target_id, now=now)
        except Exception:  # one broken target must not hold back the others
            log.exception("forwarding to target %s failed", target_id)
    return total


def retry_dead_letter(letter_id: int) -> bool:
    """Send or store one dead letter again; delete it when that works. Commits."""
    session = get_session()
    letter = session.get(DeadLetter, letter_id)
    if letter is None:
        raise NotFound("No such dead letter")
    if letter.target_id is not None:
        target = get_target(letter.target_id)
        try:
            response = _post(target, [_outgoing(letter.statement)])
        except _Retry as exc:
            letter.error = str(exc)[:2000]
            session.commit()
            return False
        if not response.ok:
            letter.status, letter.error = response.status_code, response.text[:2000]
            session.commit()
            return False
        target.delivered += 1
    else:
        from lms.xapi.service import store_statements

        try:
            with session.begin_nested():
                store_statements([letter.statement], letter.statement.get("authority"))
        except LmsError as exc:
            letter.error = str(exc.message)[:2000]
            session.commit()
            return False
    session.delete(letter)
    session.commit()
    return True


# --- pulling ------------------------------------------------------------------------------


def _get(source: PullSource, url: str, params: dict[str, Any] | None = None
         ) -> requests.Response:
    try:
        password = source.password
    except SecretError as exc:
        raise _Retry(str(exc)) from None
    try:
        response = _http.get(url, params=params, auth=(source.username, password),
                             headers={"X-Experience-API-Version": source.version},
                             timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None
    if not response.ok:
        raise _Retry(f"HTTP {response.status_code}: {response.text[:500]}")
    return response


def _page(response: requests.Response) -> tuple[dict[str, Any], dict[str, Any]]:
    """A StatementResult page and its attachments by SHA-2 (``attachments=true`` answers
    multipart/mixed: the JSON first, then one part per attachment)."""
    from lms.xapi.multipart import parse_multipart, sha2_matches
    from lms.xapi.service import AttachmentPart

    content_type = response.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() != "multipart/mixed":
        return response.json(), {}
    try:
        parts = parse_multipart(response.content, content_type)
    except LmsError as exc:
        raise _Retry(f"a bad multipart answer: {exc.message}") from None
    if not parts:
        raise _Retry("an empty multipart answer")
    body = json.loads(parts[0].content)
    attachments: dict[str, Any] = {}
    for part in parts[1:]:
        sha2 = part.headers.get("x-experience-api-hash", "").strip().lower()
        if sha2 and sha2_matches(sha2, part.content):  # a damaged part is not kept
            attachments[sha2] = AttachmentPart(part.content_type or "application/octet-stream",
                                               part.content)
    return body, attachments


def _parts_of(statements: list[dict[str, Any]], attachments: dict[str, Any]
              ) -> dict[str, Any]:
    """The attachment parts ``statements`` list (store_statements refuses others)."""
    wanted = {str(a.get("sha2", "")).lower() for s in statements
              for a in s.get("attachments") or [] if isinstance(a, dict)}
    return {sha2: part for sha2, part in attachments.items() if sha2 in wanted}


def _store_page(source: PullSource, statements: list[dict[str, Any]],
                attachments: dict[str, Any] | None = None) -> int:
    """Store a page keeping each statement's authority (and the attachments the page
    brought); return how many were new.

    Statements this LRS refuses (a different statement under a known id, a rule it
    enforces) go to the dead letters; the rest of the page is stored.
    """
    attachments = attachments or {}
    from lms.xapi.models import StatementId
    from lms.xapi.service import store_statements

    session = get_session()
    ids = [str(s.get("id", "")).lower() for s in statements]
    known = set(session.scalars(sa.select(StatementId.statement_id)
                                .where(StatementId.statement_id.in_(ids))))
    groups: dict[str, list[dict[str, Any]]] = {}
    authorities: dict[str, Any] = {}
    for statement in statements:
        authority = statement.get("authority")
        key = repr(sorted((authority or {}).items()))
        groups.setdefault(key, []).append(statement)
        authorities[key] = authority
    for key, group in groups.items():
        try:
            with session.begin_nested():
                store_statements(group, authorities[key] or None, version=source.version,
                                 attachments=_parts_of(group, attachments))
        except LmsError:
            for statement in group:  # find the refused ones, keep the others
                try:
                    with session.begin_nested():
                        store_statements([statement], authorities[key] or None,
                                         version=source.version,
                                         attachments=_parts_of([statement], attachments))
                except LmsError as exc:
                    session.add(DeadLetter(source_id=source.id,
                                           statement_id=str(statement.get("id", ""))[:36],
                                           statement=statement, status=exc.status,
                                           error=str(exc.message)[:2000]))
    return len([i for i in ids if i not in known])


def pull_source(source_id: int, *, now: dt.datetime | None = None, force: bool = False) -> int:
    """Fetch and store what the source stored since the last pull; return how many
    statements were new here. Skips a source not due yet unless ``force``. Commits."""
    session = get_session()
    source = session.get(PullSource, source_id)
    session.commit()
    now = now or utcnow()
    if source is None or not source.enabled or (
            not force and source.next_run is not None and source.next_run > now):
        return 0
    owner = _take_lease(PullSource, source_id)
    if owner is None:
        return 0
    source = session.get(PullSource, source_id, populate_existing=True)
    assert source is not None
    new = 0
    # attachments=true: the source sends attachment contents (multipart) with the page.
    params: dict[str, Any] | None = {"ascending": "true", "limit": PULL_PAGE,
                                     "attachments": "true"}
    if source.since:
        params["since"] = source.since  # type: ignore[index]
    url = urljoin(source.endpoint, "statements")
    newest: str | None = None
    consistent: str | None = None
    try:
        while url:
            response = _get(source, url, params)
            if consistent is None:
                consistent = response.headers.get("X-Experience-API-Consistent-Through")
            body, attachments = _page(response)
            statements = body.get("statements") or []
            if statements:
                new += _store_page(source, statements, attachments)
                newest = max((s.get("stored") for s in statements if s.get("stored")),
                             default=newest, key=_stamp)
                session.commit()
                _renew(PullSource, source_id, owner, pulled=source.pulled + new)
            more = body.get("more") or ""
            url = urljoin(source.endpoint, more) if more else ""
            # The more URL keeps the query (2.0 §4.1.6.1); add attachments if it does not.
            params = None if "attachments" in parse_qs(urlsplit(url).query) else {
                "attachments": "true"}
    except (_Retry, ValueError) as exc:
        session.rollback()
        # Pages stored so far stay; ``since`` stays too, and they are no-ops next time.
        _release(PullSource, source_id, owner, last_error=str(exc)[:2000], last_run=utcnow(),
                 next_run=utcnow() + dt.timedelta(seconds=source.interval_seconds),
                 pulled=source.pulled + new)
        log.warning("pulling from %s failed: %s", source.name, exc)
        return new
    except Exception:
        session.rollback()
        _release(PullSource, source_id, owner)
        raise
    since = source.since
    if newest is not None:
        since = newest
        if consistent and _stamp(consistent) < _stamp(newest):
            since = consistent  # statements before it may still be committing there
        if source.since and _stamp(since) < _stamp(source.since):
            since = source.since
    _release(PullSource, source_id, owner, since=since, last_error=None, last_run=utcnow(),
             next_run=utcnow() + dt.timedelta(seconds=source.interval_seconds),
             pulled=source.pulled + new)
    return new


def _stamp(value: str) -> dt.datetime:
    from lms.xapi.validation.common import parse_timestamp

    return parse_timestamp(value, "stored").astimezone(dt.UTC)


def pull_all(now: dt.datetime | None = None, force: bool = False) -> int:
    """Pull every enabled source that is due; return the statements new here."""
    session = get_session()
    ids = list(session.scalars(sa.select(PullSource.id).where(PullSource.enabled.is_(True))
                               .order_by(PullSource.id)))
    session.commit()
    total = 0
    for source_id in ids:
        try:
            total += pull_source(source_id, now=now, force=force)
        except Exception:
            log.exception("pulling from source %s failed", source_id)
    return total


def has_targets(app: Any = None) -> bool:
    """Whether any target is enabled (cached per process for a few seconds)."""
    app = app or current_app
    cache = app.extensions.setdefault("lms.forwarding.cache", {})
    stamp = cache.get("at")
    # (Asked after every commit that stores statements: a monotonic clock, no datetime.)
    if stamp is None or time.monotonic() - stamp > 10:
        with app.app_context():
            session = get_session()
            cache["value"] = bool(session.scalar(
                sa.select(sa.func.count()).select_from(ForwardTarget)
                .where(ForwardTarget.enabled.is_(True))))
            session.commit()
        cache["at"] = time.monotonic()
    return bool(cache["value"])
