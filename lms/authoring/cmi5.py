"""cmi5 packages: import (cmi5.xml), launch (cmi5 §8), the fetch URL, and moveOn.

A cmi5 package (Articulate Storyline, iSpring, Adobe Captivate...) becomes a Lentera
course whose modules are its assignable units (AUs, module kind ``cmi5``); completing
it follows each AU's ``moveOn`` criterion, judged from the statements the AU sends.

Launch (cmi5 §8.1): the LMS writes the ``LMS.LaunchData`` State document, stores a
``launched`` statement, and opens the AU's URL with ``endpoint``, ``fetch``, ``actor``,
``registration`` and ``activityId``. The AU posts to the fetch URL once and gets
``{"auth-token": ...}`` (an HTTP Basic credential limited to this learner, registration,
AU and session, :func:`lms.xapi.auth.issue_launch_credentials`); a second call gets
``{"error-code": "1", ...}`` (§8.2).

Satisfaction (§9.6.2.x, §10): :class:`Cmi5Consumer` reads ``completed``/``passed`` of an
AU in a registration; when the AU's ``moveOn`` holds it stores ``satisfied`` for the AU
(and for blocks and the course when all their AUs are satisfied) plus Lentera's own
``completed`` statements for the module and the course, which the learning ledger turns
into progress, the completion, JP and the certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import defusedxml.ElementTree as SafeET
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.authoring.archives import ArchiveError, extract_archive
from lms.authoring.models import (
    AuthoredCourse,
    Cmi5Au,
    Cmi5Launch,
    Cmi5Package,
    Cmi5Status,
    CourseTrainer,
)
from lms.courses import statements as st
from lms.courses.format import LoadedCourse
from lms.db import among, get_session, utcnow
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.people.models import User

NS = "{https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd}"
MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION_EXT = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
LAUNCHMODE_EXT = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
LAUNCHURL_EXT = "https://w3id.org/xapi/cmi5/context/extensions/launchurl"
MOVEON_EXT = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
LAUNCHPARAMS_EXT = "https://w3id.org/xapi/cmi5/context/extensions/launchparameters"
MASTERY_EXT = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
ABANDONED = "https://w3id.org/xapi/adl/verbs/abandoned"
ADL = "http://adlnet.gov/expapi/verbs/"
#: cmi5 §10 launchMode values. Browse and Review sessions never change completion.
NORMAL, BROWSE, REVIEW = "Normal", "Browse", "Review"
LAUNCH_DATA = "LMS.LaunchData"
FETCH_TTL = dt.timedelta(minutes=10)
CREDENTIAL_TTL = 4 * 3600


def packages_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "authoring" / "cmi5"


# --- cmi5.xml ----------------------------------------------------------------------------


#: Query parameters the LMS adds to every launch URL (cmi5 §8.1); an AU url may not carry
#: them itself (§8.1.0.0-6).
RESERVED_LAUNCH_PARAMETERS = ("endpoint", "fetch", "actor", "registration", "activityId")
SCHEMA_PATH = Path(__file__).parent / "schemas" / "cmi5_CourseStructure.xsd"
_schema: Any = None


def _langstrings(element: Any, tag: str) -> list[tuple[str, str]]:
    node = element.find(NS + tag)
    if node is None:
        return []
    return [(s.get("lang") or "", " ".join(s.text.split()))
            for s in node.findall(NS + "langstring") if (s.text or "").strip()]


def _pick(strings: list[tuple[str, str]]) -> tuple[str, str]:
    """(text, language): Indonesian when the package has it, else English, else the first."""
    for wanted in ("id", "en"):
        for lang, text in strings:
            if lang.lower().split("-")[0] == wanted:
                return text, lang
    return strings[0][1] if strings else "", strings[0][0] if strings else ""


def _text(element: Any, tag: str) -> str:
    return _pick(_langstrings(element, tag))[0]


def _schema_errors(xml: bytes) -> list[str]:
    """Where the course structure breaks the cmi5 XSD (cmi5 §13.2), at most five lines.

    The XML has already been parsed by defusedxml (no entities, no external references);
    lxml reads it again without a network or entity resolution to check the schema."""
    global _schema
    from lxml import etree

    if _schema is None:
        _schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        return [str(exc)]
    if _schema.validate(document):
        return []
    return [_l("line %(line)s: %(message)s", line=e.line,
               message=e.message.replace(NS[1:-1], "cmi5").replace("{cmi5}", ""))
            for e in list(_schema.error_log)[:5]]


def _is_iri(value: str) -> bool:
    """An absolute IRI (cmi5 §3: every id of a course structure is a fully qualified IRI)."""
    scheme, sep, rest = value.partition(":")
    return bool(sep and rest and scheme[:1].isalpha() and not any(c.isspace() for c in value)
                and all(c.isalnum() or c in "+-." for c in scheme))


def is_absolute(url: str) -> bool:
    """Whether an AU url is absolute (has a scheme) rather than relative to the package."""
    return bool(urlsplit(url).scheme)


def _url_problem(url: str) -> Any:
    """Why an AU url cannot be launched (cmi5 §13.1.4, §8.1), or None."""
    if any(c.isspace() for c in url) or any(ord(c) < 32 for c in url):
        return _l("it contains spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme and (parts.scheme not in ("http", "https") or not parts.netloc):
        return _l("an absolute url must start with http:// or https:// and name a host")
    if not parts.scheme and url.startswith("/"):
        return _l("a relative url may not start with /")
    reserved = [k for k, _v in parse_qsl(parts.query, keep_blank_values=True)
                if k in RESERVED_LAUNCH_PARAMETERS]
    if reserved:
        return _l("its query string already has %(names)s, which the LMS adds at launch "
                  "(cmi5 §8.1)", names=", ".join(reserved))
    return None


def parse_course_structure(xml: bytes, *, in_package: bool = True) -> dict[str, Any]:
    """The course, blocks and AUs of a cmi5.xml (cmi5 §13); ValidationError when broken.

    Checks what cmi5 §13–14 require: the XSD, fully qualified and unique ids for the course,
    blocks, AUs and objectives, launchable urls without the launch parameters the LMS adds,
    and (``in_package=False``, a bare cmi5.xml) absolute AU urls only (§14.2). Every
    problem found is listed in ``details``."""
    try:
        root = SafeET.fromstring(xml)
    except Exception as exc:  # defusedxml raises several kinds for unsafe/bad XML
        raise ValidationError(_l("cmi5.xml is not valid XML: %(error)s", error=str(exc))) \
            from None
    if root.tag != NS + "courseStructure":
        raise ValidationError(_l("cmi5.xml must have a courseStructure root element in the "
                                 "cmi5 namespace."))
    course = root.find(NS + "course")
    if course is None or not course.get("id"):
        raise ValidationError(_l("cmi5.xml has no course element with an id."))
    problems: list[Any] = list(_schema_errors(xml))
    aus: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    objectives: list[dict[str, Any]] = []
    seen: dict[str, str] = {}

    def claim(kind: str, value: str | None) -> None:
        if not value:
            return
        if not _is_iri(value):
            problems.append(_l("%(kind)s id %(id)s is not a fully qualified IRI (cmi5 §3).",
                               kind=kind, id=value))
        if value in seen:
            problems.append(_l("%(kind)s id %(id)s is used twice (ids must be unique, "
                               "cmi5 §13.1).", kind=kind, id=value))
        seen[value] = kind

    claim("course", course.get("id"))
    listed = root.find(NS + "objectives")
    objective_ids: set[str] = set()
    for objective in (listed.findall(NS + "objective") if listed is not None else []):
        oid = objective.get("id") or ""
        if oid in objective_ids:
            problems.append(_l("objective id %(id)s is used twice (ids must be unique, "
                               "cmi5 §13.1.2).", id=oid))
        elif oid and not _is_iri(oid):
            problems.append(_l("%(kind)s id %(id)s is not a fully qualified IRI (cmi5 §3).",
                               kind="objective", id=oid))
        objective_ids.add(oid)
        objectives.append({"id": oid, "title": _text(objective, "title") or oid})

    def references(element: Any, owner: str) -> list[str]:
        node = element.find(NS + "objectives")
        refs = [o.get("idref") or "" for o in node.findall(NS + "objective")] \
            if node is not None else []
        for ref in refs:
            if ref not in objective_ids:
                problems.append(_l("%(owner)s refers to objective %(id)s, which the course "
                                   "does not list.", owner=owner, id=ref))
        return refs

    def walk(element: Any, block_ids: list[str]) -> None:
        for child in element:
            if child.tag == NS + "au":
                au_id = child.get("id")
                url = (child.findtext(NS + "url") or "").strip()
                if not au_id or not url:
                    problems.append(_l("Every au in cmi5.xml needs an id and a url."))
                    continue
                claim("au", au_id)
                problem = _url_problem(url)
                if problem is not None:
                    problems.append(_l("au %(id)s: the url %(url)s cannot be launched: "
                                       "%(why)s.", id=au_id, url=url, why=problem))
                elif not in_package and not is_absolute(url):
                    problems.append(_l("au %(id)s: the url %(url)s is relative, but a cmi5.xml "
                                       "on its own (without a zip) may only have absolute urls "
                                       "(cmi5 §14.2).", id=au_id, url=url))
                move_on = child.get("moveOn", "NotApplicable")
                if move_on not in MOVE_ON:
                    problems.append(_l("au %(id)s: moveOn %(value)s is not one of "
                                       "%(allowed)s.", id=au_id, value=move_on,
                                       allowed=", ".join(MOVE_ON)))
                mastery = child.get("masteryScore")
                try:
                    score = float(mastery) if mastery not in (None, "") else None
                except ValueError:
                    score = None  # the schema check has already reported it
                title, _lang = _pick(_langstrings(child, "title"))
                aus.append({
                    "id": au_id, "title": title or au_id,
                    "description": _text(child, "description"), "url": url,
                    "moveOn": move_on, "masteryScore": score,
                    "launchMethod": child.get("launchMethod", "AnyWindow"),
                    "launchParameters": (child.findtext(NS + "launchParameters") or "").strip(),
                    "blocks": list(block_ids),
                    "objectives": references(child, f"au {au_id}"),
                })
            elif child.tag == NS + "block":
                block_id = child.get("id")
                if not block_id:
                    problems.append(_l("Every block in cmi5.xml needs an id."))
                    continue
                claim("block", block_id)
                blocks.append({"id": block_id, "title": _text(child, "title") or block_id,
                               "parents": list(block_ids),
                               "objectives": references(child, f"block {block_id}")})
                walk(child, [*block_ids, block_id])

    walk(root, [])
    if not aus and not problems:
        problems.append(_l("cmi5.xml lists no assignable unit (au)."))
    if problems:
        unique = list(dict.fromkeys(str(p) for p in problems))
        raise ValidationError(
            _l("cmi5.xml is not a valid cmi5 course structure: %(first)s", first=unique[0]),
            details=unique)
    title, language = _pick(_langstrings(course, "title"))
    return {"id": course.get("id"), "title": title or course.get("id"),
            "description": _text(course, "description"), "language": language,
            "blocks": blocks, "aus": aus, "objectives": objectives}


def _module_id(index: int) -> str:
    return f"au-{index + 1}"


def import_package(source: Any, user: User | None, slug: str, jp: float, topic: str,
                   competency: str = "M.01", level: int = 1) -> AuthoredCourse:
    """Import a cmi5 zip as course ``slug`` (new, or a new version of a cmi5 course)."""
    root = packages_root()
    root.mkdir(parents=True, exist_ok=True)
    folder_name = uuid.uuid4().hex
    target = root / folder_name
    extract_archive(source, target)
    try:
        xml_path = target / "cmi5.xml"
        if not xml_path.is_file():
            raise ArchiveError(_l("A cmi5 package has cmi5.xml at the top of the zip."))
        structure = parse_course_structure(xml_path.read_bytes())
        missing = []
        for au in structure["aus"]:
            if not is_absolute(au["url"]):
                rel = PurePosixPath(au["url"].split("?", 1)[0].split("#", 1)[0])
                if rel.is_absolute() or ".." in rel.parts or \
                        not target.joinpath(*rel.parts).is_file():
                    missing.append(str(_l("au %(id)s: its url %(url)s is not a file in the "
                                          "package.", id=au["id"], url=au["url"])))
        if missing:
            raise ValidationError(missing[0], details=missing)
        return _store_package(structure, folder_name, user, slug, jp, topic, competency, level)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def import_structure(xml: bytes, user: User | None, slug: str, jp: float, topic: str,
                     competency: str = "M.01", level: int = 1) -> AuthoredCourse:
    """Import a bare cmi5.xml (cmi5 §14.2: a course structure whose AUs are all at absolute
    urls, hosted elsewhere) as course ``slug``."""
    structure = parse_course_structure(xml, in_package=False)
    root = packages_root()
    root.mkdir(parents=True, exist_ok=True)
    folder_name = uuid.uuid4().hex
    target = root / folder_name
    target.mkdir()
    try:
        (target / "cmi5.xml").write_bytes(xml)
        return _store_package(structure, folder_name, user, slug, jp, topic, competency, level)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def is_package(names: list[str]) -> bool:
    """Whether the names of a zip's members are those of a cmi5 package (cmi5.xml at the
    top), as opposed to a course folder exported from authoring."""
    return "cmi5.xml" in names


def slug_for(title: str) -> str:
    """A course slug from a package title (lowercase ASCII words joined by hyphens)."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")
    return slug or "cmi5-course"


