"""Assignment and Grade Services 2.0: scores back to the platform's gradebook.

Rows of :class:`LtiScorePost` are queued by the ``lti`` statement consumer (a quiz passed,
a course completed, by a learner who launched a link to it). :func:`send_pending` sends
what is due: it claims a row with one conditional UPDATE (so two senders never post the
same score at once), gets an access token by the client-credentials grant with a JWT
client assertion signed by Lentera's key, finds or creates the line item, posts the score
and stores a ``scored`` statement through the LRS. A failure is retried with a doubling
delay (``LMS_LTI_RETRY_SECONDS``, 60 s, up to 6 h) until ``LMS_LTI_MAX_ATTEMPTS`` (8);
then the row is ``failed`` and shows on the administrators' page, which can send it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from flask import Flask, current_app

from lms.db import after_commit, get_session, utcnow
from lms.lti import claims as c
from lms.lti import keys, net
from lms.lti.models import (
    CANCELLED,
    FAILED,
    QUEUED,
    SENDING,
    SENT,
    LtiPlatform,
    LtiResourceLink,
    LtiScorePost,
)

log = logging.getLogger(__name__)

#: The after-commit kind (lms.db.after_commit) of queued score posts.
KIND = "lti.scores"
ADL_SCORED = "http://adlnet.gov/expapi/verbs/scored"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"


class PermanentError(Exception):
    """A post that sending again cannot fix (no gradebook column, a refused score)."""


# --- queueing ---------------------------------------------------------------------------


def queue_score(link: LtiResourceLink, user_id: int, sub: str, statement_id: str, *,
                score_given: float, score_maximum: float, timestamp: dt.datetime,
                comment: str = "") -> LtiScorePost | None:
    """Add a score post unless this statement already gave one for this link and user."""
    session = get_session()
    statement_id = statement_id.lower()
    exists = session.scalar(sa.select(LtiScorePost.id).where(
        LtiScorePost.resource_link_id == link.id, LtiScorePost.user_id == user_id,
        LtiScorePost.statement_id == statement_id))
    if exists is not None:
        return None
    row = LtiScorePost(resource_link_id=link.id, user_id=user_id, sub=sub,
                       statement_id=statement_id, score_given=score_given,
                       score_maximum=score_maximum, timestamp=timestamp,
                       comment=comment[:500], status=QUEUED)
    session.add(row)
    session.flush()
    after_commit(KIND, session=session)
    return row


def cancel_for_statement(statement_id: str) -> int:
    """Cancel unsent posts that came from a statement now voided."""
    result = get_session().execute(
        sa.update(LtiScorePost)
        .where(LtiScorePost.statement_id == statement_id.lower(),
               LtiScorePost.status.in_((QUEUED, FAILED)))
        .values(status=CANCELLED, last_error="the statement was voided")
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- tokens -----------------------------------------------------------------------------

_tokens: dict[tuple[Any, ...], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def client_assertion(platform: LtiPlatform) -> str:
    """A JWT that authenticates Lentera at the platform's token endpoint (private_key_jwt)."""
    now = int(time.time())
    return keys.sign({
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.token_audience or platform.token_url,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(24),
    })


def access_token(platform: LtiPlatform, scopes: tuple[str, ...]) -> str:
    """A bearer token for ``scopes`` (cached per process until a minute before it expires)."""
    if not platform.token_url:
        raise PermanentError("the platform has no token endpoint registered")
    key = (platform.id, platform.issuer, platform.client_id, platform.token_url,
           " ".join(sorted(scopes)))
    with _tokens_lock:
        cached = _tokens.get(key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    response = net.request("POST", platform.token_url, data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(platform),
        "scope": " ".join(scopes),
    }, headers={"Accept": "application/json"})
    if response.status_code in (400, 403):
        raise PermanentError(f"the token endpoint refused Lentera (HTTP "
                             f"{response.status_code}): {response.text[:300]}")
    if response.status_code == 401:  # e.g. the platform has not fetched a new key yet
        raise net.PlatformError(f"the token endpoint refused Lentera's assertion (HTTP 401): "
                                f"{response.text[:300]}", 401)
    if not 200 <= response.status_code < 300:
        raise net.PlatformError(f"token endpoint: HTTP {response.status_code}",
                                response.status_code)
    body = net.json_of(response)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise net.PlatformError("token endpoint: no access_token in the answer")
    lifetime = body.get("expires_in", 3600)
    lifetime = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
    with _tokens_lock:
        _tokens[key] = (token, time.monotonic() + max(0.0, lifetime - 60))
    return token


