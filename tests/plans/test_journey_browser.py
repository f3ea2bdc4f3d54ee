"""In Chromium, on the demo organisation: the demo learner proposes a plan from her gaps
in one click and submits it; her supervisor approves it; a course completion sent to the
LRS by another system marks the course item done, and the learner's reports of the other
items finish the plan."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from lms.competency import service as competency
from lms.db import get_session
from lms.people.models import User
from lms.xapi.auth import create_credential
from tests.assessment.test_journey_browser import demo, sign_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def course(demo, live_server) -> dict[str, Any]:  # noqa: F811
    with live_server.app.app_context():
        iri = f"{live_server.url}/courses/integritas-dalam-pelayanan"
        competency.apply_course_publication({
            "iri": iri, "slug": "integritas-dalam-pelayanan",
            "title": "Integritas dalam Pelayanan", "jp": 10, "version": 1,
            "targets": [{"competency": "M.01", "level": 2}]})
        credential, secret = create_credential("Moodle BKPSDM", "statements/write")
        get_session().commit()
        learner = get_session().scalar(sa.select(User).where(
            User.email == "learner@demo.lentera.local"))
        found = {"iri": iri, "key": credential.key, "secret": secret, "nip": learner.nip}
        get_session().close()
    return found


def send_completion(live_server: Any, course: dict[str, Any]) -> None:
    statement = {"id": str(uuid.uuid4()),
                 "actor": {"objectType": "Agent",
                           "account": {"homePage": live_server.url, "name": course["nip"]}},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                          "display": {"en-US": "completed"}},
                 "object": {"objectType": "Activity", "id": course["iri"]}}
    token = base64.b64encode(f"{course['key']}:{course['secret']}".encode()).decode()
    request = urllib.request.Request(
        live_server.url + "/xapi/statements", data=json.dumps(statement).encode(),
        method="POST", headers={"Authorization": f"Basic {token}",
                                "Content-Type": "application/json",
                                "X-Experience-API-Version": "1.0.3"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1)
        assert response.status == 200


def status(page: Any) -> str:
    return page.locator(".plan-status").first.get_attribute("data-status")


def test_plan_from_gaps_approved_by_the_supervisor_and_completed_through_the_lrs(
        browser, live_server, demo, course):  # noqa: F811
    learner = sign_in(browser, live_server, "learner@demo.lentera.local")
    learner.goto("/plans/")
    learner.get_by_role("button", name="Usulkan rencana dari kesenjangan saya").click()
    learner.wait_for_url(re.compile(r".*/plans/\d+$"))  # the plan, not the list it left
    course_row = learner.locator('#plan-items tr[data-kind="course"]')
    assert "Integritas dalam Pelayanan" in course_row.inner_text()
    assert "10" in course_row.inner_text()  # its JP
    assert learner.locator("#plan-items tbody tr").count() > 1  # other routes too
    plan_url = learner.url
    learner.get_by_role("button", name="Ajukan ke atasan saya").click()
    learner.wait_for_load_state()
    assert status(learner) == "submitted"

    boss = sign_in(browser, live_server, demo["supervisor"])
    boss.goto("/plans/")
    boss.locator("#team-plans").get_by_role("link").first.click()
    boss.get_by_role("button", name="Setujui").click()
    boss.wait_for_load_state()
    assert status(boss) == "approved"

    # Another system reports the course completion to the LRS.
    send_completion(live_server, course)
    learner.goto(plan_url)
    assert "selesai" in learner.locator('#plan-items tr[data-kind="course"] .item-progress'
                                        ).inner_text()
    assert status(learner) == "in_progress"
    # The other routes: the learner reports each (a statement to the LRS too).
    while learner.get_by_role("button", name="Sudah saya laksanakan").count():
        learner.get_by_role("button", name="Sudah saya laksanakan").first.click()
        learner.wait_for_load_state()
    assert status(learner) == "done"
    learner.goto("/competency/")
    assert "Selesai" in learner.locator("#plans-panel").inner_text()
    learner.context.close()
    boss.context.close()
