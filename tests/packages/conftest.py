"""SCORM packages built in code: 1.2 single-SCO, 1.2 multi-SCO, 2004 4th edition with
sequencing. Each SCO is one page that finds the API, shows what it was given (entry,
suspend data), records an answer (an interaction, a score, suspend data, a location) and
can suspend or finish."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

SCO_12 = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
<p id="entry">-</p><p id="saved">-</p>
<label for="jawaban">Berapa JP minimal setahun?</label> <input id="jawaban">
<button id="jawab" type="button">Jawab</button>
<button id="tunda" type="button">Tunda</button>
<button id="selesai" type="button">Selesai</button>
<p id="status">mulai</p>
<script>
var api = window.API;
api.LMSInitialize("");
document.getElementById("entry").textContent = "Masuk: " + api.LMSGetValue("cmi.core.entry");
document.getElementById("saved").textContent = "Tersimpan: " + api.LMSGetValue("cmi.suspend_data");
if (api.LMSGetValue("cmi.core.lesson_status") === "not attempted") {{
  api.LMSSetValue("cmi.core.lesson_status", "incomplete");
}}
var correct = false;
document.getElementById("jawab").onclick = function () {{
  var value = document.getElementById("jawaban").value;
  correct = value === "20";
  api.LMSSetValue("cmi.interactions.0.id", "jp-minimal");
  api.LMSSetValue("cmi.interactions.0.type", "fill-in");
  api.LMSSetValue("cmi.interactions.0.correct_responses.0.pattern", "20");
  api.LMSSetValue("cmi.interactions.0.student_response", value);
  api.LMSSetValue("cmi.interactions.0.result", correct ? "correct" : "wrong");
  api.LMSSetValue("cmi.core.score.raw", correct ? "100" : "0");
  api.LMSSetValue("cmi.suspend_data", "jawaban=" + value);
  api.LMSSetValue("cmi.core.lesson_location", "soal-1");
  api.LMSCommit("");
  document.getElementById("status").textContent = "Jawaban tersimpan";
}};
document.getElementById("tunda").onclick = function () {{
  api.LMSSetValue("cmi.core.exit", "suspend");
  api.LMSFinish("");
  document.getElementById("status").textContent = "Ditunda";
}};
document.getElementById("selesai").onclick = function () {{
  api.LMSSetValue("cmi.core.lesson_status", {final});
  api.LMSSetValue("cmi.core.exit", "");
  api.LMSFinish("");
  document.getElementById("status").textContent = "Selesai";
}};
</script></body></html>
"""

SCO_2004 = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
<p id="entry">-</p><p id="saved">-</p>
<label for="jawaban">Berapa JP minimal setahun?</label> <input id="jawaban">
<button id="jawab" type="button">Jawab</button>
<button id="tunda" type="button">Tunda</button>
<button id="selesai" type="button">Selesai</button>
<p id="status">mulai</p>
<script>
var api = window.API_1484_11;
api.Initialize("");
document.getElementById("entry").textContent = "Masuk: " + api.GetValue("cmi.entry");
document.getElementById("saved").textContent = "Tersimpan: " + api.GetValue("cmi.suspend_data");
var correct = false;
document.getElementById("jawab").onclick = function () {{
  var value = document.getElementById("jawaban").value;
  correct = value === "20";
  api.SetValue("cmi.interactions.0.id", "jp-minimal");
  api.SetValue("cmi.interactions.0.type", "fill-in");
  api.SetValue("cmi.interactions.0.correct_responses.0.pattern", "20");
  api.SetValue("cmi.interactions.0.learner_response", value);
  api.SetValue("cmi.interactions.0.result", correct ? "correct" : "incorrect");
  api.SetValue("cmi.score.raw", correct ? "150" : "0");
  api.SetValue("cmi.score.min", "0");
  api.SetValue("cmi.score.max", "100");
  api.SetValue("cmi.score.scaled", correct ? "1" : "0");
  api.SetValue("cmi.suspend_data", "jawaban=" + value);
  api.SetValue("cmi.location", "soal-1");
  api.Commit("");
  document.getElementById("status").textContent = "Jawaban tersimpan";
}};
document.getElementById("tunda").onclick = function () {{
  api.SetValue("cmi.exit", "suspend");
  api.Terminate("");
  document.getElementById("status").textContent = "Ditunda";
}};
document.getElementById("selesai").onclick = function () {{
  api.SetValue("cmi.completion_status", "completed");
  api.SetValue("cmi.success_status", correct ? "passed" : "failed");
  api.SetValue("cmi.exit", "normal");
  api.SetValue("adl.nav.request", "continue");
  api.Terminate("");
  document.getElementById("status").textContent = "Selesai";
}};
</script></body></html>
"""

MANIFEST_12 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="id.go.lentera.uji.scorm12" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org-1">
    <organization identifier="org-1">
      <title>{title}</title>
{items}
    </organization>
  </organizations>
  <resources>
{resources}
  </resources>
</manifest>
"""

