"""Pages and documents of portable credentials: the learner's badges, the public badge
page, the issuer's keys (DID document, JWK set), and CASE exchange of frameworks."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.competency import service as competency_service
from lms.credentials import badges, case, status
from lms.credentials.forms import CaseImportForm, VerifyForm
from lms.credentials.keys import did_document, key_id
from lms.db import get_session
from lms.errors import LmsError, NotFound
from lms.people.auth import role_required
from lms.people.models import Role, User

credentials_bp = Blueprint("credentials", __name__, url_prefix="/credentials")
case_bp = Blueprint("case", __name__, url_prefix=case.CASE_PATH)

JSON_LD = "application/ld+json"


def _json(
    data: Any,
    *,
    mimetype: str = "application/json",
    filename: str | None = None,
    cache: str = "public, max-age=300",
) -> Response:
    response = current_app.response_class(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", mimetype=mimetype
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = cache
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _own_completion(number: str) -> Any:
    completion = badges.completion_of(number)
    if completion is None:
        abort(404)
    if completion.user_id != current_user.id and not current_user.has_role(Role.HR, Role.ADMIN):
        abort(403)
    return completion


# --- the learner ---------------------------------------------------------------------------


@credentials_bp.get("/")
@login_required
def mine() -> Any:
    from lms.courses.service import completions_of

    completions = [c for c in completions_of(current_user) if c.certificate_number]
    return render_template(
        "credentials/mine.html",
        completions=completions,
        share_url=badges.credential_id,
        issuer=badges.issuer_profile(),
    )


@credentials_bp.get("/badges/<number>.jwt")
@login_required
def badge_jwt(number: str) -> Any:
    completion = _own_completion(number)
    _credential, token = badges.badge_for(completion)
    get_session().commit()  # the status-list index given on first issue
    response = current_app.response_class(token, mimetype="application/vc+jwt")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="badge-{completion.certificate_number}.jwt"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@credentials_bp.get("/badges/<number>.json")
@login_required
def badge_json(number: str) -> Any:
    completion = _own_completion(number)
    credential, _token = badges.badge_for(completion)
    get_session().commit()
    return _json(
        credential,
        mimetype=JSON_LD,
        cache="private, no-store",
        filename=f"badge-{completion.certificate_number}.json",
    )


# --- public --------------------------------------------------------------------------------


@credentials_bp.route("/badges/<number>", methods=["GET", "POST"])
def badge(number: str) -> Any:
    """Public page of a badge: what it proves, checked against the platform key; anyone
    may also check a badge file here."""
    completion = badges.completion_of(number)
    credential = None
    signature_ok = False
    if completion is not None:
        credential, token = badges.badge_for(completion)
        get_session().commit()
        try:
            badges.verify(token)
            signature_ok = True
        except badges.BadgeError:
            signature_ok = False
    form = VerifyForm()
    checked = _check_form(form)
    status = 200 if completion is not None else 404
    user = get_session().get(User, completion.user_id) if completion is not None else None
    return render_template(
        "credentials/badge.html",
        number=number,
        completion=completion,
        credential=credential,
        signature_ok=signature_ok,
        holder=user,
        form=form,
        checked=checked,
        issuer=badges.issuer_profile(),
    ), status


@credentials_bp.route("/verify", methods=["GET", "POST"])
def verify() -> Any:
    form = VerifyForm()
    checked = _check_form(form)
    return render_template(
        "credentials/verify.html", form=form, checked=checked, issuer=badges.issuer_profile()
    )


def _check_form(form: VerifyForm) -> dict[str, Any] | None:
    if request.method != "POST":
        return None
    if not form.validate_on_submit():
        return {"ok": False, "reason": _("Paste a badge or choose a .jwt file.")}
    token = (form.token.data or "").strip()
    if form.file.data:
        try:
            token = form.file.data.read(200_000).decode("utf-8").strip()
        except UnicodeDecodeError:
            return {"ok": False, "reason": _("The file is not a badge (.jwt text).")}
    if not token:
        return {"ok": False, "reason": _("Paste a badge or choose a .jwt file.")}
    try:
        payload = badges.verify(token)
    except badges.BadgeError as exc:
        return {"ok": False, "reason": _("This badge is not valid: %(reason)s.", reason=str(exc))}
    number = str(payload.get("jti", "")).rsplit("/", 1)[-1]
    return {
        "ok": True,
        "payload": payload,
        "number": number,
        "withdrawn": not (number and badges.number_stands(number)),
        "achievement": payload.get("credentialSubject", {}).get("achievement", {}),
    }


@credentials_bp.get("/status/<int:list_number>")
def status_list(list_number: int) -> Any:
    """The revocation list (BitstringStatusListCredential, VC-JWT) badges point to."""
    if list_number < 1:
        abort(404)
    token = badges.sign(status.status_list_credential(list_number))
    response = current_app.response_class(token, mimetype="application/vc+jwt")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@credentials_bp.get("/did.json")
def did_json() -> Any:
    """What ``did:web:<host>:credentials`` resolves to: the issuer's public key."""
    return _json(did_document(), mimetype="application/did+json")


