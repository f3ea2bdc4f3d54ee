"""1EdTech CASE 1.0 (Competencies and Academic Standards Exchange) for competency frameworks.

Export: every framework is a ``CFPackage`` with one ``CFDocument`` (the framework), a
``CFItem`` per competency (its ``uri`` is the competency's stable IRI) and per proficiency
level (``CFItemType`` "Proficiency Level", with its behaviour indicators as ``notes``), and
``isChildOf`` ``CFAssociations``: competency → document, level → competency. Identifiers are
UUIDv5 of the IRIs, so they stay the same across exports and servers.

Import: a CASE package is read into the framework document of the competency module and
handed to :func:`lms.competency.service.import_framework`, which checks it whole and writes
nothing when any part is wrong.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from lms.competency import service as competency_service
from lms.competency.models import CompetencyType, Framework
from lms.errors import ValidationError

CASE_PATH = "/ims/case/v1p0"
LEVEL_ITEM_TYPE = "Proficiency Level"
#: CFItemType of a competency, by Lentera competency type (read back on import).
ITEM_TYPES = {
    CompetencyType.MANAJERIAL.value: "Competency (managerial)",
    CompetencyType.SOSIAL_KULTURAL.value: "Competency (socio-cultural)",
    CompetencyType.TEKNIS.value: "Competency (technical)",
}
TYPES_BY_ITEM_TYPE = {v.lower(): k for k, v in ITEM_TYPES.items()}
MAX_ITEMS = 20_000


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def case_url(kind: str, identifier: str) -> str:
    """The CASE service address of an object: ``<base>/ims/case/v1p0/<kind>/<id>``."""
    return f"{base_url()}{CASE_PATH}/{kind}/{identifier}"


def stable_id(iri: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, iri))


def framework_iri(framework: Framework) -> str:
    return f"{base_url()}/competency/frameworks/{framework.code}"


def document_id(framework: Framework) -> str:
    return stable_id(framework_iri(framework))


def level_iri(competency_iri: str, level: int) -> str:
    return f"{competency_iri}#level-{level}"


def level_item_id(competency_iri: str, level: int) -> str:
    return stable_id(level_iri(competency_iri, level))


def level_item_uri(competency_iri: str, level: int) -> str:
    return case_url("CFItems", level_item_id(competency_iri, level))


def _iso(when: dt.datetime | None) -> str:
    when = when or dt.datetime.now(dt.UTC)
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _link(title: str, identifier: str, uri: str) -> dict[str, str]:
    return {"title": title, "identifier": identifier, "uri": uri}


def export_package(framework: Framework) -> dict[str, Any]:
    """The framework as a CASE ``CFPackage`` (JSON, CASE 1.0 service binding)."""
    data = competency_service.export_framework(framework)
    now = _iso(None)
    doc_id = document_id(framework)
    doc_uri = case_url("CFDocuments", doc_id)
    doc_link = _link(data["name"], doc_id, doc_uri)
    document = {
        "identifier": doc_id,
        "uri": doc_uri,
        "creator": data.get("source") or "Lentera",
        "title": data["name"],
        "lastChangeDateTime": now,
        "officialSourceURL": framework_iri(framework),
        "publisher": data.get("source") or None,
        "description": data.get("description") or None,
        "language": "id",
        "adoptionStatus": "Adopted",
        "notes": f"Lentera framework code: {data['code']}",
        "CFPackageURI": _link(data["name"], doc_id, case_url("CFPackages", doc_id)),
        "frameworkType": "Competency framework",
        "caseVersion": "1.0",
    }
    document = {k: v for k, v in document.items() if v is not None}
    items: list[dict[str, Any]] = []
    associations: list[dict[str, Any]] = []

    def child_of(child: dict[str, Any], parent: dict[str, str], seq: int) -> None:
        origin = _link(
            child.get("humanCodingScheme") or child["fullStatement"][:60],
            child["identifier"],
            child["uri"],
        )
        ident = stable_id(f"{child['uri']}|isChildOf|{parent['uri']}")
        associations.append(
            {
                "identifier": ident,
                "uri": case_url("CFAssociations", ident),
                "associationType": "isChildOf",
                "sequenceNumber": seq,
                "CFDocumentURI": doc_link,
                "originNodeURI": origin,
                "destinationNodeURI": parent,
                "lastChangeDateTime": now,
            }
        )

    for seq, comp in enumerate(data["competencies"], start=1):
        ident = stable_id(comp["iri"])
        item = {
            "identifier": ident,
            "uri": comp["iri"],
            "fullStatement": comp["name"],
            "abbreviatedStatement": comp["name"],
            "humanCodingScheme": comp["code"],
            "CFItemType": ITEM_TYPES.get(comp["type"], comp["type"]),
            "notes": comp["description"] or None,
            "language": "id",
            "listEnumeration": str(seq),
            "CFDocumentURI": doc_link,
            "lastChangeDateTime": now,
        }
        item = {k: v for k, v in item.items() if v is not None}
        items.append(item)
        child_of(item, doc_link, seq)
        comp_link = _link(comp["name"], ident, comp["iri"])
        for level in comp["levels"]:
            n = int(level["level"])
            lid = level_item_id(comp["iri"], n)
            level_item = {
                "identifier": lid,
                "uri": case_url("CFItems", lid),
                "fullStatement": level["description"] or f"{comp['name']} — level {n}",
                "abbreviatedStatement": f"{comp['name']} — level {n}",
                "humanCodingScheme": f"{comp['code']}.{n}",
                "CFItemType": LEVEL_ITEM_TYPE,
                "educationLevel": [str(n)],
                "listEnumeration": str(n),
                "language": "id",
                "CFDocumentURI": doc_link,
                "lastChangeDateTime": now,
                "notes": "\n".join(f"- {i}" for i in level["indicators"]) or None,
            }
            level_item = {k: v for k, v in level_item.items() if v is not None}
            items.append(level_item)
            child_of(level_item, comp_link, n)
    return {"CFDocument": document, "CFItems": items, "CFAssociations": associations}


def find_item(identifier: str) -> dict[str, Any] | None:
    """A CFItem of any framework by its identifier (what ``CFItems/<id>`` serves)."""
    for framework in competency_service.list_frameworks():
        for comp in framework.competencies:
            if stable_id(comp.iri) == identifier:
                return _item_of(framework, identifier)
            for row in comp.levels:
                if level_item_id(comp.iri, row.level) == identifier:
                    return _item_of(framework, identifier)
    return None


def _item_of(framework: Framework, identifier: str) -> dict[str, Any] | None:
    return next(
        (i for i in export_package(framework)["CFItems"] if i["identifier"] == identifier), None
    )


def framework_by_document_id(identifier: str) -> Framework | None:
    return next(
        (f for f in competency_service.list_frameworks() if document_id(f) == identifier), None
    )


# --- import ----------------------------------------------------------------------------------


def _err(message: str) -> ValidationError:
    return ValidationError(message)


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _ref_id(link: Any) -> str:
    """The identifier a CASE LinkURI names (falls back to the last part of its uri)."""
    if isinstance(link, dict):
        ident = _str(link.get("identifier"))
        if ident:
            return ident
        uri = _str(link.get("uri"))
        return uri.rstrip("/").rsplit("/", 1)[-1] if uri else ""
    return ""


def framework_from_package(package: Any, code: str | None = None) -> dict[str, Any]:
    """Read a CASE ``CFPackage`` into the competency module's framework document.

    Competencies are the CFItems that are children of the CFDocument (``isChildOf``); the
    levels of a competency are its children with a number (``humanCodingScheme``
    ``<code>.<n>``, ``listEnumeration`` or ``educationLevel``) from 1 to 5. Raises
    :class:`ValidationError` with a message naming the faulty part.
    """
    if not isinstance(package, dict):
        raise _err(
            _(
                "The file is not a CASE package (a JSON object with CFDocument, CFItems "
                "and CFAssociations)."
            )
        )
    document = package.get("CFDocument")
    if not isinstance(document, dict):
        raise _err(_("The CASE package has no CFDocument."))
    items = package.get("CFItems") or []
    associations = package.get("CFAssociations") or []
    if not isinstance(items, list) or not isinstance(associations, list):
        raise _err(_("CFItems and CFAssociations must be lists."))
    if len(items) > MAX_ITEMS or len(associations) > MAX_ITEMS * 2:
        raise _err(_("The CASE package is too large (at most %(n)d items).", n=MAX_ITEMS))
    doc_id = _str(document.get("identifier"))
    title = _str(document.get("title"))
    if not doc_id or not title:
        raise _err(_("The CFDocument needs an identifier and a title."))
    by_id: dict[str, dict[str, Any]] = {}
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not _str(item.get("identifier")):
            raise _err(_("CFItem %(n)d has no identifier.", n=n))
        if not _str(item.get("fullStatement")):
            raise _err(_("CFItem %(id)s has no fullStatement.", id=item["identifier"]))
        by_id[_str(item["identifier"])] = item
    children: dict[str, list[tuple[int, str]]] = {}
    for n, assoc in enumerate(associations, start=1):
        if not isinstance(assoc, dict):
            raise _err(_("CFAssociation %(n)d is not an object.", n=n))
        if assoc.get("associationType") != "isChildOf":
            continue
        origin, dest = _ref_id(assoc.get("originNodeURI")), _ref_id(assoc.get("destinationNodeURI"))
        if origin not in by_id:
            raise _err(_("CFAssociation %(n)d links an item that is not in the package.", n=n))
        seq = assoc.get("sequenceNumber")
        children.setdefault(dest, []).append((seq if isinstance(seq, int) else 10**6 + n, origin))
    top = [ident for _seq, ident in sorted(children.get(doc_id, []))]
    if not top:
        raise _err(
            _(
                "No CFItem is a child (isChildOf) of the CFDocument: the package "
                "describes no competency."
            )
        )
    notes = _str(document.get("notes"))
    code = (
        code
        or (notes.split(":", 1)[1].strip() if notes.startswith("Lentera framework code:") else "")
        or _str(document.get("humanCodingScheme"))
        or title
    )
    competencies = []
    for ident in top:
        item = by_id[ident]
        comp_code = _str(item.get("humanCodingScheme"))
        if not comp_code:
            raise _err(
                _(
                    "CFItem %(id)s (%(name)s) has no humanCodingScheme: a competency needs a code.",
                    id=ident,
                    name=item["fullStatement"][:60],
                )
            )
        kind = TYPES_BY_ITEM_TYPE.get(_str(item.get("CFItemType")).lower())
        if kind is None:
            kind = _guess_type(comp_code)
        uri = _str(item.get("uri"))
        levels = []
        for _seq, child_id in sorted(children.get(ident, [])):
            child = by_id[child_id]
            number = _level_number(child, comp_code)
            if number is None:
                raise _err(
                    _(
                        "CFItem %(id)s under %(code)s has no level number (1 to 5).",
                        id=child_id,
                        code=comp_code,
                    )
                )
            indicators = [
                line.strip().lstrip("-•").strip() for line in _str(child.get("notes")).splitlines()
            ]
            levels.append(
                {
                    "level": number,
                    "description": child["fullStatement"].strip(),
                    "indicators": [i for i in indicators if i],
                }
            )
        competencies.append(
            {
                "code": comp_code,
                "name": item["fullStatement"].strip(),
                "type": kind,
                "description": _str(item.get("notes")),
                # The CFItem's uri becomes the competency IRI: links from badges keep working.
                "iri": uri if uri.startswith(("http://", "https://")) else "",
                "levels": levels,
            }
        )
    code = code[:50]
    result: dict[str, Any] = {
        "code": code,
        "name": title,
        "description": _str(document.get("description")),
        "source": _str(document.get("publisher")) or _str(document.get("creator")),
        "competencies": competencies,
    }
    # CASE carries no aggregation policy: an update keeps the one HR chose.
    existing = next((f for f in competency_service.list_frameworks() if f.code == code), None)
    if existing is not None:
        result["policy"] = existing.policy
    return result


def _level_number(item: dict[str, Any], code: str) -> int | None:
    candidates: list[Any] = []
    hcs = _str(item.get("humanCodingScheme"))
    if hcs.startswith(code + "."):
        candidates.append(hcs[len(code) + 1 :])
    candidates.append(item.get("listEnumeration"))
    levels = item.get("educationLevel")
    if isinstance(levels, list) and levels:
        candidates.append(levels[0])
    for value in candidates:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            continue
        if 1 <= number <= 5:
            return number
    return None


def _guess_type(code: str) -> str:
    """The competency type of an item whose CFItemType is not one of ours, by its code."""
    upper = code.upper()
    if upper.startswith("SK"):
        return CompetencyType.SOSIAL_KULTURAL.value
    if upper.startswith("M."):
        return CompetencyType.MANAJERIAL.value
    return CompetencyType.TEKNIS.value


def import_package(package: Any, code: str | None = None) -> tuple[Framework, int, int]:
    """Import a CASE package as a framework (the caller commits, or rolls back on error)."""
    return competency_service.import_framework(framework_from_package(package, code))
