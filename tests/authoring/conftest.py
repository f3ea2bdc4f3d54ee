"""Helpers for the authoring tests: course zips and a tiny cmi5 package built in code."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lms.config import PROJECT_ROOT

CMI5_XML = """<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.org/cmi5/etika-asn">
    <title><langstring lang="id-ID">Etika ASN (cmi5)</langstring></title>
    <description><langstring lang="id-ID">Paket uji cmi5.</langstring></description>
  </course>
  <block id="https://example.org/cmi5/etika-asn/blok-1">
    <title><langstring lang="id-ID">Blok 1</langstring></title>
    <description><langstring lang="id-ID">Blok pertama.</langstring></description>
    <au id="https://example.org/cmi5/etika-asn/au-1" moveOn="{move_on}" masteryScore="0.8">
      <title><langstring lang="id-ID">Kode etik</langstring></title>
      <description><langstring lang="id-ID">Satu AU.</langstring></description>
      <url>au/index.html</url>
    </au>
  </block>
</courseStructure>
"""

AU_HTML = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>AU uji</title>
<script src="au.js" defer></script></head>
<body><h1>AU uji</h1><p id="status">mulai</p></body></html>
"""

# The AU does what a cmi5 AU must: read the launch parameters, fetch its token once,
# read LMS.LaunchData, then send initialized, completed, passed and terminated.
AU_JS = r"""
(async function () {
  const status = document.getElementById("status");
  const q = new URLSearchParams(location.search);
  const endpoint = q.get("endpoint"), registration = q.get("registration");
  const actor = JSON.parse(q.get("actor")), activityId = q.get("activityId");
  try {
    const tokenResponse = await fetch(q.get("fetch"), { method: "POST" });
    const token = (await tokenResponse.json())["auth-token"];
    const headers = { Authorization: "Basic " + token, "X-Experience-API-Version": "1.0.3",
                      "Content-Type": "application/json" };
    const stateUrl = endpoint + "activities/state?" + new URLSearchParams({
      stateId: "LMS.LaunchData", activityId, agent: JSON.stringify(actor), registration });
    const launchData = await (await fetch(stateUrl, { headers })).json();
    const context = JSON.parse(JSON.stringify(launchData.contextTemplate));
    context.registration = registration;
    const send = (verb, result) => fetch(endpoint + "statements", {
      method: "POST", headers, body: JSON.stringify({
        actor, verb: { id: "http://adlnet.gov/expapi/verbs/" + verb },
        object: { objectType: "Activity", id: activityId }, context, result }) });
    for (const [verb, result] of [["initialized"], ["completed", { completion: true }],
        ["passed", { success: true, score: { scaled: 0.9 } }], ["terminated"]]) {
      const r = await send(verb, result);
      if (!r.ok) throw new Error(verb + " " + r.status + " " + await r.text());
    }
    const again = await fetch(q.get("fetch"), { method: "POST" });
    const second = await again.json();
    status.textContent = "selesai:" + launchData.moveOn + ":" + (second["error-code"] || "");
  } catch (error) {
    status.textContent = "gagal: " + error;
  }
})();
"""


def cmi5_zip(move_on: str = "CompletedAndPassed") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cmi5.xml", CMI5_XML.replace("{move_on}", move_on))
        archive.writestr("au/index.html", AU_HTML)
        archive.writestr("au/au.js", AU_JS)
    return buffer.getvalue()


def folder_zip(folder: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


def zip_with(members: list[tuple[Any, bytes]]) -> bytes:
    """A zip of (name or ZipInfo, data) members, written as given (even unsafe ones)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.fixture
def sample_course() -> Path:
    return PROJECT_ROOT / "courses" / "komunikasi-efektif"
