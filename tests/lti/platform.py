"""A real LTI 1.3 platform for the tests: the ``lti1p3platform`` package, served over HTTP.

The platform side of every exchange is that library's code: it builds and signs launch
messages (``MessageLaunch``), starts logins (``OIDCLogin``), issues access tokens for
Lentera's client assertions (``get_access_token``), validates Lentera's deep-linking
answers (``validate_deeplinking_resp``) and serves the gradebook and rosters
(``AssignmentsGradesService``, ``NamesRoleProvisioningService``). This module only wires
it to a small Flask app on 127.0.0.1 (or ``localhost``, a different site for the browser)
with an in-memory gradebook, and adds the Dynamic Registration endpoints the library does
not have, shaped like Moodle's (``mod/lti/openid-configuration.php`` and
``registration_helper::registration_to_config``).

Launch scenarios are keyed by the ``lti_message_hint``: who launches, which link, which
extra claims; a scenario may also ask the platform to misbehave (sign with a key it does
not publish, put another audience, drop claims, issue an expired token) so the forged
launches are made by the platform's own signing code, not by hand.
"""

from __future__ import annotations

import copy
import html
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, redirect, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
)
from werkzeug.serving import make_server

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def new_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class FlaskRequest(Request):
    def build_metadata(self, req: Any) -> TRequest:
        return {
            "method": req.method,
            "form_data": req.form.to_dict(),
            "get_data": req.args.to_dict(),
            "headers": req.headers,
            "content_type": req.content_type,
            "path": req.path,
            "json": req.get_json(silent=True),
        }


class PlatformConf(LTI1P3PlatformConfAbstract):
    """The platform's registration of Lentera (the tool's key set read fresh each time)."""

    def init_platform_config(self, platform: TestPlatform) -> None:  # type: ignore[override]
        self.platform = platform
        registration = (
            Registration()
            .set_iss(platform.issuer)
            .set_client_id(platform.client_id)
            .set_deployment_id(platform.deployment_id)
            .set_launch_url(platform.tool_base + "/courses/")
            .set_deeplink_launch_url(platform.tool_base + "/lti/deep-link")
            .set_oidc_login_url(platform.tool_base + "/lti/login")
            .set_platform_public_key(public_pem(platform.private_key))
            .set_platform_private_key(platform.private_key)
        )
        self._registration = registration

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        assert self._registration is not None
        return self._registration

    def get_tool_key_set(self) -> Any:
        return self.platform.tool_jwks()


class ForgingRegistration(Registration):
    """A registration that signs with another key but names the real key's id: what a
    forger who knows the platform's key id, but not its key, would produce."""

    def __init__(self, real: Registration, forged_key: str):
        self.__dict__.update(real.__dict__)
        self._real_kid = real.get_kid()
        self._platform_private_key = forged_key

    def get_kid(self) -> str | None:
        return self._real_kid


class OIDCLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> Any:
        return redirect(url)


class MessageLaunch(LTIAdvantageMessageLaunchAbstract):
    """Renders the auto-submitting form a platform sends the browser with."""

    drop: tuple[str, ...] = ()

    def get_launch_message(self, include_extra_claims: bool = True) -> dict[str, Any]:
        message = super().get_launch_message(include_extra_claims)
        for claim in self.drop:
            message.pop(claim, None)
        return message

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Any:
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(str(launch_data[name]))}">'
            for name in ("id_token", "state"))
        page = (f'<!doctype html><title>Platform</title><form id="launch" method="post" '
                f'action="{html.escape(launch_data["launch_url"])}">{fields}'
                '<button>Continue</button></form>'
                '<script>document.getElementById("launch").submit()</script>')
        return Response(page, mimetype="text/html")


