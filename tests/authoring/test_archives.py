"""Safe extraction: each refusal names the member and the rule, and writes nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lms.authoring.archives import ArchiveError, Limits, extract_archive, zip_folder
from tests.authoring.conftest import symlink_info, zip_with


def _extract(data: bytes, tmp_path: Path, limits: Limits | None = None) -> Path:
    target = tmp_path / "out"
    if limits is None:
        extract_archive(io.BytesIO(data), target)
    else:
        extract_archive(io.BytesIO(data), target, limits)
    return target


def _nothing_written(tmp_path: Path) -> bool:
    return [p.name for p in tmp_path.iterdir()] == []


def test_a_normal_archive_is_extracted(tmp_path: Path) -> None:
    data = zip_with([("a/course.yaml", b"x"), ("a/gambar/x.png", b"y")])
    target = _extract(data, tmp_path)
    assert (target / "a" / "gambar" / "x.png").read_bytes() == b"y"


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/etc/passwd",
                                  "C:/evil.txt", "a\\..\\evil.txt"])
def test_paths_outside_the_target_are_refused(tmp_path: Path, name: str) -> None:
    data = zip_with([("ok.txt", b"fine"), (name, b"evil")])
    with pytest.raises(ArchiveError, match="outside the package|Nothing was imported"):
        _extract(data, tmp_path)
    assert _nothing_written(tmp_path)


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    data = zip_with([("course/course.yaml", b"x"), (symlink_info("course/link"), b"/etc/passwd")])
    with pytest.raises(ArchiveError, match="links"):
        _extract(data, tmp_path)
    assert _nothing_written(tmp_path)


def test_too_many_files_are_refused(tmp_path: Path) -> None:
    data = zip_with([(f"f{i}.txt", b"x") for i in range(6)])
    with pytest.raises(ArchiveError, match="6"):
        _extract(data, tmp_path, Limits(max_files=5))
    assert _nothing_written(tmp_path)


def test_too_much_data_is_refused(tmp_path: Path) -> None:
    data = zip_with([("a.txt", b"x" * 600), ("b.txt", b"y" * 600)])
    with pytest.raises(ArchiveError, match="MB"):
        _extract(data, tmp_path, Limits(max_total=1000, max_member=10_000))
    assert _nothing_written(tmp_path)


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(ArchiveError, match="zip bomb"):
        _extract(buffer.getvalue(), tmp_path)
    assert _nothing_written(tmp_path)


def test_a_member_that_holds_more_than_it_declares_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.txt", b"A" * 100)
    data = bytearray(buffer.getvalue())
    # Shrink the declared size in the central directory (offset 24 of its entry).
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(ArchiveError):
        _extract(bytes(data), tmp_path)
    assert _nothing_written(tmp_path)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = zip_with([("a.txt", b"1"), ("A.txt", b"2")])
    with pytest.raises(ArchiveError, match="twice"):
        _extract(data, tmp_path)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a zip"):
        _extract(b"hello", tmp_path)


def test_zip_folder_round_trips(tmp_path: Path) -> None:
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "sub" / "x.txt").write_text("hi")
    buffer = io.BytesIO()
    zip_folder(tmp_path / "src", buffer, prefix="c/")
    target = tmp_path / "back"
    extract_archive(io.BytesIO(buffer.getvalue()), target)
    assert (target / "c" / "sub" / "x.txt").read_text() == "hi"


def test_many_small_members_adding_up_to_a_bomb_are_refused_before_writing(
        tmp_path: Path) -> None:
    """Each member under 1 MB escapes the per-member ratio; the archive as a whole may not
    unpack to more than 50 times its size (a 520 KB zip once wrote 451 MB first)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(40):
            archive.writestr(f"lesson-{i}.html", b"\0" * (900 * 1024))
    assert len(buffer.getvalue()) < 200 * 1024
    with pytest.raises(ArchiveError, match="zip bomb"):
        _extract(buffer.getvalue(), tmp_path)
    assert _nothing_written(tmp_path)
