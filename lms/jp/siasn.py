"""SIASN (BKN's national HR system): verified learning as course history (riwayat kursus)
or, for structural/leadership training (development type 1, Diklat Struktural), as
training history (riwayat diklat).

- :func:`export_rows` — verified records in the shape of SIASN's ``kursus/save`` payload,
  for the XLSX/CSV export HR uploads or types in.
- :class:`SiasnClient` — the web service as public integrations use it: an API-gateway
  token by OAuth2 client credentials plus an SSO token (password grant of an operator
  account), both as headers of every call; ``kursus/save`` or ``diklat/save`` then
  ``upload-dok-rw``; ``kursus/delete/{id}`` / ``diklat/delete/{id}`` for records HR voided
  after they were sent.
- :func:`push` — sends verified records exactly once: a :class:`~lms.jp.models.SiasnPush`
  row is committed before a record is sent and after every step, and a record whose
  save may have reached SIASN without its answer being kept (a restart in between) is
  looked up in the employee's SIASN course history before anything is sent again.

Settings (``LMS_SIASN_*``, docs/jp.md): ``SIASN_API_URL`` (base URL ending in
``/apisiasn/1.0``), ``SIASN_TOKEN_URL``, ``SIASN_CONSUMER_KEY``, ``SIASN_CONSUMER_SECRET``,
``SIASN_SSO_URL``, ``SIASN_SSO_CLIENT_ID``, ``SIASN_SSO_USERNAME``, ``SIASN_SSO_PASSWORD``,
``SIASN_INSTANSI_ID``, ``SIASN_RETRIES``, ``SIASN_TIMEOUT``, ``SIASN_KEY``. The secret
and the password are given Fernet-encrypted (``fernet:...``, made by
``lms jp siasn-encrypt``); Lentera stores neither them nor the tokens, which live in
memory only.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from lms.db import get_session, utcnow
from lms.jp import kinds
from lms.jp.models import JpSubmission, SiasnPush, SubmissionStatus
from lms.people.models import User

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
#: SIASN's document type of a course certificate (``id_ref_dokumen``).
KURSUS_DOCUMENT = "881"
#: ... and of a structural/leadership training certificate.
DIKLAT_DOCUMENT = "874"
#: The development type (``jenisDiklatId``) that goes to riwayat diklat, not kursus.
STRUCTURAL_TYPE = 1
#: ``latihanStrukturalId``: 1 SEPADA, 2 PIM IV, 3 PIM III, 4 PIM II, 5 PIM I, 6 SESPIM,
#: 7 SESPATI, 8 other. Recognised only when the title names one of these; anything else
#: (including the newer PKP/PKA/PKN, whose SIASN ids are not published) is 8.
OTHER_STRUCTURAL = 8
_STRUCTURAL_NAMES = [
    (re.compile(r"\bSEPADA\b"), 1),
    (re.compile(r"\bSESPIM\b"), 6),
    (re.compile(r"\bSESPATI\b"), 7),
    (re.compile(r"PIM\s*(?:TK\.?|TINGKAT)?\s*(IV|III|II|I)\b"), 0),
]
_ROMAN = {"IV": 2, "III": 3, "II": 4, "I": 5}
PREFIX = "fernet:"
_LABEL = b"lentera siasn secrets v1"

#: The columns of the export, named as SIASN's kursus payload names them.
EXPORT_COLUMNS = ["nip", "nama", "pnsOrangId", "instansiId", "jenisDiklatId", "jenisKursus",
                  "jenisKursusSertipikat", "namaKursus", "institusiPenyelenggara",
                  "jumlahJam", "nomorSertipikat", "tahunKursus", "tanggalKursus",
                  "tanggalSelesaiKursus", "dokumen", "jp", "sumber", "riwayat",
                  "latihanStrukturalId"]


class SiasnError(RuntimeError):
    """SIASN refused or could not be reached (after the retries)."""


# --- secrets ----------------------------------------------------------------------------------


def _fernet(app: Flask | None = None) -> MultiFernet:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    keys = [k.strip() for k in str(app.config.get("SIASN_KEY") or "").split(",") if k.strip()]
    fernets = [Fernet(k.encode("ascii")) for k in keys]
    secret = str(app.config.get("SECRET_KEY") or "")
    if secret:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=_LABEL).derive(secret.encode("utf-8"))
        fernets.append(Fernet(base64.urlsafe_b64encode(derived)))
    if not fernets:
        raise SiasnError("no key for SIASN secrets: set LMS_SECRET_KEY or LMS_SIASN_KEY")
    return MultiFernet(fernets)


def encrypt_secret(plain: str, app: Flask | None = None) -> str:
    """The form to put in ``LMS_SIASN_CONSUMER_SECRET`` / ``LMS_SIASN_SSO_PASSWORD``."""
    return PREFIX + _fernet(app).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_secret(value: str, app: Flask | None = None) -> str:
    if not value.startswith(PREFIX):
        raise SiasnError("SIASN secrets must be given encrypted (fernet:...); "
                         "see `lms jp siasn-encrypt`")
    try:
        return _fernet(app).decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise SiasnError("a SIASN secret cannot be decrypted with the configured keys") from exc


# --- the records ------------------------------------------------------------------------------


@dataclass
class Record:
    key: str
    user: User
    type_id: int
    title: str
    provider: str
    start: dt.date
    end: dt.date
    hours: int
    jp: float
    certificate_number: str
    document: Path | None
    source: str

    @property
    def riwayat(self) -> str:
        """``diklat`` for structural/leadership training, else ``kursus``."""
        return "diklat" if self.type_id == STRUCTURAL_TYPE else "kursus"

    @property
    def structural_id(self) -> int:
        """SIASN's ``latihanStrukturalId`` named by the title, else 8 (other)."""
        title = self.title.upper()
        for pattern, value in _STRUCTURAL_NAMES:
            found = pattern.search(title)
            if found:
                return value or _ROMAN[found.group(1)]
        return OTHER_STRUCTURAL