def forget_token(platform: LtiPlatform) -> None:
    with _tokens_lock:
        for key in [k for k in _tokens if k[0] == platform.id]:
            _tokens.pop(key, None)


# --- line items and scores --------------------------------------------------------------


def _with_path(url: str, suffix: str) -> str:
    """``url`` with ``suffix`` appended to its path (before any query string)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def lineitem_for(link: LtiResourceLink, token: str) -> str:
    """The line item the link's scores go to: the one the platform gave the link, or one
    found or created in the context's line items (needs the ``lineitem`` scope)."""
    if link.lineitem_url:
        return link.lineitem_url
    if not link.lineitems_url:
        raise PermanentError("the platform gave this link no gradebook column (no AGS "
                             "line item in the launch)")
    auth = {"Authorization": f"Bearer {token}"}
    parts = urlsplit(link.lineitems_url)
    sep = "&" if parts.query else "?"
    found = net.request("GET", f"{link.lineitems_url}{sep}resource_link_id="
                        f"{link.resource_link_id}",
                        headers={**auth, "Accept": LINEITEMS_MEDIA_TYPE})
    if 200 <= found.status_code < 300:
        items = net.json_of(found)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and item.get("resourceLinkId") == \
                        link.resource_link_id and isinstance(item.get("id"), str):
                    link.lineitem_url = item["id"][:2000]
                    return link.lineitem_url
    if c.SCOPE_LINEITEM not in (link.ags_scopes or []):
        raise PermanentError("no gradebook column for this link, and the platform does not "
                             "let Lentera create one")
    created = net.request("POST", link.lineitems_url, json_body={
        "scoreMaximum": 100,
        "label": (link.title or link.course_slug)[:250],
        "resourceId": link.activity_iri,
        "resourceLinkId": link.resource_link_id,
        "tag": "lentera",
    }, headers={**auth, "Content-Type": LINEITEM_MEDIA_TYPE, "Accept": LINEITEM_MEDIA_TYPE})
    if not 200 <= created.status_code < 300:
        raise net.PlatformError(f"creating the line item: HTTP {created.status_code}",
                                created.status_code)
    item = net.json_of(created)
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise net.PlatformError("creating the line item: no id in the answer")
    link.lineitem_url = item["id"][:2000]
    return link.lineitem_url


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post_score(row: LtiScorePost) -> str:
    """Send one score; returns the line item URL it went to."""
    link = row.resource_link
    platform = link.platform
    if not platform.active:
        raise PermanentError("the platform is no longer active")
    scopes = (c.SCOPE_SCORE, c.SCOPE_LINEITEM) if c.SCOPE_LINEITEM in (link.ags_scopes or []) \
        else (c.SCOPE_SCORE, c.SCOPE_LINEITEM_READONLY)
    token = access_token(platform, scopes)
    lineitem = lineitem_for(link, token)
    body: dict[str, Any] = {
        "userId": row.sub,
        "scoreGiven": round(row.score_given, 4),
        "scoreMaximum": round(row.score_maximum, 4),
        "activityProgress": row.activity_progress,
        "gradingProgress": row.grading_progress,
        "timestamp": _iso(row.timestamp),
    }
    if row.comment:
        body["comment"] = row.comment
    response = net.request("POST", _with_path(lineitem, "/scores"), json_body=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": SCORE_MEDIA_TYPE})
    if response.status_code == 401:
        forget_token(platform)
        raise net.PlatformError("the platform refused the access token (HTTP 401)", 401)
    if response.status_code == 409:
        return lineitem  # the platform holds a newer score: nothing to send any more
    if response.status_code in (400, 403, 404, 405, 422):
        raise PermanentError(f"the platform refused the score (HTTP {response.status_code}): "
                             f"{response.text[:300]}")
    if not 200 <= response.status_code < 300:
        raise net.PlatformError(f"posting the score: HTTP {response.status_code}",
                                response.status_code)
    return lineitem


def _store_scored(row: LtiScorePost) -> None:
    """The ``scored`` statement: what the platform's gradebook now shows for the learner."""
    from lms.lti.launch import context_iri
    from lms.people.models import User
    from lms.xapi.actors import actor_for
    from lms.xapi.service import store_statements

    user = get_session().get(User, row.user_id)
    if user is None:
        return
    link = row.resource_link
    platform = link.platform
    base = current_app.config["BASE_URL"]
    context_activities: dict[str, Any] = {
        "parent": [{"id": link.activity_iri}],
        "category": [{"id": base + "/xapi/profiles/lti"}],
    }
    if link.context is not None:
        context_activities["grouping"] = [{"id": context_iri(platform,
                                                             link.context.context_id)}]
    scaled = row.score_given / row.score_maximum if row.score_maximum else 0.0
    store_statements([{
        "actor": actor_for(user),
        "verb": {"id": ADL_SCORED, "display": {"en-US": "scored", "id-ID": "mendapat nilai"}},
        "object": {"objectType": "Activity", "id": f"{base}/lti/links/{link.id}",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/link",
                                  "name": {"und": link.title or link.course_slug}}},
        "result": {"score": {"scaled": round(max(0.0, min(1.0, scaled)), 4),
                             "raw": round(row.score_given, 4), "min": 0,
                             "max": round(row.score_maximum, 4)},
                   "completion": row.activity_progress == "Completed"},
        "context": {
            "platform": platform.name[:100],
            "contextActivities": context_activities,
            "statement": {"objectType": "StatementRef", "id": row.statement_id},
            "extensions": {base + "/xapi/extensions/lti-score": {
                "issuer": platform.issuer, "lineitem": row.lineitem_url}},
        },
        "timestamp": _iso(utcnow()),
    }])


