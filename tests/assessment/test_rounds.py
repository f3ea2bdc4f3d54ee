"""Self, supervisor, 360 and assessment-centre results become statements and evidence."""

from __future__ import annotations

import sqlalchemy as sa

from lms.assessment.models import AssessmentRater, AssessmentRound
from lms.competency.models import Evidence, EvidenceRule
from lms.db import get_session
from lms.xapi.models import Statement
from tests.assessment.conftest import answers_for, level_of, login


def _start_self(client, codes):
    response = client.post("/assessment/self", data={"competencies": codes})
    assert response.status_code == 302, response.data
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_self_then_supervisor_assessment_change_the_profile_as_the_policy_says(client, org):
    employee, supervisor = org["employee"], org["supervisor"]
    login(client, employee)
    entry_id = _start_self(client, ["M.01", "M.03"])
    page = client.get(f"/assessment/fill/{entry_id}")
    assert page.status_code == 200
    assert "Tingkat 1" in page.get_data(as_text=True) or "Level 1" in page.get_data(as_text=True)
    response = client.post(f"/assessment/fill/{entry_id}",
                           data=answers_for({"M.01": 4, "M.03": 3}))
    assert response.status_code == 302
    # Self-assessment is evidence but not counted by default.
    assert level_of(employee, "M.01") == 0
    evidence = get_session().scalars(
        sa.select(Evidence).where(Evidence.user_id == employee.id)).all()
    assert {(e.source.value, e.level) for e in evidence} == {("self", 4), ("self", 3)}

    # The statement: actor the employee's NIP account, stable IRI per competency and role.
    statement = get_session().scalar(sa.select(Statement).where(
        Statement.activity_id == "http://lentera.test/assessment/competency/M.01/self"))
    assert statement.data["actor"]["account"] == {"homePage": "http://lentera.test",
                                                  "name": employee.nip}
    assert statement.data["result"]["score"]["raw"] == 4

    login(client, supervisor)
    page = client.get(f"/assessment/employees/{employee.nip}")
    assert page.status_code == 200 and "supervisor-assessment" in page.get_data(as_text=True)
    response = client.post(f"/assessment/employees/{employee.nip}/supervisor",
                           data={"competencies": ["M.01", "M.03"]})
    assert response.status_code == 302
    sup_entry = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/assessment/fill/{sup_entry}", data=answers_for({"M.01": 3, "M.03": 2}))
    # The shipped framework asks HR to validate a supervisor's rating before it counts.
    assert level_of(employee, "M.01") == 0
    login(client, org["hr"])
    assert client.post(f"/assessment/validate/{sup_entry}",
                       data={"action": "validate"}).status_code == 302
    assert level_of(employee, "M.01") == 3
    assert level_of(employee, "M.03") == 2
    statement = get_session().scalar(sa.select(Statement).where(
        Statement.activity_id == "http://lentera.test/assessment/competency/M.01/supervisor"))
    assert statement.data["context"]["instructor"]["account"]["name"] == supervisor.nip
    assert statement.data["context"]["extensions"][
        "http://lentera.test/assessment/xapi/validated-by"]["account"]["name"] == org["hr"].nip

    # Results show the distance between self and others, on the profile too.
    login(client, employee)
    profile = client.get("/competency/").get_data(as_text=True)
    assert "assessment-panel" in profile
    html = client.get(f"/assessment/employees/{employee.nip}").get_data(as_text=True)
    assert 'data-code="M.01"' in html and "-1" in html
    # The rules are versioned competency rules from the assessment.
    rules = get_session().scalars(sa.select(EvidenceRule).where(
        EvidenceRule.origin == "assessment")).all()
    assert {r.rule_key for r in rules} >= {"assessment:M.01:self", "assessment:M.01:supervisor"}


def test_a_counted_self_assessment_changes_the_level_when_the_policy_counts_it(client, org):
    from lms.competency import service

    framework = service.get_framework("ASN-MSK")
    policy = dict(framework.policy)
    policy["counted_sources"] = ["assessment", "supervisor", "course", "external", "self"]
    service.set_policy(framework, policy)
    get_session().commit()
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01"])
    client.post(f"/assessment/fill/{entry_id}", data=answers_for({"M.01": 2}))
    assert level_of(org["employee"], "M.01") == 2


def test_incomplete_answers_are_refused_and_nothing_is_written(client, org):
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01"])
    data = answers_for({"M.01": 3})
    data.pop(next(iter(data)))
    response = client.post(f"/assessment/fill/{entry_id}", data=data)
    assert response.status_code == 400
    assert get_session().scalar(sa.select(sa.func.count(Statement.seq))) == 0
    get_session().expire_all()
    assert get_session().get(AssessmentRater, entry_id).submitted_at is None
    data["a-M.01-1.0"] = "9"
    assert client.post(f"/assessment/fill/{entry_id}", data=data).status_code == 400


def test_roles_are_checked(client, org):
    employee = org["employee"]
    login(client, org["outsider"])
    assert client.get(f"/assessment/employees/{employee.nip}").status_code == 403
    assert client.post(f"/assessment/employees/{employee.nip}/supervisor",
                       data={"competencies": ["M.01"]}).status_code == 403
    login(client, org["peer"])  # a colleague is not a supervisor
    assert client.get(f"/assessment/employees/{employee.nip}").status_code == 403
    login(client, org["employee"])
    entry_id = _start_self(client, ["M.01"])
    assert client.get(f"/assessment/employees/{employee.nip}/360").status_code == 403
    login(client, org["supervisor"])
    assert client.get(f"/assessment/fill/{entry_id}").status_code == 403
    login(client, org["hr_other"])  # HR of another OPD
    assert client.get(f"/assessment/employees/{employee.nip}").status_code == 403
    assert client.get(f"/assessment/employees/{employee.nip}/centre").status_code == 403
    assert client.get("/assessment/employees/000").status_code == 404
    login(client, org["hr"])
    assert client.get(f"/assessment/employees/{employee.nip}").status_code == 200
    login(client, org["admin"])
    assert client.get(f"/assessment/employees/{employee.nip}/360").status_code == 200