def _date(value: dt.date) -> str:
    return value.strftime("%d-%m-%Y")


def verified_records(scope: Any, year: int | None = None) -> Iterator[Record]:
    """Verified learning of the scope's employees: submissions HR verified and training
    HR recorded (not voided), of ``year`` (by end date) or every year."""
    from lms.jp.submissions import certificate_path
    from lms.reports.models import Training, TrainingParticipant
    from lms.reports.scope import scoped_employees
    from lms.reports.training import upload_dir as training_dir

    session = get_session()
    emp = scoped_employees(scope).subquery("emp")
    query = (sa.select(JpSubmission, User).join(emp, emp.c.user_id == JpSubmission.user_id)
             .join(User, User.id == JpSubmission.user_id)
             .where(JpSubmission.status == SubmissionStatus.VERIFIED))
    if year is not None:
        query = query.where(JpSubmission.end_date >= dt.date(year, 1, 1),
                            JpSubmission.end_date <= dt.date(year, 12, 31))
    for submission, user in session.execute(query.order_by(JpSubmission.id)):
        hours = submission.hours if submission.hours is not None else submission.jp * 45 / 60
        yield Record(key=f"submission:{submission.id}", user=user,
                     type_id=submission.type_id, title=submission.title,
                     provider=submission.provider, start=submission.start_date,
                     end=submission.end_date, hours=max(1, round(hours)), jp=submission.jp,
                     certificate_number=submission.certificate_number or "",
                     document=certificate_path(submission), source="submission")
    trainings = (sa.select(TrainingParticipant, Training, User)
             .join(Training, Training.id == TrainingParticipant.training_id)
             .join(emp, emp.c.user_id == TrainingParticipant.user_id)
             .join(User, User.id == TrainingParticipant.user_id)
             .where(Training.voided_at.is_(None)))
    if year is not None:
        trainings = trainings.where(Training.end_date >= dt.date(year, 1, 1),
                                    Training.end_date <= dt.date(year, 12, 31))
    for participant, training, user in session.execute(
            trainings.order_by(TrainingParticipant.id)):
        document = None
        if training.certificate_file:
            path = training_dir(training) / training.certificate_file
            document = path if path.is_file() else None
        yield Record(key=f"training:{participant.id}", user=user,
                     type_id=kinds.TRAINING_TYPES.get(training.kind.value, 13),
                     title=training.title, provider=training.provider,
                     start=training.start_date, end=training.end_date,
                     hours=max(1, round(training.jp * 45 / 60)), jp=training.jp,
                     certificate_number=participant.certificate_number or "",
                     document=document, source="training")


