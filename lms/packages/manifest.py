"""A tolerant reader of SCORM ``imsmanifest.xml`` (SCORM 1.2 and SCORM 2004 2nd-4th ed.).

Real packages rarely validate against the official XSDs (Storyline, iSpring, Captivate and
older tools all bend them), so elements are matched by their local name whatever their
namespace prefix, unknown elements are ignored and only what a learner's launch needs is
required: one organization with at least one item that points to a resource with a file
in the package. Everything refused raises :class:`ManifestError` with a message for the
trainer (translated; Indonesian by default).

Parsed with ``defusedxml`` (no entities, no DTD retrieval, no external references).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import defusedxml.ElementTree as SafeET
from flask_babel import lazy_gettext as _l

from lms.errors import ValidationError

#: A manifest larger than this is refused before parsing (a real one is a few hundred KB).
MAX_MANIFEST_BYTES = 5 * 1024 * 1024
MAX_ITEMS = 1000


class ManifestError(ValidationError):
    """An imsmanifest.xml that cannot become a course; ``message`` says why."""


@dataclass
class Sco:
    """A launchable item of the organization (a SCO or an asset)."""

    identifier: str
    title: str
    href: str  # path in the package (POSIX, no query), checked to exist
    parameters: str  # query string/fragment to add to the launch URL
    scorm_type: str  # "sco" or "asset"
    mastery_score: float | None = None  # 1.2 adlcp:masteryscore (0-100)
    scaled_passing_score: float | None = None  # 2004 imsss minNormalizedMeasure
    completion_threshold: float | None = None  # 2004 adlcp:completionThreshold
    max_time_allowed: str = ""  # 1.2 "HH:MM:SS", 2004 ISO duration
    time_limit_action: str = ""
    data_from_lms: str = ""
    prerequisites: str = ""  # 1.2 adlcp:prerequisites (kept, not enforced)
    attempt_limit: int | None = None
    parents: list[str] = field(default_factory=list)  # titles of the enclosing items

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Manifest:
    identifier: str
    version: str  # "1.2" or "2004"
    edition: str  # "", "2nd", "3rd", "4th"
    title: str
    description: str
    organization: str
    scos: list[Sco]
    #: the organization's item tree: [{"id", "title", "sco" (index or None), "children"}]
    tree: list[dict[str, Any]]
    #: 2004 imsss:controlMode of the organization (choice / flow), default both allowed
    control: dict[str, bool]
    has_sequencing: bool
    language: str = ""  # LOM general/language, e.g. "en-US" ("" when not stated)
    #: 2004 rollup of the organization itself (see :func:`rollup_of`), {} by default
    rollup: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"identifier": self.identifier, "version": self.version,
                "edition": self.edition, "title": self.title,
                "description": self.description, "organization": self.organization,
                "scos": [s.as_dict() for s in self.scos], "tree": self.tree,
                "control": self.control, "has_sequencing": self.has_sequencing,
                "language": self.language, "rollup": self.rollup}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attr(element: Any, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (``adlcp:scormtype``,
    ``adlcp:scormType``, ``isvisible``...), compared case-insensitively."""
    wanted = name.lower()
    for key, value in element.attrib.items():
        if _local(key).lower() == wanted:
            return str(value)
    return None


def _children(element: Any, name: str) -> list[Any]:
    wanted = name.lower()
    return [c for c in element if _local(c.tag).lower() == wanted]


def _child(element: Any, name: str) -> Any:
    found = _children(element, name)
    return found[0] if found else None


def _child_text(element: Any, name: str) -> str:
    node = _child(element, name)
    return (node.text or "").strip() if node is not None else ""


def _descendant(element: Any, name: str) -> Any:
    wanted = name.lower()
    for node in element.iter():
        if _local(node.tag).lower() == wanted:
            return node
    return None


def _langstring(element: Any) -> str:
    """The text of a LOM element (a ``string``/``langstring`` list, or plain text)."""
    if element is None:
        return ""
    strings = [n for n in element.iter() if _local(n.tag).lower() in ("string", "langstring")]
    for lang in ("id", "id-ID", "en", "en-US"):
        for s in strings:
            if _attr(s, "lang") == lang and (s.text or "").strip():
                return s.text.strip()
    for s in strings:
        if (s.text or "").strip():
            return s.text.strip()
    return (element.text or "").strip()