def _store_package(structure: dict[str, Any], folder_name: str, user: User | None, slug: str,
                   jp: float, topic: str, competency: str, level: int) -> AuthoredCourse:
    from lms.authoring import service
    from lms.courses import service as courses
    from lms.courses.format import CourseFile, Slug  # noqa: F401  (validation below)

    session = get_session()
    authored = session.scalar(sa.select(AuthoredCourse).where(AuthoredCourse.slug == slug))
    if authored is not None:
        if user is not None and not service.is_editor(user, authored):
            raise Forbidden(_l("Only the course's trainers and admins may change it."))
        if authored.kind != "cmi5":
            raise Conflict(_l("The course %(slug)s is not a cmi5 course.", slug=slug))
    title = structure["title"][:200]
    summary, description = _summary_and_description(structure["description"], title)
    meta = {
        "slug": slug, "title": title, "summary": summary,
        "description": description, "jp": jp, "level": "dasar",
        "language": course_language(structure.get("language", "")), "topic": topic,
        "tags": ["cmi5"],
        "competencies": [{"code": competency, "level": level}],
        "completion": {"modules": "all", "quizzes": "none"},
    }
    try:  # the same checks as course.yaml (slug, JP, competency codes)
        CourseFile.model_validate({**meta, "modules": ["cmi5.xml"]})
    except Exception as exc:
        raise ValidationError(_l("The course settings are not valid: %(error)s",
                                 error=str(exc).splitlines()[0])) from None
    block_titles = {b["id"]: b["title"] for b in structure.get("blocks", [])}
    modules = [
        {"id": _module_id(i), "kind": "cmi5", "title": au["title"][:200], "file": "cmi5.xml",
         "minutes": None, "body": au["description"], "au": au,
         # The blocks the AU sits in (outermost first): the course page heads them.
         "section": " › ".join(block_titles.get(b, b) for b in au.get("blocks", []))[:300]}
        for i, au in enumerate(structure["aus"])
    ]
    digest = hashlib.sha256(json.dumps([structure, meta], sort_keys=True).encode()).hexdigest()
    loaded = LoadedCourse(slug=slug, meta=meta, modules=modules, assets={},
                          content_hash=digest, root=packages_root() / folder_name)
    if authored is None:
        authored = AuthoredCourse(slug=slug, title=title, kind="cmi5",
                                  created_by_id=user.id if user else None)
        if user is not None:
            authored.trainers.append(CourseTrainer(user_id=user.id))
        session.add(authored)
        session.flush()
    package = Cmi5Package(slug=slug, course_iri=structure["id"], structure=structure,
                          folder=folder_name)
    session.add(package)
    session.flush()
    for i, au in enumerate(structure["aus"]):
        session.add(Cmi5Au(package_id=package.id, au_iri=au["id"], module_id=_module_id(i),
                           move_on=au["moveOn"]))
    outcome = courses.import_course(loaded, source=f"cmi5:{package.id}")
    outcome.course.published = True
    authored.title = title
    service.record(authored, user, "cmi5_imported",
                   f"{structure['id']} ({len(structure['aus'])} AU), version "
                   f"{outcome.version.number}")
    session.flush()
    return authored