class Gradebook(AssignmentsGradesService):
    def __init__(self, platform: TestPlatform, context_id: str, req: Request):
        self.platform = platform
        self.context_id = context_id
        super().__init__(req, platform.conf,
                         f"{platform.url}/ags/{context_id}/lineitems",
                         allow_creating_lineitems=True)

    def _items(self) -> list[dict[str, Any]]:
        return [i for i in self.platform.lineitems.values()
                if i["id"].startswith(f"{self.platform.url}/ags/{self.context_id}/")]

    def find_lineitems(self, page: int = 1, limit: int | None = None,
                       line_item_id: str | None = None, resource_link_id: str | None = None,
                       resource_id: str | None = None, tag: str | None = None) -> Any:
        items = [i for i in self._items()
                 if resource_link_id is None or i.get("resourceLinkId") == resource_link_id]
        return {"content": items, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> Any:
        return self.platform.lineitems[line_item_id]

    def create_lineitem(self, creation_data: Any) -> Any:
        item_id = f"{self.platform.url}/ags/{self.context_id}/lineitems/{uuid.uuid4().hex[:8]}"
        item = {**creation_data, "id": item_id}
        self.platform.lineitems[item_id] = item
        return item

    def update_lineitem(self, update_data: Any) -> Any:
        self.platform.lineitems[update_data["id"]].update(update_data)
        return self.platform.lineitems[update_data["id"]]

    def delete_lineitem(self, line_item_id: str) -> None:
        self.platform.lineitems.pop(line_item_id, None)

    def update_score(self, line_item_id: str, score: Any) -> Any:
        from lti1p3platform.score import UpdateScoreStatus

        self.platform.scores.append({"lineitem": line_item_id, **score})
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id: str, page: int = 1, limit: int | None = None,
                    user_id: str | None = None) -> Any:
        return {"content": [], "has_next": False, "next": None}


class Roster(NamesRoleProvisioningService):
    def __init__(self, platform: TestPlatform, context_id: str, req: Request):
        self.platform = platform
        self.context_id = context_id
        super().__init__(req, platform.conf, f"{platform.url}/nrps/{context_id}/memberships")

    def get_member_data_page(self, page: int = 1, limit: int | None = None,
                             role: str | None = None, since: str | None = None) -> Any:
        return {"content": self.platform.members.get(self.context_id, []), "has_next": False}

    def get_context_by_id(self) -> Context:
        return Context(id=self.context_id, label=self.context_id, title=self.context_id)


