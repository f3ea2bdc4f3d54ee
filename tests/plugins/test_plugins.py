"""The plugin surface: entry-point groups, built-ins through them, safe fallbacks, and the
example plugin (examples/lentera-likert) in the quiz builder and in grading."""

from __future__ import annotations

import re
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pytest
import sqlalchemy as sa

import lms.plugins
from lms.quizzes import grading
from lms.xapi.consumers import StatementConsumer, registered_consumers

BUILTINS = {"single", "multiple", "true_false", "fill_in", "matching", "ordering", "numeric"}


def test_built_in_question_types_register_through_the_entry_point_group() -> None:
    declared = {ep.name: ep.value for ep in entry_points(group="lms.question_types")}
    assert set(declared) >= BUILTINS
    assert all(declared[name].startswith("lms.quizzes.grading:") for name in BUILTINS)
    assert set(grading.question_types()) >= BUILTINS


def _with_extra(monkeypatch: Any, *extra: EntryPoint) -> None:
    real = lms.plugins.entry_points

    def fake(group: str) -> list[EntryPoint]:
        return [*real(group=group), *(ep for ep in extra if ep.group == group)]

    monkeypatch.setattr(lms.plugins, "entry_points", fake)


def test_a_duplicate_name_is_an_error(monkeypatch: Any) -> None:
    _with_extra(monkeypatch, EntryPoint("single", "elsewhere:Single", "lms.question_types"))
    with pytest.raises(lms.plugins.PluginError, match="two plugins register 'single'"):
        lms.plugins.load_group("lms.question_types")


def test_a_plugin_that_cannot_load_names_itself(monkeypatch: Any) -> None:
    _with_extra(monkeypatch, EntryPoint("broken", "no_such_module:X", "lms.question_types"))
    with pytest.raises(lms.plugins.PluginError, match="'broken'"):
        lms.plugins.load_group("lms.question_types")


def test_a_question_whose_plugin_is_gone_still_loads() -> None:
    gone = grading.question_type("gone-plugin")
    assert isinstance(gone, grading.MissingQuestionType)
    q = {"id": "q1", "type": "gone-plugin", "prompt": "Masih tampil?", "points": 1}
    assert gone.public(q, {})["prompt"] == "Masih tampil?"
    assert gone.parse(q, {}, lambda _n: ["x"]) is None and gone.grade(q, "x") == 0.0


class CountingConsumer(StatementConsumer):
    name = "counting"
    seen: list[str] = []

    def handle(self, statement: Any) -> None:
        CountingConsumer.seen.append(statement.id)


def test_statement_consumers_come_from_their_group(monkeypatch: Any, make_app: Any) -> None:
    _with_extra(monkeypatch, EntryPoint("counting", f"{__name__}:CountingConsumer",
                                        "lms.statement_consumers"))
    app = make_app()
    assert isinstance(registered_consumers(app)["counting"], CountingConsumer)
    from lms.db import get_session
    from lms.xapi.service import store_statements

    with app.app_context():
        (sid,) = store_statements([{
            "actor": {"mbox": "mailto:a@lentera.test"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "http://lentera.test/a"}}])
        get_session().commit()
    assert sid in CountingConsumer.seen


def test_a_consumer_with_a_taken_name_stops_the_start(monkeypatch: Any, make_app: Any) -> None:
    class Impostor(CountingConsumer):
        name = "competency"

    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "Impostor", Impostor,
                        raising=False)
    _with_extra(monkeypatch, EntryPoint("competency", f"{__name__}:Impostor",
                                        "lms.statement_consumers"))
    with pytest.raises((ValueError, lms.plugins.PluginError), match="'competency'"):
        make_app()


# --- the example plugin -----------------------------------------------------------------

likert = pytest.importorskip(
    "lentera_likert.question",
    reason="the example plugin is not installed: pip install -e examples/lentera-likert")

SLUG = "etika-pelayanan"


def test_the_example_plugin_is_a_registered_question_type() -> None:
    assert isinstance(grading.question_type("likert"), likert.LikertQuestionType)