def course_language(lang: str) -> str:
    """The course's language code (``id``, ``en``, ``en-US``...) from the ``lang`` of the
    package's course title (RFC 5646); ``id`` when the package names none usable."""
    primary, _sep, region = (lang or "").strip().replace("_", "-").partition("-")
    primary = primary.lower()
    if len(primary) != 2 or not primary.isalpha():
        return "id"
    region = region.split("-")[0].upper()
    return f"{primary}-{region}" if len(region) == 2 and region.isalpha() else primary


def _summary_and_description(text: str, title: str) -> tuple[str, str]:
    """The catalog summary and the course page's description, so the page never shows the
    same text twice: a short description is the summary alone; a long one gets its first
    sentence as the summary and stays whole below it."""
    text = (text or "").strip()
    if not text:
        return title, ""
    if len(text) <= 400:
        return text, ""
    first = text.split(". ", 1)[0]
    if len(first) > 300:
        first = first[:300].rsplit(" ", 1)[0] + "…"
    elif not first.endswith("."):
        first += "."
    return first, text


def package_for_version(version: Any) -> Cmi5Package:
    """The package a course version was imported from (its ``source`` is ``cmi5:<id>``),
    so a learner pinned to an older version keeps launching that version's AUs."""
    source = getattr(version, "source", "") or ""
    if source.startswith("cmi5:") and source[5:].isdigit():
        package = get_session().get(Cmi5Package, int(source[5:]))
        if package is not None:
            return package
    return latest_package(version.course.slug)


