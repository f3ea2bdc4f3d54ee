"""Pages of the competency module: profiles, standards, rules, frameworks."""

from __future__ import annotations

import datetime as dt
import io
import json

import sqlalchemy as sa

from lms.competency import service
from lms.competency.models import EvidenceRule
from lms.db import get_session
from lms.people import service as people
from lms.people.models import PositionKind
from tests.competency.conftest import completed, publish, send
from tests.factories import make_org_unit, make_position, make_user


def _place(user, position):
    people.assign_position(user, position, dt.date(2024, 1, 1))
    get_session().commit()


def test_learner_sees_levels_against_the_standard_with_evidence(client, login_as, frameworks):
    user = login_as("learner")
    position = make_position()
    _place(user, position)
    service.set_requirements(position, {frameworks["M.05"].id: 3})
    get_session().commit()
    publish()
    ids = send(completed(user))
    page = client.get("/competency/").get_data(as_text=True)
    assert "Profil Kompetensi" in page
    assert 'data-code="M.05"' in page
    assert "kesenjangan 1" in page  # level 2 of 3
    assert "Kesesuaian jabatan (JPM)" in page and "66%" in page
    assert 'data-chart="' in page and "chart.umd.js" in page
    detail = client.get(f"/competency/employees/{user.nip}/M.05").get_data(as_text=True)
    assert ids[0] in detail and "dihitung" in detail


def test_other_learners_may_not_see_a_profile_but_hr_and_supervisors_may(client, login_as,
                                                                         users, frameworks):
    unit = make_org_unit()
    employee = make_user()
    _place(employee, make_position(unit))
    login_as("learner")
    assert client.get(f"/competency/employees/{employee.nip}").status_code == 403
    _place(users["learner"], make_position(unit, kind=PositionKind.PENGAWAS))
    assert client.get(f"/competency/employees/{employee.nip}").status_code == 200
    assert employee.name in client.get("/competency/team").get_data(as_text=True)
    login_as("hr")
    assert client.get(f"/competency/employees/{employee.nip}").status_code == 200
    assert client.get("/competency/employees/000000000000000000").status_code == 404


def test_hr_pages_are_refused_to_learners(client, login_as, frameworks):
    login_as("learner")
    for path in ("/competency/standards", "/competency/rules", "/competency/rules/new"):
        assert client.get(path).status_code == 403
    assert client.get("/competency/team").status_code == 403


def test_hr_edits_a_position_standard_in_the_browser(client, login_as, frameworks):
    login_as("hr")
    position = make_position()
    get_session().commit()
    page = client.get(f"/competency/standards/{position.id}").get_data(as_text=True)
    assert "M.03" in page
    form = {f"level-{c.id}": "0" for c in frameworks.values()}
    form[f"level-{frameworks['M.03'].id}"] = "3"
    assert client.post(f"/competency/standards/{position.id}", data=form).status_code == 302
    get_session().expire_all()
    assert service.requirements_for(position) == {frameworks["M.03"].id: 3}
    form[f"level-{frameworks['M.03'].id}"] = "9"
    client.post(f"/competency/standards/{position.id}", data=form)
    assert service.requirements_for(position) == {frameworks["M.03"].id: 3}


def test_hr_imports_standards_and_applies_defaults(client, login_as, frameworks):
    login_as("hr")
    position = make_position(kind=PositionKind.ADMINISTRATOR)
    other = make_position()
    get_session().commit()
    data = {"file": (io.BytesIO(f"position_id,competency,level\n{position.id},T.KEU,4\n"
                                .encode()), "skj.csv")}
    assert client.post("/competency/standards/import", data=data).status_code == 302
    client.post("/competency/standards/defaults")
    get_session().expire_all()
    assert service.requirements_for(position) == {frameworks["T.KEU"].id: 4}
    assert set(service.requirements_for(other).values()) == {1, 2}
    csv_text = client.get("/competency/standards.csv").get_data(as_text=True)
    assert f"{position.id}," in csv_text and ",T.KEU,4" in csv_text


def test_hr_adds_a_rule_for_an_external_activity(client, login_as, frameworks):
    login_as("hr")
    learner = make_user()
    get_session().commit()
    send(completed({"objectType": "Agent", "mbox": f"mailto:{learner.email}"},
                   "https://moodle.example.go.id/course/view.php?id=7"))
    response = client.post("/competency/rules/new", data={
        "name": "Moodle: Kearsipan Dasar", "activity_iri":
        "https://moodle.example.go.id/course/view.php?id=7", "match": "exact",
        "criterion": "completed", "competency_id": frameworks["T.ARS"].id, "level": 2,
        "weight": "1", "source": "external"})
    assert response.status_code == 302
    from tests.competency.conftest import level_of

    assert level_of(learner, "T.ARS") == 2
    rule = get_session().scalar(sa.select(EvidenceRule))
    page = client.get(f"/competency/rules/{rule.id}").get_data(as_text=True)
    assert "Moodle: Kearsipan Dasar" in page
    response = client.post(f"/competency/rules/{rule.id}/edit", data={
        "name": "Moodle: Kearsipan Dasar", "activity_iri": rule.activity_iri,
        "match": "exact", "criterion": "score_bands", "bands": "60%=1, 90%=3",
        "competency_id": frameworks["T.ARS"].id, "level": 1, "weight": "1",
        "source": "external"})
    assert response.status_code == 302
    assert [r.version for r in service.rule_versions(rule.rule_key)] == [2, 1]
    bad = client.post("/competency/rules/new", data={
        "name": "x", "activity_iri": "not an iri", "match": "exact", "criterion": "completed",
        "competency_id": frameworks["T.ARS"].id, "level": 2, "weight": "1",
        "source": "external"})
    assert bad.status_code == 400 and "IRI" in bad.get_data(as_text=True)


