"""Forged and replayed launches are refused with a clear message and leave nothing behind
(no account, no statement, no link). Every token here is made by the platform's own
signing code; the platform is only asked to misbehave."""

from __future__ import annotations

import pytest

from lms.lti import claims as c
from tests.lti.conftest import BASE, counts
from tests.lti.platform import Browser

COURSE = f"{BASE}/courses/mini-kursus"


def _refused(response, text: str) -> None:
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert 'id="lti-refused"' in page
    assert text in page.replace("&#39;", "'"), page[-600:]


@pytest.mark.parametrize(("misbehave", "message"), [
    ({"forge_key": True}, "The signature of the launch message is not valid."),
    ({"claims": {"aud": "another-tool"}}, "meant for another tool (audience)"),
    ({"claims": {"aud": ["another-tool", "lentera-tool"], "azp": "another-tool"}},
     "meant for another tool (azp)"),
    ({"expires_in": -120}, "The launch message has expired."),
    ({"claims": {c.DEPLOYMENT_ID: "deployment-9"}},
     "Deployment deployment-9 of this platform is not registered"),
    ({"claims": {"iss": "https://evil.example"}}, "issued by another platform"),
    ({"claims": {c.TARGET_LINK_URI: f"{BASE}/courses/lain"}},
     "opens another address than its login asked for"),
    ({"claims": {c.MESSAGE_TYPE: "LtiSubmissionReviewRequest"}},
     "does not handle this kind of LTI message"),
])
def test_forged_launch_is_refused_and_leaves_nothing(registered, platform, browser_standin,
                                                     course, misbehave, message):
    before = counts()
    response = browser_standin.launch(platform.scenario(COURSE, **misbehave))
    _refused(response, message)
    assert counts() == before


def test_replayed_launch_is_refused(registered, platform, browser_standin, course):
    answer, auth_url = browser_standin.login(platform.scenario(COURSE))
    fields = browser_standin.authorize(auth_url)
    assert browser_standin.post_launch(fields).status_code == 302
    after_first = counts()
    _refused(browser_standin.post_launch(fields), "This launch was used already")
    assert counts() == after_first


def test_token_replayed_into_a_new_login_fails_on_the_nonce(registered, platform,
                                                            browser_standin, course):
    hint = platform.scenario(COURSE)
    _answer, auth_url = browser_standin.login(hint)
    stolen = browser_standin.authorize(auth_url)["id_token"]
    # The attacker starts a login of their own and posts the stolen token with its state.
    _answer, auth_url = browser_standin.login(hint)
    fields = browser_standin.authorize(auth_url)
    before = counts()
    _refused(browser_standin.post_launch({**fields, "id_token": stolen}),
             "does not belong to this login (nonce)")
    assert counts() == before


def test_launch_finished_in_another_browser_is_refused(registered, platform, client, app,
                                                       course):
    """Login forgery: a launch started in the attacker's browser, posted by the victim's."""
    attacker = Browser(app.test_client(), platform)
    _answer, auth_url = attacker.login(platform.scenario(COURSE))
    fields = attacker.authorize(auth_url)
    victim = Browser(client, platform)
    before = counts()
    _refused(victim.post_launch(fields), "did not keep Lentera's sign-in cookie")
    assert counts() == before


def test_unknown_state_and_garbage_are_refused(registered, platform, browser_standin, course):
    _refused(browser_standin.post_launch({"state": "nope", "id_token": "a.b.c"}),
             "unknown or expired")
    _refused(browser_standin.post_launch({"state": "x" * 65, "id_token": "a.b.c"}),
             "no valid state")
    # A NUL character is refused before any LTI code sees it, with a clear 400.
    nul = browser_standin.post_launch({"state": "a\x00b", "id_token": "x"})
    assert nul.status_code == 400
    assert "NUL" in nul.get_data(as_text=True)
    answer, auth_url = browser_standin.login(platform.scenario(COURSE))
    fields = browser_standin.authorize(auth_url)
    _refused(browser_standin.post_launch({**fields, "id_token": "not-a-jwt"}),
             "not a signed LTI 1.3 token")
    _refused(browser_standin.post_launch({**fields, "id_token": "x" * 70000 + ".a.b"}),
             "not a signed LTI 1.3 token")


def test_expired_login_is_refused(registered, platform, browser_standin, course):
    import datetime as dt

    import sqlalchemy as sa

    from lms.db import get_session
    from lms.lti.models import LtiLaunchState

    answer, auth_url = browser_standin.login(platform.scenario(COURSE))
    fields = browser_standin.authorize(auth_url)
    get_session().execute(sa.update(LtiLaunchState).values(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    get_session().commit()
    before = counts()
    _refused(browser_standin.post_launch(fields), "unknown or expired")
    assert counts() == before


def test_login_from_an_unknown_platform_or_deployment_is_refused(registered, client, course):
    response = client.get("/lti/login", query_string={
        "iss": "https://moodle.evil.example", "login_hint": "1",
        "target_link_uri": f"{BASE}/courses/mini-kursus"})
    assert response.status_code == 403
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    response = client.get("/lti/login", query_string={
        "iss": registered.issuer, "login_hint": "1", "lti_deployment_id": "other",
        "target_link_uri": f"{BASE}/courses/mini-kursus"})
    assert response.status_code == 403
    response = client.get("/lti/login", query_string={
        "iss": registered.issuer, "login_hint": "1", "target_link_uri": "https://evil.example/"})
    assert response.status_code == 403
    response = client.post("/lti/login", data={"iss": registered.issuer + "\x00",
                                               "login_hint": "1", "target_link_uri": BASE})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    response = client.get("/lti/login", query_string={"iss": "x" * 5000})
    assert response.status_code == 403


def test_launch_without_email_or_nip_cannot_make_an_account(registered, platform,
                                                            browser_standin, course):
    before = counts()
    response = browser_standin.launch(platform.scenario(COURSE, user={"user_id": "u-9"}))
    _refused(response, "neither an e-mail address nor a NIP")
    assert counts() == before