def payload(record: Record, person_id: str = "", instansi_id: str | None = None
            ) -> dict[str, Any]:
    """The ``kursus/save`` (or, for structural training, ``diklat/save``) body of a record
    (dates dd-mm-yyyy)."""
    if record.riwayat == "diklat":
        return diklat_payload(record, person_id)
    return _kursus_payload(record, person_id, instansi_id)


def _kursus_payload(record: Record, person_id: str = "", instansi_id: str | None = None
                    ) -> dict[str, Any]:
    kind = kinds.TYPES[record.type_id]
    if instansi_id is None:
        instansi_id = str(current_app.config.get("SIASN_INSTANSI_ID") or "")
    return {
        "instansiId": instansi_id,
        "institusiPenyelenggara": record.provider,
        "jenisDiklatId": str(record.type_id),
        "jenisKursus": "",
        "jenisKursusSertipikat": kind.name,
        "jumlahJam": record.hours,
        "lokasiId": "",
        "namaKursus": record.title,
        "nomorSertipikat": record.certificate_number,
        "pnsOrangId": person_id,
        "tahunKursus": record.end.year,
        "tanggalKursus": _date(record.start),
        "tanggalSelesaiKursus": _date(record.end),
    }


def diklat_payload(record: Record, person_id: str = "") -> dict[str, Any]:
    """The ``diklat/save`` body. ``bobot`` and ``jenisKompetensi`` have no published value
    set: they are sent as 0 and empty (check with BKN before the first push)."""
    return {
        "bobot": 0,
        "institusiPenyelenggara": record.provider,
        "jenisKompetensi": "",
        "jumlahJam": record.hours,
        "latihanStrukturalId": str(record.structural_id),
        "nomor": record.certificate_number,
        "pnsOrangId": person_id,
        "tahun": record.end.year,
        "tanggal": _date(record.start),
        "tanggalSelesai": _date(record.end),
    }


def export_rows(scope: Any, year: int | None = None) -> Iterator[list[Any]]:
    """Rows of :data:`EXPORT_COLUMNS` for the XLSX/CSV export (``pnsOrangId`` empty: SIASN's
    person id is looked up when pushing)."""
    for record in verified_records(scope, year):
        # Every row in the kursus columns (one sheet); ``riwayat`` says where it goes and
        # structural training carries its ``latihanStrukturalId``.
        body = dict(payload(record) if record.riwayat == "kursus"
                    else _kursus_payload(record))
        yield [record.user.nip or "", record.user.name, "", body["instansiId"],
               int(body["jenisDiklatId"]), body["jenisKursus"], body["jenisKursusSertipikat"],
               body["namaKursus"], body["institusiPenyelenggara"], body["jumlahJam"],
               body["nomorSertipikat"], body["tahunKursus"], body["tanggalKursus"],
               body["tanggalSelesaiKursus"], record.document.name if record.document else "",
               record.jp, record.source, record.riwayat,
               record.structural_id if record.riwayat == "diklat" else ""]


# --- the client -----------------------------------------------------------------------------