class TestPlatform:
    """A platform with Lentera registered in it, serving on ``host`` (any free port)."""

    __test__ = False

    def __init__(self, host: str = "127.0.0.1", client_id: str = "lentera-tool",
                 deployment_id: str = "deployment-1"):
        self.app = Flask("test_platform")
        self.server = make_server(host, 0, self.app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self.issuer = self.url
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.private_key = new_private_key()
        self.tool_base = ""
        self.tool_jwks: Callable[[], Any] = lambda: {"keys": []}
        self.scenarios: dict[str, dict[str, Any]] = {}
        self.lineitems: dict[str, dict[str, Any]] = {}
        self.scores: list[dict[str, Any]] = []
        self.members: dict[str, list[dict[str, Any]]] = {}
        self.deep_link_items: list[dict[str, Any]] = []
        self.deep_link_errors: list[str] = []
        self.fail_next_scores = 0
        self.registrations: list[dict[str, Any]] = []
        self.token_requests = 0
        self.conf: PlatformConf | None = None
        self._routes()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- set-up --------------------------------------------------------------------------

    def register_tool(self, tool_base: str, tool_jwks: Callable[[], Any]) -> None:
        """Lentera's addresses and key set as the platform administrator entered them."""
        self.tool_base = tool_base.rstrip("/")
        self.tool_jwks = tool_jwks
        self.conf = PlatformConf(platform=self)

    def lentera_fields(self) -> dict[str, Any]:
        """What Lentera's administrator enters about this platform."""
        return {"name": "Moodle Uji", "issuer": self.issuer, "client_id": self.client_id,
                "deployment_ids": [self.deployment_id], "auth_url": self.url + "/auth",
                "token_url": self.url + "/token", "jwks_url": self.url + "/jwks"}

    def scenario(self, target: str, *, user: dict[str, Any] | None = None,
                 roles: list[str] | None = None, link_id: str = "link-1",
                 context_id: str = "course-7", context_title: str = "Diklat Pelayanan",
                 custom: dict[str, Any] | None = None, ags: str = "lineitems",
                 deep_link: bool = False, **misbehave: Any) -> str:
        """A launch the platform will make; returns its message hint.

        ``ags``: "lineitems" (the context's line items, Lentera may create one),
        "lineitem" (a line item made for the link), or "" (no grades).
        ``misbehave``: ``forge_key``, ``claims`` (replacing claims), ``drop`` (claims to
        leave out), ``expires_in`` (seconds; negative: already expired).
        """
        hint = uuid.uuid4().hex
        self.scenarios[hint] = {
            "target": target, "user": user or {"user_id": "u-100", "full_name": "Siti Rahma",
                                               "email_address": "siti@pemda.example.go.id"},
            "roles": roles if roles is not None else [LEARNER], "link_id": link_id,
            "context_id": context_id, "context_title": context_title, "custom": custom,
            "ags": ags, "deep_link": deep_link, **misbehave,
        }
        return hint

    def start_url(self, hint: str) -> str:
        return f"{self.url}/start/{hint}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)

    # -- the platform's HTTP endpoints ---------------------------------------------------

    def _routes(self) -> None:
        app = self.app

        @app.get("/jwks")
        def jwks() -> Any:
            assert self.conf is not None
            return jsonify(self.conf.get_jwks())

        @app.get("/course/<hint>")
        def course_page(hint: str) -> Any:
            """A page of the platform course with the tool in a frame (Moodle's embed)."""
            return Response(
                "<!doctype html><html lang=id><title>Moodle Uji</title>"
                "<h1 id=platform-title>Moodle Uji: Diklat Pelayanan</h1>"
                f'<iframe name="lti" id="lti-frame" src="/start/{hint}" title="Lentera" '
                'style="width:100%;height:640px;border:1px solid #ccc"></iframe>',
                mimetype="text/html")

        @app.get("/start/<hint>")
        def start(hint: str) -> Any:
            """A user clicks a link in the platform course: third-party initiated login."""
            assert self.conf is not None
            scenario = self.scenarios[hint]
            login = OIDCLogin(FlaskRequest(request), self.conf)
            login.set_lti_message_hint(hint=hint)
            login.set_launch_url(self.tool_base + "/lti/deep-link" if scenario["deep_link"]
                                 else scenario["target"])
            return login.initiate_login(scenario["user"]["user_id"])

        @app.route("/auth", methods=["GET", "POST"])
        def auth() -> Any:
            """The authorization endpoint: checks the tool's request, signs the launch."""
            assert self.conf is not None
            params = request.values
            scenario = self.scenarios.get(params.get("lti_message_hint", ""))
            if scenario is None or params.get("login_hint") != scenario["user"]["user_id"]:
                return Response("unknown launch or user", status=403)
            if params.get("redirect_uri") != self.tool_base + "/lti/launch" or \
                    params.get("response_type") != "id_token" or params.get("scope") != "openid":
                return Response("bad authentication request", status=400)
            launch = MessageLaunch(FlaskRequest(request), self.conf)
            launch.drop = tuple(scenario.get("drop", ()))
            user = scenario["user"]
            launch.set_user_data(user["user_id"], scenario["roles"],
                                 full_name=user.get("full_name"),
                                 email_address=user.get("email_address"))
            launch.set_resource_link_claim(scenario["link_id"], title="Tautan Lentera")
            launch.set_launch_context_claim(
                scenario["context_id"],
                context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                context_title=scenario["context_title"], context_label="DPP")
            if scenario["custom"]:
                launch.set_custom_parameters_claim(scenario["custom"])
            launch.set_launch_url(scenario["target"])
            ctx = scenario["context_id"]
            if scenario["ags"] == "lineitem":
                item_id = f"{self.url}/ags/{ctx}/lineitems/{scenario['link_id']}"
                self.lineitems.setdefault(item_id, {"id": item_id, "scoreMaximum": 100,
                                                    "label": "Nilai",
                                                    "resourceLinkId": scenario["link_id"]})
                launch.set_ags(f"{self.url}/ags/{ctx}/lineitems", item_id)
            elif scenario["ags"] == "lineitems":
                launch.set_ags(f"{self.url}/ags/{ctx}/lineitems")
            launch.set_nrps(f"{self.url}/nrps/{ctx}/memberships")
            if scenario["deep_link"]:
                launch.set_dl(f"{self.url}/deep_link_return", title="Pilih konten",
                              accept_types={"ltiResourceLink"}, extra_data={"csrf": "d-1"})
            if "expires_in" in scenario:
                launch.set_id_token_expiration(scenario["expires_in"])
            if scenario.get("claims"):
                launch.set_extra_claims(copy.deepcopy(scenario["claims"]))
            if scenario.get("payload") is not None:
                return self._fixture_launch(launch, scenario)
            if scenario.get("forge_key"):
                original = self.conf._registration
                self.conf._registration = ForgingRegistration(original, new_private_key())
                try:
                    return launch.lti_launch()
                finally:
                    self.conf._registration = original
            return launch.lti_launch()

        @app.post("/token")
        def token() -> Any:
            assert self.conf is not None
            self.token_requests += 1
            try:
                return jsonify(self.conf.get_access_token(request.form.to_dict()))
            except Exception as exc:  # the library raises on a bad assertion
                return jsonify(error="invalid_client", error_description=str(exc)), 401

        def _handle(service: Any, handler: Any, **kwargs: Any) -> Any:
            try:
                return _answer(service.handle_resp(handler, **kwargs))
            except Exception as exc:  # e.g. a token this platform did not sign
                return Response(f"invalid token: {exc}", status=401)

        def _answer(response: Any) -> Any:
            body = "" if response.result is None else json.dumps(response.result)
            return Response(body, status=response.code, content_type=response.media_type)

        @app.route("/ags/<ctx>/lineitems", methods=["GET", "POST"])
        def lineitems(ctx: str) -> Any:
            service = Gradebook(self, ctx, FlaskRequest(request))
            handler = service.handle_get_lineitems if request.method == "GET" \
                else service.handle_create_lineitem
            return _handle(service, handler)

        @app.post("/ags/<ctx>/lineitems/<item>/scores")
        def scores(ctx: str, item: str) -> Any:
            if self.fail_next_scores > 0:
                self.fail_next_scores -= 1
                return Response("gradebook is busy", status=503)
            service = Gradebook(self, ctx, FlaskRequest(request))
            item_id = f"{self.url}/ags/{ctx}/lineitems/{item}"
            return _handle(service, service.handle_update_score, line_item_id=item_id)

        @app.get("/nrps/<ctx>/memberships")
        def memberships(ctx: str) -> Any:
            service = Roster(self, ctx, FlaskRequest(request))
            return _handle(service, service.handle_get_members)

        @app.post("/deep_link_return")
        def deep_link_return() -> Any:
            assert self.conf is not None
            try:
                items = self.conf.validate_deeplinking_resp(request.form.to_dict())
            except Exception as exc:
                self.deep_link_errors.append(str(exc))
                return Response(f"refused: {html.escape(str(exc))}", status=400)
            self.deep_link_items.extend(items)
            titles = "".join(f"<li>{html.escape(i.get('title', ''))}</li>" for i in items)
            return Response(f"<!doctype html><title>Platform</title><h1 id=added>"
                            f"{len(items)} added</h1><ul>{titles}</ul>", mimetype="text/html")

        # -- Dynamic Registration, as Moodle answers it ---------------------------------

        @app.get("/.well-known/openid-configuration")
        def openid_configuration() -> Any:
            return jsonify(self.openid_configuration())

        @app.post("/register")
        def register() -> Any:
            if request.headers.get("Authorization") != "Bearer reg-token-1":
                return jsonify(error="invalid registration token"), 401
            payload = request.get_json(silent=True) or {}
            problem = moodle_registration_problem(payload)
            if problem:
                return jsonify(error=problem), 400
            self.registrations.append(payload)
            config = payload["https://purl.imsglobal.org/spec/lti-tool-configuration"]
            return jsonify({
                "client_id": self.client_id,
                "token_endpoint_auth_method": "private_key_jwt",
                "response_types": ["id_token"],
                "jwks_uri": payload["jwks_uri"],
                "initiate_login_uri": payload["initiate_login_uri"],
                "grant_types": ["client_credentials", "implicit"],
                "redirect_uris": payload["redirect_uris"],
                "application_type": "web",
                "client_name": payload["client_name"],
                "scope": payload.get("scope", ""),
                "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                    "deployment_id": self.deployment_id,
                    "target_link_uri": config["target_link_uri"],
                    "domain": config["domain"],
                    "claims": ["sub", "iss", "name", "family_name", "email"],
                },
            })

    def _fixture_launch(self, launch: MessageLaunch, scenario: dict[str, Any]) -> Any:
        """A launch whose message is a published example payload, addressed to this
        registration (issuer, audience, deployment, target and nonce of this login; claims
        the example leaves out stay out) and signed by the library's signing code."""
        assert self.conf is not None
        registration = self.conf.get_registration()
        payload = copy.deepcopy(scenario["payload"])
        lti = "https://purl.imsglobal.org/spec/lti/claim/"
        rewrite = {"iss": self.issuer, "aud": self.client_id, "azp": self.client_id,
                   lti + "deployment_id": self.deployment_id,
                   lti + "target_link_uri": scenario["target"]}
        for claim, value in rewrite.items():
            if claim in payload:
                payload[claim] = value
        settings = payload.get("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings")
        if isinstance(settings, dict):
            settings["deep_link_return_url"] = self.url + "/deep_link_return"
        preflight = launch.get_preflight_response()
        if "nonce" in payload or not scenario.get("keep_nonce_out"):
            payload["nonce"] = preflight["nonce"]
        keep = scenario.get("keep") or []
        if "exp" not in keep:
            payload.pop("exp", None)
            payload.pop("iat", None)
        header = scenario.get("header")
        if header is not None:
            token = Registration.encode_and_sign(
                payload, registration.get_platform_private_key(), headers=header,
                expiration=None if "exp" in keep else 300)
        else:
            token = registration.platform_encode_and_sign(
                payload, expiration=None if "exp" in keep else 300)
        return launch.render_launch_form({"id_token": token, "state": preflight["state"],
                                          "launch_url": preflight["redirect_uri"]})

    def openid_configuration(self) -> dict[str, Any]:
        """The document Moodle's mod/lti/openid-configuration.php returns (its shape)."""
        return {
            "issuer": self.issuer,
            "token_endpoint": self.url + "/token",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.url + "/jwks",
            "authorization_endpoint": self.url + "/auth",
            "registration_endpoint": self.url + "/register",
            "scopes_supported": ["https://purl.imsglobal.org/spec/lti-ags/scope/score",
                                 "openid"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle",
                "version": "4.5",
                "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
                "placements": ["AddContentMenu"],
            },
        }


