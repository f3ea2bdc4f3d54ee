"""A learning program's certificate (PDF) and Open Badge, issued for each
:class:`ProgramCompletion` (a recertification is a new completion with a new number).

The PDF is the course certificate's (:func:`lms.courses.certificates.certificate_pdf`: the
holder's Pemda as issuer and signatory, embedded fonts, QR code to ``/verify/<number>``);
the badge is an ``OpenBadgeCredential`` signed with the course badges' key
(:func:`lms.credentials.badges.sign`), so the same verifiers accept it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lms.assignments.models import Program, ProgramCompletion
from lms.db import get_session
from lms.people.models import User


@dataclass
class ProgramCertificate:
    """What the certificate prints and the verification page shows (the attributes the
    course certificate reads from a course completion)."""

    completion: ProgramCompletion
    program: Program
    user: User
    jp: float
    competencies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def certificate_number(self) -> str:
        return self.completion.certificate_number

    @property
    def course_title(self) -> str:
        return self.program.title

    @property
    def completed_at(self) -> dt.datetime:
        return self.completion.completed_at

    @property
    def expires_at(self) -> dt.datetime | None:
        return self.completion.expires_at


def by_number(number: str) -> ProgramCertificate | None:
    from lms.assignments.service import program_jp

    session = get_session()
    completion = session.scalar(sa.select(ProgramCompletion).where(
        ProgramCompletion.certificate_number == number[:40]))
    if completion is None:
        return None
    program = session.get(Program, completion.program_id)
    user = session.get(User, completion.user_id)
    if program is None or user is None:
        return None
    return ProgramCertificate(completion, program, user, float(program_jp(program)))


def exists(number: str) -> bool:
    return get_session().scalar(sa.select(ProgramCompletion.id).where(
        ProgramCompletion.certificate_number == number[:40])) is not None


def pdf(cert: ProgramCertificate) -> bytes:
    from lms.courses.certificates import certificate_pdf

    return certificate_pdf(cert, cert.user, what="program pembelajaran")  # type: ignore[arg-type]


def credential(cert: ProgramCertificate, *, with_status: bool = True) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` of a program completion (the course badge's
    shape: hashed e-mail and NIP identifiers, JP as credits, the revocation entry)."""
    from lms.credentials import badges

    base = badges.base_url()
    number = cert.certificate_number
    jp_text = f"{cert.jp:g}".replace(".", ",")
    ach_id = f"{base}/verify/{number}#program-{cert.program.id}"
    identifiers = []
    if cert.user.email:
        identifiers.append(badges._identity("emailAddress", cert.user.email.strip().lower(),
                                            number))
    if cert.user.nip:
        identifiers.append(badges._identity("ext:NIP", cert.user.nip, number))
    identifiers.append({"type": "IdentityObject", "identityHash": cert.user.name,
                        "identityType": "name", "hashed": False})
    achievement: dict[str, Any] = {
        "id": ach_id,
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": cert.program.title,
        "description": cert.program.description or
        f"Program pembelajaran {cert.program.title}.",
        "criteria": {"narrative": (
            f'Menyelesaikan program pembelajaran "{cert.program.title}" di Lentera '
            f"({jp_text} JP) menurut aturan penyelesaiannya.")},
        "creditsAvailable": cert.jp,
        "inLanguage": "id",
        "humanCode": f"program-{cert.program.id}",
        "image": {"id": f"{base}/static/img/lentera.svg", "type": "Image"},
    }
    out: dict[str, Any] = {
        "@context": [badges.VC_CONTEXT, badges.OB_CONTEXT],
        "id": f"{base}/verify/{number}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Sertifikat {cert.program.title}",
        "description": f"Sertifikat nomor {number}.",
        "issuer": badges.issuer_profile(),
        "validFrom": badges._iso(cert.completed_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": identifiers,
            "achievement": achievement,
            "creditsEarned": cert.jp,
            "result": [{"type": ["Result"], "status": "Completed"}],
        },
    }
    if cert.expires_at is not None:
        out["validUntil"] = badges._iso(cert.expires_at)
    if with_status:
        from lms.credentials.status import status_entry

        out["credentialStatus"] = status_entry(number)
    return out


def signed_badge(cert: ProgramCertificate) -> str:
    from lms.credentials.badges import sign

    return sign(credential(cert))


def verify_page(number: str) -> Any:
    """``/verify/<number>`` for a program certificate (None: not one of ours)."""
    from flask import render_template

    from lms.courses.certificates import issuer_for

    cert = by_number(number)
    if cert is None:
        return None
    return render_template("assignments/verify.html", cert=cert, user=cert.user,
                           issuer=issuer_for(cert.user))
