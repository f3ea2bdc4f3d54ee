"""LTI pages: the tool's endpoints platforms call (``/lti/...``) and the admin pages
(``/admin/lti/...``)."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user

from lms.db import get_session
from lms.errors import LmsError
from lms.lti import ags, deeplink, keys, registration, roster, service
from lms.lti import launch as lti_launch
from lms.lti import net as lti_net
from lms.lti.forms import ActionForm, InviteForm, PlatformForm
from lms.lti.models import (
    FAILED,
    SCORE_STATUSES,
    LtiBinding,
    LtiContext,
    LtiMember,
    LtiPlatform,
    LtiResourceLink,
    LtiScorePost,
    LtiUserLink,
)
from lms.people.auth import role_required
from lms.people.models import Role
from lms.web import extend_csp, paginate

tool_bp = Blueprint("lti", __name__, url_prefix="/lti")
admin_bp = Blueprint("lti_admin", __name__, url_prefix="/admin/lti")

#: Session key of a sign-in made by an LTI launch: the platform's id. Such sessions may be
#: framed by that platform, and their cookie is SameSite=None; Secure (see lms.lti).
SESSION_KEY = "lti_platform"
STATE_COOKIE = "lti_state_"


def state_cookie_name(state: str) -> str:
    return STATE_COOKIE + hashlib.sha256(state.encode()).hexdigest()[:16]


def allow_platform_frames(platform: LtiPlatform | None) -> None:
    """Let ``platform`` frame this response (nothing for an unknown or inactive one)."""
    if platform is not None and platform.active:
        extend_csp("frame-ancestors", *service.frame_origins(platform))


def _refused(exc: lti_launch.LaunchRefused) -> Any:
    get_session().rollback()
    allow_platform_frames(exc.platform)
    return render_template("lti/refused.html", message=str(exc.message)), 403


# --- the tool's endpoints -------------------------------------------------------------


@tool_bp.get("/jwks")
def jwks() -> Any:
    """Lentera's public key set (platforms verify Lentera's signatures with it)."""
    data = keys.jwks()
    get_session().commit()  # the first request makes the first key
    response = jsonify(data)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@tool_bp.get("/config.json")
def tool_configuration() -> Any:
    """Lentera's registration document (what Dynamic Registration sends), for platforms
    configured from JSON."""
    return jsonify(service.registration_document())


@tool_bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """OIDC third-party initiated login (the platform's first request)."""
    params = request.form if request.method == "POST" else request.args
    try:
        started = lti_launch.begin_login(params)
    except lti_launch.LaunchRefused as exc:
        return _refused(exc)
    get_session().commit()
    response = redirect(started.url)
    # Binds the login to this browser; SameSite=None so it comes back with the platform's
    # cross-site form post (browsers require Secure with it; see docs/lti.md on http).
    response.set_cookie(state_cookie_name(started.state), started.state,
                        max_age=int(lti_launch.STATE_TTL.total_seconds()), path="/lti/",
                        secure=True, httponly=True, samesite="None")
    return response


@tool_bp.post("/launch")
def launch() -> Any:
    """The platform's signed launch (``id_token`` and ``state``, posted by the browser)."""
    state = request.form.get("state") or ""
    cookie_name = state_cookie_name(state)
    try:
        validated = lti_launch.validate_launch(request.form,
                                                request.cookies.get(cookie_name))
        if validated.message_type == "LtiDeepLinkingRequest":
            token = deeplink.begin(validated)
            get_session().commit()
            return redirect(url_for(".deep_link", token=token))
        entry = lti_launch.enter(validated)
        get_session().commit()
    except lti_launch.LaunchRefused as exc:
        return _refused(exc)
    login_user(entry.user)
    session[SESSION_KEY] = validated.platform.id
    response = redirect(entry.url)
    response.delete_cookie(cookie_name, path="/lti/", secure=True, httponly=True,
                           samesite="None")
    allow_platform_frames(validated.platform)
    return response


@tool_bp.route("/deep-link/<token>", methods=["GET", "POST"])
def deep_link(token: str) -> Any:
    """The content picker of a deep-linking request (addressed by its token)."""
    try:
        row = deeplink.request_for(token)
    except LmsError as exc:
        return render_template("lti/refused.html", message=str(exc.message)), 404
    allow_platform_frames(row.platform)
    error = None
    if request.method == "POST":
        try:
            answer = deeplink.respond(row, request.form.getlist("items"))
        except LmsError as exc:
            get_session().rollback()
            error = str(exc.message)
        else:
            get_session().commit()
            extend_csp("form-action", lti_net.origin(answer.return_url))
            return render_template("lti/deep_link_return.html", answer=answer,
                                   platform=row.platform)
    text = request.args.get("q", "")[:100]
    courses = deeplink.catalog(text)
    return render_template("lti/deep_link.html", row=row, courses=courses, q=text,
                           error=error), (400 if error else 200)


@tool_bp.route("/register/<token>", methods=["GET", "POST"])
def register(token: str) -> Any:
    """LTI Dynamic Registration: the platform opens this with its configuration address."""
    try:
        invite = registration.invite_for(token)
    except LmsError as exc:
        return render_template("lti/refused.html", message=str(exc.message)), 404
    source = request.form if request.method == "POST" else request.args
    config_url = str(source.get("openid_configuration") or "")[:2000]
    reg_token = str(source.get("registration_token") or "")
    try:
        config = registration.read_configuration(config_url)
    except LmsError as exc:
        return render_template("lti/register.html", error=str(exc.message), config=None,
                               token=token), 400
    extend_csp("frame-ancestors", *config.origins)
    if request.method == "POST":
        try:
            platform = registration.register(invite, config, reg_token)
        except LmsError as exc:
            get_session().rollback()
            return render_template("lti/register.html", error=str(exc.message),
                                   config=config, token=token, reg_token=reg_token), 400
        get_session().commit()
        return render_template("lti/registered.html", platform=platform)
    return render_template("lti/register.html", config=config, token=token,
                           reg_token=reg_token, config_url=config_url, error=None,
                           document=service.registration_document())


# --- admin pages ----------------------------------------------------------------------


@admin_bp.get("/")
@role_required(Role.ADMIN)
def index() -> Any:
    session_ = get_session()
    platforms = service.list_platforms()
    launches = dict(session_.execute(
        sa.select(LtiUserLink.platform_id, sa.func.count()).group_by(LtiUserLink.platform_id)
    ).all())
    failed = dict(session_.execute(
        sa.select(LtiResourceLink.platform_id, sa.func.count())
        .join(LtiScorePost, LtiScorePost.resource_link_id == LtiResourceLink.id)
        .where(LtiScorePost.status == FAILED).group_by(LtiResourceLink.platform_id)).all())
    current = keys.current_key()
    published = keys.published_keys()
    session_.commit()
    return render_template("lti/admin/index.html", platforms=platforms, users=launches,
                           failed=failed, urls=service.tool_urls(), keys=published,
                           current=current, counts=ags.status_counts(),
                           invites=registration.open_invites(), action=ActionForm(),
                           invite_form=InviteForm(),
                           origins={p.id: service.frame_origins(p) for p in platforms})


def _apply(form: PlatformForm, platform: LtiPlatform | None) -> LtiPlatform | None:
    try:
        return service.save_platform(
            platform, name=form.name.data or "", issuer=form.issuer.data or "",
            client_id=form.client_id.data or "", auth_url=form.auth_url.data or "",
            jwks_url=form.jwks_url.data or "", token_url=form.token_url.data or "",
            deployment_ids=form.deployment_ids.data or "",
            frame_origins=form.frame_origins.data or "", match_by=form.match_by.data or "",
            nip_claim=form.nip_claim.data or "", create_users=form.create_users.data,
            grant_trainer=form.grant_trainer.data, active=form.active.data,
            token_audience=platform.token_audience if platform else "",
            require_deployment=platform is None or bool(platform.deployments)
            or bool((form.deployment_ids.data or "").strip()))
    except LmsError as exc:
        get_session().rollback()
        field = getattr(form, str(exc.field or ""), None) or form.name
        field.errors = [*field.errors, str(exc.message)]
        return None


@admin_bp.route("/platforms/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def platform_new() -> Any:
    form = PlatformForm()
    if form.validate_on_submit():
        platform = _apply(form, None)
        if platform is not None:
            get_session().commit()
            flash(_("Platform registered."), "success")
            return redirect(url_for(".platform", platform_id=platform.id))
    status = 400 if request.method == "POST" else 200
    return render_template("lti/admin/form.html", form=form, platform=None,
                           urls=service.tool_urls()), status


@admin_bp.route("/platforms/<int:platform_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def platform_edit(platform_id: int) -> Any:
    platform = service.get_platform(platform_id)
    form = PlatformForm(obj=platform)
    if request.method == "GET":
        form.deployment_ids.data = "\n".join(platform.deployment_ids)
        form.frame_origins.data = "\n".join(platform.frame_origins.split())
    if form.validate_on_submit() and _apply(form, platform) is not None:
        get_session().commit()
        flash(_("Platform saved."), "success")
        return redirect(url_for(".platform", platform_id=platform.id))
    status = 400 if request.method == "POST" else 200
    return render_template("lti/admin/form.html", form=form, platform=platform,
                           urls=service.tool_urls()), status


@admin_bp.get("/platforms/<int:platform_id>")
@role_required(Role.ADMIN)
def platform(platform_id: int) -> Any:
    platform = service.get_platform(platform_id)
    session_ = get_session()
    contexts = list(session_.scalars(sa.select(LtiContext).where(
        LtiContext.platform_id == platform.id).order_by(LtiContext.title).limit(200)))
    links = list(session_.scalars(sa.select(LtiResourceLink).where(
        LtiResourceLink.platform_id == platform.id).order_by(LtiResourceLink.id.desc())
        .limit(200)))
    learners = dict(session_.execute(
        sa.select(LtiBinding.resource_link_id, sa.func.count())
        .where(LtiBinding.resource_link_id.in_([k.id for k in links]))
        .group_by(LtiBinding.resource_link_id)).all()) if links else {}
    members = dict(session_.execute(
        sa.select(LtiMember.context_id, sa.func.count())
        .where(LtiMember.context_id.in_([x.id for x in contexts]))
        .group_by(LtiMember.context_id)).all()) if contexts else {}
    return render_template("lti/admin/platform.html", platform=platform, contexts=contexts,
                           links=links, learners=learners, members=members,
                           origins=service.frame_origins(platform), action=ActionForm())


@admin_bp.post("/platforms/<int:platform_id>/delete")
@role_required(Role.ADMIN)
def platform_delete(platform_id: int) -> Any:
    platform = service.get_platform(platform_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    service.delete_platform(platform)
    get_session().commit()
    flash(_("Platform removed. Accounts made by its launches are kept."), "success")
    return redirect(url_for(".index"))


@admin_bp.route("/contexts/<int:context_id>/roster", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def context_roster(context_id: int) -> Any:
    context = get_session().get(LtiContext, context_id)
    if context is None:
        abort(404)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            counts = roster.pull_roster(context)
        except LmsError as exc:
            get_session().rollback()
            flash(str(exc.message), "danger")
        except (lti_net.PlatformError, ags.PermanentError) as exc:
            get_session().rollback()
            flash(_("The platform did not give the roster: %(error)s", error=str(exc)),
                  "danger")
        else:
            get_session().commit()
            flash(_("Roster pulled: %(n)d members, %(linked)d with a Lentera account.",
                    n=counts["members"], linked=counts["linked"]), "success")
        return redirect(url_for(".context_roster", context_id=context.id))
    members = list(get_session().scalars(sa.select(LtiMember).where(
        LtiMember.context_id == context.id).order_by(LtiMember.name).limit(2000)))
    platform = service.get_platform(context.platform_id)
    return render_template("lti/admin/roster.html", context=context, platform=platform,
                           members=members, action=ActionForm())


@admin_bp.post("/invites")
@role_required(Role.ADMIN)
def invite_new() -> Any:
    form = InviteForm()
    if not form.validate_on_submit():
        flash(_("A registration link is valid for 1 hour to 30 days."), "danger")
        return redirect(url_for(".index"))
    _row, url = registration.create_invite(current_user, float(form.hours.data or 24))
    get_session().commit()
    return render_template("lti/admin/invite.html", url=url, hours=form.hours.data)


@admin_bp.post("/keys/rotate")
@role_required(Role.ADMIN)
def keys_rotate() -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    row = keys.rotate()
    get_session().commit()
    flash(_("New signing key %(kid)s. The previous key stays published for %(days)s days.",
            kid=row.kid[:12], days=current_app.config.get("LTI_KEY_GRACE_DAYS", 7)),
          "success")
    return redirect(url_for(".index"))


@admin_bp.get("/scores")
@role_required(Role.ADMIN)
def scores() -> Any:
    status = request.args.get("status", "")
    query = sa.select(LtiScorePost).order_by(LtiScorePost.id.desc())
    if status in SCORE_STATUSES:
        query = query.where(LtiScorePost.status == status)
    else:
        status = ""
    page = paginate(query, request.args.get("page", 1, type=int) or 1)
    return render_template("lti/admin/scores.html", page=page, status=status,
                           statuses=SCORE_STATUSES, counts=ags.status_counts(),
                           action=ActionForm())


@admin_bp.post("/scores/<int:post_id>/retry")
@role_required(Role.ADMIN)
def score_retry(post_id: int) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    if ags.retry(post_id) is None:
        flash(_("This score cannot be sent again."), "warning")
    else:
        flash(_("The score will be sent again."), "success")
    get_session().commit()
    return redirect(url_for(".scores", status=request.args.get("status") or None))


@admin_bp.post("/scores/retry-failed")
@role_required(Role.ADMIN)
def scores_retry_failed() -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    count = ags.retry_failed()
    get_session().commit()
    flash(_("%(n)d scores will be sent again.", n=count), "success")
    return redirect(url_for(".scores"))
