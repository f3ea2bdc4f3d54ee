"""The courses/ format: loading, errors naming file, line and rule, and the JSON Schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.config import PROJECT_ROOT
from lms.courses.format import (
    CourseFormatError,
    find_course_folders,
    json_schema,
    load_course_folder,
)
from tests.courses.conftest import HOSTS


def _errors(folder: Path) -> list[str]:
    with pytest.raises(CourseFormatError) as info:
        load_course_folder(folder, HOSTS, label="mini")
    return [str(e) for e in info.value.errors]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_mini_course_loads_every_module_kind(course_dir):
    course = load_course_folder(course_dir, HOSTS)
    assert [m["id"] for m in course.modules] == ["satu", "pelajaran-dua", "kuis"]
    assert [m["kind"] for m in course.modules] == ["lesson", "video", "quiz"]
    assert set(course.assets) == {"titik.gif"}
    assert len(course.modules[2]["quiz"]["questions"]) == 8


def test_content_hash_changes_only_with_content(course_dir):
    first = load_course_folder(course_dir, HOSTS).content_hash
    assert load_course_folder(course_dir, HOSTS).content_hash == first
    (course_dir / "titik.gif").write_bytes(b"GIF89a changed")
    assert load_course_folder(course_dir, HOSTS).content_hash != first


def test_course_yaml_errors_name_line_and_rule(course_dir):
    _replace(course_dir / "course.yaml", "jp: 2", "jp: -2")
    _replace(course_dir / "course.yaml", "level: dasar", "level: ahli")
    errors = _errors(course_dir)
    assert "mini/course.yaml:5: jp: Input should be greater than 0 [greater_than]" in errors
    assert any(
        e.startswith("mini/course.yaml:6: level:") and e.endswith("[literal_error]") for e in errors
    )


def test_quiz_rule_errors_point_at_the_question(course_dir):
    _replace(
        course_dir / "kuis.yaml",
        "correct: true}\n      - {id: salah",
        "correct: false}\n      - {id: salah",
    )
    _replace(course_dir / "kuis.yaml", "    answer: 4\n", "    answer: empat\n")
    errors = _errors(course_dir)
    assert any(
        e.startswith("mini/kuis.yaml:7: questions[0]:")
        and e.endswith("[single_choice_one_correct]")
        for e in errors
    ), errors
    assert any(e.startswith("mini/kuis.yaml:45: questions[6].answer:") for e in errors), errors


def test_unknown_question_type_is_named(course_dir):
    _replace(course_dir / "kuis.yaml", "type: true_false", "type: essay")
    [error] = _errors(course_dir)
    assert error.startswith("mini/kuis.yaml:") and "union_tag_invalid" in error


def test_yaml_syntax_error_gives_its_line(course_dir):
    _replace(course_dir / "kuis.yaml", "title: Kuis Mini", "title: [Kuis Mini")
    [error] = _errors(course_dir)
    assert error.startswith("mini/kuis.yaml:") and error.endswith("[yaml_syntax]")


def test_lesson_front_matter_and_media_are_checked(course_dir):
    _replace(course_dir / "satu.md", "minutes: 5", "minutes: lima")
    _replace(course_dir / "dua.md", "https://www.youtube.com/", "https://evil.example/")
    errors = _errors(course_dir)
    assert any(e.startswith("mini/satu.md:3: minutes:") for e in errors), errors
    assert any(
        e.startswith("mini/dua.md:5: video:") and e.endswith("[allowed_host]") for e in errors
    ), errors


def test_missing_image_and_escaping_paths_are_errors(course_dir):
    _replace(course_dir / "satu.md", "![Titik](titik.gif)", "![Titik](hilang.png)\n![x](../x.png)")
    errors = _errors(course_dir)
    assert "mini/satu.md:11: file hilang.png not found in the course folder [file_exists]" in errors
    assert "mini/satu.md:12: file ../x.png not found in the course folder [file_exists]" in errors


def test_missing_module_file_is_named_in_course_yaml(course_dir):
    (course_dir / "dua.md").unlink()
    assert _errors(course_dir) == [
        "mini/course.yaml:13: modules[1]: module file dua.md not found [file_exists]"
    ]


def test_json_schema_documents_the_three_file_kinds():
    schema = json_schema()
    assert set(schema["$defs"]) == {"course", "lesson_front_matter", "quiz"}
    assert "pass_mark" in schema["$defs"]["quiz"]["properties"]
    saved = PROJECT_ROOT / "docs" / "courses.schema.json"
    import json

    assert json.loads(saved.read_text()) == schema, (
        "run: lms course-schema > docs/courses.schema.json"
    )


def test_every_sample_course_is_valid_with_a_graded_quiz():
    folders = find_course_folders(PROJECT_ROOT / "courses")
    assert len(folders) >= 6
    kinds_seen: set[str] = set()
    for folder in folders:
        course = load_course_folder(folder, HOSTS)
        kinds_seen.update(m["kind"] for m in course.modules)
        lessons = [m for m in course.modules if m["kind"] != "quiz"]
        [quiz] = [m["quiz"] for m in course.modules if m["kind"] == "quiz"]
        assert len(lessons) >= 3 and len(quiz["questions"]) >= 8, folder.name
        kinds = {q["type"] for q in quiz["questions"]}
        assert len(kinds) == 7, (folder.name, kinds)
        assert course.meta["jp"] > 0 and course.meta["competencies"]
    # make run shows the kinds a course folder holds (the H5P exercise is a local package
    # now, so no sample needs an embedded page from another host).
    assert kinds_seen == {"lesson", "video", "h5p", "quiz"}
