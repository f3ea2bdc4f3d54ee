"""The paged questionnaire with its saved draft and progress, and the framework policy that
makes a supervisor's rating wait for HR's validation before it counts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from lms.assessment.models import AssessmentDraft, AssessmentRater
from lms.competency import service as competency
from lms.db import get_session
from lms.mail.models import OutboxMessage
from lms.xapi.models import Statement
from tests.assessment.conftest import answers_for, level_of, login


def _start_self(client: Any, codes: list[str]) -> int:
    response = client.post("/assessment/self", data={"competencies": codes})
    assert response.status_code == 302, response.data
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _start_supervisor(client: Any, nip: str, codes: list[str]) -> int:
    response = client.post(f"/assessment/employees/{nip}/supervisor",
                           data={"competencies": codes})
    assert response.status_code == 302, response.data
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _page(code: str, level: int, page: int, go: str = "next", drop: int = 0
          ) -> dict[str, str]:
    data = {k: v for k, v in answers_for({code: level}).items()}
    for key in list(data)[:drop]:
        data.pop(key)
    return {**data, "page": str(page), "go": go}


def _statements() -> int:
    """Assessment results stored (the profile engine adds ``mastered`` ones of its own)."""
    return get_session().scalar(sa.select(sa.func.count(Statement.seq)).where(
        Statement.verb_id == "http://adlnet.gov/expapi/verbs/scored"))


def test_pages_save_a_draft_show_progress_and_submit_at_the_end(client, org):
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01", "M.03"])
    first = client.get(f"/assessment/fill/{entry_id}").get_data(as_text=True)
    assert 'data-code="M.01"' in first and 'name="a-M.03-1.0"' not in first  # one per page
    # Page 1, three answers left open: saved as a draft, on to page 2.
    response = client.post(f"/assessment/fill/{entry_id}", data=_page("M.01", 4, 1, drop=3))
    assert response.status_code == 302 and response.headers["Location"].endswith("page=2")
    assert _statements() == 0  # a draft is not a result
    again = client.get(f"/assessment/fill/{entry_id}?page=1").get_data(as_text=True)
    saved = len(answers_for({"M.01": 4})) - 3
    assert again.count('autocomplete="off" checked') == saved  # restored, the rest open
    review = client.get(f"/assessment/fill/{entry_id}?page=3").get_data(as_text=True)
    assert 'id="left-to-answer"' in review and 'id="submit-assessment"' not in review
    # Submitting with answers missing is refused; nothing is written.
    assert client.post(f"/assessment/fill/{entry_id}",
                       data={"page": "3", "go": "submit"}).status_code == 400
    assert _statements() == 0
    # Finish both pages and submit from the review page.
    client.post(f"/assessment/fill/{entry_id}", data=_page("M.01", 4, 1))
    client.post(f"/assessment/fill/{entry_id}", data=_page("M.03", 2, 2, go="review"))
    review = client.get(f"/assessment/fill/{entry_id}?page=3").get_data(as_text=True)
    assert 'id="submit-assessment"' in review
    response = client.post(f"/assessment/fill/{entry_id}", data={"page": "3", "go": "submit"})
    assert response.status_code == 302
    assert _statements() == 2
    entry = get_session().get(AssessmentRater, entry_id)
    get_session().refresh(entry)
    assert entry.level("M.01") == 4 and entry.level("M.03") == 2
    assert get_session().scalar(sa.select(sa.func.count()).select_from(AssessmentDraft)) == 0


def test_save_and_continue_later_shows_the_progress_on_the_list(client, org):
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01", "M.03"])
    response = client.post(f"/assessment/fill/{entry_id}", data=_page("M.01", 3, 1, go="later"))
    assert response.headers["Location"].endswith("/assessment/")
    page = client.get("/assessment/").get_data(as_text=True)
    assert f"/assessment/fill/{entry_id}" in page
    answered = len(answers_for({"M.01": 3}))
    total = answered + len(answers_for({"M.03": 2}))
    assert f"{answered} dari {total}" in page or f"{answered} of {total}" in page


@pytest.mark.parametrize("data, status", [
    ({"page": "0", "go": "next"}, 400),
    ({"page": "99999", "go": "next"}, 400),
    ({"page": "9" * 200, "go": "next"}, 400),
    ({"page": "abc", "go": "next"}, 400),
    ({"page": "1\x00", "go": "next"}, 400),
    ({"page": "1", "go": "next", "a-M.01-1.0": "9"}, 400),
    ({"page": "1", "go": "next", "a-M.01-1.0": "2\x00"}, 400),
    ({"page": "1", "go": "next", "a-M.01-1.0": "1" * 100_000}, 400),
    ({"page": "1", "go": "next", "a-M.01-1.0": "-1"}, 400),
    ({"page": "1", "go": "99", "a-M.01-1.0": "2"}, 400),
])
def test_hostile_pages_are_refused_and_nothing_is_saved(client, org, data, status):
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01"])
    assert client.post(f"/assessment/fill/{entry_id}", data=data).status_code == status
    if data["go"] != "99":
        assert get_session().scalar(
            sa.select(sa.func.count()).select_from(AssessmentDraft)) == 0
    assert client.get(f"/assessment/fill/{entry_id}?page=abc").status_code == 400


def test_only_the_rater_saves_their_draft(client, org):
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01"])
    login(client, org["peer"])
    assert client.post(f"/assessment/fill/{entry_id}",
                       data=_page("M.01", 2, 1)).status_code == 403
    assert client.get(f"/assessment/fill/{entry_id}").status_code == 403


def _client_for(app: Any, key: str) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True
    return client


def test_two_pages_saved_at_once_are_both_kept(app, client, org):
    key = org["employee"].get_id()
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01", "M.03"])
    pages = [_page("M.01", 3, 1), _page("M.03", 2, 2)]
    barrier = threading.Barrier(len(pages))
    codes: list[int] = []

    def save(data: dict[str, str]) -> None:
        own = _client_for(app, key)
        barrier.wait(timeout=30)
        codes.append(own.post(f"/assessment/fill/{entry_id}", data=data).status_code)

    threads = [threading.Thread(target=save, args=(data,)) for data in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [302, 302]
    get_session().expire_all()
    rows = {r.code for r in get_session().scalars(sa.select(AssessmentDraft))}
    assert rows == {"M.01", "M.03"}


def test_two_submissions_at_once_store_the_statements_once(app, client, org):
    key = org["employee"].get_id()
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01"])
    data = answers_for({"M.01": 3})
    barrier = threading.Barrier(3)
    codes: list[int] = []

    def submit() -> None:
        own = _client_for(app, key)
        barrier.wait(timeout=30)
        codes.append(own.post(f"/assessment/fill/{entry_id}", data=data).status_code)

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [302, 400, 400]
    assert _statements() == 1


def _mails(category: str) -> list[OutboxMessage]:
    get_session().expire_all()
    return list(get_session().scalars(sa.select(OutboxMessage)
                                      .where(OutboxMessage.category == category)
                                      .order_by(OutboxMessage.id)))


def test_a_supervisor_rating_waits_for_hr_and_a_big_jump_is_flagged(client, org):
    employee, supervisor = org["employee"], org["supervisor"]
    login(client, supervisor)
    entry_id = _start_supervisor(client, employee.nip, ["M.01", "M.03"])
    client.post(f"/assessment/fill/{entry_id}", data=answers_for({"M.01": 5, "M.03": 5}))
    assert level_of(employee, "M.01") == 0  # not counted yet
    assert _statements() == 0
    # HR covering the employee is told, by e-mail with a link, in Indonesian.
    mails = _mails("assessment.validation")
    assert [m.to_address for m in mails] == [org["hr"].email]
    assert f"/assessment/validate/{entry_id}" in mails[0].text
    assert "validasi" in mails[0].subject.lower() or "validasi" in mails[0].text.lower()

    login(client, org["hr"])
    listing = client.get("/assessment/").get_data(as_text=True)
    assert f"/assessment/validate/{entry_id}" in listing
    page = client.get(f"/assessment/validate/{entry_id}").get_data(as_text=True)
    assert 'id="jpm-now">0%' in page and 'id="jpm-after">100%' in page
    assert 'id="jump-warning"' in page
    # HR of another OPD may not; the comment is needed to return it.
    login(client, org["hr_other"])
    assert client.get(f"/assessment/validate/{entry_id}").status_code == 403
    assert client.post(f"/assessment/validate/{entry_id}",
                       data={"action": "validate"}).status_code == 403
    login(client, org["hr"])
    assert client.post(f"/assessment/validate/{entry_id}",
                       data={"action": "return", "note": "  "}).status_code == 400
    assert client.post(f"/assessment/validate/{entry_id}",
                       data={"action": "what"}).status_code == 400
    response = client.post(f"/assessment/validate/{entry_id}", data={
        "action": "return", "note": "Level 5 untuk staf pelaksana perlu bukti."})
    assert response.status_code == 302
    # Back with the supervisor: the answers are kept as a draft, and they are told.
    returned = _mails("assessment.requested")
    assert [m.to_address for m in returned] == [supervisor.email]
    assert "perlu bukti" in returned[0].text
    login(client, supervisor)
    page = client.get(f"/assessment/fill/{entry_id}").get_data(as_text=True)
    assert 'id="returned-note"' in page and " checked" in page
    client.post(f"/assessment/fill/{entry_id}", data=_page("M.01", 3, 1))
    client.post(f"/assessment/fill/{entry_id}", data=_page("M.03", 2, 2))
    client.post(f"/assessment/fill/{entry_id}", data={"page": "3", "go": "submit"})
    assert level_of(employee, "M.01") == 0
    login(client, org["hr"])
    assert client.post(f"/assessment/validate/{entry_id}",
                       data={"action": "validate"}).status_code == 302
    assert level_of(employee, "M.01") == 3 and level_of(employee, "M.03") == 2
    assert _statements() == 2
    # Validated once: a second validation is refused and stores nothing.
    assert client.post(f"/assessment/validate/{entry_id}",
                       data={"action": "validate"}).status_code == 400
    assert _statements() == 2


def test_the_rater_cannot_validate_their_own_rating(client, org):
    from lms.people.models import Role, UserRole

    supervisor = org["supervisor"]
    get_session().add(UserRole(user_id=supervisor.id, role=Role.ADMIN))
    get_session().commit()
    login(client, supervisor)
    entry_id = _start_supervisor(client, org["employee"].nip, ["M.01"])
    client.post(f"/assessment/fill/{entry_id}", data=answers_for({"M.01": 3}))
    assert client.post(f"/assessment/validate/{entry_id}",
                       data={"action": "validate"}).status_code == 403
    assert level_of(org["employee"], "M.01") == 0


def test_without_the_policy_a_supervisor_rating_counts_at_once(client, org):
    framework = competency.get_framework("ASN-MSK")
    policy = dict(framework.policy)
    policy["supervisor_validation"] = False
    competency.set_policy(framework, policy)
    get_session().commit()
    login(client, org["supervisor"])
    entry_id = _start_supervisor(client, org["employee"].nip, ["M.01"])
    client.post(f"/assessment/fill/{entry_id}", data=answers_for({"M.01": 3}))
    assert level_of(org["employee"], "M.01") == 3
    assert _mails("assessment.validation") == []


def test_hr_turns_the_policy_on_and_off_on_the_framework_page(client, org):
    login(client, org["hr"])
    page = client.get("/competency/frameworks/ASN-MSK").get_data(as_text=True)
    assert 'id="policy-validation"' in page
    response = client.post("/competency/frameworks/ASN-MSK/policy", data={
        "method": "highest", "mastery_count": "2", "half_life_days": "365",
        "precedence": "combine", "counted_sources": ["assessment", "supervisor", "course",
                                                     "external"],
        "source_order": "assessment, supervisor, course, external, self"})
    assert response.status_code == 302
    get_session().expire_all()
    assert competency.get_framework("ASN-MSK").policy["supervisor_validation"] is False
    assert 'id="policy-validation"' not in client.get(
        "/competency/frameworks/ASN-MSK").get_data(as_text=True)


def test_raters_of_a_360_round_are_asked_by_e_mail(client, org):
    employee = org["employee"]
    login(client, org["hr"])
    client.post(f"/assessment/employees/{employee.nip}/360", data={
        "competencies": ["M.03"], "include_self": "1", "supervisor": str(org["supervisor"].id),
        "peers": [str(org["peer"].id)]})
    mails = _mails("assessment.requested")
    assert sorted(m.to_address for m in mails) == sorted(
        [employee.email, org["supervisor"].email, org["peer"].email])
    peer_mail = next(m for m in mails if m.to_address == org["peer"].email)
    assert "/assessment/fill/" in peer_mail.text and employee.name in peer_mail.subject
    assert "/notifications/settings" in peer_mail.text
