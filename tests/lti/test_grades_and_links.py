"""Deep linking, grades back to the platform (AGS) and rosters (NRPS), with the platform
library on the other side: it checks Lentera's signed answers and client assertions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from lms.db import get_session
from lms.lti import ags, keys
from lms.lti.models import FAILED, QUEUED, SENT, LtiContext, LtiMember, LtiScorePost
from lms.quizzes.models import QuizAttempt
from lms.xapi.models import Statement
from tests.lti.conftest import BASE, answers_for
from tests.lti.platform import INSTRUCTOR, LEARNER, form_of

COURSE = f"{BASE}/courses/mini-kursus"


def _pass_quiz(browser: Any, course: Any, right: bool = True) -> None:
    from lms.courses import service

    assert browser.client.post(BASE + "/courses/mini-kursus/quizzes/kuis/start").status_code \
        == 302
    get_session().expire_all()
    attempt = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))
    quiz = service.find_module(service.definition_of(service.current_version(course)),
                               "kuis")["quiz"]
    answer = browser.client.post(
        f"{BASE}/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}",
        data=answers_for(attempt, quiz, right=right))
    assert answer.status_code == 302


def _posts() -> list[LtiScorePost]:
    get_session().expire_all()
    return list(get_session().scalars(sa.select(LtiScorePost).order_by(LtiScorePost.id)))


def test_deep_linking_returns_a_signed_answer_the_platform_accepts(
        registered, platform, browser_standin, course):
    response = browser_standin.launch(platform.scenario(
        f"{BASE}/lti/deep-link", deep_link=True, roles=[INSTRUCTOR]))
    assert response.status_code == 302
    picker = browser_standin.get(response.headers["Location"])
    assert picker.status_code == 200
    page = picker.get_data(as_text=True)
    assert "Mini Kursus Uji" in page and 'value="mini-kursus/kuis"' in page
    assert f"frame-ancestors 'self' {platform.url}" in picker.headers["Content-Security-Policy"]
    answer = browser_standin.client.post(
        BASE + response.headers["Location"], data={"items": ["mini-kursus", "mini-kursus/kuis"]})
    assert answer.status_code == 200
    assert f"form-action 'self' {platform.url}" in answer.headers["Content-Security-Policy"]
    action, fields = form_of(answer.get_data(as_text=True))
    assert action == platform.url + "/deep_link_return"
    returned = browser_standin.http.post(action, data=fields)
    assert returned.status_code == 200, returned.text
    items = platform.deep_link_items
    assert [i["url"] for i in items] == [COURSE, f"{COURSE}/quizzes/kuis"]
    assert items[0]["type"] == "ltiResourceLink" and items[0]["lineItem"]["scoreMaximum"] == 100
    assert items[1]["custom"] == {"course": "mini-kursus", "module": "kuis"}
    # The answer names Lentera's current key and carries the platform's data back.
    from joserfc import jwt

    token = jwt.decode(fields["JWT"], lambda _obj: __import__(
        "joserfc.jwk", fromlist=["KeySet"]).KeySet.import_key_set(keys.jwks()))
    assert token.header["kid"] == keys.current_key().kid
    assert token.claims["aud"] == platform.issuer and token.claims["iss"] == platform.client_id
    assert token.claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == {"csrf": "d-1"}
    launched = [st for st in get_session().scalars(sa.select(Statement.data))
                if st["verb"]["id"].endswith("/launched")]
    assert launched[0]["actor"]["account"] == {"homePage": platform.issuer, "name": "u-100"}
    # The picker works once.
    again = browser_standin.client.post(BASE + response.headers["Location"],
                                        data={"items": ["mini-kursus"]})
    assert again.status_code == 404


def test_learners_cannot_deep_link_and_the_picker_checks_its_input(
        registered, platform, browser_standin, course):
    response = browser_standin.launch(platform.scenario(
        f"{BASE}/lti/deep-link", deep_link=True, roles=[LEARNER]))
    assert response.status_code == 403
    response = browser_standin.launch(platform.scenario(
        f"{BASE}/lti/deep-link", deep_link=True, roles=[INSTRUCTOR]))
    url = BASE + response.headers["Location"]
    for bad in ([], ["tidak-ada"], ["mini-kursus/zzz"], ["x" * 500]):
        answer = browser_standin.client.post(url, data={"items": bad})
        assert answer.status_code == 400, bad
        assert 'class="alert alert-danger"' in answer.get_data(as_text=True)
    # A NUL character is refused before the picker sees it, with its own clear 400 page.
    answer = browser_standin.client.post(url, data={"items": ["a\x00b"]})
    assert answer.status_code == 400
    assert "NUL" in answer.get_data(as_text=True)
    assert browser_standin.get("/lti/deep-link/unknown-token").status_code == 404


def test_passing_the_quiz_sends_the_score_to_the_gradebook(
        registered, platform, browser_standin, course, app):
    browser_standin.launch(platform.scenario(f"{COURSE}/quizzes/kuis", link_id="q-1"))
    _pass_quiz(browser_standin, course)
    posts = _posts()
    assert len(posts) == 1 and posts[0].status == QUEUED
    assert posts[0].score_maximum > 0 and posts[0].score_given == posts[0].score_maximum
    counts = ags.send_pending()
    assert counts == {"sent": 1, "retry": 0, "failed": 0}
    assert len(platform.scores) == 1
    score = platform.scores[0]
    assert score["userId"] == "u-100"
    assert score["scoreGiven"] == score["scoreMaximum"] == posts[0].score_maximum
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    # Lentera made the gradebook column (the link came with the context's line items).
    assert score["lineitem"] in platform.lineitems
    assert platform.lineitems[score["lineitem"]]["resourceLinkId"] == "q-1"
    assert _posts()[0].status == SENT
    scored = [s for s in get_session().scalars(sa.select(Statement.data))
              if s["verb"]["id"] == ags.ADL_SCORED]
    assert len(scored) == 1
    assert scored[0]["context"]["statement"]["id"] == posts[0].statement_id
    assert scored[0]["result"]["score"]["scaled"] == 1.0
    # Sending again sends nothing; a replay of the statements queues nothing new.
    assert ags.send_pending() == {"sent": 0, "retry": 0, "failed": 0}
    from lms.xapi.consumers import replay

    replay("lti")
    assert len(_posts()) == 1


def test_completing_the_course_reports_completion_to_a_course_link(
        registered, platform, browser_standin, course):
    browser_standin.launch(platform.scenario(COURSE, ags="lineitem", link_id="c-1"))
    for module in ("satu", "pelajaran-dua"):
        browser_standin.get(f"/courses/mini-kursus/modules/{module}")
        assert browser_standin.client.post(
            f"{BASE}/courses/mini-kursus/modules/{module}/complete").status_code == 302
    _pass_quiz(browser_standin, course)
    posts = _posts()
    assert [(p.score_given, p.score_maximum) for p in posts] == [(100.0, 100.0)]
    ags.send_pending()
    assert platform.scores[0]["lineitem"] == f"{platform.url}/ags/course-7/lineitems/c-1"


def test_failures_are_retried_with_backoff_then_shown_as_failed(
        registered, platform, browser_standin, course, app):
    browser_standin.launch(platform.scenario(f"{COURSE}/quizzes/kuis"))
    _pass_quiz(browser_standin, course)
    platform.fail_next_scores = 100
    now = dt.datetime.now(dt.UTC)
    assert ags.send_pending(now=now) == {"sent": 0, "retry": 1, "failed": 0}
    post = _posts()[0]
    assert post.status == QUEUED and post.attempts == 1
    assert "HTTP 503" in post.last_error
    assert post.next_attempt - now == dt.timedelta(seconds=60)
    # Not due before its time.
    assert ags.send_pending(now=now + dt.timedelta(seconds=30))["retry"] == 0
    later = now
    for attempt in range(2, 9):
        later = later + dt.timedelta(hours=7)
        ags.send_pending(now=later)
        post = _posts()[0]
        assert post.attempts == attempt
    assert post.status == FAILED
    admin = _admin(browser_standin, app)
    page = admin.get("/admin/lti/scores?status=failed")
    assert page.status_code == 200 and "HTTP 503" in page.get_data(as_text=True)
    assert admin.get("/admin/lti/").get_data(as_text=True).count("text-bg-danger") >= 1
    platform.fail_next_scores = 0
    assert admin.post("/admin/lti/scores/retry-failed").status_code == 302
    assert ags.send_pending()["sent"] == 1
    assert _posts()[0].status == SENT


def _admin(browser: Any, app: Any) -> Any:
    from tests import factories

    admin = factories.make_user(email="admin-lti@test.lentera.local", roles=["admin"])
    get_session().commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["locale"] = "en"
    return client


def test_voiding_the_result_cancels_an_unsent_score(registered, platform, browser_standin,
                                                   course):
    from lms.xapi.service import store_statements

    browser_standin.launch(platform.scenario(f"{COURSE}/quizzes/kuis"))
    _pass_quiz(browser_standin, course)
    post = _posts()[0]
    store_statements([{
        "actor": {"objectType": "Agent", "mbox": "mailto:admin@test.lentera.local"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": post.statement_id}}])
    get_session().commit()
    assert _posts()[0].status == "cancelled"
    assert ags.send_pending()["sent"] == 0


def test_results_of_learners_who_never_launched_the_link_are_not_sent(
        registered, platform, browser_standin, course, client, users, login_as):
    browser_standin.launch(platform.scenario(f"{COURSE}/quizzes/kuis"))
    login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    from tests.lti.platform import Browser

    other = Browser(client, platform)
    other.platform.tool_base = "http://localhost"  # the test client's default host
    _pass_quiz_default_host(client, course)
    assert _posts() == []


def _pass_quiz_default_host(client: Any, course: Any) -> None:
    from lms.courses import service

    client.post("/courses/mini-kursus/quizzes/kuis/start")
    get_session().expire_all()
    attempt = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))
    quiz = service.find_module(service.definition_of(service.current_version(course)),
                               "kuis")["quiz"]
    assert client.post(f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}",
                       data=answers_for(attempt, quiz)).status_code == 302


def test_roster_is_pulled_from_the_platform(registered, platform, browser_standin, course,
                                            app):
    browser_standin.launch(platform.scenario(COURSE))
    platform.members["course-7"] = [
        {"user_id": "u-100", "name": "Siti Rahma", "email": "siti@pemda.example.go.id",
         "roles": [LEARNER], "status": "Active"},
        {"user_id": "u-200", "name": "Budi Santoso", "roles": [INSTRUCTOR]},
    ]
    context = get_session().scalar(sa.select(LtiContext))
    admin = _admin(browser_standin, app)
    answer = admin.post(f"/admin/lti/contexts/{context.id}/roster")
    assert answer.status_code == 302
    page = admin.get(f"/admin/lti/contexts/{context.id}/roster").get_data(as_text=True)
    assert "Budi Santoso" in page and "Siti Rahma" in page
    rows = {m.sub: m for m in get_session().scalars(sa.select(LtiMember))}
    assert rows["u-100"].user_id is not None and rows["u-200"].user_id is None
    assert re.search(r"2 members", admin.get(f"/admin/lti/platforms/{registered.id}")
                     .get_data(as_text=True))