def test_frameworks_export_and_import_through_the_pages(client, login_as, frameworks):
    login_as("hr")
    exported = client.get("/competency/frameworks/ASN-MSK.json").get_json()
    assert exported["competencies"][2]["code"] == "M.03"
    csv_text = client.get("/competency/frameworks/TEKNIS-PEMDA.csv").get_data(as_text=True)
    assert "T.SPBE" in csv_text
    exported["competencies"][2]["name"] = "Komunikasi Efektif"
    data = {"file": (io.BytesIO(json.dumps(exported).encode()), "kamus.json")}
    assert client.post("/competency/frameworks/import", data=data).status_code == 302
    get_session().expire_all()
    assert service.get_competency("M.03").name == "Komunikasi Efektif"
    data = {"file": (io.BytesIO(b"{not json"), "kamus.json")}
    client.post("/competency/frameworks/import", data=data)
    page = client.get("/competency/frameworks").get_data(as_text=True)
    assert "Tidak ada yang diimpor" in page


def test_policy_change_recomputes_profiles(client, login_as, frameworks):
    login_as("hr")
    learner = make_user()
    get_session().commit()
    publish()
    send(completed(learner))
    from tests.competency.conftest import level_of

    assert level_of(learner, "M.05") == 2
    response = client.post("/competency/frameworks/ASN-MSK/policy", data={
        "method": "mastery", "mastery_count": 2, "half_life_days": 365,
        "precedence": "combine", "counted_sources": ["course", "assessment"],
        "source_order": "assessment, supervisor, course, external, self"})
    assert response.status_code == 302
    get_session().expire_all()
    assert level_of(learner, "M.05") == 0
    page = client.get("/competency/frameworks/ASN-MSK").get_data(as_text=True)
    assert "dibuktikan 2 kali" in page


def test_the_competency_iri_resolves_to_its_description(client, frameworks):
    iri_path = frameworks["M.03"].iri.removeprefix("http://lentera.test")
    page = client.get(iri_path).get_data(as_text=True)
    assert "Komunikasi" in page and "Tingkat 5" in page
    data = client.get(iri_path, headers={"Accept": "application/json"}).get_json()
    assert data["code"] == "M.03" and len(data["levels"]) == 5


def test_home_page_shows_the_competency_panel(client, login_as, frameworks):
    user = login_as("learner")
    position = make_position()
    _place(user, position)
    service.set_requirements(position, {frameworks["M.01"].id: 2})
    get_session().commit()
    page = client.get("/").get_data(as_text=True)
    assert "Profil Kompetensi Saya" in page and "Integritas" in page


def test_catalog_partial_recommends_courses_for_the_gaps(app, login_as, client, frameworks):
    from flask import render_template

    user = login_as("learner")
    position = make_position()
    _place(user, position)
    service.set_requirements(position, {frameworks["M.05"].id: 2})
    get_session().commit()
    publish()
    with app.test_request_context("/courses/"):
        from flask_login import login_user

        login_user(get_session().get(type(user), user.id))
        html = render_template("competency/_catalog_recommendations.html")
    assert "Etika Pelayanan Publik" in html


def test_catalog_page_shows_the_recommendations(app, login_as, client, frameworks):
    user = login_as("learner")
    position = make_position()
    _place(user, position)
    service.set_requirements(position, {frameworks["M.05"].id: 2})
    get_session().commit()
    publish()
    page = client.get("/courses/").get_data(as_text=True)
    assert 'id="catalog-reco-heading"' in page
    assert "Etika Pelayanan Publik" in page


def test_hr_scoped_to_one_opd_sees_and_changes_only_its_own_position_standards(
        client, login_as, frameworks):
    from lms.reports.scope import set_scope

    hr = login_as("hr")
    opd_a, opd_b = make_org_unit("Dinas A"), make_org_unit("Dinas B")
    mine, theirs = make_position(opd_a, name="Analis A"), make_position(opd_b, name="Analis B")
    service.set_requirements(theirs, {frameworks["M.03"].id: 2})
    set_scope(hr, opd_a)
    get_session().commit()
    listing = client.get("/competency/standards").get_data(as_text=True)
    assert "Analis A" in listing and "Analis B" not in listing
    assert client.get(f"/competency/standards/{theirs.id}").status_code == 403
    form = {f"level-{c.id}": "5" for c in frameworks.values()}
    assert client.post(f"/competency/standards/{theirs.id}", data=form).status_code == 403
    data = {"file": (io.BytesIO(f"position_id,competency,level\n{theirs.id},M.03,5\n"
                                .encode()), "skj.csv")}
    client.post("/competency/standards/import", data=data)
    client.post("/competency/standards/defaults")
    get_session().expire_all()
    assert service.requirements_for(theirs) == {frameworks["M.03"].id: 2}
    assert service.requirements_for(mine)  # the defaults reached the scoped OPD
    csv_text = client.get("/competency/standards.csv").get_data(as_text=True)
    assert f"\n{mine.id}," in csv_text and f"\n{theirs.id}," not in csv_text
    assert client.post(f"/competency/standards/{mine.id}", data=form).status_code == 302