class SiasnClient:
    """Calls SIASN with the two tokens; retries network faults, 429 and 5xx answers with
    a growing pause; gets fresh tokens once on a 401."""

    def __init__(self, app: Flask | None = None, http: requests.Session | None = None) -> None:
        app = app or current_app._get_current_object()  # type: ignore[attr-defined]
        config = app.config
        self.api = str(config.get("SIASN_API_URL") or "").rstrip("/")
        self.token_url = str(config.get("SIASN_TOKEN_URL") or "")
        self.sso_url = str(config.get("SIASN_SSO_URL") or "")
        if not (self.api and self.token_url and self.sso_url):
            raise SiasnError("SIASN is not configured (LMS_SIASN_API_URL, LMS_SIASN_TOKEN_URL, "
                             "LMS_SIASN_SSO_URL)")
        self.instansi_id = str(config.get("SIASN_INSTANSI_ID") or "")
        self.consumer_key = str(config.get("SIASN_CONSUMER_KEY") or "")
        self.consumer_secret = decrypt_secret(str(config.get("SIASN_CONSUMER_SECRET") or ""),
                                              app)
        self.sso_client_id = str(config.get("SIASN_SSO_CLIENT_ID") or "")
        self.sso_username = str(config.get("SIASN_SSO_USERNAME") or "")
        self.sso_password = decrypt_secret(str(config.get("SIASN_SSO_PASSWORD") or ""), app)
        self.retries = max(1, int(config.get("SIASN_RETRIES") or 3))
        self.timeout = float(config.get("SIASN_TIMEOUT") or 20)
        self.pause = float(config.get("SIASN_RETRY_PAUSE", 1.0))
        self.http = http or requests.Session()
        self._tokens: tuple[str, str] | None = None

    def _post_token(self, url: str, data: dict[str, str],
                    auth: tuple[str, str] | None = None) -> str:
        answer = self._send("POST", url, data=data, auth=auth, authorised=False)
        token = answer.json().get("access_token") if answer.content else None
        if not isinstance(token, str) or not token:
            raise SiasnError(f"no access token from {url}")
        return token

    def tokens(self, fresh: bool = False) -> tuple[str, str]:
        if self._tokens is None or fresh:
            gateway = self._post_token(self.token_url, {"grant_type": "client_credentials"},
                                       auth=(self.consumer_key, self.consumer_secret))
            sso = self._post_token(self.sso_url, {
                "grant_type": "password", "client_id": self.sso_client_id,
                "username": self.sso_username, "password": self.sso_password})
            self._tokens = (gateway, sso)
        return self._tokens

    def _send(self, method: str, url: str, *, authorised: bool = True,
              **kwargs: Any) -> requests.Response:
        last: Exception | None = None
        refreshed = False
        attempt = 0
        while attempt < self.retries:
            attempt += 1
            headers = {"Accept": "application/json"}
            if authorised:
                gateway, sso = self.tokens()
                headers.update({"Authorization": f"Bearer {gateway}", "Auth": f"bearer {sso}"})
            files = kwargs.get("files")
            if files:  # a retried upload reads its file again
                for value in files.values():
                    if hasattr(value[1], "seek"):
                        value[1].seek(0)
            try:
                answer = self.http.request(method, url, headers=headers, timeout=self.timeout,
                                           **kwargs)
            except requests.RequestException as exc:
                last = exc
            else:
                if answer.status_code == 401 and authorised and not refreshed:
                    refreshed = True
                    self.tokens(fresh=True)
                    attempt -= 1
                    continue
                if answer.status_code == 429 or answer.status_code >= 500:
                    last = SiasnError(f"{method} {url}: HTTP {answer.status_code}")
                elif answer.status_code >= 400:
                    raise SiasnError(f"{method} {url}: HTTP {answer.status_code} "
                                     f"{answer.text[:300]}")
                else:
                    return answer
            if attempt < self.retries:
                time.sleep(self.pause * attempt)
        raise SiasnError(f"{method} {url} failed after {self.retries} tries: {last}")

    def person_id(self, nip: str) -> str:
        data = self._send("GET", f"{self.api}/pns/data-utama/{nip}").json().get("data") or {}
        found = data.get("id") if isinstance(data, dict) else None
        if not found:
            raise SiasnError(f"SIASN knows no PNS with NIP {nip}")
        return str(found)

    def course_history(self, nip: str, riwayat: str = "kursus") -> list[dict[str, Any]]:
        data = self._send("GET", f"{self.api}/pns/rw-{riwayat}/{nip}").json().get("data")
        return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []

    def save_course(self, body: dict[str, Any]) -> str:
        answer = self._send("POST", f"{self.api}/kursus/save", json=body).json()
        found = (answer.get("mapData") or {}).get("rwKursusId")
        if not found:
            raise SiasnError(f"kursus/save gave no rwKursusId: {str(answer)[:300]}")
        return str(found)

    def save_diklat(self, body: dict[str, Any]) -> str:
        answer = self._send("POST", f"{self.api}/diklat/save", json=body).json()
        # The answer's key is not published for diklat: rwDiklatId, as for kursus' rwKursusId.
        data = answer.get("mapData") or {}
        found = data.get("rwDiklatId") or data.get("rwKursusId") or data.get("id")
        if not found:
            raise SiasnError(f"diklat/save gave no id: {str(answer)[:300]}")
        return str(found)

    def save(self, riwayat: str, body: dict[str, Any]) -> str:
        return self.save_diklat(body) if riwayat == "diklat" else self.save_course(body)

    def delete(self, riwayat: str, history_id: str) -> None:
        """``DELETE kursus/delete/{id}`` or ``diklat/delete/{id}``; one already gone (404)
        counts as deleted."""
        try:
            self._send("DELETE", f"{self.api}/{riwayat}/delete/{history_id}")
        except SiasnError as exc:
            if "HTTP 404" not in str(exc):
                raise

    def upload_document(self, history_id: str, path: Path,
                        document_type: str = KURSUS_DOCUMENT) -> None:
        with path.open("rb") as handle:
            self._send("POST", f"{self.api}/upload-dok-rw",
                       data={"id_riwayat": history_id, "id_ref_dokumen": document_type},
                       files={"file": (path.name, handle, _mimetype(path))})


