"""Demo data of HR reporting: the demo HR sees the whole Pemda; some demo employees
enrolled in and completed sample courses this year; one recorded workshop with a few
participants, so the dashboard has something to show. Loading again changes nothing
(the workshop is the marker)."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import sqlalchemy as sa

from lms.db import get_session
from lms.people.models import OrgUnit, User
from lms.reports import training
from lms.reports.models import Training
from lms.reports.scope import set_scope

WORKSHOP = "Workshop Penyusunan Analisis Kebutuhan Pengembangan Kompetensi"
DEMO_NAMESPACE = uuid.UUID("3b0f7c1e-2d5a-4f61-9c57-5a1e8d6b2c40")
HR_EMAIL = "hr@demo.lentera.local"


def load_demo() -> str:
    """Load the demo's HR scope, course completions and workshop (idempotent)."""
    session = get_session()
    hr = session.scalar(sa.select(User).where(User.email == HR_EMAIL))
    root = session.scalar(sa.select(OrgUnit).where(OrgUnit.parent_id.is_(None))
                          .order_by(OrgUnit.id))
    if hr is None or root is None:
        return ""
    set_scope(hr, root)
    if session.scalar(sa.select(Training.id).where(Training.title == WORKSHOP)):
        return "Reports: demo data present already."
    employees = list(session.scalars(
        sa.select(User).where(User.nip.is_not(None), User.email.like("%@demo.lentera.local"))
        .order_by(User.id)))
    completions = _course_history(employees)
    year = dt.date.today().year
    end = min(dt.date.today(), dt.date(year, 11, 14))
    workshop = training.create_training(
        training.TrainingSpec(
            title=WORKSHOP, kind="workshop", provider="BPSDM Provinsi Jawa Barat",
            start_date=end - dt.timedelta(days=2), end_date=end, jp=24,
            competencies="M.06:2, M.04:2",
            description="Praktik menyusun AKPK unit kerja dan rencana pengembangan "
                        "kompetensi tahunan."),
        created_by=hr, org_unit=root)
    rng = random.Random(7)
    chosen = rng.sample(employees, min(8, len(employees)))
    rows = [training.ParticipantRow(line=i + 1, nip=u.nip or "", user=u,
                                    certificate_number=f"BPSDM-{year}-{i + 1:03d}")
            for i, u in enumerate(chosen)]
    training.record_participants(workshop, rows)
    return (f"Reports: demo HR sees the whole Pemda; {completions} course completions; "
            f"workshop with {len(rows)} participants.")


def _course_history(employees: list[User]) -> int:
    """Enrol some employees in sample courses and complete most of them, through
    statements (the ledger derives the completions)."""
    from lms.courses import service as courses
    from lms.courses.models import Course
    from lms.xapi.actors import actor_for
    from lms.xapi.service import store_statements

    session = get_session()
    catalog = list(session.scalars(sa.select(Course).where(Course.published.is_(True))
                                   .order_by(Course.slug)))
    if not catalog:
        return 0
    rng = random.Random(2026)
    today = dt.datetime.now(dt.UTC)
    start = dt.datetime(today.year, 1, 15, 3, tzinfo=dt.UTC)
    statements = []
    for user in employees:
        for course in rng.sample(catalog, rng.randint(0, min(4, len(catalog)))):
            enrollment, created = courses.enrol(user, course)
            when = start + (today - start) * rng.random()
            if created:
                enrollment.enrolled_at = when - dt.timedelta(days=rng.randint(1, 20))
            if rng.random() < 0.3:
                continue  # enrolled, not finished
            statements.append({
                "id": str(uuid.uuid5(DEMO_NAMESPACE, f"{user.nip}/{course.slug}")),
                "actor": actor_for(user),
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                         "display": {"en-US": "completed", "id-ID": "menyelesaikan"}},
                "object": {"objectType": "Activity",
                           "id": f"{training.base_url()}/courses/{course.slug}"},
                "result": {"completion": True},
                "context": {"registration": enrollment.registration, "platform": "Lentera"},
                "timestamp": when.isoformat(),
            })
        # One employee per transaction: an enrolment takes the employee's summary lock
        # (lms.reports.summary), and a transaction holding the locks of many employees in
        # id order can deadlock with a consumer run taking them in statement order.
        session.commit()
    if statements:
        store_statements(statements)
    return len(statements)
