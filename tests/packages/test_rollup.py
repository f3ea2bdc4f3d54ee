"""SCORM 2004 multi-SCO rollup: when is a package course finished? The organization's
rollup (IMS SS rollup rules, ``tracked``, rollupObjectiveSatisfied/ProgressCompletion)
read from the manifest, evaluated on the SCOs' outcomes; then end to end through the
LRS and the packages consumer to the course completion."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from lms.courses.models import Completion, Course
from lms.packages.manifest import parse_manifest
from lms.packages.service import course_rolled_up
from tests.packages.conftest import SCO_2004, zip_with
from tests.packages.test_packages import _launch, _post, _statement

PASS = """<imsss:sequencing><imsss:objectives>
  <imsss:primaryObjective objectiveID="obj-a" satisfiedByMeasure="true">
    <imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>
  </imsss:primaryObjective></imsss:objectives></imsss:sequencing>"""
ANY_SATISFIED = """<imsss:sequencing><imsss:rollupRules>
  <imsss:rollupRule childActivitySet="any">
    <imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions>
    <imsss:rollupAction action="satisfied"/>
  </imsss:rollupRule></imsss:rollupRules></imsss:sequencing>"""
UNTRACKED = """<imsss:sequencing><imsss:deliveryControls tracked="false"/></imsss:sequencing>"""
NOT_IN_SATISFACTION = """<imsss:sequencing>
  <imsss:rollupRules rollupObjectiveSatisfied="false" rollupProgressCompletion="false"/>
</imsss:sequencing>"""


def manifest(cluster: str = "", sco_c: str = "", org: str = "") -> str:
    """Three SCOs: a (passing measure 0.8) and b in the cluster "Modul inti", then c."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="id.go.lentera.uji.rollup" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 3rd Edition</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org"><title>Rollup</title>
      <item identifier="inti"><title>Modul inti</title>
        <item identifier="sco-a" identifierref="res-a"><title>A</title>{PASS}</item>
        <item identifier="sco-b" identifierref="res-b"><title>B</title></item>
        {cluster}
      </item>
      <item identifier="sco-c" identifierref="res-c"><title>C</title>{sco_c}</item>
      {org}
    </organization>
  </organizations>
  <resources>
    <resource identifier="res-a" type="webcontent" adlcp:scormType="sco" href="a.html"/>
    <resource identifier="res-b" type="webcontent" adlcp:scormType="sco" href="b.html"/>
    <resource identifier="res-c" type="webcontent" adlcp:scormType="sco" href="c.html"/>
  </resources>
