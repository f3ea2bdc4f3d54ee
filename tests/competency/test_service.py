"""Frameworks, standards, supervisors and the read side of profiles."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from lms.competency import service
from lms.competency.models import Competency, Framework, PositionRequirement
from lms.db import get_session
from lms.errors import ValidationError
from lms.people import service as people
from lms.people.models import PositionKind
from tests.competency.conftest import completed, publish, send
from tests.factories import make_org_unit, make_position, make_user


def test_shipped_frameworks_have_every_level_described(frameworks):
    codes = set(frameworks)
    assert {"M.01", "M.02", "M.03", "M.04", "M.05", "M.06", "M.07", "M.08", "SK.01"} <= codes
    assert {"T.KEU", "T.REN", "T.PRZ", "T.ARS", "T.PTN", "T.SPBE"} <= codes
    for competency in frameworks.values():
        assert [lv.level for lv in competency.levels] == [1, 2, 3, 4, 5]
        assert all(lv.description and lv.indicators for lv in competency.levels)
        assert competency.iri == f"http://lentera.test/competency/c/{competency.code}"


def test_loading_the_frameworks_again_changes_nothing(frameworks):
    iris = {c.code: c.iri for c in service.all_competencies()}
    service.load_shipped_frameworks()
    get_session().commit()
    assert {c.code: c.iri for c in service.all_competencies()} == iris
    assert get_session().scalar(sa.select(sa.func.count()).select_from(Framework)) == 2


def test_json_export_imports_back_identically(frameworks):
    framework = service.get_framework("ASN-MSK")
    exported = service.export_framework(framework)
    exported["name"] = "Kamus (diubah)"
    service.import_framework(json.loads(json.dumps(exported)))
    again = service.export_framework(service.get_framework("ASN-MSK"))
    assert again == exported


def test_csv_export_imports_back_identically(frameworks):
    framework = service.get_framework("TEKNIS-PEMDA")
    text = service.framework_csv(framework)
    before = service.export_framework(framework)
    service.import_framework(service.framework_from_csv(text))
    assert service.export_framework(service.get_framework("TEKNIS-PEMDA")) == before


def test_a_new_framework_gets_stable_iris_and_keeps_them(app):
    doc = {"code": "BKN-X", "name": "Uji", "competencies": [{
        "code": "T.X", "name": "Uji", "type": "teknis",
        "levels": [{"level": n, "description": f"L{n}"} for n in range(1, 6)]}]}
    framework, created, _updated = service.import_framework(doc)
    assert created == 1
    iri = framework.competencies[0].iri
    doc["competencies"][0]["iri"] = "https://elsewhere.example/x"
    service.import_framework(doc)
    assert service.get_competency("T.X").iri == iri


@pytest.mark.parametrize("change, message", [
    (lambda d: d["competencies"][0]["levels"].pop(), "setiap tingkat 1 sampai 5"),
    (lambda d: d["competencies"][0].update(type="lain"), "jenisnya harus"),
    (lambda d: d["competencies"].append(dict(d["competencies"][0])), "muncul dua kali"),
    (lambda d: d.update(competencies=[]), "tidak memuat kompetensi"),
])
def test_bad_framework_documents_are_refused_whole(app, change, message):
    doc = {"code": "BAD", "name": "Salah", "competencies": [{
        "code": "T.BAD", "name": "Salah", "type": "teknis",
        "levels": [{"level": n} for n in range(1, 6)]}]}
    change(doc)
    with pytest.raises(ValidationError) as info:
        service.import_framework(doc)
    assert message in str(info.value)
    get_session().rollback()
    assert get_session().scalar(sa.select(sa.func.count()).select_from(Competency)) == 0


def test_default_standards_follow_kind_and_grade(frameworks):
    unit = make_org_unit()
    jpt = make_position(unit, kind=PositionKind.JPT, grade="Pratama")
    ahli_muda = make_position(unit, name="Analis Ahli Muda", kind=PositionKind.FUNGSIONAL,
                              grade="Ahli Muda")
    pelaksana = make_position(unit, kind=PositionKind.PELAKSANA)
    assert set(service.default_levels(jpt).values()) == {4}
    assert set(service.default_levels(ahli_muda).values()) == {3}
    levels = service.default_levels(pelaksana)
    assert levels["M.01"] == 2 and levels["M.03"] == 1
    assert service.apply_default_standards() == 3
    assert service.apply_default_standards() == 0  # only positions without a standard
    assert len(service.requirements_for(jpt)) == 9


def test_standards_csv_import_writes_nothing_when_a_row_is_wrong(frameworks):
    position = make_position()
    good = f"position_id,competency,level\n{position.id},M.03,3\n".encode()
    bad = good + f"{position.id},M.99,2\n{position.id},M.01,7\n".encode()
    result = service.import_standards_csv(bad)
    assert len(result.errors) == 2 and "M.99" in result.errors[0]
    assert service.requirements_for(position) == {}
    result = service.import_standards_csv(good)
    assert not result.errors
    assert service.requirements_for(position) == {frameworks["M.03"].id: 3}
    assert f"{position.id},{position.org_unit.name},{position.name},M.03,3" in \
        service.standards_csv()
    # The export speaks Bahasa Indonesia, and reads back as it is.
    exported = service.standards_csv()
    assert exported.startswith("id_jabatan,unit_kerja,jabatan,kompetensi,tingkat\n")
    assert not service.import_standards_csv(exported.encode(), apply=False).errors


def test_standards_csv_finds_positions_by_unit_and_name(frameworks):
    unit = make_org_unit("Bidang Anggaran")
    position = make_position(unit, name="Analis Anggaran")
    result = service.import_standards_csv(
        b"org_unit,position,competency,level\nBidang Anggaran,Analis Anggaran,T.KEU,2\n")
    assert not result.errors
    assert get_session().scalar(sa.select(PositionRequirement.level).where(
        PositionRequirement.position_id == position.id)) == 2


def test_supervisors_are_managers_of_the_unit_or_above(app):
    opd = make_org_unit("Dinas")
    bidang = make_org_unit("Bidang", opd)
    seksi = make_org_unit("Seksi", bidang)
    other = make_org_unit("Lain", opd)
    staff = make_user()
    kabid = make_user()
    kadis = make_user()
    peer_manager = make_user()
    day = dt.date(2024, 1, 1)
    people.assign_position(staff, make_position(seksi), day)
    people.assign_position(kabid, make_position(bidang, kind=PositionKind.ADMINISTRATOR), day)
    people.assign_position(kadis, make_position(opd, kind=PositionKind.JPT), day)
    people.assign_position(peer_manager, make_position(other, kind=PositionKind.PENGAWAS), day)
    get_session().commit()
    assert [u.id for u in service.supervisors_of(staff)] == [kabid.id, kadis.id]
    assert service.is_supervisor_of(kabid, staff) and service.is_supervisor_of(kadis, staff)
    assert not service.is_supervisor_of(peer_manager, staff)
    assert not service.is_supervisor_of(staff, kabid)
    assert [u.id for u in service.subordinates(kabid)] == [staff.id]


def test_profile_gaps_job_person_match_and_course_recommendations(frameworks):
    user = make_user()
    position = make_position()
    people.assign_position(user, position, dt.date(2024, 1, 1))
    service.set_requirements(position, {frameworks["M.05"].id: 2, frameworks["M.03"].id: 3})
    get_session().commit()
    publish(targets=[{"competency": "M.05", "level": 2}, {"competency": "M.03", "level": 2}])
    profile = service.build_profile(user)
    assert profile.jpm == 0 and profile.jpm_category == "kurang"
    assert [c["slug"] for c in service.recommended_courses(user)] == ["etika-pelayanan"]
    send(completed(user))
    profile = service.build_profile(user)
    rows = {r.competency.code: r for r in profile.rows}
    assert (rows["M.05"].level, rows["M.05"].gap) == (2, 0)
    assert (rows["M.03"].level, rows["M.03"].gap) == (2, 1)
    assert profile.jpm == 80 and profile.jpm_category == "cukup"  # (2 + 2) / (2 + 3)
    assert rows["M.03"].courses == []  # the course proves level 2 only; no course closes it


def test_search_finds_employees_by_nip_name_or_email(app):
    user = make_user(name="Siti Aminah", email="siti.aminah@x.go.id")
    make_user(name="Budi")
    get_session().commit()
    for query in (user.nip[:8], "aminah", "SITI.AMINAH@"):
        assert [u.id for u in service.search_employees(query)] == [user.id]
    assert len(service.search_employees("%")) == 0


def test_csv_speaks_bahasa_indonesia_and_the_import_reads_english_names_too(frameworks):
    framework = service.get_framework("TEKNIS-PEMDA")
    text = service.framework_csv(framework)
    header, first = text.splitlines()[:2]
    assert header == ("kerangka,kode,nama,jenis,deskripsi,iri,tingkat,deskripsi_tingkat,"
                      "indikator")
    english = "\n".join(["framework,code,name,type,description,iri,level,level_description,"
                         "indicators", *text.splitlines()[1:]]) + "\n"
    assert service.framework_from_csv(english) == service.framework_from_csv(text)
    assert first.startswith("TEKNIS-PEMDA,")
    with pytest.raises(ValidationError) as refused:
        service.framework_from_csv("kerangka,kode,nama,jenis\nTEKNIS-PEMDA,T.X,Uji,teknis\n")
    assert "tingkat" in str(refused.value)