def latest_package(slug: str) -> Cmi5Package:
    package = get_session().scalar(sa.select(Cmi5Package).where(Cmi5Package.slug == slug)
                                   .order_by(Cmi5Package.id.desc()).limit(1))
    if package is None:
        raise NotFound(_l("No cmi5 package for course %(slug)s.", slug=slug))
    return package


# --- launching ---------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def au_of(package: Cmi5Package, module_id: str) -> tuple[Cmi5Au, dict[str, Any]]:
    row = get_session().scalar(sa.select(Cmi5Au).where(Cmi5Au.package_id == package.id,
                                                       Cmi5Au.module_id == module_id))
    if row is None:
        raise NotFound(_l("No such activity in this course."))
    au = next(a for a in package.structure["aus"] if a["id"] == row.au_iri)
    return row, au


def au_done(registration: str, au_row: Cmi5Au) -> bool:
    """True once the AU is satisfied (its moveOn met) or completed and passed in this
    registration: from then on it opens in Review mode."""
    status = get_session().scalar(sa.select(Cmi5Status).where(
        Cmi5Status.registration == registration.lower(), Cmi5Status.au_id == au_row.id))
    return status is not None and (status.satisfied or (status.completed and status.passed))


def launch_mode_for(registration: str, au_row: Cmi5Au, wanted: str | None) -> str:
    """Review once the AU is done; otherwise Browse when the learner asks for it (allowed
    while the AU is not done yet), else Normal."""
    if au_done(registration, au_row):
        return REVIEW
    return BROWSE if (wanted or "").capitalize() == BROWSE else NORMAL


