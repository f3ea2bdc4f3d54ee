"""Administration → Certificates: who issues the certificates of each Pemda (agency,
logo, signatory), with a sample certificate to check the result (admins only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.courses import certificates
from lms.courses.models import Completion
from lms.db import get_session
from lms.errors import LmsError
from lms.people.auth import role_required
from lms.people.models import OrgUnit, Role, User

issuers_bp = Blueprint("certificate_issuers", __name__, url_prefix="/admin/certificates")


class CsrfForm(FlaskForm):
    """The CSRF token of a hand-built form."""


def _unit(key: str) -> OrgUnit | None:
    """``default`` (the installation) or the id of a Pemda (a root org unit)."""
    if key == "default":
        return None
    if not key.isdigit() or len(key) > 12:
        abort(404)
    unit = get_session().get(OrgUnit, int(key))
    if unit is None or unit.parent_id is not None:
        abort(404)
    return unit


def _entries() -> list[dict[str, Any]]:
    pemdas = certificates.pemdas()
    units: list[OrgUnit | None] = list(pemdas) if len(pemdas) == 1 else [None, *pemdas]
    return [{"key": "default" if u is None else str(u.id), "unit": u,
             "row": certificates.issuer_row(u)} for u in units]


@issuers_bp.get("/")
@role_required(Role.ADMIN)
def index() -> Any:
    return render_template("courses/issuers.html", entries=_entries(), form=CsrfForm(),
                           fields=certificates.ISSUER_FIELDS)


@issuers_bp.post("/<key>")
@role_required(Role.ADMIN)
def save(key: str) -> Any:
    unit = _unit(key)
    if not CsrfForm().validate_on_submit():
        abort(400)
    upload = request.files.get("logo")
    try:
        data = (upload.read(certificates.LOGO_MAX_BYTES + 1)
                if upload and upload.filename else None)
    finally:
        for stored in request.files.values():
            stored.close()
    try:
        certificates.save_issuer(unit, {f: request.form.get(f, "") for f in
                                        certificates.ISSUER_FIELDS},
                                 logo=data, remove_logo=bool(request.form.get("remove_logo")),
                                 by=current_user._get_current_object())
    except LmsError:
        get_session().rollback()
        raise
    get_session().commit()
    flash(_("The certificate issuer is saved. Open the sample to check it."), "success")
    return redirect(url_for(".index") + f"#issuer-{key}")


@issuers_bp.get("/<key>/sample.pdf")
@role_required(Role.ADMIN)
def sample(key: str) -> Any:
    """A sample certificate as a holder in this Pemda would get it (nothing is stored)."""
    from flask import current_app

    unit = _unit(key)
    holder = User(name="Contoh Nama Pegawai, S.Kom.", nip="199001012015031001")
    completion = Completion(course_title="Contoh Pelatihan: Pelayanan Publik Prima", jp=4.0,
                            completed_at=dt.datetime.now(dt.UTC),
                            certificate_number="CONTOH-0000-0000",
                            competencies=[{"code": "M.05", "level": 2}])
    pdf = certificates.certificate_pdf(completion, holder, issuer=certificates.issuer_of(unit))
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'inline; filename="contoh-sertifikat.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
