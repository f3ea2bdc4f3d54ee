"""CASE 1.0 export and import of competency frameworks."""

from __future__ import annotations

import io
import json
from typing import Any

import sqlalchemy as sa

from lms.competency import service as competency_service
from lms.competency.models import Competency, Framework
from lms.competency.policy import normalize_policy
from lms.credentials import case


def _upload(client: Any, package: Any, name: str = "framework.case.json") -> Any:
    data = package if isinstance(package, bytes) else json.dumps(package).encode()
    return client.post(
        "/credentials/frameworks/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_export_is_a_case_package(client, frameworks):
    framework = competency_service.get_framework("ASN-MSK")
    doc_id = case.document_id(framework)
    package = client.get(f"/ims/case/v1p0/CFPackages/{doc_id}").get_json()
    document = package["CFDocument"]
    assert document["identifier"] == doc_id and document["title"] == framework.name
    assert document["uri"] == f"http://lentera.test/ims/case/v1p0/CFDocuments/{doc_id}"
    items = {i["humanCodingScheme"]: i for i in package["CFItems"]}
    m03 = items["M.03"]
    assert m03["uri"] == "http://lentera.test/competency/c/M.03"  # the competency IRI
    assert m03["fullStatement"] == frameworks["M.03"].name
    level = items["M.03.3"]
    assert level["CFItemType"] == "Proficiency Level" and level["notes"].startswith("- ")
    # isChildOf: competency -> document, level -> competency
    parents = {
        a["originNodeURI"]["identifier"]: a["destinationNodeURI"]["identifier"]
        for a in package["CFAssociations"]
        if a["associationType"] == "isChildOf"
    }
    assert parents[m03["identifier"]] == doc_id
    assert parents[level["identifier"]] == m03["identifier"]
    assert len(package["CFItems"]) == 9 * 6
    # identifiers are stable: a second export gives the same ones
    again = case.export_package(framework)
    ids = [i["identifier"] for i in package["CFItems"]]
    assert [i["identifier"] for i in again["CFItems"]] == ids
    # the document list, one document, one item, and the download
    docs = client.get("/ims/case/v1p0/CFDocuments").get_json()["CFDocuments"]
    assert {d["title"] for d in docs} >= {framework.name}
    assert client.get(f"/ims/case/v1p0/CFDocuments/{doc_id}").get_json()["identifier"] == doc_id
    # lastChangeDateTime is the time of the export (frameworks keep no change time), so
    # two exports a second apart differ there and nowhere else
    item = client.get(f"/ims/case/v1p0/CFItems/{level['identifier']}").get_json()
    assert item.pop("lastChangeDateTime").endswith("Z")
    assert item == {k: v for k, v in level.items() if k != "lastChangeDateTime"}
    assert client.get("/ims/case/v1p0/CFItems/nope").status_code == 404
    assert client.get("/ims/case/v1p0/CFPackages/nope").status_code == 404
    download = client.get("/credentials/frameworks/ASN-MSK.case.json")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_json()["CFDocument"]["identifier"] == doc_id


def test_round_trip_into_a_new_framework(client, login_as, frameworks, db):
    login_as("hr")
    source = competency_service.get_framework("TEKNIS-PEMDA")
    before = competency_service.export_framework(source)
    text = json.dumps(case.export_package(source))
    # Another agency's copy: other codes, other addresses, same content
    text = text.replace('"humanCodingScheme": "T.', '"humanCodingScheme": "X.')
    text = text.replace("Lentera framework code: TEKNIS-PEMDA", "Lentera framework code: TEKNIS-X")
    text = text.replace("http://lentera.test/competency/c/T.", "https://other.example.go.id/c/T.")
    response = _upload(client, text.encode())
    assert response.status_code == 302, response.get_data(as_text=True)
    imported = competency_service.export_framework(competency_service.get_framework("TEKNIS-X"))
    assert imported["name"] == before["name"]
    assert len(imported["competencies"]) == len(before["competencies"])
    for ours, theirs in zip(before["competencies"], imported["competencies"], strict=True):
        assert theirs["code"] == "X." + ours["code"][2:]
        assert theirs["iri"] == ours["iri"].replace(
            "http://lentera.test/competency/c/", "https://other.example.go.id/c/"
        )
        assert (theirs["name"], theirs["type"], theirs["description"]) == (
            ours["name"],
            ours["type"],
            ours["description"],
        )
        assert theirs["levels"] == ours["levels"]


def test_importing_our_own_export_updates_in_place(client, login_as, frameworks, db):
    login_as("hr")
    framework = competency_service.get_framework("ASN-MSK")
    competency_service.set_policy(framework, normalize_policy({"method": "latest"}))
    db.commit()
    before = competency_service.export_framework(framework)
    response = _upload(client, case.export_package(framework))
    assert response.status_code == 302
    db.expire_all()
    after = competency_service.export_framework(competency_service.get_framework("ASN-MSK"))
    assert after == before  # policy kept, IRIs kept, nothing duplicated


def test_bad_packages_are_refused_whole(client, login_as, frameworks, db):
    login_as("hr")
    count = db.scalar(sa.select(sa.func.count(Competency.id)))
    frameworks_before = db.scalar(sa.select(sa.func.count(Framework.id)))
    good = case.export_package(competency_service.get_framework("TEKNIS-PEMDA"))
    text = json.dumps(good).replace(
        "Lentera framework code: TEKNIS-PEMDA", "Lentera framework code: BARU"
    )
    text = text.replace('"humanCodingScheme": "T.', '"humanCodingScheme": "B.')
    text = text.replace("http://lentera.test/competency/c/T.", "https://b.example/c/T.")
    broken = json.loads(text)
    # drop level 3 of the last competency: the import checks the whole framework
    last = [i for i in broken["CFItems"] if i["CFItemType"] != "Proficiency Level"][-1]
    level3 = next(
        i
        for i in broken["CFItems"]
        if i.get("humanCodingScheme") == last["humanCodingScheme"] + ".3"
    )
    broken["CFItems"].remove(level3)
    broken["CFAssociations"] = [
        a
        for a in broken["CFAssociations"]
        if a["originNodeURI"]["identifier"] != level3["identifier"]
    ]
    cases = [
        (b"not json", "JSON"),
        (b"\xff\xfe", "UTF-8"),
        (json.dumps([1, 2]).encode(), "CASE"),
        (json.dumps({"CFItems": []}).encode(), "CFDocument"),
        (
            json.dumps(
                {
                    "CFDocument": {"identifier": "x", "title": "T"},
                    "CFItems": [],
                    "CFAssociations": [],
                }
            ).encode(),
            "isChildOf",
        ),
        (json.dumps(broken).encode(), "tingkat"),
    ]
    for payload, hint in cases:
        response = _upload(client, payload)
        text_out = response.get_data(as_text=True)
        assert response.status_code == 400, (hint, text_out[:300])
        assert "Tidak ada yang diimpor" in text_out and hint in text_out, hint
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(Competency.id))) == count
    assert db.scalar(sa.select(sa.func.count(Framework.id))) == frameworks_before
    assert _upload(client, b"{}", name="x.txt").status_code == 400


def test_only_hr_imports(client, login_as, frameworks):
    login_as("learner")
    page = client.get("/credentials/frameworks").get_data(as_text=True)
    assert "ASN-MSK" in page and "Impor paket CASE" not in page
    assert _upload(client, {}).status_code == 403