def detect_version(root: Any) -> tuple[str, str]:
    """("1.2" | "2004", edition) from ``<schemaversion>``, else from the namespaces."""
    schema = ""
    metadata = _child(root, "metadata")
    if metadata is not None:
        schema = _child_text(metadata, "schemaversion")
    s = schema.lower()
    if s.startswith("1.2"):
        return "1.2", ""
    if "4th" in s:
        return "2004", "4th"
    if "3rd" in s:
        return "2004", "3rd"
    if "cam 1.3" in s or "2004" in s:
        return "2004", "2nd" if "cam 1.3" in s else ""
    namespaces = {node.tag.split("}")[0][1:] for node in root.iter()
                  if isinstance(node.tag, str) and node.tag.startswith("{")}
    namespaces |= {k.split("}")[0][1:] for node in root.iter() for k in node.attrib
                   if k.startswith("{")}
    if any("adlcp_v1p3" in n or "imsss" in n for n in namespaces):
        return "2004", ""
    if any("adlcp_rootv1p2" in n or "imscp_rootv1p1p2" in n for n in namespaces):
        return "1.2", ""
    if schema:
        raise ManifestError(_l("imsmanifest.xml names schema version \"%(value)s\"; only "
                               "SCORM 1.2 and SCORM 2004 are supported.", value=schema[:40]))
    return "1.2", ""  # no version and no ADL namespace: plain IMS CP, played as 1.2


def safe_href(href: str) -> PurePosixPath | None:
    """The package-relative path of ``href`` (no query or fragment), or None when it is
    absolute, a URL, or leaves the package."""
    if not href or "\\" in href or "\x00" in href:
        return None
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/"):
        return None
    path = PurePosixPath(unquote(parts.path))
    if not path.parts or path.is_absolute() or any(p in ("..", "") for p in path.parts):
        return None
    if ":" in path.parts[0]:
        return None
    return path


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except ValueError:
        return None