def close_previous_sessions(user: User, au_row: Cmi5Au, au: dict[str, Any], registration: str,
                            course_iri: str) -> list[str]:
    """cmi5 §9.3.6: before a new launch of the AU, every earlier session of this learner
    and registration that has no ``terminated`` statement is abandoned; the LMS records
    ``abandoned`` for it (with the session id and its duration, §9.5.4.2). Returns the
    session ids abandoned."""
    from lms.xapi.actors import actor_for
    from lms.xapi.service import StatementQuery, query_statements, store_statements

    session = get_session()
    open_launches = list(session.scalars(sa.select(Cmi5Launch).where(
        Cmi5Launch.user_id == user.id, Cmi5Launch.registration == registration,
        Cmi5Launch.au_id == au_row.id, Cmi5Launch.ended.is_(None)).order_by(Cmi5Launch.id)))
    if not open_launches:
        return []
    # What each session sent: its statements carry the session id in context.extensions.
    statements, _more, _upto = query_statements(StatementQuery(
        activity=au["id"], registration=registration, limit=1000))
    by_session: dict[str, list[dict[str, Any]]] = {}
    for statement in statements:
        sid = ((statement.get("context") or {}).get("extensions") or {}).get(SESSION_EXT)
        if isinstance(sid, str):
            by_session.setdefault(sid, []).append(statement)
    actor = actor_for(user)
    out, abandoned = [], []
    for record in open_launches:
        sent = by_session.get(record.session_id, [])
        if any(s["verb"]["id"] == ADL + "terminated" for s in sent):
            record.ended, record.ended_at = "terminated", utcnow()
            continue
        record.ended, record.ended_at = "abandoned", utcnow()
        abandoned.append(record.session_id)
        started = _aware(record.launched_at)
        last = started
        for s in sent:
            when = _parse_time(s.get("timestamp"))
            if when is not None and when > last:
                last = when
        statement = _statement(actor, ABANDONED, "abandoned", au["id"], registration,
                               course_iri, session_id=record.session_id)
        statement["result"] = {"duration": _iso_duration((last - started).total_seconds())}
        out.append(statement)
    if out:
        store_statements(out)
    session.flush()
    return abandoned


def launch_of(statement: dict[str, Any]) -> Cmi5Launch | None:
    """The launch (AU session) whose session id the statement carries, if Lentera issued
    it; None for statements without one (they may come from another system)."""
    sid = ((statement.get("context") or {}).get("extensions") or {}).get(SESSION_EXT)
    if not isinstance(sid, str) or not sid:
        return None
    return get_session().scalar(sa.select(Cmi5Launch).where(Cmi5Launch.session_id == sid))


def check_session_statement(statement: dict[str, Any]) -> str | None:
    """For the LRS (a launch check, :func:`lms.xapi.auth.register_launch_check`): why a
    statement an AU writes with its launch credential is refused, or None.

    cmi5 §9.3.6: nothing may be recorded for a session after the LMS recorded it as
    abandoned. §9.3.8: after ``terminated`` the LMS waits ``CMI5_TERMINATED_GRACE_SECONDS``
    (statements already on their way) and then refuses the session's statements. The
    arrival of ``terminated`` is noted here, in the transaction that stores it.
    """
    record = launch_of(statement)
    if record is None:
        return None
    sid = record.session_id
    if record.ended == "abandoned":
        return (f"cmi5 session {sid} was abandoned (the AU was launched again without "
                "terminating it); no statement can be recorded for it any more.")
    now = utcnow()
    if record.ended == "terminated" and record.ended_at is not None:
        grace = float(current_app.config.get("CMI5_TERMINATED_GRACE_SECONDS", 60))
        if (now - _aware(record.ended_at)).total_seconds() > grace:
            return (f"cmi5 session {sid} was terminated; statements for it are no longer "
                    "accepted. Launch the AU again to start a new session.")
    elif ((statement.get("verb") or {}).get("id") == ADL + "terminated"
          and record.ended is None):
        record.ended, record.ended_at = "terminated", now
    return None


