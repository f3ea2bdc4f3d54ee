"""Demo data of the competency module: the shipped frameworks and default standards for
the demo positions, with technical competencies where a position clearly needs one.
Loading again changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from lms.competency import service
from lms.competency.models import Competency, PositionRequirement
from lms.db import get_session
from lms.people.models import Position

#: Position name fragments -> (technical competency, level), for the demo Pemda.
TECHNICAL = [
    ("Keuangan", "T.KEU", 2), ("Anggaran", "T.KEU", 3), ("Laporan Keuangan", "T.KEU", 2),
    ("Perencana", "T.REN", 3), ("Perizinan", "T.PRZ", 2), ("Arsiparis", "T.ARS", 2),
    ("Tata Usaha", "T.ARS", 1), ("Penyuluh Pertanian", "T.PTN", 2), ("SPBE", "T.SPBE", 3),
    ("Pranata Komputer", "T.SPBE", 2), ("Aplikasi Informatika", "T.SPBE", 3),
]


def load_demo() -> str:
    """Load the frameworks and give every demo position a standard (idempotent)."""
    session = get_session()
    frameworks = service.load_shipped_frameworks()
    positions = session.scalars(sa.select(Position).order_by(Position.id)).all()
    with_standard = set(session.scalars(sa.select(PositionRequirement.position_id).distinct()))
    fresh = [p for p in positions if p.id not in with_standard]
    service.apply_default_standards(fresh)
    ids = {c.code: c.id for c in session.scalars(sa.select(Competency))}
    for position in fresh:
        levels: dict[int, int] = {}
        for fragment, code, level in TECHNICAL:
            if fragment.lower() in position.name.lower():
                levels[ids[code]] = max(level, levels.get(ids[code], 0))
        if levels:
            service.set_requirements(position, levels)
    competencies = sum(len(f.competencies) for f in frameworks)
    return (f"Competency: {len(frameworks)} frameworks, {competencies} competencies; "
            f"standards set for {len(fresh)} new positions.")