def _mimetype(path: Path) -> str:
    return {".pdf": "application/pdf", ".png": "image/png"}.get(path.suffix.lower(),
                                                                  "image/jpeg")


# --- pushing --------------------------------------------------------------------------------


@dataclass
class PushResult:
    sent: int = 0
    found: int = 0
    uploaded: int = 0
    skipped: int = 0
    failed: int = 0
    deleted: int = 0


def _matches(entry: dict[str, Any], body: dict[str, Any]) -> bool:
    if "latihanStrukturalId" in body:  # riwayat diklat
        number = str(entry.get("nomor") or "").strip().upper()
        if body["nomor"] and number:
            return number == body["nomor"].upper()
        return (str(entry.get("tanggal") or "") == body["tanggal"]
                and str(entry.get("latihanStrukturalId") or "") == body["latihanStrukturalId"])
    number = (entry.get("nomorSertipikat") or entry.get("noSertipikat") or "").strip().upper()
    name = " ".join(str(entry.get("namaKursus") or "").split()).lower()
    return bool(body["nomorSertipikat"]) and number == body["nomorSertipikat"].upper() or (
        name == " ".join(body["namaKursus"].split()).lower()
        and str(entry.get("tanggalKursus") or "") == body["tanggalKursus"])


def push(scope: Any, client: SiasnClient, year: int | None = None) -> PushResult:
    """Send every verified record of ``scope`` not yet in SIASN, each exactly once, with
    its document, and delete in SIASN the records of the scope voided after they were
    sent (of any year). Commits after every step (so a restart resumes where it stopped)."""
    session = get_session()
    result = PushResult()
    for record in list(verified_records(scope, year)):
        row = session.scalar(sa.select(SiasnPush).where(SiasnPush.record_key == record.key))
        if row is not None and row.status == "done":
            result.skipped += 1
            continue
        try:
            if row is None:
                row = SiasnPush(record_key=record.key, user_id=record.user.id, status="pending",
                                payload={}, attempts=0, document_uploaded=False, last_error="")
                session.add(row)
                session.commit()
            if row.siasn_id is None:
                body = payload(record, client.person_id(record.user.nip or ""),
                               client.instansi_id)
                if row.attempts:
                    # An earlier try may have reached SIASN: look before sending again.
                    for entry in client.course_history(record.user.nip or "",
                                                       record.riwayat):
                        if _matches(entry, body):
                            row.siasn_id = str(entry.get("id"))
                            result.found += 1
                            break
                if row.siasn_id is None:
                    row.attempts += 1
                    row.payload = body
                    session.commit()  # the try is on record before anything is sent
                    row.siasn_id = client.save(record.riwayat, body)
                    result.sent += 1
                row.status = "saved"
                row.sent_at = utcnow()
                row.last_error = ""
                session.commit()
            if not row.document_uploaded and record.document is not None:
                client.upload_document(
                    row.siasn_id, record.document,
                    DIKLAT_DOCUMENT if record.riwayat == "diklat" else KURSUS_DOCUMENT)
                row.document_uploaded = True
                result.uploaded += 1
            row.status = "done"
            session.commit()
        except SiasnError as exc:
            session.rollback()
            if row is not None and row.id is not None:
                row = session.get(SiasnPush, row.id)
                if row is not None:
                    row.status = "failed" if row.siasn_id is None else "saved"
                    row.last_error = str(exc)[:1000]
                    session.commit()
            result.failed += 1
    for removal in removals(scope):
        try:
            withdraw(removal, client, result)
        except SiasnError:
            result.failed += 1
    return result


