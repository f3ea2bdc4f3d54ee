"""The national list of development types (SIASN ``jenisDiklatId``) and how Lentera groups
them: classroom or not (for the JP conversion) and the 10:20:70 route (docs/jp.md)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class DevelopmentType:
    id: int
    name: str  # the national name, in Bahasa Indonesia (as SIASN lists it)
    classroom: bool
    #: 10 (structured learning), 20 (learning from others), 70 (learning at work)
    route: int


TYPES: dict[int, DevelopmentType] = {t.id: t for t in (
    DevelopmentType(1, "Diklat Struktural", True, 10),
    DevelopmentType(2, "Diklat Fungsional", True, 10),
    DevelopmentType(3, "Diklat Teknis", True, 10),
    DevelopmentType(4, "Workshop", True, 10),
    DevelopmentType(5, "Pelatihan Manajerial", True, 10),
    DevelopmentType(6, "Pelatihan Sosial Kultural", True, 10),
    DevelopmentType(7, "Sosialisasi", True, 10),
    DevelopmentType(8, "Bimbingan Teknis", True, 10),
    DevelopmentType(9, "Seminar", True, 10),
    DevelopmentType(10, "Magang", True, 70),
    DevelopmentType(11, "Kursus", True, 10),
    DevelopmentType(12, "Penataran", True, 10),
    DevelopmentType(13, "Pelatihan Klasikal Lainnya", True, 10),
    DevelopmentType(14, "Coaching", False, 20),
    DevelopmentType(15, "Mentoring", False, 20),
    DevelopmentType(16, "E-Learning", False, 10),
    DevelopmentType(17, "Pelatihan Jarak Jauh", False, 10),
    DevelopmentType(18, "Detasering (Secondment)", False, 70),
    DevelopmentType(19, "Pembelajaran Alam Terbuka (Outbound)", False, 10),
    DevelopmentType(20, "Patok Banding (Benchmarking)", False, 20),
    DevelopmentType(21, "Pertukaran PNS dengan Pegawai Swasta", False, 70),
    DevelopmentType(22, "Belajar Mandiri (Self Development)", False, 10),
    DevelopmentType(23, "Komunitas Belajar", False, 20),
    DevelopmentType(24, "Bimbingan di Tempat Kerja", False, 70),
    DevelopmentType(25, "Pelatihan Nonklasikal Lainnya", False, 70),
)}

#: The kind written into statements of submissions (``siasn-<id>``).
PREFIX = "siasn-"

#: Routes of the learning HR records (lms.reports TrainingKind) and of Lentera courses.
TRAINING_ROUTES = {"classroom": 10, "seminar": 10, "workshop": 10, "university": 10,
                   "private": 10, "elearning": 10, "course": 10, "coaching": 20,
                   "mentoring": 20, "secondment": 70}
#: SIASN development type of the learning HR records, for the SIASN export.
TRAINING_TYPES = {"classroom": 3, "seminar": 9, "workshop": 4, "university": 11,
                  "private": 11, "elearning": 16, "course": 16, "coaching": 14,
                  "mentoring": 15, "secondment": 18}

ROUTE_LABELS = {10: _l("Structured learning (10)"), 20: _l("Learning from others (20)"),
                70: _l("Learning at work (70)")}


def kind_value(type_id: int) -> str:
    return f"{PREFIX}{type_id}"


def type_of_kind(kind: str | None) -> DevelopmentType | None:
    """The national type a statement's kind names (``siasn-9``), else None."""
    if kind and kind.startswith(PREFIX) and kind[len(PREFIX):].isdigit():
        return TYPES.get(int(kind[len(PREFIX):]))
    return None


def route_of_kind(kind: str | None) -> int:
    """The 10:20:70 route of a JP record's kind (unknown kinds count as structured)."""
    found = type_of_kind(kind)
    if found is not None:
        return found.route
    return TRAINING_ROUTES.get(kind or "", 10)


def siasn_type_of_kind(kind: str | None) -> int:
    found = type_of_kind(kind)
    if found is not None:
        return found.id
    return TRAINING_TYPES.get(kind or "", 13)