def check_session_open(session_id: str) -> str | None:
    """For the LRS (a launch session check, :func:`lms.xapi.auth.register_session_check`):
    why the launch credential of this session no longer works, or None.

    After the session was abandoned, or terminated and the grace period for statements on
    their way has passed (cmi5 §9.3.8), the credential is refused for every request: a
    new session needs a new launch."""
    record = get_session().scalar(sa.select(Cmi5Launch)
                                  .where(Cmi5Launch.session_id == session_id))
    if record is None or record.ended is None:
        return None
    if record.ended == "abandoned":
        return (f"cmi5 session {session_id} was abandoned; its launch credential no longer "
                "works. Launch the AU again.")
    grace = float(current_app.config.get("CMI5_TERMINATED_GRACE_SECONDS", 60))
    if record.ended_at is not None and \
            (utcnow() - _aware(record.ended_at)).total_seconds() > grace:
        return (f"cmi5 session {session_id} was terminated; its launch credential no longer "
                "works. Launch the AU again.")
    return None


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _iso_duration(seconds: float) -> str:
    return f"PT{max(0.0, round(seconds, 2)):g}S"


def launch(user: User, package: Cmi5Package, module_id: str, registration: str,
           content_url: str, return_url: str, mode: str | None = None) -> dict[str, Any]:
    """Prepare a launch (cmi5 §8.1): abandon unterminated earlier sessions, write State
    LMS.LaunchData, store ``launched``, and make a fetch token.

    ``mode``: "Browse" when the learner chose to browse (see :func:`launch_mode_for`).
    Returns ``{"url": launch URL, "launch": Cmi5Launch, "au": au, "mode": launchMode,
    "abandoned": [session ids]}``; ``content_url`` is the absolute URL of the package's
    root folder (ending in ``/``).
    """
    from lms.xapi import documents
    from lms.xapi.actors import actor_for
    from lms.xapi.service import store_statements
    from lms.xapi.validation.agents import agent_key

    row, au = au_of(package, module_id)
    abandoned = close_previous_sessions(user, row, au, registration, package.course_iri)
    launch_mode = launch_mode_for(registration, row, mode)
    session_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(32)
    record = Cmi5Launch(token_hash=_hash(token), session_id=session_id, user_id=user.id,
                        au_id=row.id, registration=registration, launch_mode=launch_mode)
    get_session().add(record)
    actor = actor_for(user)
    base = current_app.config["BASE_URL"]
    context_template = {
        "contextActivities": {"grouping": [{"objectType": "Activity",
                                            "id": package.course_iri}]},
        "extensions": {SESSION_EXT: session_id},
    }
    launch_data: dict[str, Any] = {
        "contextTemplate": context_template, "launchMode": launch_mode,
        "moveOn": au["moveOn"], "returnURL": return_url,
        "entitlementKey": {"courseStructure": package.course_iri},
    }
    if au.get("launchParameters"):
        launch_data["launchParameters"] = au["launchParameters"]
    if au.get("masteryScore") is not None:
        launch_data["masteryScore"] = au["masteryScore"]
    documents.save_document(
        documents.DocumentKey(documents.STATE, activity_id=au["id"],
                              agent_key=agent_key(actor) or "", registration=registration),
        LAUNCH_DATA, json.dumps(launch_data).encode(), "application/json", merge=False)
    _ensure_learner_preferences(user, agent_key(actor) or "")
    au_url = au["url"] if is_absolute(au["url"]) else urljoin(content_url, au["url"])
    params = {
        "endpoint": f"{base}/xapi/",
        "fetch": f"{base}/cmi5/fetch/{token}",
        "actor": json.dumps(actor, separators=(",", ":")),
        "registration": registration,
        "activityId": au["id"],
    }
    url = au_url + ("&" if "?" in au_url else "?") + urlencode(params)
    extensions: dict[str, Any] = {SESSION_EXT: session_id, LAUNCHMODE_EXT: launch_mode,
                                  LAUNCHURL_EXT: au_url, MOVEON_EXT: au["moveOn"]}
    if au.get("launchParameters"):
        extensions[LAUNCHPARAMS_EXT] = au["launchParameters"]
    if au.get("masteryScore") is not None:
        extensions[MASTERY_EXT] = au["masteryScore"]
    store_statements([_statement(actor, ADL + "launched", "launched", au["id"], registration,
                                 package.course_iri, extensions, session_id=session_id)])
    get_session().flush()
    return {"url": url, "launch": record, "au": au, "mode": launch_mode,
            "abandoned": abandoned}


#: cmi5 §11: the Agent Profile document an AU reads on startup.
LEARNER_PREFERENCES = "cmi5LearnerPreferences"
#: The cmi5 languagePreference of each UI language (RFC 5646, most preferred first).
LANGUAGE_PREFERENCES = {"id": "id-ID,en-US", "en": "en-US,id-ID"}


def _ensure_learner_preferences(user: User, agent_key: str) -> None:
    """cmi5 §11: an AU reads cmi5LearnerPreferences from the learner's Agent Profile on
    startup. Write it once from the learner's UI language; a document already there (the
    learner's or another LMS's) is left as it is."""
    from lms.xapi import documents

    key = documents.DocumentKey(documents.AGENT_PROFILE, agent_key=agent_key)
    if documents.get_document(key, LEARNER_PREFERENCES) is not None:
        return
    language = LANGUAGE_PREFERENCES.get(user.locale or "id", LANGUAGE_PREFERENCES["id"])
    content = {"languagePreference": language, "audioPreference": "on"}
    documents.save_document(key, LEARNER_PREFERENCES, json.dumps(content).encode(),
                            "application/json", merge=False)


