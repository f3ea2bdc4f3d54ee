"""LTI Deep Linking 2.0: an instructor in the platform picks Lentera courses or modules.

The deep-linking launch (validated like any launch) opens a picker addressed by a random
token (:func:`begin`), so it works inside the platform's frame even where the browser
keeps no cookies there. The instructor's choice becomes ``ltiResourceLink`` content
items whose ``url`` is the course or module address (the ``target_link_uri`` of later
launches) and, for courses and quizzes, a ``lineItem`` so the platform makes a gradebook
column; :func:`respond` signs the ``LtiDeepLinkingResponse`` with Lentera's current key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.db import get_session, utcnow
from lms.errors import NotFound, ValidationError
from lms.lti import claims as c
from lms.lti import keys
from lms.lti.launch import Launch, LaunchRefused, Target, _display_name, _resolve
from lms.lti.models import LtiDeepLink

#: How long an instructor may take to pick content.
PICK_TTL = dt.timedelta(hours=1)
#: The most items one response may carry.
MAX_ITEMS = 50


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def begin(launch: Launch) -> str:
    """Record a validated deep-linking request; return the token of its picker page."""
    platform = launch.platform
    if not launch.instructor:
        raise LaunchRefused(_l("Only instructors of the platform course may add Lentera "
                               "content to it."), platform=platform)
    settings = launch.claims.get(c.DL_SETTINGS)
    if not isinstance(settings, dict):
        raise LaunchRefused(_l("The deep-linking request has no deep_linking_settings."),
                            platform=platform)
    return_url = settings.get("deep_link_return_url")
    if not isinstance(return_url, str) or not return_url:
        raise LaunchRefused(_l("The deep-linking request has no return address."),
                            platform=platform)
    from lms.lti import net

    try:
        net.check_url(return_url)
    except ValidationError:
        raise LaunchRefused(_l("The deep-linking return address must use https."),
                            platform=platform) from None
    accept_types = settings.get("accept_types")
    if isinstance(accept_types, list) and "ltiResourceLink" not in accept_types:
        raise LaunchRefused(_l("The platform does not accept LTI links here, and Lentera "
                               "offers only LTI links."), platform=platform)
    # ``data`` is opaque: sent back exactly as it came (a string in the specification;
    # some platforms send a JSON object).
    data = json.dumps(settings["data"]) if "data" in settings else None
    if data is not None and len(data) > 8000:
        raise LaunchRefused(_l("The deep-linking request carries too much data."),
                            platform=platform)
    context = launch.claims.get(c.CONTEXT)
    token = secrets.token_urlsafe(32)
    row = LtiDeepLink(
        token_hash=_hash(token), platform_id=platform.id, deployment_id=launch.deployment_id,
        return_url=return_url, data=data,
        accept_multiple=settings.get("accept_multiple") is not False,
        accept_lineitem=settings.get("accept_lineitem") is not False,
        sub=launch.sub, user_name=_display_name(launch.claims),
        context_title=str(context.get("title") or "")[:300] if isinstance(context, dict)
        else "",
        expires_at=utcnow() + PICK_TTL,
    )
    session = get_session()
    session.add(row)
    session.flush()
    _store_launched(launch, row)
    return token


def _store_launched(launch: Launch, row: LtiDeepLink) -> None:
    """The deep-linking launch as a statement. The instructor may have no Lentera account
    (none is made for choosing content), so the actor is the platform's account of them."""
    from flask import current_app

    from lms.xapi.service import store_statements

    base = current_app.config["BASE_URL"]
    actor: dict[str, Any] = {"objectType": "Agent",
                             "account": {"homePage": launch.platform.issuer, "name": launch.sub}}
    if row.user_name:
        actor["name"] = row.user_name
    store_statements([{
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/launched",
                 "display": {"en-US": "launched", "id-ID": "meluncurkan"}},
        "object": {"objectType": "Activity", "id": base + "/lti/deep-link",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/link",
                                  "name": {"id-ID": "Pemilih konten Lentera"}}},
        "context": {
            "platform": launch.platform.name[:100],
            "contextActivities": {"category": [{"id": base + "/xapi/profiles/lti"}]},
            "extensions": {base + "/xapi/extensions/lti-launch": {
                "issuer": launch.platform.issuer, "deployment_id": launch.deployment_id,
                "message_type": launch.message_type, "roles": launch.roles[:10]}},
        },
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
    }])


