"""A local server that implements SIASN's published web-service contract as its public
integrations use it (see docs/jp.md): an OAuth2 client-credentials token endpoint (the API
gateway), a Keycloak password-grant token endpoint (realm ``public-siasn``), and under
``/apisiasn/1.0/``: ``pns/data-utama/{nip}``, ``kursus/save``, ``pns/rw-kursus/{nip}``,
``diklat/save``, ``pns/rw-diklat/{nip}``, ``kursus/delete/{id}``, ``diklat/delete/{id}``
and ``upload-dok-rw`` (document type 881 for a kursus, 874 for a diklat). It checks both
tokens on every call and the payload's fields, keeps what it was sent, and can be told to
fail the next calls with 503."""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

KEY, SECRET = "consumer-key", "consumer-secret"
SSO_CLIENT, SSO_USER, SSO_PASSWORD = "lentera-pemda", "operator-bkpsdm", "operator-password"
GATEWAY_TOKEN, SSO_TOKEN = "gw-" + uuid.uuid4().hex, "sso-" + uuid.uuid4().hex
DATE = re.compile(r"^\d{2}-\d{2}-\d{4}$")
REQUIRED = ("instansiId", "institusiPenyelenggara", "jenisDiklatId", "jenisKursusSertipikat",
            "jumlahJam", "namaKursus", "nomorSertipikat", "pnsOrangId", "tahunKursus",
            "tanggalKursus", "tanggalSelesaiKursus")
DIKLAT_REQUIRED = ("institusiPenyelenggara", "jumlahJam", "latihanStrukturalId", "nomor",
                   "pnsOrangId", "tahun", "tanggal", "tanggalSelesai")
DIKLAT_FIELDS = {"bobot", "jenisKompetensi", *DIKLAT_REQUIRED}


