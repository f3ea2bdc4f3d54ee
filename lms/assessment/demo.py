"""Demo data of the assessment module: a colleague of the demo learner assessed by
themselves, their supervisor and an assessment centre, and a 360 round in which the demo
learner is asked to rate that colleague as a peer. The demo learner's own profile is left
for a first self and supervisor assessment in the browser. Loading again adds nothing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from lms.assessment import service
from lms.assessment.models import AssessmentRound
from lms.competency import service as competency
from lms.db import get_session
from lms.people.models import Role, User

LEARNER = "learner@demo.lentera.local"
HR = "hr@demo.lentera.local"


def load_demo() -> str:
    session = get_session()
    if session.scalar(sa.select(AssessmentRound.id).limit(1)) is not None:
        return "Assessment: demo rounds exist already."
    learner = session.scalar(sa.select(User).where(User.email == LEARNER))
    hr = session.scalar(sa.select(User).where(User.email == HR))
    if learner is None or hr is None or learner.position is None:
        return "Assessment: no demo people; skipped."
    peers = service.suggestions(learner)["peer"]
    colleague = next((p for p in peers if p.nip), None)
    if colleague is None:
        return "Assessment: the demo learner has no colleague; skipped."
    codes = service.default_codes(colleague)[:4]
    levels = {code: 2 + (i % 2) for i, code in enumerate(codes)}
    when = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)
    entry = service.start_self(colleague, codes)
    service.submit_levels(entry, {c: min(5, v + 1) for c, v in levels.items()}, when)
    supervisors = competency.supervisors_of(colleague)
    if supervisors:
        entry = service.start_supervisor(supervisors[0], colleague, codes)
        service.submit_levels(entry, levels, when + dt.timedelta(days=7))
    if hr.has_role(Role.HR):
        service.record_centre(hr, colleague, {codes[0]: 3}, note="UPT Penilaian Kompetensi "
                              "BKPSDM (demo)", assessed_on=dt.date(2026, 3, 4))
        service.open_360(hr, colleague, codes[:2], supervisor=supervisors[0] if supervisors
                         else None, peers=[learner], subordinates=[],
                         include_self=True, title="360 demo")
    names = f"supervisor of the demo learner: {competency.supervisors_of(learner)[0].email}" \
        if competency.supervisors_of(learner) else "the demo learner has no supervisor"
    return f"Assessment: rounds for {colleague.name}; {names}."