MANIFEST_2004 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="id.go.lentera.uji.scorm2004" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
  xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org-1">
    <organization identifier="org-1" adlseq:objectivesGlobalToSystem="false">
      <title>Etika ASN 2004</title>
      <item identifier="bagian-1">
        <title>Bagian 1</title>
        <item identifier="sco-a" identifierref="res-a">
          <title>Pengantar etika</title>
          <adlcp:completionThreshold completedByMeasure="false" minProgressMeasure="0.8"/>
          <adlcp:dataFromLMS>mulai=1</adlcp:dataFromLMS>
          <imsss:sequencing>
            <imsss:limitConditions attemptLimit="3" attemptAbsoluteDurationLimit="PT1H"/>
            <imsss:objectives>
              <imsss:primaryObjective objectiveID="obj-a" satisfiedByMeasure="true">
                <imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>
              </imsss:primaryObjective>
            </imsss:objectives>
          </imsss:sequencing>
        </item>
        <item identifier="sco-b" identifierref="res-b">
          <title>Studi kasus</title>
        </item>
      </item>
      <imsss:sequencing>
        <imsss:controlMode choice="false" flow="true"/>
      </imsss:sequencing>
    </organization>
  </organizations>
  <resources>
    <resource identifier="res-a" type="webcontent" adlcp:scormType="sco" href="a/index.html">
      <file href="a/index.html"/>
    </resource>
    <resource identifier="res-b" type="webcontent" adlcp:scormType="sco" href="b/index.html">
      <file href="b/index.html"/>
    </resource>
  </resources>
</manifest>
"""


def _zip(members: list[tuple[str, str | bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def scorm12_zip(scos: int = 1, mastery: int | None = 80) -> bytes:
    """SCORM 1.2, ``scos`` SCOs (sco1.html...), each passed with the answer 20."""
    items, resources, files = [], [], []
    for n in range(1, scos + 1):
        extra = f"<adlcp:masteryscore>{mastery}</adlcp:masteryscore>" if mastery else ""
        items.append(f'      <item identifier="item-{n}" identifierref="res-{n}">'
                     f'<title>Pelajaran {n}</title>{extra}'
                     f'<adlcp:datafromlms>bagian={n}</adlcp:datafromlms></item>')
        resources.append(f'    <resource identifier="res-{n}" type="webcontent" '
                         f'adlcp:scormtype="sco" href="sco{n}.html"><file href="sco{n}.html"/>'
                         f'</resource>')
        final = 'correct ? "passed" : "failed"' if mastery else '"completed"'
        files.append((f"sco{n}.html", SCO_12.format(title=f"Pelajaran {n}", final=final)))
    manifest = MANIFEST_12.format(title="Etika ASN 1.2", items="\n".join(items),
                                  resources="\n".join(resources))
    return _zip([("imsmanifest.xml", manifest), *files])


def scorm2004_zip() -> bytes:
    """SCORM 2004 4th edition, two SCOs, flow-only navigation, a passing measure."""
    return _zip([("imsmanifest.xml", MANIFEST_2004),
                 ("a/index.html", SCO_2004.format(title="Pengantar etika")),
                 ("b/index.html", SCO_2004.format(title="Studi kasus"))])


def zip_with(members: list[tuple[Any, str | bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buffer.getvalue()


@pytest.fixture
def content_origin(live_server: Any) -> Any:
    """Package files served from an origin of their own: ``localhost`` for the live
    server on 127.0.0.1 (another host name, so another origin and another cookie jar)."""
    origin = live_server.url.replace("127.0.0.1", "localhost")
    live_server.app.config["PACKAGES_CONTENT_ORIGIN"] = origin
    yield origin
    live_server.app.config["PACKAGES_CONTENT_ORIGIN"] = ""
