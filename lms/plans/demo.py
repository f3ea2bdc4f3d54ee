"""Demo data of the plans module: approved plans for this year for a few colleagues of the
demo learner (so the organisation plan has rows); the demo learner's own plan is left for
a first try in the browser. Loading again adds nothing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from lms.competency import service as competency
from lms.db import get_session
from lms.people.models import User
from lms.plans import service
from lms.plans.models import DevelopmentPlan

LEARNER = "learner@demo.lentera.local"


def load_demo() -> str:
    session = get_session()
    if session.scalar(sa.select(DevelopmentPlan.id).limit(1)) is not None:
        return "Plans: demo plans exist already."
    learner = session.scalar(sa.select(User).where(User.email == LEARNER))
    if learner is None or learner.position is None:
        return "Plans: no demo people; skipped."
    year = dt.date.today().year
    made = 0
    for person in competency.search_employees("", limit=60):
        if made >= 3:
            break
        if person.id == learner.id or not competency.build_profile(person).gaps:
            continue
        supervisors = competency.supervisors_of(person)
        if not supervisors:
            continue
        plan = service.create_from_gaps(person, person, year)
        if not plan.items:
            continue
        service.submit(plan, person)
        service.approve(plan, supervisors[0])
        made += 1
    return f"Plans: {made} approved development plans for {year}."
