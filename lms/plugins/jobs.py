"""Lentera's own background job kinds (see :mod:`lms.tasks`): certificate and transcript
PDFs, built with the public functions of :mod:`lms.courses.certificates`.

They are declared in the ``lms.jobs`` entry-point group like any plugin's job kind.
"""

from __future__ import annotations

import zipfile
from typing import Any

from flask_babel import gettext as _

from lms.tasks import Job, JobError


def _may_read(owner: Any, user_id: int) -> bool:
    """One's own; HR and admins only inside their reporting scope (lms.reports.scope)."""
    from lms.db import get_session
    from lms.people.models import Role, User

    if owner is None:
        return False
    if owner.id == user_id:
        return True
    if not owner.has_role(Role.HR, Role.ADMIN):
        return False
    employee = get_session().get(User, user_id)
    if employee is None:
        return False
    try:
        from lms.reports.scope import may_view_employee
    except ImportError:  # pragma: no cover - a Lentera without the reports module
        return bool(owner.has_role(Role.ADMIN))
    return bool(may_view_employee(owner, employee))


def _owner(job: Job) -> Any:
    from lms.db import get_session
    from lms.people.models import User

    return get_session().get(User, job.owner_id) if job.owner_id else None


def certificates_job(job: Job, params: dict[str, Any], progress: Any) -> Any:
    """``courses.certificates``: ``{"numbers": [...]}``; one PDF, or a zip of several."""
    from lms.courses import certificates
    from lms.db import get_session
    from lms.jp import service as jp_service
    from lms.people.models import User

    owner = _owner(job)
    numbers = [str(n) for n in params.get("numbers") or []]
    if not numbers:
        raise JobError(_("No certificate was chosen."))
    found = []
    for number in numbers:
        completion = service.completion_by_number(number)
        if completion is None or not completion.certificate_number:
            raise JobError(_("There is no certificate with number %(number)s.", number=number))
        if not _may_read(owner, completion.user_id):
            raise JobError(_("You may not download certificate %(number)s.", number=number))
        found.append(completion)
    pdfs = []
    for done, completion in enumerate(found, start=1):
        user = get_session().get(User, completion.user_id)
        assert user is not None  # a completion's user is kept (foreign key)
        pdfs.append((f"sertifikat-{completion.certificate_number}.pdf",
                     certificates.certificate_pdf(completion, user)))
        progress(95 * done / len(found), f"{done}/{len(found)}")
    if len(pdfs) == 1:
        out = job.output(pdfs[0][0])
        out.write_bytes(pdfs[0][1])
        return out
    out = job.output("sertifikat.zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in pdfs:
            archive.writestr(name, data)
    return out


def transcript_job(job: Job, params: dict[str, Any], progress: Any) -> Any:
    """``courses.transcript``: ``{"user_id": N}`` (default: the submitter); the PDF."""
    from lms.courses import certificates, service
    from lms.db import get_session
    from lms.people.models import User

    owner = _owner(job)
    user_id = params.get("user_id") or job.owner_id
    user = get_session().get(User, int(str(user_id))) if str(user_id or "").isdigit() \
        else None
    if user is None:
        raise JobError(_("That employee does not exist."))
    if not _may_read(owner, user.id):
        raise JobError(_("You may not download this learning history."))
    out = job.output(f"riwayat-belajar-{user.nip or user.id}.pdf")
    out.write_bytes(certificates.transcript_pdf(jp_service.transcript(user)))
    return out
