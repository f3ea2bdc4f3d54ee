"""The profile engine against the real LRS: statements in, evidence and levels out."""

from __future__ import annotations

import hashlib
import uuid

import sqlalchemy as sa

from lms.competency import service
from lms.competency.models import Evidence, EvidenceRule, QuizItemResult, UserCompetency
from lms.db import get_session
from lms.xapi.models import Statement
from tests.competency.conftest import (
    COURSE,
    QUIZ,
    answered,
    completed,
    level_of,
    publish,
    quiz_result,
    send,
    statement,
    void,
)
from tests.factories import make_user

MASTERED = "http://adlnet.gov/expapi/verbs/mastered"


def _learner():
    user = make_user()
    get_session().commit()
    return user


def test_course_completion_raises_the_target_level_and_voiding_takes_it_back(app, frameworks):
    publish()
    user = _learner()
    ids = send(completed(user))
    assert level_of(user, "M.05") == 2
    evidence = get_session().scalar(sa.select(Evidence))
    assert (evidence.statement_id, evidence.level, evidence.rule.version) == (ids[0], 2, 1)
    row = get_session().scalar(sa.select(UserCompetency))
    assert row.achieved_statement_id == ids[0]

    send(void(ids[0]))
    assert level_of(user, "M.05") == 0
    evidence = get_session().scalar(sa.select(Evidence))
    assert evidence.withdrawn and evidence.withdrawn_by


def test_reaching_a_level_emits_a_mastered_statement_and_losing_it_voids_it(app, frameworks):
    publish()
    user = _learner()
    ids = send(completed(user))
    announced = get_session().scalars(sa.select(Statement).where(
        Statement.verb_id == MASTERED)).all()
    assert len(announced) == 1
    data = announced[0].data
    assert data["object"]["id"] == frameworks["M.05"].iri
    assert data["actor"]["account"]["name"] == user.nip
    assert data["result"]["extensions"]["http://lentera.test/competency/xapi/level"] == 2
    assert data["context"]["statement"]["id"] == ids[0]
    send(void(ids[0]))
    get_session().expire_all()
    assert get_session().get(Statement, announced[0].seq).voided


def test_other_actors_and_unknown_people_are_ignored(app, frameworks):
    publish()
    user = _learner()
    send(completed({"objectType": "Agent", "account": {"homePage": "https://other.example",
                                                       "name": user.nip}}),
         completed({"objectType": "Agent", "mbox": "mailto:nobody@example.go.id"}))
    assert get_session().scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0


def test_mbox_and_mbox_sha1sum_identify_the_employee(app, frameworks):
    publish()
    user = _learner()
    send(completed({"objectType": "Agent", "mbox": f"mailto:{user.email}"}))
    assert level_of(user, "M.05") == 2
    other = _learner()
    sha1 = hashlib.sha1(f"mailto:{other.email}".encode()).hexdigest()
    send(completed({"objectType": "Agent", "mbox_sha1sum": sha1}))
    assert level_of(other, "M.05") == 2


def test_quiz_items_tagged_per_competency_give_each_its_own_level(app, frameworks):
    questions = [{"iri": f"{QUIZ}/questions/q{i}", "competency": code}
                 for i, code in enumerate(["M.05"] * 5 + ["M.03"] * 5)]
    publish(targets=[{"competency": "M.05", "level": 3}], questions=questions)
    user = _learner()
    reg = str(uuid.uuid4())
    # M.05: 4 of 5 right (80% -> its target level 3); M.03: 3 of 5 (60% -> level 1).
    right = {0, 1, 2, 3, 5, 6, 7}
    answers = [answered(user, q["iri"], i in right, reg) for i, q in enumerate(questions)]
    ids = send(*answers, quiz_result(user, 0.7, reg))
    assert level_of(user, "M.05") == 3
    assert level_of(user, "M.03") == 1
    scores = dict(get_session().execute(
        sa.select(EvidenceRule.rule_key, Evidence.score).join(EvidenceRule)).all())
    assert scores == {f"quiz:{QUIZ}:items:M.05": 0.8, f"quiz:{QUIZ}:items:M.03": 0.6}

    # Voiding a right answer re-judges the attempt: M.05 falls to 3 of 4 = 75% -> level 2.
    send(void(ids[0]))
    assert level_of(user, "M.05") == 2
    assert get_session().scalar(sa.select(QuizItemResult.voided).where(
        QuizItemResult.statement_id == ids[0]))


