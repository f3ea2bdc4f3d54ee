"""Problems of a course, a question or an address said in Bahasa Indonesia, with no
English from pydantic or email-validator and no setting names."""

from __future__ import annotations

import pytest

from lms.courses.explain import format_error_text, schema_message
from lms.courses.format import FormatError
from lms.errors import ValidationError
from lms.people.service import normalize_email
from lms.quizzes.editor import check_question


def test_schema_errors_in_indonesian(app) -> None:
    with app.test_request_context():
        _q, problems = check_question({"type": "bogus", "id": "q1"})
        assert problems and all("Input tag" not in p for p in problems)
        assert "Pilih single, " in problems[0]
        assert schema_message("too_short", {"min_length": 2}, "x") == \
            "Berikan paling sedikit 2 butir."
        assert schema_message("less_than_equal", {"le": 2.5}, "x") == "Harus 2,5 atau kurang."
        assert schema_message("some_new_kind", {}, "fallback") == "fallback"


def test_format_errors_name_no_setting(app) -> None:
    error = FormatError("kursus/01.md", 3, "", "https://example.org/x is not on an allowed "
                        "host (LMS_EMBED_ALLOWED_HOSTS) or not https", "allowed_host")
    with app.test_request_context():
        text = format_error_text(error)
    assert text.startswith("https://example.org/x bukan https")
    assert "LMS_" not in text and "ALLOWED" not in text


@pytest.mark.parametrize(("address", "reason"), [
    ("budi.example.go.id", "tidak ada tanda @"),
    ("budi@@example.go.id", "tanda @ lebih dari satu"),
    ("budi @example.go.id", "ada spasi di dalamnya"),
    ("budi@localhost", "setelah tanda @ harus ada nama domain"),
])
def test_bad_addresses_explained_in_indonesian(app, address, reason) -> None:
    with app.test_request_context(), pytest.raises(ValidationError) as raised:
        normalize_email(address)
    assert reason in str(raised.value.message)


@pytest.mark.parametrize(("message", "rule", "expected"), [
    ("file media/a.png not found in the course folder", "file_exists",
     "Berkas media/a.png tidak ada di folder kursus."),
    ("module file 03.md not found", "file_exists", "Berkas 03.md tidak ada di folder kursus."),
    ("media/a.bmp: unsupported file type (use .png, .jpg)", "file_type",
     "Jenis berkas media/a.bmp tidak diterima di sini (gunakan .png, .jpg)."),
    ("cover.png: the file's content is not a .png image", "file_type",
     "Isi cover.png bukan gambar .png."),
    ("cover.png: a cover image is at most 1 MB", "cover_size",
     "Gambar sampul cover.png lebih besar dari 1 MB."),
    ("'kuis-akhir' is not a quiz of this course", "completion_refs",
     "kuis-akhir bukan pelajaran atau kuis dari kursus ini."),
    ("cannot read file: Permission denied", "readable", "Berkas tidak dapat dibaca."),
])
def test_file_rules_in_indonesian(app, message, rule, expected) -> None:
    with app.test_request_context():
        assert format_error_text(FormatError("kursus/course.yaml", 2, "", message, rule)) \
            == expected
