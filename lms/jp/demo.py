"""Demo data of the JP module: learning two colleagues of the demo learner submitted, one
waiting for their supervisor and one confirmed and waiting for HR, so the supervisor's and
HR's pages have something to decide. The demo learner's own submission is left for a first
try in the browser. Loading again adds nothing."""

from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from lms.competency import service as competency
from lms.db import get_session
from lms.jp import submissions
from lms.jp.models import JpSubmission
from lms.people.models import User

LEARNER = "learner@demo.lentera.local"


def _certificate() -> FileStorage:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, "SERTIFIKAT - contoh untuk demo Lentera")
    pdf.save()
    buffer.seek(0)
    return FileStorage(stream=buffer, filename="sertifikat.pdf", content_type="application/pdf")


def load_demo() -> str:
    session = get_session()
    if session.scalar(sa.select(JpSubmission.id).limit(1)) is not None:
        return "JP: demo submissions exist already."
    learner = session.scalar(sa.select(User).where(User.email == LEARNER))
    if learner is None or learner.position is None:
        return "JP: no demo people; skipped."
    today = dt.date.today()
    start = max(dt.date(today.year, 1, 2), today - dt.timedelta(days=20))
    made: list[JpSubmission] = []
    for person in competency.search_employees("", limit=60):
        if len(made) >= 2:
            break
        supervisors = competency.supervisors_of(person)
        if person.id == learner.id or not supervisors or not person.nip:
            continue
        spec = submissions.SubmissionSpec(
            title=("Webinar Keamanan Informasi Pemerintah" if not made
                   else "Coaching Penyusunan SKP"),
            type_id=9 if not made else 14, provider="BSSN" if not made else "Kepala Bidang",
            start_date=start, end_date=start, hours=4 if not made else 3,
            certificate_number=f"DEMO-JP-{person.nip[-6:]}-{len(made) + 1}")
        submission = submissions.submit(person, spec, _certificate())
        if made and submission.status.value == "submitted":
            submissions.confirm(submission, supervisors[0])
        made.append(submission)
    return f"JP: {len(made)} demo submissions."