def test_a_retake_in_the_same_registration_overwrites_earlier_answers(app, frameworks):
    questions = [{"iri": f"{QUIZ}/questions/q{i}", "competency": "M.05"} for i in range(2)]
    publish(targets=[{"competency": "M.05", "level": 2}], questions=questions)
    user = _learner()
    reg = str(uuid.uuid4())
    send(answered(user, questions[0]["iri"], False, reg),
         answered(user, questions[1]["iri"], False, reg), quiz_result(user, 0.0, reg))
    assert level_of(user, "M.05") == 0
    send(answered(user, questions[0]["iri"], True, reg),
         answered(user, questions[1]["iri"], True, reg), quiz_result(user, 1.0, reg))
    assert level_of(user, "M.05") == 2


def test_a_new_rule_judges_statements_stored_before_it(app, frameworks):
    user = _learner()
    external = "https://elearning.example.go.id/course/42"
    send(statement(user, "passed", external, result={"score": {"scaled": 0.85}}))
    assert level_of(user, "T.KEU") == 0
    service.create_rule(service.RuleSpec(
        name="Diklat keuangan daerah", activity_iri="https://elearning.example.go.id/course/",
        match="prefix", criterion="score_bands", competency_id=frameworks["T.KEU"].id,
        bands=[[0.6, 2], [0.8, 3]], source="external"))
    get_session().commit()
    assert level_of(user, "T.KEU") == 3


def test_a_new_rule_version_judges_only_later_statements(app, frameworks):
    publish()
    user = _learner()
    send(completed(user))
    publish(targets=[{"competency": "M.05", "level": 3}], version=2)
    versions = get_session().scalars(sa.select(EvidenceRule.version).order_by(
        EvidenceRule.version)).all()
    assert versions == [1, 2]
    assert level_of(user, "M.05") == 2  # evidence keeps the version that produced it
    other = _learner()
    send(completed(other))
    assert level_of(other, "M.05") == 3
    assert get_session().scalars(sa.select(EvidenceRule.version).join(Evidence).where(
        Evidence.user_id == other.id)).all() == [2]


def test_republishing_an_unchanged_course_adds_no_version(app, frameworks):
    publish()
    publish(version=2)
    assert get_session().scalar(sa.select(sa.func.count()).select_from(EvidenceRule)) == 1


def test_a_target_dropped_from_a_course_switches_its_rule_off(app, frameworks):
    publish(targets=[{"competency": "M.05", "level": 2}, {"competency": "M.03", "level": 1}])
    publish(targets=[{"competency": "M.05", "level": 2}], version=2)
    rules = {r.rule_key: r for r in service.current_rules()}
    assert not rules[f"course:{COURSE}:completed:M.03"].active
    assert rules[f"course:{COURSE}:completed:M.05"].active


def test_a_course_published_before_its_framework_gets_its_rules_later(app):
    publish(targets=[{"competency": "M.05", "level": 2}])
    assert get_session().scalar(sa.select(sa.func.count()).select_from(EvidenceRule)) == 0
    service.load_shipped_frameworks()
    get_session().commit()
    assert [r.rule_key for r in service.current_rules()] == [
        f"course:{COURSE}:completed:M.05"]


def test_rebuild_gives_the_same_profiles_as_the_incremental_path(app, frameworks):
    questions = [{"iri": f"{QUIZ}/questions/q{i}", "competency": "M.03"} for i in range(3)]
    publish(targets=[{"competency": "M.05", "level": 2}, {"competency": "M.03", "level": 2}],
            questions=questions)
    users = [_learner() for _ in range(3)]
    reg = str(uuid.uuid4())
    first = send(completed(users[0]), completed(users[1]),
                 *[answered(users[2], q["iri"], True, reg) for q in questions],
                 quiz_result(users[2], 1.0, reg))
    send(void(first[1]))
    send(void(first[2]))  # an answer of users[2]
    service.create_rule(service.RuleSpec(
        name="Coaching", activity_iri="https://coaching.example/", match="prefix",
        criterion="completed", competency_id=frameworks["M.06"].id, level=2, weight=0.5,
        source="supervisor"))
    get_session().commit()
    send(completed(users[0], "https://coaching.example/1"),
         completed(users[0], "https://coaching.example/2"))
    assert level_of(users[0], "M.06") == 2
    before = service.profile_dump()
    service.rebuild_profiles()
    get_session().expire_all()
    after = service.profile_dump()
    assert before == after
    assert '"M.06":[2,' in after