def parse_manifest(xml: bytes, files: set[str] | None = None) -> Manifest:
    """Read ``xml``; with ``files`` (the package's paths), every launch file must exist."""
    if len(xml) > MAX_MANIFEST_BYTES:
        raise ManifestError(_l("imsmanifest.xml is larger than %(mb)s MB; it is refused.",
                               mb=MAX_MANIFEST_BYTES // (1024 * 1024)))
    try:
        root = SafeET.fromstring(xml)
    except Exception as exc:  # defusedxml raises several kinds for unsafe or broken XML
        raise ManifestError(_l("imsmanifest.xml is not valid XML (%(error)s). Nothing was "
                               "imported.", error=str(exc)[:200])) from None
    if _local(root.tag).lower() != "manifest":
        raise ManifestError(_l("imsmanifest.xml must have a <manifest> root element."))
    version, edition = detect_version(root)
    identifier = (root.get("identifier") or "").strip() or "manifest"
    base = root.get("{http://www.w3.org/XML/1998/namespace}base") or ""

    resources: dict[str, dict[str, str]] = {}
    res_parent = _child(root, "resources")
    res_base = base + ((res_parent.get("{http://www.w3.org/XML/1998/namespace}base") or "")
                       if res_parent is not None else "")
    for res in (_children(res_parent, "resource") if res_parent is not None else []):
        rid = res.get("identifier") or ""
        href = res.get("href") or ""
        own_base = res.get("{http://www.w3.org/XML/1998/namespace}base") or ""
        resources[rid] = {"href": (res_base + own_base + href) if href else "",
                          "type": (_attr(res, "scormtype") or "sco").lower()}

    orgs_parent = _child(root, "organizations")
    organizations = _children(orgs_parent, "organization") if orgs_parent is not None else []
    if not organizations:
        raise ManifestError(_l("imsmanifest.xml has no <organization>: there is nothing a "
                               "learner can open."))
    default = orgs_parent.get("default") if orgs_parent is not None else None
    org = next((o for o in organizations if o.get("identifier") == default), organizations[0])

    scos: list[Sco] = []
    control = {"choice": True, "flow": True}
    org_seq = _child(org, "sequencing")
    has_sequencing = org_seq is not None or _descendant(root, "sequencingCollection") is not None
    if org_seq is not None:
        mode = _child(org_seq, "controlMode")
        if mode is not None:
            control = {"choice": (mode.get("choice") or "true").lower() != "false",
                       "flow": (mode.get("flow") or "false").lower() == "true"}
    count = 0

    def walk(parent: Any, trail: list[str]) -> list[dict[str, Any]]:
        nonlocal count, has_sequencing
        nodes = []
        for item in _children(parent, "item"):
            count += 1
            if count > MAX_ITEMS:
                raise ManifestError(_l("imsmanifest.xml has more than %(n)s items.",
                                       n=MAX_ITEMS))
            item_id = item.get("identifier") or f"item-{count}"
            title = _child_text(item, "title") or item_id
            ref = item.get("identifierref")
            node: dict[str, Any] = {"id": item_id, "title": title[:200], "sco": None,
                                    "visible": (item.get("isvisible") or "true").lower()
                                    != "false"}
            rollup = rollup_of(_child(item, "sequencing"))
            if rollup:
                node["rollup"] = rollup
            if ref:
                resource = resources.get(ref)
                if resource is None:
                    raise ManifestError(_l("Item \"%(item)s\" points to resource \"%(ref)s\", "
                                           "which the manifest does not list.",
                                           item=title[:80], ref=ref[:80]))
                raw = resource["href"]
                if not raw:
                    raise ManifestError(_l("Resource \"%(ref)s\" of item \"%(item)s\" has no "
                                           "href: there is no file to open.",
                                           ref=ref[:80], item=title[:80]))
                path = safe_href(raw)
                if path is None:
                    raise ManifestError(_l("Item \"%(item)s\" opens \"%(href)s\": a path "
                                           "outside the package or on another site is not "
                                           "accepted. Nothing was imported.",
                                           item=title[:80], href=raw[:200]))
                if files is not None and path.as_posix() not in files:
                    raise ManifestError(_l("Item \"%(item)s\" opens \"%(href)s\", which is not "
                                           "in the package.", item=title[:80],
                                           href=path.as_posix()[:200]))
                query = urlsplit(raw).query
                params = (item.get("parameters") or "").strip()
                if query and params.startswith("?"):
                    params = "&" + params[1:]
                elif query and params and not params.startswith(("&", "#")):
                    params = "&" + params
                sco = Sco(identifier=item_id, title=title[:200], href=path.as_posix(),
                          parameters=((("?" + query) if query else "") + params)[:1000],
                          scorm_type="asset" if resource["type"] == "asset" else "sco",
                          parents=list(trail))
                _item_settings(item, sco, version)
                if _child(item, "sequencing") is not None:
                    has_sequencing = True
                node["sco"] = len(scos)
                scos.append(sco)
            node["children"] = walk(item, [*trail, title[:200]])
            nodes.append(node)
        return nodes

    tree = walk(org, [])
    if not scos:
        raise ManifestError(_l("The organization of imsmanifest.xml has no item that opens a "
                               "file (identifierref to a resource with href)."))
    metadata_title = ""
    lom = _descendant(root, "lom")
    general = _child(lom, "general") if lom is not None else None
    description = ""
    language = ""
    if general is not None:
        metadata_title = _langstring(_child(general, "title"))
        description = _langstring(_child(general, "description"))
        language = _child_text(general, "language")[:20]
    title = _child_text(org, "title") or metadata_title or identifier
    return Manifest(identifier=identifier[:200], version=version, edition=edition,
                    title=title[:200], description=description[:2000],
                    organization=org.get("identifier") or "", scos=scos, tree=tree,
                    control=control, has_sequencing=has_sequencing, language=language,
                    rollup=rollup_of(org_seq))


ROLLUP_ACTIONS = ("satisfied", "notSatisfied", "completed", "incomplete")
ROLLUP_SETS = ("all", "any", "none", "atLeastCount", "atLeastPercent")


def rollup_of(seq: Any) -> dict[str, Any]:
    """What an item's (or the organization's) IMS SS sequencing says about rollup:
    ``tracked`` (deliveryControls), ``satisfied`` / ``completion`` (whether it counts in
    its parent's rollup: rollupObjectiveSatisfied, rollupProgressCompletion) and its
    ``rules`` (rollupRule: childActivitySet, minimumCount/Percent, conditions, action).
    Only what differs from the defaults is kept; {} when nothing does."""
    if seq is None:
        return {}
    out: dict[str, Any] = {}
    delivery = _child(seq, "deliveryControls")
    if delivery is not None and (delivery.get("tracked") or "true").lower() == "false":
        out["tracked"] = False
    rules_node = _child(seq, "rollupRules")
    if rules_node is None:
        return out
    if (rules_node.get("rollupObjectiveSatisfied") or "true").lower() == "false":
        out["satisfied"] = False
    if (rules_node.get("rollupProgressCompletion") or "true").lower() == "false":
        out["completion"] = False
    rules = []
    for rule in _children(rules_node, "rollupRule")[:50]:
        action_node = _child(rule, "rollupAction")
        action = action_node.get("action") if action_node is not None else None
        if action not in ROLLUP_ACTIONS:
            continue
        child_set = rule.get("childActivitySet") or "all"
        conditions_node = _child(rule, "rollupConditions")
        conditions = [
            {"condition": c.get("condition") or "", "not": (c.get("operator") or "") == "not"}
            for c in (_children(conditions_node, "rollupCondition")
                      if conditions_node is not None else [])][:20]
        if not conditions or child_set not in ROLLUP_SETS:
            continue
        count = rule.get("minimumCount") or "0"
        percent = _float(rule.get("minimumPercent") or "0")
        rules.append({
            "set": child_set,
            "count": min(int(count), MAX_ITEMS) if count.isdigit() else 0,
            "percent": min(max(percent, 0.0), 1.0) if percent == percent and
            percent is not None else 0.0,
            # rollupConditions combine with "any" unless they say otherwise (IMS SS)
            "combination": "all" if conditions_node.get("conditionCombination") == "all"
            else "any",
            "conditions": conditions, "action": action})
    if rules:
        out["rules"] = rules
    return out


_DURATION = re.compile(r"^P(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


def _item_settings(item: Any, sco: Sco, version: str) -> None:
    mastery = _float(_child_text(item, "masteryscore"))
    if mastery is not None and 0 <= mastery <= 100:
        sco.mastery_score = mastery
    sco.max_time_allowed = (_child_text(item, "maxtimeallowed")
                            or _child_text(item, "attemptAbsoluteDurationLimit"))[:40]
    sco.time_limit_action = _child_text(item, "timelimitaction")[:40]
    sco.data_from_lms = _child_text(item, "datafromlms")[:4000]
    sco.prerequisites = _child_text(item, "prerequisites")[:1000]
    threshold = _child(item, "completionThreshold")
    if threshold is not None:
        value = _float(threshold.get("minProgressMeasure")) if threshold.get(
            "minProgressMeasure") is not None else _float((threshold.text or "").strip())
        if value is not None and 0 <= value <= 1:
            sco.completion_threshold = value
    seq = _child(item, "sequencing")
    if seq is None:
        return
    limits = _child(seq, "limitConditions")
    if limits is not None:
        attempts = limits.get("attemptLimit")
        if attempts and attempts.isdigit():
            sco.attempt_limit = int(attempts)
        duration = limits.get("attemptAbsoluteDurationLimit") or ""
        if duration and _DURATION.match(duration) and not sco.max_time_allowed:
            sco.max_time_allowed = duration[:40]
    objectives = _child(seq, "objectives")
    primary = _child(objectives, "primaryObjective") if objectives is not None else None
    if primary is not None and (primary.get("satisfiedByMeasure") or "").lower() == "true":
        measure = _float(_child_text(primary, "minNormalizedMeasure") or "1.0")
        if measure is not None and -1 <= measure <= 1:
            sco.scaled_passing_score = measure
