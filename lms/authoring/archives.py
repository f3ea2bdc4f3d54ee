"""Safe extraction of uploaded zip archives (course packages, cmi5 packages).

``zipfile.extractall`` keeps ``../`` and absolute members inside the target, but does
nothing against links, zip bombs or archives of a million tiny files (see DESIGN.md). Here
every member is checked BEFORE anything is written, and sizes are checked again while
writing (the sizes a zip declares can lie):

- no absolute paths, drive letters, backslashes or ``..`` parts;
- no symbolic links (Unix mode in ``external_attr``) and no other special files;
- at most ``max_files`` members and ``max_total`` bytes uncompressed in all;
- no member above ``max_ratio`` : 1 compression (a bomb), none above ``max_member``;
- no encrypted members, no two members with the same name (case-insensitively).

A refused archive raises :class:`ArchiveError` with a message naming the member and the
rule, and leaves the target untouched (extraction goes into a temporary folder first).
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from lms.errors import ValidationError


class ArchiveError(ValidationError):
    """An archive that is refused; ``message`` says which member and why."""


@dataclass(frozen=True)
class Limits:
    max_files: int = 2000
    max_total: int = 500 * 1024 * 1024
    max_member: int = 200 * 1024 * 1024
    max_ratio: int = 200
    #: The whole archive may unpack to at most this many times its own size (beyond
    #: ``ratio_floor``): many small members each under the per-member check add up to a
    #: bomb too (a 520 KB zip once unpacked 451 MB before its package was refused).
    max_total_ratio: int = 50
    ratio_floor: int = 10 * 1024 * 1024


DEFAULT_LIMITS = Limits()
_CHUNK = 1024 * 1024


def _is_link_or_special(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    if not mode:
        return False
    kind = stat.S_IFMT(mode)
    return kind not in (0, stat.S_IFREG, stat.S_IFDIR)


def safe_member_path(name: str) -> PurePosixPath | None:
    """The member's relative path, or None when it could leave the target folder."""
    if not name or "\\" in name or "\x00" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        return None
    if any(part in ("..", "") for part in path.parts):
        return None
    return path


def check_archive(archive: zipfile.ZipFile,
                  limits: Limits = DEFAULT_LIMITS) -> list[zipfile.ZipInfo]:
    """Every member of ``archive`` checked against the rules above; raise ArchiveError."""
    infos = archive.infolist()
    if len(infos) > limits.max_files:
        raise ArchiveError(
            _l("The archive holds %(count)s files; at most %(limit)s are accepted.",
               count=len(infos), limit=limits.max_files)
        )
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if safe_member_path(name.rstrip("/") if info.is_dir() else name) is None:
            raise ArchiveError(
                _l("%(name)s: a path outside the package (absolute, or with '..'). "
                   "Nothing was imported.", name=name)
            )
        if _is_link_or_special(info):
            raise ArchiveError(
                _l("%(name)s: links and special files are not accepted in a package. "
                   "Nothing was imported.", name=name)
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(_l("%(name)s: encrypted files are not accepted.", name=name))
        key = name.rstrip("/").casefold()
        if key in seen:
            raise ArchiveError(_l("%(name)s appears twice in the archive.", name=name))
        seen.add(key)
        if info.file_size > limits.max_member:
            raise ArchiveError(
                _l("%(name)s is too large (%(size)s MB; at most %(limit)s MB per file).",
                   name=name, size=info.file_size // (1024 * 1024),
                   limit=limits.max_member // (1024 * 1024))
            )
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise ArchiveError(
                _l("%(name)s is compressed more than %(ratio)s:1, like a zip bomb; it is "
                   "refused.", name=name, ratio=limits.max_ratio)
            )
        total += info.file_size
        if total > limits.max_total:
            raise ArchiveError(
                _l("The archive unpacks to more than %(limit)s MB; it is refused.",
                   limit=limits.max_total // (1024 * 1024))
            )
    packed = _archive_bytes(archive)
    if packed is not None and total > max(limits.ratio_floor,
                                          limits.max_total_ratio * packed):
        raise ArchiveError(
            _l("The archive would unpack to %(size)s MB from %(packed)s KB, more than "
               "%(ratio)s times its size, like a zip bomb; it is refused.",
               size=total // (1024 * 1024), packed=packed // 1024,
               ratio=limits.max_total_ratio)
        )
    return infos


def _archive_bytes(archive: zipfile.ZipFile) -> int | None:
    """The size of the zip itself, in bytes (None when it cannot be told)."""
    fp = archive.fp
    if fp is None:
        return None
    try:
        position = fp.tell()
        size = fp.seek(0, 2)
        fp.seek(position)
    except (OSError, ValueError):
        return None
    return int(size)


def extract_archive(
    source: str | Path | BinaryIO, target: Path, limits: Limits = DEFAULT_LIMITS
) -> list[str]:
    """Check and extract the zip ``source`` into the new folder ``target``.

    ``target`` must not exist; it is created only when the whole archive is fine. Returns
    the relative paths of the files written.
    """
    target = Path(target)
    if target.exists():
        raise FileExistsError(target)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise ArchiveError(_l("This file is not a zip archive (or it is damaged).")) from None
    with archive:
        infos = check_archive(archive, limits)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
        written: list[str] = []
        try:
            total = 0
            for info in infos:
                rel = safe_member_path(info.filename.rstrip("/"))
                assert rel is not None
                dest = tmp.joinpath(*rel.parts)
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                size = 0
                with archive.open(info) as src, open(dest, "xb") as out:
                    while chunk := src.read(_CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        # The declared size can lie: count what really comes out.
                        if size > info.file_size or size > limits.max_member:
                            raise ArchiveError(
                                _l("%(name)s holds more data than it declares; refused.",
                                   name=info.filename)
                            )
                        if total > limits.max_total:
                            raise ArchiveError(
                                _l("The archive unpacks to more than %(limit)s MB; it is "
                                   "refused.", limit=limits.max_total // (1024 * 1024))
                            )
                        out.write(chunk)
                written.append(rel.as_posix())
            tmp.rename(target)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, FileExistsError):
                raise ArchiveError(_l("The archive holds the same file twice.")) from None
            raise ArchiveError(_l("The archive is damaged: %(error)s", error=str(exc))) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return written


def zip_folder(folder: Path, out: BinaryIO, prefix: str = "") -> None:
    """Write every regular file under ``folder`` into a zip (sorted, stable timestamps)."""
    folder = Path(folder)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(f"{prefix}{rel}", date_time=(2000, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