def test_a_quiz_result_after_a_voided_answer_in_the_same_batch_is_judged_without_it(
        app, frameworks):
    from lms.xapi.consumers import run_consumers

    questions = [{"iri": f"{QUIZ}/questions/q{i}", "competency": "M.05"} for i in range(5)]
    publish(targets=[{"competency": "M.05", "level": 3}], questions=questions)
    user = _learner()
    reg = str(uuid.uuid4())
    ids = send(*[answered(user, q["iri"], i < 4, reg) for i, q in enumerate(questions)],
               quiz_result(user, 0.8, reg))
    assert level_of(user, "M.05") == 3  # 4 of 5 right: 80%

    # Both arrive before the engine runs, so it handles them in one batch: the voided right
    # answer leaves 3 of 4 (75%) for the first result, re-judged, and for the second.
    app.config["XAPI_CONSUMERS_INLINE"] = False
    later = send(void(ids[0]), completed(user, "https://other.example/1"),
                 quiz_result(user, 0.75, reg))
    app.config["XAPI_CONSUMERS_INLINE"] = True
    run_consumers(app)
    get_session().expire_all()
    assert level_of(user, "M.05") == 2
    scores = get_session().execute(sa.select(Evidence.statement_id, Evidence.score)
                                   .order_by(Evidence.statement_seq)).all()
    assert scores == [(ids[-1], 0.75), (later[-1], 0.75)]
    before = service.profile_dump()
    service.rebuild_profiles()
    get_session().expire_all()
    assert service.profile_dump() == before


def test_handling_a_statement_twice_changes_nothing(app, frameworks):
    from lms.competency.engine import _Entry, get_engine
    from lms.xapi.consumers import StoredStatement

    publish()
    user = _learner()
    send(completed(user))
    before = service.profile_dump()
    row = get_session().scalar(sa.select(Statement).where(
        Statement.verb_id == "http://adlnet.gov/expapi/verbs/completed"))
    get_engine().process([_Entry(StoredStatement(seq=row.seq, id=row.statement_id,
                                                 data=row.data, stored=row.stored,
                                                 voided=row.voided))])
    get_session().commit()
    assert service.profile_dump() == before


def test_statements_sent_before_the_account_existed_count_once_it_does(app, frameworks):
    from tests.factories import make_nip

    publish()
    nip = make_nip()
    send(completed({"objectType": "Agent",
                    "account": {"homePage": "http://lentera.test", "name": nip}}),
         completed({"objectType": "Agent", "mbox": "mailto:baru@x.go.id"}))
    by_nip = make_user(nip=nip)
    by_mail = make_user(email="baru@x.go.id")
    get_session().commit()
    assert level_of(by_nip, "M.05") == 2
    assert level_of(by_mail, "M.05") == 2


def test_statements_sent_before_an_employee_import_count_after_it(app, frameworks):
    from lms.people import importer
    from tests.factories import make_nip

    publish()
    nip = make_nip()
    send(completed({"objectType": "Agent",
                    "account": {"homePage": "http://lentera.test", "name": nip}}))
    csv_text = ("nip,name,email,org_unit,position\n"
                f"{nip},Pegawai Impor,impor@x.go.id,Pemkab Uji / Dinas A,Analis\n")
    result = importer.apply_import(importer.preview_import(csv_text))
    get_session().commit()
    from lms.people.models import User

    user = get_session().scalar(sa.select(User).where(User.nip == nip))
    assert result.created_user_ids == [user.id]
    assert level_of(user, "M.05") == 2
    before = service.profile_dump()
    service.rebuild_profiles()
    get_session().commit()
    assert service.profile_dump() == before