def test_likert_grades_by_the_rating_and_reverse_keying() -> None:
    qt = grading.question_type("likert")
    q = {"id": "q1", "type": "likert", "prompt": "P", "points": 4,
         "scale": ["1", "2", "3", "4", "5"], "reverse": False}
    assert [qt.grade(q, i) for i in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert qt.grade(dict(q, reverse=True), 0) == 1.0
    assert qt.grade(q, None) == 0.0 and qt.grade(q, 7) == 0.0
    assert qt.xapi_response(q, 3) == "s4"
    assert qt.interaction(q, "id")["interactionType"] == "likert"


def test_quiz_files_validate_likert_items_with_the_plugin_model() -> None:
    from pydantic import ValidationError

    from lms.courses.format import QuizFile

    quiz = QuizFile.model_validate({"title": "Penilaian diri", "questions": [
        {"id": "q1", "type": "likert", "prompt": "Saya tepat waktu."},
        {"id": "q2", "type": "true_false", "prompt": "ASN netral.", "answer": True}]})
    dumped = quiz.model_dump(mode="json")
    assert dumped["questions"][0]["scale"] == likert.DEFAULT_SCALE
    assert dumped["questions"][1]["answer"] is True
    with pytest.raises(ValidationError, match="scale"):
        QuizFile.model_validate({"title": "X", "questions": [
            {"id": "q1", "type": "likert", "prompt": "P", "scale": ["a", "a", "b"]}]})


def _create_quiz(client: Any) -> str:
    response = client.post("/authoring/new", data={
        "title": "Etika Pelayanan", "slug": SLUG, "summary": "Dasar etika pelayanan publik.",
        "topic": "Pelayanan Publik", "jp": "2", "competency": "M.05", "competency_level": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(f"/authoring/{SLUG}/modules", data={"title": "Penilaian diri",
                                                              "kind": "quiz"})
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_likert_appears_in_the_quiz_builder_and_grades_a_learner(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    pytest.importorskip("lms.authoring", reason="the authoring module is absent")
    from lms.quizzes.models import QuizAttempt

    login_as("trainer")
    quiz = _create_quiz(client)
    page = client.get(f"/authoring/{SLUG}/modules/{quiz}").get_data(as_text=True)
    assert "Skala Likert (penilaian diri)" in page
    assert "/questions/new/likert" in page
    editor = client.get(f"/authoring/{SLUG}/quizzes/{quiz}/questions/new/likert")
    assert editor.status_code == 200 and 'name="scale"' in editor.get_data(as_text=True)
    saved = client.post(f"/authoring/{SLUG}/quizzes/{quiz}/questions/new/likert", data={
        "prompt": "Saya menjelaskan prosedur dengan jelas.", "points": "4",
        "scale": "Tidak pernah\nJarang\nKadang-kadang\nSering\nSelalu"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    bad = client.post(f"/authoring/{SLUG}/quizzes/{quiz}/questions/new/likert", data={
        "prompt": "Dua kali sama.", "scale": "Ya\nYa\nTidak"})
    assert bad.status_code == 400
    assert client.post(f"/authoring/{SLUG}/publish").status_code == 302

    login_as("learner")
    client.post(f"/courses/{SLUG}/enrol")
    quiz_id = quiz.rsplit(".", 1)[0]
    attempt_url = client.post(f"/courses/{SLUG}/quizzes/{quiz_id}/start").headers["Location"]
    form = client.get(attempt_url).get_data(as_text=True)
    options = re.findall(r'name="(q-q1)" id="[^"]+" value="([^"]+)"', form)
    assert len(options) == 5 and "Sering" in form
    name, fourth = options[3]
    client.post(attempt_url, data={name: fourth})
    db.expire_all()
    attempt = db.scalars(sa.select(QuizAttempt)).one()
    assert (attempt.score_raw, attempt.score_max) == (3.0, 4.0)
    assert attempt.responses == {"q1": 3}
