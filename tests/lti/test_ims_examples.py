"""The launch examples of the IMS LTI Advantage certification suite, as fixtures.

``tests/fixtures/lti/ims-certification`` holds the payloads of the certification cases
(valid and invalid) as the 1EdTech validator sends them (see the README there for the
source). Each is launched by the test platform: the payload is addressed to this
registration (issuer, audience, deployment, target, nonce of the login; what the case
leaves out stays out) and signed by the platform library, with the case's JWT header where
the case has one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_session
from lms.lti.models import LtiUserLink
from tests.lti.conftest import BASE, counts

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "lti" / "ims-certification"
COURSE = f"{BASE}/courses/mini-kursus"

#: What Lentera answers to each invalid case (the refusal it shows).
INVALID = {
    "Correct KID Required in Header": "does not name its signing key (kid)",
    "Exp and Iat Fields invalid": "The launch message has expired.",
    "Incorrect KID passed in JWT Header": "a key the platform does not publish",
    "JWT Passed is Not LTI 1.3 JWT": "does not name its signing key (kid)",
    "LTI version passed is not 1.3": "Only LTI 1.3.0 launches are accepted",
    "Launch With Missing resource_link_id": "The launch names no resource link.",
    "No LTI Version Passed in JWT": "Only LTI 1.3.0 launches are accepted",
    "One or more JWT fields missing": "Only LTI 1.3.0 launches are accepted",
    "deployment_id Claim Missing": "The launch names no deployment.",
    "message_type Claim Missing": "does not handle this kind of LTI message",
    "role Claim Missing": "The launch carries no roles claim.",
    "user Claim Missing": "does not identify the user (sub)",
}
#: Cases the harness these fixtures come from files as invalid, which Lentera accepts:
#: the context claim is optional in LTI 1.3 (a link outside any platform course).
ACCEPTED_ANYWAY = {"Launch Instructor With Email No Context"}


def _case(kind: str, name: str) -> dict[str, Any]:
    folder = CASES / kind / name
    case = {"payload": json.loads((folder / "payload.json").read_text())}
    for extra in ("header", "keep"):
        if (folder / f"{extra}.json").exists():
            case[extra] = json.loads((folder / f"{extra}.json").read_text())
    return case


def _names(kind: str) -> list[str]:
    return sorted(p.name for p in (CASES / kind).iterdir() if p.is_dir())


def _link_users(platform_row: Any) -> None:
    """The certification users (subs 39890 and 40899) already have Lentera accounts."""
    from tests import factories

    for sub in ("39890", "40899"):
        user = factories.make_user(email=f"ims-{sub}@pemda.example.go.id")
        get_session().add(LtiUserLink(platform_id=platform_row.id, sub=sub, user_id=user.id))
    get_session().commit()


def test_every_case_is_classified():
    assert set(_names("invalid")) == set(INVALID) | ACCEPTED_ANYWAY
    assert len(_names("valid")) == 21


@pytest.mark.parametrize("name", _names("valid"))
def test_valid_certification_launch_is_accepted(name, registered, platform, browser_standin,
                                                course):
    _link_users(registered)
    case = _case("valid", name)
    deep_link = "LtiDeepLinkingRequest" in json.dumps(case["payload"])
    target = f"{BASE}/lti/deep-link" if deep_link else COURSE
    response = browser_standin.launch(platform.scenario(target, deep_link=deep_link,
                                                        **case))
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    location = response.headers["Location"]
    assert location.startswith("/lti/deep-link/") if deep_link else \
        location == "/courses/mini-kursus"


@pytest.mark.parametrize("name", sorted(ACCEPTED_ANYWAY))
def test_launch_without_context_is_accepted(name, registered, platform, browser_standin,
                                            course):
    _link_users(registered)
    response = browser_standin.launch(platform.scenario(COURSE, **_case("invalid", name)))
    assert response.status_code == 302


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_certification_launch_is_refused(name, registered, platform, browser_standin,
                                                 course):
    _link_users(registered)
    before = counts()
    response = browser_standin.launch(platform.scenario(COURSE, **_case("invalid", name)))
    assert response.status_code == 403
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert INVALID[name] in page
    assert counts() == before
    assert get_session().scalar(sa.select(sa.func.count()).select_from(LtiUserLink)) == 2
