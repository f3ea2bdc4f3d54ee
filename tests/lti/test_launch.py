"""Resource link launches from a real LTI 1.3 platform (lti1p3platform) through the test
client: accounts, links, enrolment, statements, and the single-use login."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.courses.models import Enrollment
from lms.db import get_session
from lms.lti.models import LtiBinding, LtiLaunchState, LtiResourceLink, LtiUserLink
from lms.people.models import Role, User
from lms.xapi.models import Statement
from tests.lti.conftest import BASE, counts
from tests.lti.platform import INSTRUCTOR, query_of

COURSE = f"{BASE}/courses/mini-kursus"


def _statements(verb: str) -> list[dict[str, Any]]:
    get_session().expire_all()
    return [s for s in get_session().scalars(sa.select(Statement.data).order_by(Statement.seq))
            if s["verb"]["id"].endswith("/" + verb)]


def test_login_sends_the_browser_to_the_platform_with_state_and_nonce(
        registered, platform, browser_standin, course):
    hint = platform.scenario(COURSE)
    answer, auth_url = browser_standin.login(hint)
    assert answer.status_code == 302
    assert auth_url.startswith(platform.url + "/auth?")
    query = query_of(auth_url)
    assert query["scope"] == "openid" and query["response_type"] == "id_token"
    assert query["response_mode"] == "form_post" and query["prompt"] == "none"
    assert query["client_id"] == platform.client_id
    assert query["redirect_uri"] == f"{BASE}/lti/launch"
    assert query["login_hint"] == "u-100" and query["lti_message_hint"] == hint
    row = get_session().get(LtiLaunchState, query["state"])
    assert row is not None and row.nonce == query["nonce"] and row.used_at is None
    cookie = answer.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie


def test_learner_launch_creates_the_account_enrols_and_records_the_launch(
        registered, platform, browser_standin, course):
    response = browser_standin.launch(platform.scenario(COURSE))
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    assert response.headers["Location"] == "/courses/mini-kursus"
    session = get_session()
    session.expire_all()
    user = session.scalar(sa.select(User).where(User.email == "siti@pemda.example.go.id"))
    assert user is not None and user.name == "Siti Rahma" and user.roles == {Role.LEARNER}
    link = session.scalar(sa.select(LtiUserLink))
    assert (link.sub, link.user_id, link.created_user) == ("u-100", user.id, True)
    assert link.first_context_title == "Diklat Pelayanan"
    resource = session.scalar(sa.select(LtiResourceLink))
    assert resource.activity_iri == COURSE and resource.target_kind == "course"
    assert resource.lineitems_url == f"{platform.url}/ags/course-7/lineitems"
    assert session.scalar(sa.select(LtiBinding)).user_id == user.id
    enrolment = session.scalar(sa.select(Enrollment).where(Enrollment.user_id == user.id))
    assert enrolment is not None
    launched = _statements("launched")
    assert len(launched) == 1
    statement = launched[0]
    assert statement["actor"]["account"]["name"] == f"user:{user.id}"
    assert statement["object"]["id"] == COURSE
    assert statement["context"]["platform"] == "Moodle Uji"
    assert statement["context"]["registration"] == enrolment.registration
    grouping = statement["context"]["contextActivities"]["grouping"][0]
    assert grouping["id"] == f"{BASE}/lti/platforms/{registered.id}/contexts/course-7"
    assert len(_statements("registered")) == 1
    # The session is a signed-in one, its cookie made for the platform's frame.
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookie and "SameSite=None" in cookie[0] and "Secure" in cookie[0]
    page = browser_standin.get("/courses/mini-kursus")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {platform.url}" in policy
    assert "X-Frame-Options" not in page.headers


def test_second_launch_finds_the_same_account(registered, platform, browser_standin, course):
    browser_standin.launch(platform.scenario(COURSE))
    browser_standin.launch(platform.scenario(COURSE))
    assert counts()["User"] == 1
    assert len(_statements("launched")) == 2
    assert len(_statements("registered")) == 1


def test_existing_account_is_matched_by_email(registered, platform, browser_standin, course):
    from tests import factories

    user = factories.make_user(email="siti@pemda.example.go.id", name="Siti R.")
    get_session().commit()
    browser_standin.launch(platform.scenario(COURSE))
    assert counts()["User"] == 1
    assert get_session().scalar(sa.select(LtiUserLink)).user_id == user.id


def test_match_by_nip_uses_the_configured_claim(registered, platform, browser_standin, course):
    from tests import factories

    nip = factories.make_nip()
    user = factories.make_user(nip=nip, email="lain@pemda.example.go.id")
    registered.match_by, registered.nip_claim = "nip", "custom.nip"
    get_session().commit()
    browser_standin.launch(platform.scenario(COURSE, custom={"nip": nip}))
    assert get_session().scalar(sa.select(LtiUserLink)).user_id == user.id
    assert counts()["User"] == 1


def test_admin_accounts_are_never_matched_by_a_launch(registered, platform, browser_standin,
                                                      course):
    from tests import factories

    factories.make_user(email="siti@pemda.example.go.id", roles=["admin"])
    get_session().commit()
    before = counts()
    response = browser_standin.launch(platform.scenario(COURSE))
    assert response.status_code == 403
    assert "administrator or HR account" in response.get_data(as_text=True) or \
        "administrator atau HR" in response.get_data(as_text=True)
    assert counts() == before


def test_instructor_is_not_enrolled_and_gets_no_trainer_role_by_default(
        registered, platform, browser_standin, course):
    browser_standin.launch(platform.scenario(COURSE, roles=[INSTRUCTOR]))
    session = get_session()
    session.expire_all()
    user = session.scalar(sa.select(User))
    assert user.roles == {Role.LEARNER}
    assert session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0
    registered.grant_trainer = True
    session.commit()
    browser_standin.launch(platform.scenario(COURSE, roles=[INSTRUCTOR]))
    session.expire_all()
    assert Role.TRAINER in session.scalar(sa.select(User)).roles


def test_module_and_quiz_links_open_the_module(registered, platform, browser_standin, course):
    response = browser_standin.launch(platform.scenario(f"{COURSE}/modules/satu", link_id="m"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/courses/mini-kursus/modules/satu"
    response = browser_standin.launch(platform.scenario(f"{COURSE}/quizzes/kuis", link_id="q"))
    assert response.headers["Location"] == "/courses/mini-kursus/quizzes/kuis"
    kinds = dict(get_session().execute(sa.select(LtiResourceLink.resource_link_id,
                                                 LtiResourceLink.target_kind)).all())
    assert kinds == {"m": "module", "q": "quiz"}
    launched = _statements("launched")
    assert launched[1]["object"]["id"] == f"{COURSE}/quizzes/kuis"
    assert launched[1]["context"]["contextActivities"]["parent"][0]["id"] == COURSE


def test_a_link_placed_by_hand_names_the_course_in_custom_parameters(
        registered, platform, browser_standin, course):
    response = browser_standin.launch(platform.scenario(f"{BASE}/courses/",
                                                        custom={"course": "mini-kursus"}))
    assert response.headers["Location"] == "/courses/mini-kursus"


def test_launch_into_a_missing_course_is_refused_and_leaves_nothing(
        registered, platform, browser_standin, course):
    before = counts()
    response = browser_standin.launch(platform.scenario(f"{BASE}/courses/tidak-ada"))
    assert response.status_code == 403
    assert "tidak-ada" in response.get_data(as_text=True)
    # The platform may show the refusal in its frame.
    assert f"frame-ancestors 'self' {platform.url}" in response.headers["Content-Security-Policy"]
    assert counts() == before
