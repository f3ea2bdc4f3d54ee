"""Demo data: a fictional regency with its agencies, positions, ~50 employees and the four
documented accounts. Loading it again changes nothing (everything is looked up first)."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from lms.db import get_session
from lms.people import service
from lms.people.models import MANAGERIAL_KINDS, OrgUnit, Position, PositionKind, Role, User

DEMO_PASSWORD = "lentera-demo"
PEMDA = "Pemerintah Kabupaten Sukamaju"

#: OPD -> {bidang -> [seksi]}; a fictional but typical regency structure.
STRUCTURE: dict[str, dict[str, list[str]]] = {
    "Sekretariat Daerah": {"Bagian Organisasi": [], "Bagian Umum": ["Subbagian Tata Usaha"]},
    "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia": {
        "Bidang Pengembangan Kompetensi": [],
        "Bidang Mutasi dan Promosi": [],
    },
    "Dinas Komunikasi dan Informatika": {
        "Bidang Aplikasi Informatika": ["Seksi Tata Kelola SPBE"],
        "Bidang Informasi dan Komunikasi Publik": [],
    },
    "Badan Pengelolaan Keuangan dan Aset Daerah": {"Bidang Anggaran": [], "Bidang Akuntansi": []},
    "Badan Perencanaan Pembangunan Daerah": {"Bidang Perencanaan Ekonomi": []},
    "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu": {"Bidang Pelayanan Perizinan": []},
    "Dinas Pertanian": {"Bidang Penyuluhan": []},
    "Dinas Kearsipan dan Perpustakaan": {"Bidang Kearsipan": []},
}

#: (unit path below the Pemda, position name, kind, grade)
POSITIONS: list[tuple[tuple[str, ...], str, PositionKind, str | None]] = [
    (("Sekretariat Daerah",), "Sekretaris Daerah", PositionKind.JPT, "Pratama"),
    (
        ("Sekretariat Daerah", "Bagian Organisasi"),
        "Kepala Bagian Organisasi",
        PositionKind.ADMINISTRATOR,
        None,
    ),
    (
        ("Sekretariat Daerah", "Bagian Organisasi"),
        "Analis Kelembagaan",
        PositionKind.PELAKSANA,
        None,
    ),
    (
        ("Sekretariat Daerah", "Bagian Umum", "Subbagian Tata Usaha"),
        "Kepala Subbagian Tata Usaha",
        PositionKind.PENGAWAS,
        None,
    ),
    (
        ("Sekretariat Daerah", "Bagian Umum", "Subbagian Tata Usaha"),
        "Pengadministrasi Perkantoran",
        PositionKind.PELAKSANA,
        None,
    ),
    (
        ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",),
        "Kepala Badan",
        PositionKind.JPT,
        "Pratama",
    ),
    (
        (
            "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
            "Bidang Pengembangan Kompetensi",
        ),
        "Analis Sumber Daya Manusia Aparatur Ahli Muda",
        PositionKind.FUNGSIONAL,
        "Ahli Muda",
    ),
    (
        (
            "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
            "Bidang Pengembangan Kompetensi",
        ),
        "Widyaiswara Ahli Madya",
        PositionKind.FUNGSIONAL,
        "Ahli Madya",
    ),
    (
        ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", "Bidang Mutasi dan Promosi"),
        "Kepala Bidang Mutasi dan Promosi",
        PositionKind.ADMINISTRATOR,
        None,
    ),
    (("Dinas Komunikasi dan Informatika",), "Kepala Dinas", PositionKind.JPT, "Pratama"),
    (
        ("Dinas Komunikasi dan Informatika", "Bidang Aplikasi Informatika"),
        "Kepala Bidang Aplikasi Informatika",
        PositionKind.ADMINISTRATOR,
        None,
    ),
    (
        (
            "Dinas Komunikasi dan Informatika",
            "Bidang Aplikasi Informatika",
            "Seksi Tata Kelola SPBE",
        ),
        "Kepala Seksi Tata Kelola SPBE",
        PositionKind.PENGAWAS,
        None,
    ),
    (
        ("Dinas Komunikasi dan Informatika", "Bidang Aplikasi Informatika"),
        "Pranata Komputer Ahli Pertama",
        PositionKind.FUNGSIONAL,
        "Ahli Pertama",
    ),
    (
        ("Dinas Komunikasi dan Informatika", "Bidang Informasi dan Komunikasi Publik"),
        "Pranata Hubungan Masyarakat Ahli Muda",
        PositionKind.FUNGSIONAL,
        "Ahli Muda",
    ),
    (
        ("Badan Pengelolaan Keuangan dan Aset Daerah", "Bidang Anggaran"),
        "Kepala Bidang Anggaran",
        PositionKind.ADMINISTRATOR,
        None,
    ),
    (
        ("Badan Pengelolaan Keuangan dan Aset Daerah", "Bidang Anggaran"),
        "Analis Keuangan Pusat dan Daerah Ahli Pertama",
        PositionKind.FUNGSIONAL,
        "Ahli Pertama",
    ),
    (
        ("Badan Pengelolaan Keuangan dan Aset Daerah", "Bidang Akuntansi"),
        "Penata Laporan Keuangan",
        PositionKind.PELAKSANA,
        None,
    ),
    (
        ("Badan Perencanaan Pembangunan Daerah", "Bidang Perencanaan Ekonomi"),
        "Perencana Ahli Muda",
        PositionKind.FUNGSIONAL,
        "Ahli Muda",
    ),
    (
        ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "Bidang Pelayanan Perizinan"),
        "Pengelola Layanan Perizinan",
        PositionKind.PELAKSANA,
        None,
    ),
    (
        ("Dinas Pertanian", "Bidang Penyuluhan"),
        "Penyuluh Pertanian Ahli Pertama",
        PositionKind.FUNGSIONAL,
        "Ahli Pertama",
    ),
    (
        ("Dinas Kearsipan dan Perpustakaan", "Bidang Kearsipan"),
        "Arsiparis Terampil",
        PositionKind.FUNGSIONAL,
        "Terampil",
    ),
]

#: The documented accounts: (email, name, NIP, roles, position name).
ACCOUNTS = [
    (
        "admin@demo.lentera.local",
        "Admin Lentera",
        "198001012005011001",
        [Role.ADMIN],
        "Analis Kelembagaan",
    ),
    (
        "hr@demo.lentera.local",
        "Rina Marlina, S.Psi.",
        "198507142010012003",
        [Role.HR, Role.LEARNER],
        "Analis Sumber Daya Manusia Aparatur Ahli Muda",
    ),
    (
        "trainer@demo.lentera.local",
        "Dr. Bambang Sutrisno, M.Si.",
        "197503202000031002",
        [Role.TRAINER, Role.LEARNER],
        "Widyaiswara Ahli Madya",
    ),
    (
        "learner@demo.lentera.local",
        "Siti Nurhaliza, S.Kom.",
        "199204152019032011",
        [Role.LEARNER],
        "Pranata Komputer Ahli Pertama",
    ),
]

FIRST = [
    "Agus",
    "Budi",
    "Dewi",
    "Eko",
    "Fitri",
    "Gita",
    "Hendra",
    "Indah",
    "Joko",
    "Kartika",
    "Lestari",
    "Made",
    "Nur",
    "Putri",
    "Rizky",
    "Sri",
    "Teguh",
    "Wahyu",
    "Yuni",
    "Andi",
    "Ratna",
    "Dimas",
    "Ayu",
    "Bayu",
    "Citra",
]
LAST = [
    "Santoso",
    "Wijaya",
    "Hidayat",
    "Saputra",
    "Lestari",
    "Kurniawan",
    "Rahmawati",
    "Pratama",
    "Susanti",
    "Nugroho",
    "Setiawan",
    "Permata",
    "Handayani",
    "Gunawan",
    "Utami",
]


def _nip(rng: random.Random, seq: int) -> str:
    birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 32))
    year = birth.year + rng.randrange(22, 30)
    year = min(year, 2023)
    return f"{birth:%Y%m%d}{year}{rng.randrange(1, 13):02d}{rng.choice('12')}{seq:03d}"


def ensure_unit(path: tuple[str, ...]) -> OrgUnit:
    """The org unit at ``path`` (from the root), created with its parents when missing."""
    session = get_session()
    parent: OrgUnit | None = None
    for name in path:
        unit = session.scalar(
            sa.select(OrgUnit).where(
                OrgUnit.name == name,
                OrgUnit.parent_id == parent.id if parent else OrgUnit.parent_id.is_(None),
            )
        )
        parent = unit or service.create_org_unit(name, parent)
    assert parent is not None
    return parent


def ensure_position(
    path: tuple[str, ...], name: str, kind: PositionKind, grade: str | None
) -> Position:
    """The position ``name`` in the unit at ``path``, created when missing."""
    unit = ensure_unit(path)
    position = get_session().scalar(
        sa.select(Position).where(Position.org_unit_id == unit.id, Position.name == name)
    )
    return position or service.create_position(name, kind, unit, grade)


def load_demo() -> str:
    """Load the demo organisation and people; return a one-line summary."""
    session = get_session()
    ensure_unit((PEMDA,))
    for opd, bidangs in STRUCTURE.items():
        ensure_unit((PEMDA, opd))
        for bidang, seksis in bidangs.items():
            ensure_unit((PEMDA, opd, bidang))
            for seksi in seksis:
                ensure_unit((PEMDA, opd, bidang, seksi))
    positions = {
        name: ensure_position((PEMDA, *path), name, kind, grade)
        for path, name, kind, grade in POSITIONS
    }
    # One slow hash shared by every demo account: they all have the same password anyway.
    demo_hash = service.hash_password(DEMO_PASSWORD)
    created = 0
    for email, name, nip, roles, position_name in ACCOUNTS:
        user = session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = service.create_user(
                name=name, email=email, nip=nip, roles=roles, password_hash=demo_hash
            )
            service.assign_position(user, positions[position_name], dt.date(2024, 1, 2))
            created += 1
    rng = random.Random(20241)
    # Each leadership position has one holder; everyone else holds a staff position.
    taken = {name for *_rest, name in ACCOUNTS}
    leaders = [p for p in positions.values() if p.kind in MANAGERIAL_KINDS and p.name not in taken]
    staff = [p for p in positions.values() if p.kind not in MANAGERIAL_KINDS]
    for i in range(46):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        nip = _nip(rng, 100 + i)
        position = leaders[i] if i < len(leaders) else staff[(i - len(leaders)) % len(staff)]
        if session.scalar(sa.select(User.id).where(User.nip == nip)):
            continue
        email = f"{first}.{last}.{i + 1}@demo.lentera.local".lower()
        user = service.create_user(
            name=f"{first} {last}",
            email=email,
            nip=nip,
            roles=[Role.LEARNER],
            password_hash=demo_hash,
        )
        service.assign_position(user, position, dt.date(2024, 1, 2))
        created += 1
    total = session.scalar(sa.select(sa.func.count(User.id)))
    return f"People: {created} new accounts ({total} in all) in {PEMDA}."
