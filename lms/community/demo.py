"""Demo: topic spaces and a few realistic threads between OPDs, in Bahasa Indonesia.

Idempotent: a thread whose title exists already is left alone. Posts go through the
service (so they write their xAPI statements) but send no e-mails, and are dated over the
past days so the lists look lived in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms.community import service
from lms.community.models import Post, Space, SpaceKind, Thread
from lms.db import get_session, utcnow
from lms.people.models import Role, User

ADMIN = "admin@demo.lentera.local"
HR = "hr@demo.lentera.local"
TRAINER = "trainer@demo.lentera.local"
LEARNER = "learner@demo.lentera.local"
DOCUMENTED = {ADMIN, HR, TRAINER, LEARNER}

TOPICS = [
    (
        "Berbagi praktik baik antar-OPD",
        "Ceritakan inovasi dan cara kerja yang berhasil di OPD Anda, agar OPD lain dapat "
        "meniru dan menyesuaikannya.",
    ),
    (
        "SPBE",
        "Sistem Pemerintahan Berbasis Elektronik: aplikasi, tata kelola, keamanan "
        "informasi dan interoperabilitas data.",
    ),
    (
        "Pelayanan publik",
        "Standar pelayanan, pengaduan masyarakat, survei kepuasan dan inovasi layanan.",
    ),
]

# (space: topic title or "course:<slug>", kind, title, [(who, body, days ago)], helpful index)
# "who" is a documented account's e-mail or "opd:<OPD name>" (an employee of that OPD).
THREADS: list[tuple[str, str, str, list[tuple[str, str, float]], int | None]] = [
    (
        "Berbagi praktik baik antar-OPD",
        "practice",
        "Antrean daring di Mal Pelayanan Publik memangkas waktu tunggu",
        [
            (
                "opd:Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
                "Sejak Maret kami memakai **antrean daring**: pemohon memilih jam datang lewat "
                "WhatsApp atau situs web. Hasilnya:\n\n- waktu tunggu rata-rata turun dari 70 "
                "menjadi 25 menit;\n- loket tidak menumpuk di pagi hari;\n- keluhan di "
                "SP4N-LAPOR! berkurang separuhnya.\n\nKuncinya: jadwal loket diumumkan seminggu "
                "sebelumnya dan petugas "
                "informasi tetap melayani warga yang datang tanpa janji.",
                9,
            ),
            (
                "opd:Dinas Kearsipan dan Perpustakaan",
                "Menarik sekali. Apakah aplikasinya buatan sendiri atau memakai aplikasi dari "
                "Kementerian? Kami ingin mencobanya untuk layanan peminjaman arsip.",
                8.5,
            ),
            (
                "learner@demo.lentera.local",
                "Aplikasinya dikembangkan Diskominfo di atas platform yang sama dengan aplikasi "
                "persuratan, jadi bisa dipakai OPD lain tanpa biaya lisensi. Silakan bersurat ke "
                "Bidang Aplikasi Informatika.",
                8,
            ),
        ],
        None,
    ),
    (
        "Berbagi praktik baik antar-OPD",
        "practice",
        "Rapat anggaran lebih singkat dengan templat RKA bersama",
        [
            (
                "opd:Badan Pengelolaan Keuangan dan Aset Daerah",
                "Tahun ini BPKAD membagikan templat RKA yang sudah berisi rumus pagu dan kode "
                "rekening terbaru. Rapat asistensi rata-rata selesai dalam satu jam, bukan "
                "setengah "
                "hari. Templatnya ada di menu unduhan SIPD masing-masing OPD.",
                6,
            ),
            (
                "opd:Dinas Pertanian",
                "Terima kasih, sangat membantu. Di Dinas Pertanian kami tambahkan satu lembar "
                "untuk "
                "rekap kegiatan penyuluhan per kecamatan.",
                5,
            ),
        ],
        None,
    ),
    (
        "SPBE",
        "question",
        "Bagaimana menyiapkan bukti dukung evaluasi SPBE indikator 11?",
        [
            (
                "opd:Sekretariat Daerah",
                "Bagian Organisasi diminta mengumpulkan bukti dukung **indikator 11 (layanan "
                "naskah dinas)**. Dokumen apa saja yang biasanya diterima asesor?",
                4,
            ),
            (
                "learner@demo.lentera.local",
                "Yang diterima asesor tahun lalu:\n\n1. SK penggunaan aplikasi persuratan "
                "elektronik;\n"
                "2. tangkapan layar alur disposisi dan tanda tangan elektronik;\n3. laporan "
                "penggunaan (jumlah naskah per bulan) dari aplikasi.\n\nPastikan tanggal dokumen "
                "masuk periode penilaian.",
                3.5,
            ),
            (
                "opd:Badan Perencanaan Pembangunan Daerah",
                "Tambahan dari Bappeda: lampirkan juga notulen rapat tim koordinasi SPBE yang "
                "membahas aplikasi tersebut.",
                3,
            ),
        ],
        1,
    ),
    (
        "Pelayanan publik",
        "question",
        "Survei kepuasan masyarakat: cukup daring atau harus tatap muka?",
        [
            (
                "opd:Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
                "Menurut PermenPANRB 14/2017, apakah SKM boleh seluruhnya daring? Sebagian pemohon "
                "kami lansia dan jarang memakai ponsel pintar.",
                2,
            ),
            (
                "hr@demo.lentera.local",
                "Boleh memakai beberapa cara sekaligus. Banyak OPD memakai kuesioner daring "
                "ditambah **kuesioner kertas di loket** untuk pemohon yang tidak memakai ponsel, "
                "lalu petugas memasukkan jawabannya. Yang penting jumlah responden memenuhi "
                "sampel.",
                1.5,
            ),
        ],
        None,
    ),
    (
        "course:literasi-digital-spbe",
        "question",
        "Apakah kata sandi aplikasi kantor boleh disimpan di peramban?",
        [
            (
                "opd:Dinas Kearsipan dan Perpustakaan",
                "Di modul keamanan informasi disebutkan kata sandi harus kuat. Apakah menyimpan "
                "kata sandi di Chrome kantor termasuk praktik yang aman?",
                2.5,
            ),
            (
                "trainer@demo.lentera.local",
                "Sebaiknya tidak untuk komputer bersama. Gunakan **pengelola kata sandi** yang "
                "disetujui Diskominfo dan aktifkan autentikasi dua faktor. Di komputer pribadi "
                "yang "
                "terkunci, menyimpan di peramban masih lebih aman daripada menulis di kertas.",
                2,
            ),
            ("opd:Dinas Pertanian", "Terima kasih Pak, jelas sekali.", 1),
        ],
        0,
    ),
]


def _users_by_opd() -> dict[str, list[User]]:
    found: dict[str, list[User]] = {}
    for user in get_session().scalars(
        sa.select(User).where(User.active.is_(True)).order_by(User.id)
    ):
        if user.email in DOCUMENTED:
            continue
        found.setdefault(service.author_unit(user), []).append(user)
    return found


def _person(who: str, by_opd: dict[str, list[User]], used: dict[str, int]) -> User | None:
    if who.startswith("opd:"):
        people = by_opd.get(who[4:]) or []
        if not people:
            return None
        return people[used.get(who, 0) % len(people)]
    return get_session().scalar(sa.select(User).where(User.email == who))


def _ensure_topics(hr: User) -> dict[str, Space]:
    session = get_session()
    spaces = {}
    for title, description in TOPICS:
        space = session.scalar(
            sa.select(Space).where(Space.kind == SpaceKind.TOPIC, Space.title == title)
        )
        spaces[title] = space or service.create_topic(title, description, hr)
    return spaces


def load_demo() -> str:
    session = get_session()
    hr = session.scalar(sa.select(User).where(User.email == HR))
    if hr is None or not hr.has_role(Role.HR):
        return ""
    service.ensure_course_spaces()
    spaces: dict[str, Any] = _ensure_topics(hr)
    by_opd = _users_by_opd()
    limits = current_app.config.get("COMMUNITY_POST_LIMITS")
    current_app.config["COMMUNITY_POST_LIMITS"] = []  # demo posts come all at once
    made = 0
    try:
        for space_key, kind, title, posts, helpful in THREADS:
            if space_key.startswith("course:"):
                try:
                    space = service.course_space(space_key[7:])
                except Exception:  # the sample course is not loaded
                    continue
            else:
                space = spaces[space_key]
            if session.scalar(
                sa.select(Thread.id).where(Thread.space_id == space.id, Thread.title == title)
            ):
                continue
            if _post_thread(space, kind, title, posts, helpful, by_opd):
                made += 1
    finally:
        current_app.config["COMMUNITY_POST_LIMITS"] = limits
    return f"Community: {len(TOPICS)} topic spaces, {made} new demo thread(s)."


def _post_thread(
    space: Space,
    kind: str,
    title: str,
    posts: list[tuple[str, str, float]],
    helpful: int | None,
    by_opd: dict[str, list[User]],
) -> bool:
    from lms.courses import service as courses

    used: dict[str, int] = {}
    found = [_person(who, by_opd, used) for who, _body, _days in posts]
    authors = [a for a in found if a is not None]
    if len(authors) != len(found):
        return False
    course = service.course_of(space)
    if course is not None:
        for author in authors:  # they take the course, as learners or trainers
            if not service.can_post(author, space):
                courses.enrol(author, course)
    now = utcnow()
    thread = service.start_thread(space, authors[0], kind, title, posts[0][1])
    stamps = [now - dt.timedelta(days=days) for _who, _body, days in posts]
    replies: list[Post] = []
    for author, (_who, body, _days) in zip(authors[1:], posts[1:], strict=True):
        replies.append(service.reply(thread, author, body, quiet=True))
    for post, when in zip(thread.posts, stamps, strict=True):
        post.created_at = when
    thread.created_at, thread.last_activity_at = stamps[0], stamps[-1]
    if helpful is not None:
        moderator = _moderator_for(space)
        if moderator is not None:
            service.mark_helpful(replies[helpful], moderator, quiet=True)
            replies[helpful].helpful_at = stamps[helpful + 1] + dt.timedelta(hours=2)
    get_session().flush()
    return True


def _moderator_for(space: Space) -> User | None:
    ids = sorted(service.moderator_ids(space))
    session = get_session()
    if ids:
        return session.get(User, ids[0])
    return session.scalar(sa.select(User).where(User.email == HR))