</manifest>"""


def structure(**parts: str) -> dict[str, Any]:
    return parse_manifest(manifest(**parts).encode(), {"a.html", "b.html", "c.html"}).as_dict()


def outcome(*verbs: str) -> Any:
    return SimpleNamespace(completed="completed" in verbs, passed="passed" in verbs,
                           failed="failed" in verbs, satisfied=False)


def test_the_manifest_keeps_what_rollup_needs() -> None:
    found = structure(cluster=ANY_SATISFIED, sco_c=UNTRACKED)
    cluster, sco_c = found["tree"]
    assert cluster["rollup"]["rules"] == [{
        "set": "any", "count": 0, "percent": 0.0, "combination": "any",
        "conditions": [{"condition": "satisfied", "not": False}], "action": "satisfied"}]
    assert sco_c["rollup"] == {"tracked": False}
    assert "rollup" not in cluster["children"][0]  # nothing differs from the defaults
    assert structure(sco_c=NOT_IN_SATISFACTION)["tree"][1]["rollup"] == {
        "satisfied": False, "completion": False}


def test_by_default_every_sco_must_be_satisfied() -> None:
    plain = structure()
    done = {0: outcome("completed", "passed"), 1: outcome("completed"), 2: outcome("completed")}
    assert course_rolled_up(plain, done)
    # A SCO with a passing measure: completed is not enough, failed is not satisfied...
    assert not course_rolled_up(plain, {**done, 0: outcome("completed")})
    assert not course_rolled_up(plain, {**done, 0: outcome("completed", "failed")})
    # ...and passed is, even before it says completed (SCORM 2004 keeps them apart).
    assert course_rolled_up(plain, {**done, 0: outcome("passed")})
    assert not course_rolled_up(plain, {0: done[0], 1: done[1]})  # C not done
    assert not course_rolled_up(plain, {})


def test_rollup_rules_of_a_cluster_decide_for_it() -> None:
    any_one = structure(cluster=ANY_SATISFIED)
    # "Modul inti" is satisfied by any one of its SCOs; C still counts at the top.
    assert course_rolled_up(any_one, {1: outcome("completed"), 2: outcome("completed")})
    assert not course_rolled_up(any_one, {1: outcome("completed")})
    assert not course_rolled_up(any_one, {0: outcome("failed"), 2: outcome("completed")})


def test_untracked_or_excluded_scos_do_not_hold_the_course_back() -> None:
    for sco_c in (UNTRACKED, NOT_IN_SATISFACTION):
        found = structure(sco_c=sco_c)
        assert course_rolled_up(found, {0: outcome("passed"), 1: outcome("completed")})
        assert not course_rolled_up(found, {0: outcome("passed"), 2: outcome("completed")})


@pytest.mark.parametrize("rule, ok, not_yet", [
    # the organization's two children: the cluster "Modul inti" and C
    ('childActivitySet="atLeastCount" minimumCount="1"', {2: ("completed",)}, {}),
    ('childActivitySet="atLeastPercent" minimumPercent="1.0"',
     {0: ("passed",), 1: ("completed",), 2: ("completed",)}, {2: ("completed",)}),
    ('childActivitySet="none"', {}, {2: ("completed",)}),
])
def test_organization_rules_with_counts(rule: str, ok: dict[int, Any],
                                        not_yet: dict[int, Any]) -> None:
    org = f"""<imsss:sequencing><imsss:rollupRules><imsss:rollupRule {rule}>
      <imsss:rollupConditions><imsss:rollupCondition condition="{
        'satisfied' if 'none' not in rule else 'attempted'}"/></imsss:rollupConditions>
      <imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules>
      </imsss:sequencing>"""
    found = structure(org=org)
    assert course_rolled_up(found, {k: outcome(*v) for k, v in ok.items()})
    assert not course_rolled_up(found, {k: outcome(*v) for k, v in not_yet.items()})


def test_a_not_satisfied_rule_keeps_the_course_open() -> None:
    org = """<imsss:sequencing><imsss:rollupRules>
      <imsss:rollupRule childActivitySet="any"><imsss:rollupConditions>
        <imsss:rollupCondition condition="satisfied" operator="not"/></imsss:rollupConditions>
        <imsss:rollupAction action="notSatisfied"/></imsss:rollupRule></imsss:rollupRules>
      </imsss:sequencing>"""
    found = structure(org=org)
    # No "satisfied" rule: the organization is never satisfied by its rules.
    assert not course_rolled_up(found, {0: outcome("passed"), 1: outcome("completed"),
                                        2: outcome("completed")})


def test_the_rollup_completes_the_course_through_the_lrs(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    xml = manifest(cluster=ANY_SATISFIED, sco_c=UNTRACKED)
    data = zip_with([("imsmanifest.xml", xml)] + [
        (f"{n}.html", SCO_2004.format(title=n.upper())) for n in "abc"])
    login_as("trainer")
    response = client.post("/packages/", content_type="multipart/form-data", data={
        "package": (io.BytesIO(data), "rollup.zip"), "slug": "rollup", "topic": "Uji",
        "jp": "2", "competencies": "M.05 2"})
    assert response.status_code == 303
    login_as("learner")
    client.post("/courses/rollup/enrol")
    course = db.scalar(sa.select(Course).where(Course.slug == "rollup"))
    first = _launch(client, "sco-1", slug="rollup")
    # A (passing measure) failed: "Modul inti" is not satisfied by it.
    assert _post(client, first, [_statement(first, "completed"),
                                 _statement(first, "failed")]).status_code == 200
    assert db.scalar(sa.select(Completion).where(Completion.course_id == course.id)) is None
    # B completed satisfies the cluster (any child); C is not tracked: the course is done.
    second = _launch(client, "sco-2", slug="rollup")
    assert _post(client, second, [_statement(second, "completed")]).status_code == 200
    completion = db.scalar(sa.select(Completion).where(Completion.course_id == course.id))
    assert completion is not None and completion.user_id == users["learner"].id
    assert completion.jp == 2