def moodle_registration_problem(payload: dict[str, Any]) -> str:
    """The checks of Moodle's ``registration_helper::registration_to_config`` ('' if fine)."""
    for key in ("response_types", "initiate_login_uri", "redirect_uris", "client_name",
                "jwks_uri", "token_endpoint_auth_method",
                "https://purl.imsglobal.org/spec/lti-tool-configuration"):
        if not payload.get(key):
            return f"missing required attribute {key}"
    config = payload["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    for key in ("domain", "target_link_uri"):
        if not config.get(key):
            return f"missing required attribute {key}"
    if "id_token" not in payload["response_types"]:
        return "invalid_response_types"
    if not isinstance(payload["redirect_uris"], list):
        return "invalid_redirect_uris"
    if payload["token_endpoint_auth_method"] != "private_key_jwt":
        return "invalid_token_endpoint_auth_method"
    if payload.get("application_type") not in (None, "", "web"):
        return "invalid_application_type"
    return ""


# --- a browser stand-in for tests without Chromium --------------------------------------

_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the first form of an HTML page."""
    match = _FORM.search(page)
    assert match is not None, page[:500]
    return html.unescape(match.group(1)), {k: html.unescape(v)
                                           for k, v in _INPUT.findall(match.group(2))}


class Browser:
    """Follows a launch between the platform (real HTTP) and Lentera (the test client),
    as a browser does: redirects, and the platform's auto-submitted form."""

    def __init__(self, client: Any, platform: TestPlatform):
        import requests

        self.client = client
        self.platform = platform
        self.http = requests.Session()
        # Messages are asserted in English (the default language is Indonesian).
        with client.session_transaction(base_url=platform.tool_base) as session:
            session["locale"] = "en"

    def login(self, hint: str) -> tuple[Any, str]:
        """Start the launch ``hint``; return Lentera's answer to the login and where it
        sends the browser (the platform's authorization URL)."""
        start = self.http.get(self.platform.start_url(hint), allow_redirects=False)
        assert start.status_code == 302, start.text
        answer = self.client.get(start.headers["Location"])
        return answer, answer.headers.get("Location", "")

    def authorize(self, auth_url: str) -> dict[str, str]:
        """The platform's answer to the authorization request: the launch form fields."""
        page = self.http.get(auth_url, allow_redirects=False)
        assert page.status_code == 200, page.text
        action, fields = form_of(page.text)
        assert action == self.platform.tool_base + "/lti/launch"
        return fields

    def launch(self, hint: str) -> Any:
        """The whole launch; returns Lentera's answer to the launch post."""
        answer, auth_url = self.login(hint)
        assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
        return self.post_launch(self.authorize(auth_url))

    def post_launch(self, fields: dict[str, str]) -> Any:
        return self.client.post(self.platform.tool_base + "/lti/launch", data=fields)

    def get(self, path: str) -> Any:
        """A page of Lentera in this browser (the cookies of Lentera's host)."""
        return self.client.get(self.platform.tool_base + path)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def random_sub() -> str:
    return "u-" + secrets.token_hex(4)
