"""Trainer pages: build a course, quiz builder validation, publish, access, results."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from lms.authoring.models import CourseChange
from lms.courses.models import Completion, Course, CourseVersion
from lms.quizzes.models import QuizAttempt
from tests.factories import make_user

SLUG = "etika-pelayanan"


def _create(client: Any) -> None:
    response = client.post("/authoring/new", data={
        "title": "Etika Pelayanan", "slug": SLUG, "summary": "Dasar etika pelayanan publik.",
        "topic": "Pelayanan Publik", "jp": "2", "competency": "M.05", "competency_level": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)


def _add(client: Any, title: str, kind: str) -> str:
    response = client.post(f"/authoring/{SLUG}/modules", data={"title": title, "kind": kind})
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[-1]


def _question(client: Any, quiz: str, qtype: str, data: dict[str, Any]) -> Any:
    return client.post(f"/authoring/{SLUG}/quizzes/{quiz}/questions/new/{qtype}", data=data)


def build_course(client: Any) -> str:
    _create(client)
    one = _add(client, "Nilai dasar", "lesson")
    client.post(f"/authoring/{SLUG}/modules/{one}", data={
        "title": "Nilai dasar", "kind": "lesson",
        "body": "## BerAKHLAK\n\n| A | B |\n|---|---|\n| 1 | 2 |\n",
    })
    two = _add(client, "Kode etik", "lesson")
    client.post(f"/authoring/{SLUG}/modules/{two}", data={
        "title": "Kode etik", "kind": "lesson", "body": "Isi **kode etik**."})
    quiz = _add(client, "Kuis akhir", "quiz")
    ok = [
        _question(client, quiz, "single", {"prompt": "Nilai dasar ASN?", "points": "1",
                  "choice_text": ["BerAKHLAK", "Bebas"], "correct": ["0"]}),
        _question(client, quiz, "true_false", {"prompt": "ASN netral.", "answer": "true"}),
        _question(client, quiz, "matching", {"prompt": "Pasangkan.",
                  "pair_source": ["Ber", "Akun"], "pair_target": ["Berorientasi", "Akuntabel"]}),
        _question(client, quiz, "ordering", {"prompt": "Urutkan.",
                  "item_text": ["Satu", "Dua", "Tiga"]}),
    ]
    assert [r.status_code for r in ok] == [302] * 4
    return quiz


def test_a_trainer_builds_previews_and_publishes_a_course(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    quiz = build_course(client)
    page = client.get(f"/authoring/{SLUG}").get_data(as_text=True)
    assert "Nilai dasar" in page and "Kuis akhir" in page
    preview = client.get(f"/authoring/{SLUG}/preview/{quiz.rsplit('.', 1)[0]}")
    assert preview.status_code == 200
    assert "Pasangkan." in preview.get_data(as_text=True)
    lesson = client.get(f"/authoring/{SLUG}/preview/nilai-dasar").get_data(as_text=True)
    assert "<table" in lesson
    assert client.post(f"/authoring/{SLUG}/publish").status_code == 302
    db.expire_all()
    course = db.scalar(sa.select(Course).where(Course.slug == SLUG))
    assert course is not None and course.version == 1 and course.published
    definition = db.scalar(sa.select(CourseVersion.definition)
                           .where(CourseVersion.course_id == course.id))
    assert [m["kind"] for m in definition["modules"]] == ["lesson", "lesson", "quiz"]
    assert len(definition["modules"][2]["quiz"]["questions"]) == 4
    actions = set(db.scalars(sa.select(CourseChange.action)))
    assert {"created", "module_added", "lesson_saved", "question_added", "published"} <= actions
    # Publishing again without a change is refused with a message.
    page = client.post(f"/authoring/{SLUG}/publish", follow_redirects=True)
    assert db.scalar(sa.select(Course.version).where(Course.slug == SLUG)) == 1


def test_the_quiz_builder_explains_what_is_wrong(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    _create(client)
    quiz = _add(client, "Kuis", "quiz")
    no_right = _question(client, quiz, "single", {"prompt": "P?", "choice_text": ["a", "b"]})
    assert no_right.status_code == 400
    assert "question-problems" in no_right.get_data(as_text=True)
    half_pair = _question(client, quiz, "matching", {
        "prompt": "P?", "pair_source": ["a", "b", "c"], "pair_target": ["A", "", "C"]})
    text = half_pair.get_data(as_text=True)
    assert half_pair.status_code == 400 and re.search(r"\b2\b", text)
    no_prompt = _question(client, quiz, "true_false", {"prompt": "", "answer": "true"})
    assert no_prompt.status_code == 400
    numeric = _question(client, quiz, "numeric", {"prompt": "Berapa?", "min": "9", "max": "1"})
    assert numeric.status_code == 400
    good = _question(client, quiz, "numeric", {"prompt": "Berapa JP?", "answer": "20"})
    assert good.status_code == 302
    fill = _question(client, quiz, "fill_in", {"prompt": "Singkatan?", "answers": "ASN\nA.S.N."})
    assert fill.status_code == 302
    multi = _question(client, quiz, "multiple", {"prompt": "Pilih", "choice_text": ["a", "b", "c"],
                                                 "correct": ["0", "2"]})
    assert multi.status_code == 302


def test_learners_and_other_trainers_get_403(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    quiz = build_course(client)
    client.post(f"/authoring/{SLUG}/publish")
    login_as("learner")
    assert client.get("/authoring/").status_code == 403
    assert client.get(f"/authoring/{SLUG}").status_code == 403
    assert client.post(f"/authoring/{SLUG}/publish").status_code == 403
    other = make_user(roles=["trainer"])
    db.commit()
    with client.session_transaction() as session:
        session["_user_id"] = other.get_id()
    for method, url in [("get", f"/authoring/{SLUG}"), ("get", f"/authoring/{SLUG}/results"),
                        ("post", f"/authoring/{SLUG}/publish"),
                        ("post", f"/authoring/{SLUG}/archive"),
                        ("post", f"/authoring/{SLUG}/modules/{quiz}/delete"),
                        ("get", f"/authoring/{SLUG}/export.zip"),
                        ("post", f"/authoring/{SLUG}/quizzes/{quiz}/questions/new/single")]:
        assert getattr(client, method)(url).status_code == 403, url
    # A co-trainer added by the owner may edit.
    login_as("trainer")
    client.post(f"/authoring/{SLUG}/trainers", data={"user": other.email})
    with client.session_transaction() as session:
        session["_user_id"] = other.get_id()
    assert client.get(f"/authoring/{SLUG}").status_code == 200
    # The admin may always.
    login_as("admin")
    assert client.get(f"/authoring/{SLUG}").status_code == 200


def test_results_and_item_analysis_after_learners_answer(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    quiz = build_course(client)
    client.post(f"/authoring/{SLUG}/publish")
    learners = [users["learner"]] + [make_user(roles=["learner"]) for _ in range(3)]
    db.commit()
    quiz_id = quiz.rsplit(".", 1)[0]
    for n, learner in enumerate(learners):
        with client.session_transaction() as session:
            session["_user_id"] = learner.get_id()
        client.post(f"/courses/{SLUG}/enrol")
        for lesson in ("nilai-dasar", "kode-etik"):
            client.post(f"/courses/{SLUG}/modules/{lesson}/complete")
        response = client.post(f"/courses/{SLUG}/quizzes/{quiz_id}/start")
        attempt_url = response.headers["Location"]
        page = client.get(attempt_url).get_data(as_text=True)
        form = _answers(page, right=n % 2 == 0)
        client.post(attempt_url, data=form)
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(QuizAttempt.id))) == 4
    completed = db.scalar(sa.select(sa.func.count(Completion.id)))
    login_as("trainer")
    page = client.get(f"/authoring/{SLUG}/results").get_data(as_text=True)
    assert f'id="completed">{completed}<' in page
    assert 'id="enrolled">4<' in page
    csv_text = client.get(f"/authoring/{SLUG}/items.csv").get_data(as_text=True)
    # Headers and question types in the UI language, decimals with a comma.
    header = csv_text.lstrip("\ufeff").splitlines()[0]
    assert header.startswith("Kuis,") and ",Jenis soal," in header
    assert "Tingkat kesukaran" in header
    assert "q1" in csv_text and ",single," not in csv_text
    learners_csv = client.get(f"/authoring/{SLUG}/results.csv").get_data(as_text=True)
    assert learners_csv.lstrip("\ufeff").startswith("NIP,Nama,")
    assert learners[1].name in learners_csv


def _answers(page: str, right: bool) -> dict[str, Any]:
    """Answer every question: radios pick the first or last option (a guess that is right
    for some learners), selects pick in order."""
    data: dict[str, Any] = {}
    radios: dict[str, list[str]] = {}
    for name, value in re.findall(r'type="radio" name="([^"]+)" id="[^"]+" value="([^"]+)"', page):
        radios.setdefault(name, []).append(value)
    for name, values in radios.items():
        data[name] = values[0] if right else values[-1]
    selects = re.findall(r'<select class="form-select[^"]*" name="([^"]+)"', page)
    for i, name in enumerate(selects):
        data[name] = "1" if right else str(i % 3 + 1)
    return data


def test_every_editor_page_renders(app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    quiz = build_course(client)
    _question(client, quiz, "fill_in", {"prompt": "Singkatan?", "answers": "ASN"})
    _question(client, quiz, "numeric", {"prompt": "Berapa?", "min": "1", "max": "3"})
    _question(client, quiz, "multiple", {"prompt": "Pilih", "choice_text": ["a", "b"],
                                         "correct": ["1"]})
    pages = [f"/authoring/{SLUG}", f"/authoring/{SLUG}/settings", f"/authoring/{SLUG}/history",
             f"/authoring/{SLUG}/modules/{quiz}", f"/authoring/{SLUG}/modules/nilai-dasar.md",
             f"/authoring/{SLUG}/preview", "/authoring/", "/authoring/new"]
    pages += [f"/authoring/{SLUG}/quizzes/{quiz}/questions/q{n}" for n in range(1, 8)]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    history = client.get(f"/authoring/{SLUG}/history").get_data(as_text=True)
    assert "Soal ditambahkan" in history
    settings = client.post(f"/authoring/{SLUG}/settings", data={
        "title": "Etika Pelayanan", "summary": "S", "topic": "T", "jp": "3", "level": "menengah",
        "competencies": "M.05 2\nbukan kode", "completion_modules": "all",
        "completion_quizzes": "all"})
    assert "Baris 2" in settings.get_data(as_text=True)
    client.post(f"/authoring/{SLUG}/modules/{quiz}/move", data={"direction": "up"})
    from lms.authoring import drafts

    assert drafts.module_files(drafts.draft_dir(SLUG))[1] == quiz


def test_uploads_are_limited_by_type_content_and_size(
        app: Any, db: Any, client: Any, login_as: Any, monkeypatch: Any) -> None:
    import io

    from lms.authoring import service

    login_as("trainer")
    _create(client)
    png = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 32

    def upload(name: str, data: bytes) -> Any:
        response = client.post(f"/authoring/{SLUG}/upload",
                               data={"file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data",
                               headers={"Accept": "application/json"})
        response.close()
        return response

    ok = upload("Peta Wilayah.PNG", png)
    assert ok.status_code == 200 and ok.get_json()["path"] == "gambar/peta-wilayah.png"
    assert upload("x.html", b"<script>alert(1)</script>").status_code == 400
    assert upload("fake.png", b"<svg onload=alert(1)>").status_code == 400
    monkeypatch.setattr(service, "MAX_IMAGE_BYTES", 100)
    assert upload("big.png", png + b"\0" * 100).status_code == 400
    served = client.get(f"/authoring/{SLUG}/draft-files/gambar/peta-wilayah.png")
    assert served.status_code == 200 and "sandbox" in served.headers["Content-Security-Policy"]
    assert served.get_data() == png
    served.close()
    assert client.get(f"/authoring/{SLUG}/draft-files/course.yaml").status_code == 404


def test_markdown_preview_is_sanitised(app: Any, db: Any, client: Any, login_as: Any) -> None:
    login_as("trainer")
    _create(client)
    html = client.post(f"/authoring/{SLUG}/markdown-preview", data={
        "text": "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n| a |\n|---|\n| b |"
    }).get_json()["html"]
    assert "<script>" not in html and "href=\"javascript" not in html and "<table" in html


def test_quiz_editor_and_preview_open_a_draft_whose_questions_leave_out_points(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    """A quiz file written by hand or another tool may leave out fields with a default."""
    from lms.authoring import drafts

    login_as("trainer")
    _create(client)
    quiz = _add(client, "Kuis", "quiz")
    assert _question(client, quiz, "true_false",
                     {"prompt": "ASN wajib 20 JP?", "answer": "true"}).status_code == 302
    path = drafts.draft_dir(SLUG) / quiz
    data = drafts.read_module(drafts.draft_dir(SLUG), quiz)["quiz"]
    for q in data["questions"]:
        q.pop("points", None)
    path.write_text(drafts.dump_yaml(data), encoding="utf-8")
    page = client.get(f"/authoring/{SLUG}/modules/{quiz}")
    assert page.status_code == 200
    assert "ASN wajib 20 JP?" in page.get_data(as_text=True)
    preview = client.get(f"/authoring/{SLUG}/preview/{quiz.rsplit('.', 1)[0]}")
    assert preview.status_code == 200
    assert "ASN wajib 20 JP?" in preview.get_data(as_text=True)