def fetch_token(token: str) -> dict[str, str]:
    """The fetch URL (cmi5 §8.2): the auth token once, then error-code 1."""
    from lms.xapi.actors import actor_for

    session = get_session()
    record = session.scalar(sa.select(Cmi5Launch).where(Cmi5Launch.token_hash == _hash(token)))
    if record is None:
        return {"error-code": "2", "error-text": "Unknown fetch token."}
    if record.fetched_at is not None:
        return {"error-code": "1", "error-text": "Already in use: the fetch URL may be "
                                                 "called once per launch."}
    if utcnow() - _aware(record.launched_at) > FETCH_TTL:
        return {"error-code": "2", "error-text": "The fetch URL has expired; launch again."}
    record.fetched_at = utcnow()
    user = session.get(User, record.user_id)
    if user is None:
        return {"error-code": "2", "error-text": "Unknown learner."}
    au = session.get(Cmi5Au, record.au_id)
    if au is None:
        return {"error-code": "2", "error-text": "Unknown activity."}
    header = issue_credentials(actor_for(user), record.registration, au.au_iri,
                               record.session_id)
    session.flush()
    return {"auth-token": header.removeprefix("Basic ")}


def issue_credentials(actor: dict[str, Any], registration: str, activity_id: str,
                      session_id: str) -> str:
    """The AU's credential: bound to the learner, the registration, the launched AU and
    the session, so it writes only what cmi5 lets that AU write (lms.xapi.launch)."""
    from lms.xapi.auth import issue_launch_credentials

    return issue_launch_credentials(actor, registration, CREDENTIAL_TTL,
                                    activity_id=activity_id, session_id=session_id)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _statement(actor: dict[str, Any], verb_iri: str, verb: str, object_id: str,
               registration: str, course_iri: str, extensions: dict[str, Any] | None = None,
               *, session_id: str | None = None, statement_id: str | None = None,
               timestamp: str | None = None, moveon: bool = False) -> dict[str, Any]:
    categories = [{"objectType": "Activity", "id": CMI5_CATEGORY}]
    if moveon:
        categories.append({"objectType": "Activity", "id": MOVEON_CATEGORY})
    statement: dict[str, Any] = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": verb_iri, "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": object_id},
        "context": {
            "registration": registration,
            "contextActivities": {"category": categories,
                                  "grouping": [{"objectType": "Activity", "id": course_iri}]},
            "extensions": {**({SESSION_EXT: session_id} if session_id else {}),
                           **(extensions or {})},
        },
        "timestamp": timestamp or utcnow().isoformat().replace("+00:00", "Z"),
    }
    if not statement["context"]["extensions"]:
        del statement["context"]["extensions"]
    return statement


# --- moveOn ------------------------------------------------------------------------------


def counts_for_completion(statement: dict[str, Any]) -> bool:
    """False for statements of a session launched in Browse or Review mode (cmi5 §10: such
    sessions do not change the AU's completion or success). Statements without a known
    session id count (they may come from another system)."""
    record = launch_of(statement)
    return record is None or record.launch_mode == NORMAL


def move_on_met(move_on: str, completed: bool, passed: bool) -> bool:
    """cmi5 §10 (moveOn): whether an AU with this criterion is satisfied."""
    return {
        "Passed": passed,
        "Completed": completed,
        "CompletedAndPassed": completed and passed,
        "CompletedOrPassed": completed or passed,
        "NotApplicable": True,
    }[move_on]


try:
    from lms.xapi.consumers import StatementConsumer, StoredStatement
except ImportError:  # pragma: no cover
    StatementConsumer = object  # type: ignore[assignment,misc]
    StoredStatement = Any  # type: ignore[assignment,misc]


