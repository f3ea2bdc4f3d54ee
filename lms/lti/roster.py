"""Names and Role Provisioning Services 2.0: the members of a platform course.

:func:`pull_roster` asks the context's memberships URL (from a launch) with a token for
the ``contextmembership.readonly`` scope, follows ``next`` links (at most
:data:`MAX_PAGES`), and keeps one :class:`LtiMember` row per member, linked to the
Lentera account of that platform user when a launch already linked one.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.db import get_session, utcnow
from lms.errors import ValidationError
from lms.lti import ags, net
from lms.lti import claims as c
from lms.lti.models import LtiContext, LtiMember, LtiPlatform, LtiUserLink

MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 50
MAX_MEMBERS = 20000
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def pull_roster(context: LtiContext) -> dict[str, int]:
    """Replace the stored roster of ``context``; returns ``members`` and ``linked`` counts.

    Raises ValidationError when the platform offers no roster for it, and
    :class:`lms.lti.net.PlatformError` / :class:`lms.lti.ags.PermanentError` when the
    platform cannot be asked.
    """
    if not context.memberships_url:
        raise ValidationError(_l("The platform offered no roster (Names and Role "
                                 "Provisioning Services) for this course."))
    session = get_session()
    platform = session.get(LtiPlatform, context.platform_id)
    assert platform is not None
    token = ags.access_token(platform, (c.SCOPE_NRPS,))
    members: list[dict[str, Any]] = []
    url: str | None = context.memberships_url
    for _page in range(MAX_PAGES):
        if url is None:
            break
        response = net.request("GET", url, headers={"Authorization": f"Bearer {token}",
                                                    "Accept": MEDIA_TYPE})
        if not 200 <= response.status_code < 300:
            raise net.PlatformError(f"roster: HTTP {response.status_code}",
                                    response.status_code)
        body = net.json_of(response)
        page = body.get("members") if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise net.PlatformError("roster: the answer has no members")
        members.extend(m for m in page if isinstance(m, dict))
        if len(members) > MAX_MEMBERS:
            break
        match = _NEXT.search(response.headers.get("Link", ""))
        url = match.group(1) if match else None
    links = {sub: user_id for sub, user_id in session.execute(
        sa.select(LtiUserLink.sub, LtiUserLink.user_id)
        .where(LtiUserLink.platform_id == platform.id))}
    session.execute(sa.delete(LtiMember).where(LtiMember.context_id == context.id))
    seen: set[str] = set()
    linked = 0
    for member in members[:MAX_MEMBERS]:
        sub = member.get("user_id")
        if not isinstance(sub, str) or not sub or len(sub) > 255 or sub in seen:
            continue
        seen.add(sub)
        name = member.get("name")
        if not isinstance(name, str):
            name = " ".join(str(member.get(k) or "") for k in ("given_name", "family_name"))
        user_id = links.get(sub)
        linked += user_id is not None
        session.add(LtiMember(
            context_id=context.id, sub=sub, name=name.strip()[:300],
            email=str(member.get("email") or "")[:254],
            roles=c.role_names(member.get("roles")),
            status=str(member.get("status") or "Active")[:20], user_id=user_id))
    context.roster_pulled_at = utcnow()
    session.flush()
    return {"members": len(seen), "linked": linked}