class ContractServer:
    def __init__(self) -> None:
        self.courses: dict[str, dict[str, Any]] = {}
        self.diklats: dict[str, dict[str, Any]] = {}
        self.deleted: list[tuple[str, str]] = []
        self.documents: list[dict[str, Any]] = []
        self.token_calls = 0
        self.fail_next = 0
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def config(self, encrypt: Any) -> dict[str, Any]:
        return {"SIASN_API_URL": f"{self.url}/apisiasn/1.0",
                "SIASN_TOKEN_URL": f"{self.url}/oauth2/token",
                "SIASN_SSO_URL": f"{self.url}/auth/realms/public-siasn/protocol/"
                                 "openid-connect/token",
                "SIASN_CONSUMER_KEY": KEY, "SIASN_CONSUMER_SECRET": encrypt(SECRET),
                "SIASN_SSO_CLIENT_ID": SSO_CLIENT, "SIASN_SSO_USERNAME": SSO_USER,
                "SIASN_SSO_PASSWORD": encrypt(SSO_PASSWORD), "SIASN_INSTANSI_ID": "A5EB03E2",
                "SIASN_RETRIES": 3, "SIASN_RETRY_PAUSE": 0, "SIASN_TIMEOUT": 5}

    @staticmethod
    def _json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, mimetype="application/json")

    def app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response("busy", status=503)(environ, start_response)
        try:
            response = self.route(request)
        finally:
            request.close()  # the uploaded files' temporary storage
        return response(environ, start_response)

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/oauth2/token" and request.method == "POST":
            auth = request.authorization
            if (request.form.get("grant_type") != "client_credentials" or auth is None
                    or (auth.username, auth.password) != (KEY, SECRET)):
                return self._json({"error": "invalid_client"}, 401)
            self.token_calls += 1
            return self._json({"access_token": GATEWAY_TOKEN, "token_type": "Bearer",
                               "expires_in": 3600})
        if path.endswith("/public-siasn/protocol/openid-connect/token"):
            form = request.form
            if (form.get("grant_type"), form.get("client_id"), form.get("username"),
                    form.get("password")) != ("password", SSO_CLIENT, SSO_USER, SSO_PASSWORD):
                return self._json({"error": "invalid_grant"}, 401)
            return self._json({"access_token": SSO_TOKEN, "token_type": "Bearer"})
        if not path.startswith("/apisiasn/1.0/"):
            return self._json({"error": "not found"}, 404)
        if (request.headers.get("Authorization") != f"Bearer {GATEWAY_TOKEN}"
                or request.headers.get("Auth") != f"bearer {SSO_TOKEN}"):
            return self._json({"error": "unauthorised"}, 401)
        tail = path[len("/apisiasn/1.0/"):]
        if tail.startswith("pns/data-utama/"):
            nip = tail.rsplit("/", 1)[-1]
            return self._json({"data": {"id": f"ORANG-{nip}", "nipBaru": nip}})
        if tail == "kursus/save" and request.method == "POST":
            body = request.get_json(silent=True) or {}
            missing = [name for name in REQUIRED if body.get(name) in (None, "")]
            bad_dates = [name for name in ("tanggalKursus", "tanggalSelesaiKursus")
                         if not DATE.match(str(body.get(name) or ""))]
            if missing or bad_dates or not isinstance(body.get("jumlahJam"), int):
                return self._json({"success": False, "message": f"{missing} {bad_dates}"}, 400)
            history_id = str(uuid.uuid4())
            with self.lock:
                self.courses[history_id] = dict(body, id=history_id)
            return self._json({"success": True, "mapData": {"rwKursusId": history_id},
                               "message": "success"})
        if tail == "diklat/save" and request.method == "POST":
            body = request.get_json(silent=True) or {}
            missing = [name for name in DIKLAT_REQUIRED if body.get(name) in (None, "")]
            bad_dates = [name for name in ("tanggal", "tanggalSelesai")
                         if not DATE.match(str(body.get(name) or ""))]
            unknown = sorted(set(body) - DIKLAT_FIELDS)
            if (missing or bad_dates or unknown or not isinstance(body.get("jumlahJam"), int)
                    or str(body.get("latihanStrukturalId")) not in {str(i) for i in range(1, 9)}):
                return self._json({"success": False,
                                   "message": f"{missing} {bad_dates} {unknown}"}, 400)
            history_id = str(uuid.uuid4())
            with self.lock:
                self.diklats[history_id] = dict(body, id=history_id)
            return self._json({"success": True, "mapData": {"rwDiklatId": history_id},
                               "message": "success"})
        if request.method == "DELETE" and re.fullmatch(r"(kursus|diklat)/delete/[^/]+", tail):
            riwayat, _delete, history_id = tail.split("/")
            store = self.courses if riwayat == "kursus" else self.diklats
            with self.lock:
                if store.pop(history_id, None) is None:
                    return self._json({"success": False, "message": "not found"}, 404)
                self.deleted.append((riwayat, history_id))
            return self._json({"success": True})
        if tail.startswith("pns/rw-diklat/"):
            nip = tail.rsplit("/", 1)[-1]
            rows = [c for c in self.diklats.values() if c["pnsOrangId"] == f"ORANG-{nip}"]
            return self._json({"data": rows})
        if tail.startswith("pns/rw-kursus/"):
            nip = tail.rsplit("/", 1)[-1]
            rows = [c for c in self.courses.values() if c["pnsOrangId"] == f"ORANG-{nip}"]
            return self._json({"data": rows})
        if tail == "upload-dok-rw" and request.method == "POST":
            upload = request.files.get("file")
            history_id = request.form.get("id_riwayat")
            kind = request.form.get("id_ref_dokumen")
            known = (self.courses if kind == "881" else self.diklats if kind == "874" else {})
            if upload is None or history_id not in known:
                return self._json({"success": False}, 400)
            self.documents.append({"id_riwayat": history_id, "name": upload.filename,
                                   "type": request.form.get("id_ref_dokumen"),
                                   "bytes": upload.read()})
            return self._json({"success": True})
        return self._json({"error": "not found"}, 404)