def request_for(token: str) -> LtiDeepLink:
    """The open deep-linking request of ``token`` (unused, unexpired) or NotFound."""
    if not token or len(token) > 100:
        raise NotFound(_l("This content picker is unknown or has expired."))
    row = get_session().scalar(sa.select(LtiDeepLink).where(
        LtiDeepLink.token_hash == _hash(token)))
    if row is None or row.expires_at < utcnow() or not row.platform.active:
        raise NotFound(_l("This content picker is unknown or has expired. Start again from "
                          "the platform."))
    if row.used_at is not None:
        raise NotFound(_l("This content was added to the platform already. Start again "
                          "from the platform to add more."))
    return row


def catalog(text: str = "") -> list[dict[str, Any]]:
    """Published courses with their modules, for the picker (optionally filtered)."""
    from lms.courses import service as courses

    found = courses.search_catalog(text=text[:100])
    items = []
    for course in found[:100]:
        try:
            _course, version = courses.course_with_version(course.slug)
        except NotFound:
            continue
        definition = courses.definition_of(version)
        items.append({
            "slug": course.slug,
            "title": definition["title"],
            "summary": definition.get("summary", ""),
            "jp": definition.get("jp"),
            "modules": [{"id": m["id"], "title": m["title"], "kind": m["kind"]}
                        for m in definition["modules"]],
        })
    return items


@dataclass
class Response:
    return_url: str
    jwt: str
    items: list[dict[str, Any]]


def parse_choice(value: str) -> Target:
    """A picker value: ``<slug>`` (a course) or ``<slug>/<module id>``."""
    if not value or len(value) > 401 or "\x00" in value:
        raise ValidationError(_l("Choose Lentera content to add."), field="items")
    slug, _sep, module_id = value.partition("/")
    return Target(slug, "module", module_id) if module_id else Target(slug, "course")


def content_item(target: Target, accept_lineitem: bool) -> dict[str, Any]:
    """The ``ltiResourceLink`` content item of a course or module."""
    course, version, module = _resolve(target)
    from lms.courses import service as courses

    definition = courses.definition_of(version)
    title = module["title"] if module else definition["title"]
    text = (definition.get("summary") or "") if module is None else definition["title"]
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": title[:250],
        "text": text[:1000],
        "url": target.activity_iri,
        "custom": {"course": target.slug, **({"module": target.module_id}
                                             if module is not None else {})},
    }
    if accept_lineitem and target.kind in ("course", "quiz"):
        item["lineItem"] = {"scoreMaximum": 100, "label": title[:250],
                            "resourceId": target.activity_iri, "tag": "lentera"}
    return item


def respond(row: LtiDeepLink, choices: list[str]) -> Response:
    """Sign the response carrying the chosen items; the request is then used up."""
    values = [v for v in dict.fromkeys(choices) if v]
    if not values:
        raise ValidationError(_l("Choose Lentera content to add."), field="items")
    if len(values) > MAX_ITEMS:
        raise ValidationError(_l("Choose at most %(n)d items at once.", n=MAX_ITEMS),
                              field="items")
    if len(values) > 1 and not row.accept_multiple:
        raise ValidationError(_l("The platform accepts one item here: choose one."),
                              field="items")
    items = []
    for value in values:
        try:
            items.append(content_item(parse_choice(value), row.accept_lineitem))
        except LaunchRefused as exc:
            raise ValidationError(exc.message, field="items") from None
    platform = row.platform
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "azp": platform.client_id,
        "iat": now,
        "exp": now + 300,
        "nonce": secrets.token_urlsafe(24),
        c.DEPLOYMENT_ID: row.deployment_id,
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: c.LTI_VERSION,
        c.DL_CONTENT_ITEMS: items,
    }
    if row.data is not None:
        claims[c.DL_DATA] = json.loads(row.data)
    signed = keys.sign(claims)  # before any write here (the first key commits on its own)
    row.used_at = utcnow()
    get_session().flush()
    return Response(return_url=row.return_url, jwt=signed, items=items)

