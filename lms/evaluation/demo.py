"""Demo data of training evaluation: most demo completions have a reaction survey
answered; follow-ups that fell due are opened for the supervisors (their reminder e-mails
go to the outbox) and most are answered; one course and the workshop have a level-4
result. The demo learner's own questionnaires stay open, to be tried. Loading again
answers nothing twice (answered questionnaires are skipped)."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa
from flask import current_app

from lms.db import get_session, utcnow
from lms.evaluation import service
from lms.evaluation.models import BEHAVIOUR, OPEN, REACTION, Evaluation, EvaluationResult
from lms.evaluation.questions import questions
from lms.people.models import User

LEARNER_EMAIL = "learner@demo.lentera.local"
HR_EMAIL = "hr@demo.lentera.local"
REACTION_COMMENTS = [
    "Materinya langsung bisa dipakai di kantor.",
    "Contoh kasusnya sesuai dengan pekerjaan di OPD kami.",
    "Kuisnya membantu, tetapi waktunya agak singkat.",
    "Perlu lebih banyak contoh dari pemerintah daerah.",
    "",
    "",
]
BEHAVIOUR_COMMENTS = [
    "Sudah menerapkan standar pelayanan baru di loket.",
    "Laporan kegiatan kini lebih rapi dan tepat waktu.",
    "Belum sempat menerapkan karena beban kerja akhir tahun.",
    "Mulai membagikan ilmunya kepada rekan satu seksi.",
    "",
]


def _answers(rng: random.Random, level: int) -> dict[str, int]:
    base = rng.choice([3, 4, 4, 4, 5, 5])
    return {qid: max(1, min(5, base + rng.choice([-1, 0, 0, 0, 1])))
            for qid, _text in questions(level)}


def load_demo() -> str:
    from lms.xapi.consumers import run_consumers

    run_consumers(current_app._get_current_object())  # type: ignore[attr-defined]
    session = get_session()
    learner = session.scalar(sa.select(User).where(User.email == LEARNER_EMAIL))
    hr = session.scalar(sa.select(User).where(User.email == HR_EMAIL))
    skip = {learner.id} if learner is not None else set()
    answered = {REACTION: 0, BEHAVIOUR: 0}
    # Level 1: four in five learners answered.
    for row in session.scalars(sa.select(Evaluation).where(
            Evaluation.level == REACTION, Evaluation.status == OPEN).order_by(Evaluation.id)):
        rng = random.Random(f"reaction-{row.id}")
        if row.user_id in skip or rng.random() > 0.8:
            continue
        user = session.get(User, row.user_id)
        if user is None:
            continue
        service.answer(row, user, _answers(rng, REACTION), rng.choice(REACTION_COMMENTS),
                       now=row.completed_at + dt.timedelta(minutes=rng.randint(2, 90)))
        answered[REACTION] += 1
    # Level 3: open what fell due (reminders go to the outbox); two in three answered.
    counts = service.remind(utcnow())
    for row in session.scalars(sa.select(Evaluation).where(
            Evaluation.level == BEHAVIOUR, Evaluation.status == OPEN).order_by(Evaluation.id)):
        rng = random.Random(f"behaviour-{row.id}")
        if row.user_id in skip or rng.random() > 0.67 or row.respondent_id is None:
            continue
        supervisor = session.get(User, row.respondent_id)
        if supervisor is None:
            continue
        service.answer(row, supervisor, _answers(rng, BEHAVIOUR), rng.choice(BEHAVIOUR_COMMENTS),
                       now=max(row.due_at, utcnow() - dt.timedelta(days=1)))
        answered[BEHAVIOUR] += 1
    # Level 4: a service indicator linked to one course and to the workshop.
    results = 0
    if hr is not None and session.scalar(sa.select(sa.func.count())
                                         .select_from(EvaluationResult)) == 0:
        viewer = service.viewer_for(hr)
        year = utcnow().year
        targets = session.execute(sa.select(Evaluation.course_id, Evaluation.training_id)
                                  .distinct().order_by(Evaluation.course_id)).all()
        course_id = next((c for c, _t in targets if c is not None), None)
        training_id = next((t for _c, t in targets if t is not None), None)
        if course_id is not None:
            service.add_result(viewer, service.subject("course", course_id),
                               indicator="Indeks Kepuasan Masyarakat (IKM) unit layanan",
                               unit="poin", baseline=76.4, value=81.9,
                               measured_on=dt.date(year, 6, 30),
                               note="Survei kepuasan semester I, sesudah pelatihan petugas.")
            results += 1
        if training_id is not None:
            service.add_result(viewer, service.subject("training", training_id),
                               indicator="Dokumen AKPK OPD diserahkan tepat waktu",
                               unit="%", baseline=45, value=80,
                               measured_on=dt.date(year, 3, 31),
                               note="Persentase OPD yang menyerahkan AKPK sebelum tenggat.")
            results += 1
    session.flush()
    boss_note = ""
    if learner is not None:
        from lms.competency.service import supervisors_of

        bosses = supervisors_of(learner)
        boss_note = f" The demo learner's supervisor is {bosses[0].email}." if bosses else ""
    return (f"Evaluation: {answered[REACTION]} reaction surveys and {answered[BEHAVIOUR]} "
            f"supervisor follow-ups answered, {counts['opened']} follow-ups opened, "
            f"{results} results linked.{boss_note}")