@credentials_bp.get("/jwks.json")
def jwks() -> Any:
    return _json(badges.public_keys(), mimetype="application/jwk-set+json")


@credentials_bp.get("/issuer")
def issuer() -> Any:
    profile = badges.issuer_profile()
    profile["@context"] = [badges.VC_CONTEXT, badges.OB_CONTEXT]
    profile["verificationKey"] = key_id()
    return _json(profile, mimetype=JSON_LD)


@credentials_bp.get("/achievements/<slug>")
def achievement(slug: str) -> Any:
    """The Achievement a course's badges carry (from the latest completion's data)."""
    import sqlalchemy as sa

    from lms.courses.models import Completion, Course

    session = get_session()
    course = session.scalar(sa.select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    completion = session.scalar(
        sa.select(Completion)
        .where(Completion.course_id == course.id)
        .order_by(Completion.completed_at.desc())
        .limit(1)
    )
    if completion is None:
        return redirect(url_for("courses.course", slug=slug))
    user = session.get(User, completion.user_id)
    if user is None:
        abort(404)
    credential = badges.build_credential(completion, user, with_status=False)
    data = credential["credentialSubject"]["achievement"]
    return _json({"@context": [badges.VC_CONTEXT, badges.OB_CONTEXT], **data}, mimetype=JSON_LD)


# --- CASE ----------------------------------------------------------------------------------


@credentials_bp.get("/frameworks")
@login_required
def frameworks() -> Any:
    items = [(fw, case.document_id(fw)) for fw in competency_service.list_frameworks()]
    can_import = current_user.has_role(Role.HR, Role.ADMIN)
    return render_template(
        "credentials/frameworks.html",
        frameworks=items,
        form=CaseImportForm() if can_import else None,
    )


@credentials_bp.get("/frameworks/<code>.case.json")
def framework_case_download(code: str) -> Any:
    try:
        framework = competency_service.get_framework(code)
    except NotFound:
        abort(404)
    return _json(case.export_package(framework), filename=f"{code}.case.json")


@credentials_bp.post("/frameworks/import")
@role_required(Role.HR)
def framework_case_import() -> Any:
    form = CaseImportForm()
    if not form.validate_on_submit():
        flash(_("Choose a CASE JSON file."), "danger")
        return redirect(url_for(".frameworks")), 400
    try:
        package = json.loads(form.file.data.read().decode("utf-8-sig"))
        framework, created, updated = case.import_package(package)
    except UnicodeDecodeError:
        get_session().rollback()
        return _import_failed(_("The file is not UTF-8 text."))
    except ValueError as exc:
        get_session().rollback()
        return _import_failed(_("The file is not valid JSON: %(error)s", error=str(exc)))
    except LmsError as exc:
        get_session().rollback()
        return _import_failed(str(exc.message))
    get_session().commit()
    flash(
        _(
            "Framework %(code)s imported from CASE: %(c)d new and %(u)d updated competencies.",
            code=framework.code,
            c=created,
            u=updated,
        ),
        "success",
    )
    return redirect(url_for(".frameworks"))


def _import_failed(message: str) -> Any:
    flash(_("Nothing was imported: %(error)s", error=message), "danger")
    items = [(fw, case.document_id(fw)) for fw in competency_service.list_frameworks()]
    return render_template(
        "credentials/frameworks.html", frameworks=items, form=CaseImportForm()
    ), 400


@case_bp.get("/CFDocuments")
def case_documents() -> Any:
    docs = [case.export_package(fw)["CFDocument"] for fw in competency_service.list_frameworks()]
    return _json({"CFDocuments": docs})


@case_bp.get("/CFDocuments/<identifier>")
def case_document(identifier: str) -> Any:
    framework = case.framework_by_document_id(identifier)
    if framework is None:
        abort(404)
    return _json(case.export_package(framework)["CFDocument"])


@case_bp.get("/CFPackages/<identifier>")
def case_package(identifier: str) -> Any:
    framework = case.framework_by_document_id(identifier)
    if framework is None:
        abort(404)
    return _json(case.export_package(framework))


@case_bp.get("/CFItems/<identifier>")
def case_item(identifier: str) -> Any:
    item = case.find_item(identifier)
    if item is None:
        abort(404)
    return _json(item)