def test_360_round_peers_count_as_external_with_half_weight(client, org):
    employee = org["employee"]
    login(client, org["hr"])
    page = client.get(f"/assessment/employees/{employee.nip}/360").get_data(as_text=True)
    assert f'value="{org["peer"].id}" selected' in page  # suggested from the unit
    response = client.post(f"/assessment/employees/{employee.nip}/360", data={
        "competencies": ["M.03"], "include_self": "1", "supervisor": "",
        "peers": [str(org["peer"].id), str(org["peer2"].id)]})
    assert response.status_code == 302
    round_ = get_session().scalar(sa.select(AssessmentRound))
    entries = {e.rater_id: e.id for e in round_.raters}
    assert set(entries) == {employee.id, org["peer"].id, org["peer2"].id}
    login(client, org["peer"])
    assert "Orang employee" in client.get("/assessment/").get_data(as_text=True)
    assert "home-assessment" in client.get("/").get_data(as_text=True)
    client.post(f"/assessment/fill/{entries[org['peer'].id]}", data=answers_for({"M.03": 3}))
    assert level_of(employee, "M.03") == 0  # one peer: weight 0.5
    statement = get_session().scalar(sa.select(Statement).where(
        Statement.activity_id == "http://lentera.test/assessment/competency/M.03/peer"))
    assert statement.data["context"]["team"]["member"][0]["account"]["name"] == org["peer"].nip
    login(client, org["peer2"])
    client.post(f"/assessment/fill/{entries[org['peer2'].id]}", data=answers_for({"M.03": 3}))
    assert level_of(employee, "M.03") == 3  # two peers agree
    # The employee sees roles and averages, not who the peers were.
    login(client, employee)
    html = client.get(f"/assessment/rounds/{round_.id}").get_data(as_text=True)
    assert "Orang peer2" not in html
    login(client, org["hr"])
    assert f"/assessment/rounds/{round_.id}" in client.get("/assessment/").get_data(as_text=True)
    login(client, org["hr_other"])
    assert f"/assessment/rounds/{round_.id}" not in client.get("/assessment/").get_data(
        as_text=True)
    login(client, org["hr"])
    assert client.post(f"/assessment/rounds/{round_.id}/close").status_code == 302
    get_session().expire_all()
    assert get_session().get(AssessmentRound, round_.id).status == "closed"


def test_hr_records_assessment_centre_results(client, org):
    employee = org["employee"]
    login(client, org["hr"])
    response = client.post(f"/assessment/employees/{employee.nip}/centre", data={
        "note": "UPT Penilaian Kompetensi", "assessed_on": "2026-03-02",
        "level-M.01": "4", "level-M.03": ""})
    assert response.status_code == 302
    assert level_of(employee, "M.01") == 4
    evidence = get_session().scalar(sa.select(Evidence).where(Evidence.user_id == employee.id))
    assert evidence.source.value == "assessment"
    assert evidence.occurred.date().isoformat() == "2026-03-02"
    bad = client.post(f"/assessment/employees/{employee.nip}/centre",
                      data={"note": "", "level-M.01": "4"})
    assert bad.status_code == 400
    bad = client.post(f"/assessment/employees/{employee.nip}/centre",
                      data={"note": "x", "level-M.01": "7"})
    assert bad.status_code == 400


def test_recommendations_follow_the_assessed_levels(client, org):
    from lms.competency import service

    service.apply_course_publication({
        "iri": "http://lentera.test/courses/integritas", "slug": "integritas",
        "title": "Integritas ASN", "jp": 8, "version": 1,
        "targets": [{"competency": "M.01", "level": 3}]})
    get_session().commit()
    employee = org["employee"]
    assert [c["title"] for c in service.recommended_courses(employee)] == ["Integritas ASN"]
    login(client, org["supervisor"])
    response = client.post(f"/assessment/employees/{employee.nip}/supervisor",
                           data={"competencies": ["M.01"]})
    entry_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/assessment/fill/{entry_id}", data=answers_for({"M.01": 3}))
    login(client, org["hr"])
    client.post(f"/assessment/validate/{entry_id}", data={"action": "validate"})
    login(client, org["supervisor"])
    get_session().expire_all()
    assert service.recommended_courses(employee) == []
    # A submitted questionnaire cannot be sent again, and its page leads to the results.
    assert client.post(f"/assessment/fill/{entry_id}",
                       data=answers_for({"M.01": 5})).status_code == 400
    assert client.get(f"/assessment/fill/{entry_id}").status_code == 302
    # The rules appear among the evidence rules, marked as coming from the assessment.
    login(client, org["hr"])
    assert "dari penilaian kompetensi" in client.get("/competency/rules").get_data(
        as_text=True)


def test_unknown_competencies_and_missing_csrf_are_refused(client, org, make_app):
    login(client, org["employee"])
    assert client.post("/assessment/self", data={"competencies": ["X.99"]}).status_code == 400
    assert client.post("/assessment/self", data={}).status_code == 400
    assert get_session().scalar(sa.select(sa.func.count(AssessmentRound.id))) == 0
    strict = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(strict, org["employee"])
    assert strict.post("/assessment/self", data={"competencies": ["M.01"]}).status_code == 400
    assert get_session().scalar(sa.select(sa.func.count(AssessmentRound.id))) == 0