# --- the sender -------------------------------------------------------------------------


def _backoff(app: Flask, attempts: int) -> dt.timedelta:
    base = float(app.config.get("LTI_RETRY_SECONDS", 60))
    return dt.timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 6 * 3600))


def _due(now: dt.datetime) -> Any:
    return sa.or_(
        sa.and_(LtiScorePost.status == QUEUED,
                sa.or_(LtiScorePost.next_attempt.is_(None), LtiScorePost.next_attempt <= now)),
        sa.and_(LtiScorePost.status == SENDING, LtiScorePost.lease_until < now))


def send_pending(limit: int = 200, now: dt.datetime | None = None) -> dict[str, int]:
    """Send the due score posts (at most ``limit``), committing after each one.

    Returns counts of ``sent``, ``retry`` (queued again with a delay) and ``failed``.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    session = get_session()
    session.commit()
    max_attempts = int(app.config.get("LTI_MAX_ATTEMPTS", 8))
    lease = dt.timedelta(seconds=300)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    ids = list(session.scalars(sa.select(LtiScorePost.id).where(_due(now or utcnow()))
                               .order_by(LtiScorePost.id).limit(limit)))
    for post_id in ids:
        moment = now or utcnow()
        claimed = session.execute(
            sa.update(LtiScorePost).where(LtiScorePost.id == post_id, _due(moment))
            .values(status=SENDING, lease_until=moment + lease,
                    attempts=LtiScorePost.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        session.commit()
        if claimed != 1:
            continue
        row = session.get(LtiScorePost, post_id, populate_existing=True)
        assert row is not None
        try:
            row.lineitem_url = post_score(row)
        except PermanentError as exc:
            row.status, row.last_error = FAILED, str(exc)[:2000]
            counts["failed"] += 1
        except net.PlatformError as exc:
            row.last_error = str(exc)[:2000]
            if row.attempts >= max_attempts:
                row.status = FAILED
                counts["failed"] += 1
            else:
                row.status = QUEUED
                row.next_attempt = (now or utcnow()) + _backoff(app, row.attempts)
                counts["retry"] += 1
        else:
            row.status, row.sent_at, row.last_error = SENT, now or utcnow(), None
            _store_scored(row)
            counts["sent"] += 1
        row.lease_until = None
        session.commit()
        if row.status == FAILED:
            log.warning("LTI score post %s failed: %s", row.id, row.last_error)
    return counts


def retry(post_id: int) -> LtiScorePost | None:
    """Queue a failed (or stuck) post again with a fresh count of attempts."""
    row = get_session().get(LtiScorePost, post_id)
    if row is None or row.status in (SENT, CANCELLED):
        return None
    row.status, row.attempts, row.next_attempt, row.lease_until = QUEUED, 0, None, None
    get_session().flush()
    after_commit(KIND)
    return row


def retry_failed() -> int:
    """Queue every failed post again; returns how many."""
    session = get_session()
    result = session.execute(
        sa.update(LtiScorePost).where(LtiScorePost.status == FAILED)
        .values(status=QUEUED, attempts=0, next_attempt=None, lease_until=None)
        .execution_options(synchronize_session=False))
    if result.rowcount:  # type: ignore[attr-defined]
        after_commit(KIND, session=session)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def status_counts() -> dict[str, int]:
    rows = get_session().execute(sa.select(LtiScorePost.status, sa.func.count())
                                 .group_by(LtiScorePost.status))
    return {status: int(n) for status, n in rows}
