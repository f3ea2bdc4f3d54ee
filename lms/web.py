"""Web plumbing shared by every blueprint: extensions, locale, security headers, errors.

Module blueprints register themselves in their own ``init_app``; this module sets up what
they all rely on (CSRF, sign-in, rate limits, Babel, Bootstrap, error pages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask import (
    Flask,
    Request,
    g,
    jsonify,
    render_template,
    request,
    session,
)
from flask_babel import Babel
from flask_babel import gettext as _
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from lms.plugins import registry

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
babel = Babel()
bootstrap = Bootstrap5()

#: Paths whose responses may be framed by other pages of ours (content players).
FRAMEABLE_ENDPOINTS: set[str] = set()

#: Modules whose navigation partials the top bar includes, in menu order (see
#: templates/_nav_items.html): ``templates/<module>/_nav.html`` (the Learning menu for
#: courses, the bar itself for authoring, the Development menu for the others),
#: ``_hr_nav.html``, ``_admin_nav.html`` and ``_user_nav.html``. A missing partial adds
#: nothing, so a module not installed (or not written yet) costs nothing.
NAV_MODULES: tuple[str, ...] = (
    "courses", "authoring", "reports", "competency", "assessment", "plans", "evaluation",
    "community", "credentials", "assignments", "jp", "packages", "lti", "xapi", "forwarding",
    "mail",
)

#: Panels of the home page: functions of the signed-in user returning None (nothing to
#: show) or ``(template name, context)``. Modules add theirs with register_home_panel.
HOME_PANELS = registry.HOME_PANELS


def extend_csp(directive: str, *sources: str) -> None:
    """Allow ``sources`` for ``directive`` in this response's Content-Security-Policy.

    The hook for the few responses that must reach beyond Lentera's own origin: a page
    opened by an LTI launch may be framed by the launching platform (``frame-ancestors``;
    X-Frame-Options is then left out), and the deep-linking answer posts a form back to
    the platform (``form-action``). Everything else keeps the default policy.
    """
    extra: dict[str, list[str]] = g.setdefault("_lms_csp_extra", {})
    extra.setdefault(directive, []).extend(s for s in sources if s)


def _extend_policy(policy: str, extra: dict[str, list[str]]) -> str:
    parts = [p.strip() for p in policy.split(";") if p.strip()]
    for directive, sources in extra.items():
        allowed = " ".join(dict.fromkeys(sources))
        for i, part in enumerate(parts):
            name, _sep, value = part.partition(" ")
            if name == directive:
                value = value.replace("'none'", "").strip() or "'self'"
                parts[i] = f"{name} {value} {allowed}".strip()
                break
        else:
            parts.append(f"{directive} 'self' {allowed}")
    return "; ".join(parts)


def register_home_panel(func: Any) -> Any:
    """Add a panel to the home page (usable as a decorator); see :data:`HOME_PANELS`."""
    return HOME_PANELS.add_function(func)


def select_locale() -> str:
    """The UI language: the session's choice (set at sign-in from the user's saved
    preference, or by the language switch), else Bahasa Indonesia."""
    from flask import current_app, has_request_context

    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    # Only a user Flask-Login has already loaded: loading one here could recurse
    # (loading may flash a translated message, which asks for the locale again).
    user = g.get("_login_user")
    locale = getattr(user, "locale", None) if user is not None else None
    if locale not in languages:
        locale = session.get("locale")
    return str(locale) if locale in languages else str(default)


def _translations() -> Any:
    """The current request's translations (see :func:`init_app`).

    Kept on ``g`` with the locale they are for; Flask-Babel keeps the request's locale on
    ``g._flask_babel`` once chosen (and drops it when the locale changes, e.g. after
    signing in), so the common case is two attribute reads rather than a call of
    ``get_locale`` per string (three dozen strings a page)."""
    from flask import has_app_context
    from flask_babel import get_locale, get_translations

    if not has_app_context():
        return get_translations()
    state = g._get_current_object().__dict__  # type: ignore[attr-defined]
    cached = state.get("_lms_translations")
    babel = state.get("_flask_babel")
    if cached is not None and babel is not None \
            and getattr(babel, "babel_locale", None) is cached[0]:
        return cached[1]
    locale = get_locale()
    if cached is None or cached[0] is not locale:
        cached = g._lms_translations = (locale, get_translations())
    return cached[1]


#: The largest id or number a URL may carry: what a database integer column holds. Larger
#: values would reach the database and fail there (a 500); they are refused instead.
MAX_URL_INT = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in routes: at most :data:`MAX_URL_INT` (larger is a 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_URL_INT)
        super().__init__(map, *args, **kwargs)


def _bounded_int(value: str) -> int:
    number = int(value)
    if not -MAX_URL_INT <= number <= MAX_URL_INT:
        raise ValueError("out of range")
    return number


class BoundedArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query and form values: ``get(name, default, type=int)`` gives ``default`` for a
    number no database column holds, as it does for one that is not a number."""

    def get(  # type: ignore[override]
            self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        return super().get(key, default, _bounded_int if type is int else type)


class LmsRequest(Request):
    parameter_storage_class = BoundedArgs


def _refuse_unstorable_text() -> Any:
    """NUL characters in the path, query or form cannot be stored (PostgreSQL refuses them
    in text) and never mean anything: a clear 400 before any view sees them."""
    from lms.errors import ValidationError

    def bad(value: str) -> bool:
        return "\x00" in value

    path = request.path
    # A NUL reaches a query value only as %00 (or sent raw): the query is parsed only then.
    query = request.query_string
    if bad(path) or ((b"%00" in query or b"\x00" in query) and any(
            bad(k) or any(bad(v) for v in vs) for k, vs in request.args.lists())):
        raise ValidationError(_("The address contains a NUL character, which is not "
                                "allowed."))
    if path.startswith("/xapi"):
        return None  # the LRS checks its own bodies (lms.xapi.validation)
    form = request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
    if form and any(bad(k) or any(bad(v) for v in vs) for k, vs in request.form.lists()):
        raise ValidationError(_("The form contains a NUL character, which is not allowed."))
    return None


def init_app(app: Flask) -> None:
    app.request_class = LmsRequest
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(_refuse_unstorable_text)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the sign-in page explains itself
    login_manager.session_protection = "basic"
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies > 0:
        # Behind a load balancer the TCP peer is the proxy: take the client's address and
        # scheme from the headers the trusted proxies set (and no more hops than that).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies)
    from lms.i18n import translation_directories

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=";".join(translation_directories()),
    )
    bootstrap.init_app(app)
    from lms import i18n

    i18n.init_app(app)
    # Templates call gettext a few dozen times per page; Flask-Babel looks up its domain,
    # locale and catalog cache on every call. Take the catalog once per request (and
    # again only if the locale changes, e.g. after signing in).
    # (jinja2.ext.i18n, which Flask-Babel enables, adds this method to the environment.)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )

    # Who a session's user is: lms.people sets login_manager.user_loader in its init_app.
    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        from flask import flash, redirect, url_for

        if _wants_json():
            return jsonify(error="unauthorized", message=_("Sign in first.")), 401
        flash(_("Please sign in to open that page."), "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    from lms.i18n import language_name

    app.add_template_filter(language_name, "language_name")
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(Exception, _unexpected_error)
    _register_domain_errors(app)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith(("/api/", "/xapi/")) or (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


# No inline scripts anywhere: JS lives in static/ modules. Styles allow the ``style``
# attribute because progress bars set their width with it.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; ")
_CSP_FRAMEABLE = _CSP + "frame-ancestors 'self'"
_CSP_NOT_FRAMEABLE = _CSP + "frame-ancestors 'none'"
#: The LRS answers JSON and stored documents, never a page: nothing in them may load or
#: run anything, nor be framed (a State document is whatever content stored).
_CSP_LRS = "default-src 'none'; frame-ancestors 'none'; sandbox"


def add_missing_headers(headers: Any, defaults: Iterable[tuple[str, str]]) -> None:
    """``headers.setdefault`` for each of ``defaults`` in one pass: werkzeug's setdefault
    compares every header's lower-cased name on each call, which for the dozen headers
    every response gets cost more than an LRS statement's validation."""
    present = {key.lower() for key, _value in headers.items()}
    for key, value in defaults:
        if key.lower() not in present:
            headers.add(key, value)


def _security_headers(response: Any) -> Any:
    headers = response.headers
    frameable = request.endpoint in FRAMEABLE_ENDPOINTS
    if frameable:
        policy = _CSP_FRAMEABLE
    elif request.blueprint == "xapi":
        policy = _CSP_LRS
    else:
        policy = _CSP_NOT_FRAMEABLE
    defaults = [("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "strict-origin-when-cross-origin"),
                ("Content-Security-Policy", policy)]
    if not frameable:
        defaults.append(("X-Frame-Options", "DENY"))
    if request.is_secure:
        defaults.append(("Strict-Transport-Security", "max-age=31536000"))
    add_missing_headers(headers, defaults)
    extra = g.get("_lms_csp_extra")
    if extra:
        headers["Content-Security-Policy"] = _extend_policy(
            headers["Content-Security-Policy"], extra)
        if "frame-ancestors" in extra:
            headers.pop("X-Frame-Options", None)
    return response


def nav_partials(kind: str) -> list[str]:
    """The navigation partials ``templates/<module>/<kind>.html`` that exist, for the
    modules of :data:`NAV_MODULES` in menu order (``kind``: ``_nav``, ``_hr_nav``,
    ``_admin_nav`` or ``_user_nav``).

    Every page's top bar includes them. An ``{% include ... ignore missing %}`` of a
    partial a module does not have is not cached by Jinja: it asks every template loader
    (the app's and each blueprint's folder) again on every page, over a hundred file
    lookups a page. Templates do not come and go while the app runs, so the answer is kept
    per app (and looked up afresh when templates reload, as in development).
    """
    from flask import current_app
    from jinja2 import TemplateNotFound

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    env = app.jinja_env
    found: dict[str, list[str]] = app.extensions.setdefault("lms_nav_partials", {})
    names = found.get(kind)
    if names is None or env.auto_reload:
        names = []
        for module in NAV_MODULES:
            name = f"{module}/{kind}.html"
            try:
                env.get_template(name)
            except TemplateNotFound:
                continue
            names.append(name)
        found[kind] = names
    return names


def _template_globals() -> dict[str, Any]:
    from flask import current_app
    from flask_babel import get_locale

    return {
        "languages": current_app.config["LANGUAGES"],
        "current_locale": str(get_locale()),
        "nav_modules": NAV_MODULES,
        "nav_partials": nav_partials,
        "nav_items": nav_items,
    }


#: Rendered top-bar menus kept per process (see :func:`nav_items`); cleared when full.
_NAV_CACHE_SIZE = 4096


def nav_items() -> Markup:
    """The signed-in user's top-bar menus (``templates/_nav_items.html``), rendered once
    per process for each combination of what they show: the UI language, the page's
    endpoint (the active entry), the address prefix, the user's roles and whether the user
    has a NIP. Those are everything the menu and the modules' partials read (the partials
    are for :data:`NAV_MODULES`, Lentera's own modules; a partial that reads anything else
    must be added to the key). Rendering them took an eighth of a page's time: two dozen
    includes, url_for and gettext calls, the same for every page of a role.

    Rendered afresh on every page when templates reload (development)."""
    from flask import current_app
    from flask_babel import get_locale
    from flask_login import current_user

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    key = (str(get_locale()), request.endpoint or "", request.script_root,
           frozenset(user.roles), bool(user.nip))
    cache: dict[Any, Markup] = app.extensions.setdefault("lms_nav_items", {})
    html = cache.get(key)
    if html is None or app.jinja_env.auto_reload:
        html = Markup(render_template("_nav_items.html"))
        if len(cache) >= _NAV_CACHE_SIZE:
            cache.clear()
        cache[key] = html
    return html


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if _wants_json():
        return jsonify(error=exc.name, message=exc.description), code
    template = (
        f"errors/{code}.html" if code in (400, 403, 404, 405, 413, 429) else "errors/generic.html"
    )
    return render_template(template, error=exc), code


def _csrf_error(exc: CSRFError) -> Any:
    message = _("The form expired or was sent from elsewhere. Reload the page and try again.")
    if _wants_json():
        return jsonify(error="csrf", message=message), 400
    return render_template("errors/400.html", message=message), 400


def _unexpected_error(exc: Exception) -> Any:
    from flask import current_app

    if isinstance(exc, HTTPException):
        return _http_error(exc)
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    _rollback()
    if _wants_json():
        return jsonify(error="internal", message=_("Something went wrong on our side.")), 500
    return render_template("errors/500.html"), 500


def _register_domain_errors(app: Flask) -> None:
    from lms.errors import LmsError

    @app.errorhandler(LmsError)
    def domain_error(exc: LmsError) -> Any:
        _rollback()
        if _wants_json():
            return jsonify(
                error=type(exc).__name__, message=str(exc.message), field=exc.field
            ), exc.status
        template = (
            f"errors/{exc.status}.html" if exc.status in (400, 403, 404) else "errors/400.html"
        )
        return render_template(template, message=str(exc.message)), exc.status


def _rollback() -> None:
    session = g.get("_lms_session")
    if session is not None:
        session.rollback()


class Page:
    """One page of a query's results, for tables with pagination."""

    def __init__(self, items: list[Any], page: int, per_page: int, total: int):
        self.items, self.page, self.per_page, self.total = items, page, per_page, total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Any, page: int, per_page: int = 25) -> Page:
    """Run ``query`` (a SELECT of one entity) for one page, counting the total."""
    import sqlalchemy as sa

    from lms.db import get_session

    session = get_session()
    page = max(1, page)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total or 0)


def safe_next_url(target: str | None, fallback: str) -> str:
    r"""``target`` when it is a path on this site (no open redirects), else ``fallback``.

    Browsers drop tabs and line breaks anywhere in a URL and read a backslash as a slash,
    so ``/\t/evil.example`` or ``/\\evil.example`` would leave the site as
    ``//evil.example``: any whitespace, control character or backslash refuses the target.
    """
    from urllib.parse import urlsplit

    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def form_date(name: str) -> dt.date | None:
    """The ISO date (YYYY-MM-DD) a form sent in field ``name``; None when left empty; a
    clear ValidationError for anything else."""
    from lms.errors import ValidationError

    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(_("Give the date as YYYY-MM-DD."), field=name) from None


def select_choices(pairs: Any) -> list[Any]:
    """WTForms select choices from ``(value, label)`` pairs (tuples are deprecated there)."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]