# --- records voided after they were sent -------------------------------------------------------

#: Push statuses of a record HR voided: deleted in SIASN, or never there (withdrawn).
REMOVED = ("deleted", "withdrawn")


def _riwayat_of(row: SiasnPush) -> str:
    return "diklat" if "latihanStrukturalId" in (row.payload or {}) else "kursus"


@dataclass
class Removal:
    row: SiasnPush
    user: User
    title: str

    @property
    def riwayat(self) -> str:
        return _riwayat_of(self.row)


def removals(scope: Any, *, include_removed: bool = False) -> list[Removal]:
    """Push rows of the scope's records that HR voided (a submission) or whose training
    was voided after they were pushed or tried: SIASN must delete them (or, never
    reached, they are withdrawn)."""
    from lms.reports.models import Training, TrainingParticipant
    from lms.reports.scope import scoped_employees

    session = get_session()
    emp = scoped_employees(scope).subquery("emp")
    query = (sa.select(SiasnPush, User).join(emp, emp.c.user_id == SiasnPush.user_id)
             .join(User, User.id == SiasnPush.user_id).order_by(SiasnPush.id))
    if not include_removed:
        query = query.where(SiasnPush.status.not_in(REMOVED))
    found: list[Removal] = []
    for row, user in session.execute(query):
        kind, _sep, ident = row.record_key.partition(":")
        if not ident.isdigit():
            continue
        if kind == "submission":
            submission = session.get(JpSubmission, int(ident))
            if submission is not None and submission.status == SubmissionStatus.VOIDED:
                found.append(Removal(row, user, submission.title))
        elif kind == "training":
            participant = session.get(TrainingParticipant, int(ident))
            training = (session.get(Training, participant.training_id)
                        if participant is not None else None)
            if training is not None and training.voided_at is not None:
                found.append(Removal(row, user, training.title))
    return found


def withdraw(removal: Removal, client: SiasnClient, result: PushResult | None = None) -> None:
    """Delete a voided record's riwayat in SIASN by the id kept when it was saved
    (``kursus/delete/{id}`` or ``diklat/delete/{id}``); one whose save may have reached
    SIASN without its id being kept is looked up in the history first; one never sent is
    only marked withdrawn. Commits. Raises :class:`SiasnError` (the row keeps the error)."""
    session = get_session()
    row = removal.row
    riwayat = _riwayat_of(row)
    try:
        if row.siasn_id is None and row.attempts and row.payload:
            for entry in client.course_history(removal.user.nip or "", riwayat):
                if _matches(entry, row.payload):
                    row.siasn_id = str(entry.get("id"))
                    break
        if row.siasn_id is not None:
            client.delete(riwayat, row.siasn_id)
            row.status = "deleted"
            if result is not None:
                result.deleted += 1
        else:
            row.status = "withdrawn"
        row.last_error = ""
        session.commit()
    except SiasnError as exc:
        session.rollback()
        again = session.get(SiasnPush, row.id)
        if again is not None:
            again.last_error = str(exc)[:1000]
            session.commit()
        raise


def pushes(user_ids: list[int] | None = None, limit: int = 200) -> list[SiasnPush]:
    query = sa.select(SiasnPush).order_by(SiasnPush.id.desc()).limit(limit)
    if user_ids is not None:
        query = query.where(SiasnPush.user_id.in_(user_ids))
    return list(get_session().scalars(query))
