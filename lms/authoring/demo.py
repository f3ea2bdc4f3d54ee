"""Demo: the demo trainer is a trainer of some sample courses (idempotent)."""

from __future__ import annotations

import sqlalchemy as sa

from lms.authoring import service
from lms.courses.models import Course
from lms.db import get_session
from lms.people.models import User

DEMO_TRAINER = "trainer@demo.lentera.local"
#: Sample courses the demo trainer looks after.
DEMO_COURSES = ("komunikasi-efektif", "pelayanan-publik-prima", "literasi-digital-spbe")


def load_demo() -> str:
    session = get_session()
    trainer = session.scalar(sa.select(User).where(User.email == DEMO_TRAINER))
    if trainer is None:
        return ""
    count = 0
    for slug in DEMO_COURSES:
        course = session.scalar(sa.select(Course).where(Course.slug == slug))
        if course is not None:
            service.adopt_course(course, trainer)
            count += 1
    return f"Authoring: {DEMO_TRAINER} is a trainer of {count} sample course(s)."