class Cmi5Consumer(StatementConsumer):  # type: ignore[misc,valid-type]
    """Judges moveOn from AU statements and stores ``satisfied`` and Lentera completions.

    Statements it stores have ids derived from (registration, activity, verb) and the
    triggering statement's timestamp, so a replay stores nothing twice.
    """

    name = "cmi5"
    shares_statements = True  # reads statements, never changes them

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        from lms.xapi.consumers import about_known_activities

        return about_known_activities(
            statements, (ADL + "completed", ADL + "passed"),
            lambda ids: get_session().scalars(
                sa.select(Cmi5Au.au_iri).where(among(Cmi5Au.au_iri, ids))),
            voiding=False)  # (handle_voiding does nothing)

    def handle(self, statement: StoredStatement) -> None:
        data = statement.data
        verb = (data.get("verb") or {}).get("id", "")
        if verb not in (ADL + "completed", ADL + "passed"):
            return
        obj = data.get("object") or {}
        registration = ((data.get("context") or {}).get("registration") or "").lower()
        if obj.get("objectType", "Activity") != "Activity" or not registration:
            return
        from lms.xapi.launch import origin_of

        origin = origin_of(data)
        if origin is not None and origin.activity_id != obj.get("id"):
            return  # a launch credential judges only the AU it was launched for
        session = get_session()
        rows = list(session.scalars(sa.select(Cmi5Au).where(Cmi5Au.au_iri == obj.get("id"))))
        if not rows:
            return
        from lms.courses.models import Enrollment

        enrollment = session.scalar(sa.select(Enrollment)
                                    .where(Enrollment.registration == registration))
        if enrollment is None:
            return
        if not counts_for_completion(data):
            return
        from lms.courses import service as courses

        package_ids = [r.package_id for r in rows]
        version = courses.pinned_version(enrollment)
        package: Cmi5Package | None = package_for_version(version)
        # The AU is not in the version the learner follows:
        if package is None or package.id not in package_ids:
            package = session.scalar(sa.select(Cmi5Package)
                                     .where(Cmi5Package.id.in_(package_ids))
                                     .order_by(Cmi5Package.id.desc()).limit(1))
        assert package is not None
        au = next(r for r in rows if r.package_id == package.id)
        status = self._status(registration, au.id)
        if verb == ADL + "completed":
            status.completed = True
        else:
            status.passed = True
        if status.satisfied or not move_on_met(au.move_on, status.completed, status.passed):
            session.flush()
            return
        status.satisfied = True
        session.flush()
        self._satisfy(package, au, registration, data, enrollment)

    def _status(self, registration: str, au_id: int) -> Cmi5Status:
        session = get_session()
        row = session.scalar(sa.select(Cmi5Status).where(Cmi5Status.registration == registration,
                                                         Cmi5Status.au_id == au_id))
        if row is None:
            row = Cmi5Status(registration=registration, au_id=au_id, completed=False,
                             passed=False, satisfied=False)
            session.add(row)
        return row

    def _satisfy(self, package: Cmi5Package, au: Cmi5Au, registration: str,
                 trigger: dict[str, Any], enrollment: Any) -> None:
        from lms.courses import service as courses
        from lms.xapi.service import store_statements

        session = get_session()
        actor = trigger["actor"]
        stamp = trigger.get("timestamp")
        session_id = ((trigger.get("context") or {}).get("extensions") or {}).get(SESSION_EXT)

        def sid(*parts: str) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join([registration, *parts])))

        out = [_statement(actor, SATISFIED, "satisfied", au.au_iri, registration,
                          package.course_iri, session_id=session_id, moveon=True,
                          statement_id=sid(au.au_iri, "satisfied"), timestamp=stamp)]
        all_aus = list(session.scalars(sa.select(Cmi5Au).where(Cmi5Au.package_id == package.id)))
        done = {r.au_id for r in session.scalars(
            sa.select(Cmi5Status).where(Cmi5Status.registration == registration,
                                        Cmi5Status.satisfied.is_(True)))}
        satisfied = {a.au_iri for a in all_aus if a.id in done or a.move_on == "NotApplicable"}
        for block in package.structure.get("blocks", []):
            members = [a["id"] for a in package.structure["aus"] if block["id"] in a["blocks"]]
            if au.au_iri in members and all(m in satisfied for m in members):
                out.append(_statement(actor, SATISFIED, "satisfied", block["id"], registration,
                                      package.course_iri, session_id=session_id, moveon=True,
                                      statement_id=sid(block["id"], "satisfied"),
                                      timestamp=stamp))
        version = courses.pinned_version(enrollment)
        definition = courses.definition_of(version)
        module = next((m for m in definition["modules"] if m["id"] == au.module_id), None)
        lentera = []
        if module is not None:
            lentera.append(st.make_statement(actor, "completed",
                                             st.module_activity(definition, module),
                                             definition=definition, version=version.number,
                                             registration=registration,
                                             parent=st.course_activity(definition),
                                             result={"completion": True}))
        if all(a.au_iri in satisfied for a in all_aus):
            out.append(_statement(actor, SATISFIED, "satisfied", package.course_iri,
                                  registration, package.course_iri, session_id=session_id,
                                  moveon=True, statement_id=sid(package.course_iri, "satisfied"),
                                  timestamp=stamp))
            lentera.append(st.make_statement(actor, "completed", st.course_activity(definition),
                                             definition=definition, version=version.number,
                                             registration=registration,
                                             result={"completion": True}))
        for i, statement in enumerate(lentera):
            statement["id"] = sid(statement["object"]["id"], "lentera-completed")
            if stamp:
                statement["timestamp"] = stamp
            lentera[i] = statement
        store_statements(out + lentera)

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        """A voided AU statement does not undo satisfaction (cmi5 §9.6.2: satisfied is
        final for the registration); nothing to withdraw here."""

    def reset(self) -> None:
        get_session().execute(sa.delete(Cmi5Status))
        get_session().flush()

