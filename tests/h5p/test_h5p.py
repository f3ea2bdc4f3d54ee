"""H5P packages and modules: what a package must hold (and what is refused, in Bahasa
Indonesia), the module page and its sandbox, what the module's launch credential may
write, and when the module counts as completed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from lms.courses.models import Completion, ModuleProgress
from lms.h5p import package
from lms.xapi.models import Statement
from tests.h5p.conftest import course_folder, h5p_file

XAPI = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
ACTIVITY = "urn:lentera:h5p:latihan-h5p:01-latihan"
LIB = {"machineName": "H5P.Uji", "majorVersion": 1, "minorVersion": 0}
GOOD = {"h5p.json": None, "content/content.json": {"q": 1},
        "H5P.Uji-1.0/library.json": {**LIB, "title": "Uji", "patchVersion": 0,
                                     "preloadedJs": [{"path": "uji.js"}]},
        "H5P.Uji-1.0/uji.js": "var H5P = H5P || {};"}
MANIFEST = {"title": "Uji", "mainLibrary": "H5P.Uji", "preloadedDependencies": [LIB]}


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != name and k != "h5p.json"}


BAD = {
    "no h5p.json": (h5p_file(_without("h5p.json")), "h5p.json tidak ada"),
    "broken h5p.json": (h5p_file({**_without("h5p.json"), "h5p.json": "{"}), "JSON"),
    "no title": (h5p_file(_without(""), {**MANIFEST, "title": ""}), "judul"),
    "main library not listed": (h5p_file(_without(""), {**MANIFEST, "mainLibrary": "H5P.X"}),
                                "pustaka utama"),
    "library missing": (h5p_file(_without("H5P.Uji-1.0/library.json"), MANIFEST), "Pustaka"),
    "script missing": (h5p_file(_without("H5P.Uji-1.0/uji.js"), MANIFEST), "uji.js"),
    "no content": (h5p_file(_without("content/content.json"), MANIFEST), "content.json"),
    "a web page inside": (h5p_file({**_without(""), "content/x.html": "<p>"}, MANIFEST),
                          "tidak diizinkan"),
    "zip slip": (h5p_file({**_without(""), "../evil.js": "x"}, MANIFEST), "../evil.js"),
    "not a zip": (b"not a zip at all", "zip"),
    "a version that is no number": (h5p_file(_without(""), {**MANIFEST, "preloadedDependencies": [
        {**LIB, "majorVersion": "1.0"}]}), "majorVersion"),
    "a version that is true": (h5p_file(_without(""), {**MANIFEST, "preloadedDependencies": [
        {**LIB, "minorVersion": True}]}), "minorVersion"),
}


def test_a_good_package_is_accepted(app: Any) -> None:
    with app.test_request_context():
        assert package.check_bytes(h5p_file(_without(""), MANIFEST))["title"] == "Uji"


def test_versions_written_as_strings_are_accepted(app: Any) -> None:
    """Packages exported by several tools write ``"majorVersion": "1"`` (h5p-standalone's own
    TrueFalse sample does); the H5P core takes up to five digits either way."""
    quoted = {**LIB, "majorVersion": "1", "minorVersion": "0"}
    files = {**_without(""), "H5P.Uji-1.0/library.json": {**GOOD["H5P.Uji-1.0/library.json"],
                                                         **quoted}}
    with app.test_request_context():
        manifest = package.check_bytes(h5p_file(files, {**MANIFEST,
                                                        "preloadedDependencies": [quoted]}))
    assert manifest["title"] == "Uji"


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_package_is_refused_in_indonesian(app: Any, case: str) -> None:
    data, needle = BAD[case]
    from lms.errors import LmsError

    with app.test_request_context(headers={"Accept-Language": "id"}):
        with pytest.raises(LmsError) as caught:
            package.check_bytes(data)
        assert needle in str(caught.value.message)


def _course(app: Any, runner: Any, tmp_path: Path, data: bytes) -> None:
    result = runner.invoke(args=["import-courses", str(course_folder(tmp_path, data))])
    assert result.exit_code == 0, result.output


def _launch(client: Any, login_as: Any) -> dict[str, Any]:
    login_as("learner")
    client.post("/courses/latihan-h5p/enrol")
    page = client.get("/courses/latihan-h5p/modules/01-latihan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    src = html.split('id="h5p-frame" src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    frame, _sep, fragment = src.partition("#")
    config = json.loads(unquote(fragment))
    config["frame"] = frame
    config["html"] = html
    return config


def _statement(config: dict[str, Any], verb: str, object_id: str | None = None,
               result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"actor": config["actor"], "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
            "object": {"objectType": "Activity", "id": object_id or config["activity"]},
            "result": result or {},
            "context": {"registration": config["registration"], "extensions": {
                "https://w3id.org/xapi/cmi5/context/extensions/sessionid": config["session"]}}}


def _post(client: Any, config: dict[str, Any], statement: dict[str, Any]) -> Any:
    return client.post("/xapi//statements", data=json.dumps(statement),
                       headers={**XAPI, "Authorization": config["auth"]})


def test_the_module_plays_in_a_sandbox_from_lenteras_own_server(
        app: Any, db: Any, client: Any, runner: Any, login_as: Any, tmp_path: Path,
        sample_h5p: bytes) -> None:
    _course(app, runner, tmp_path, sample_h5p)
    config = _launch(client, login_as)
    assert 'sandbox="allow-scripts allow-popups"' in config["html"]
    assert config["activity"] == ACTIVITY
    frame = client.get(config["frame"])
    policy = frame.headers["Content-Security-Policy"]
    assert frame.status_code == 200 and policy.startswith("sandbox allow-scripts")
    assert "allow-same-origin" not in policy
    manifest = client.get(config["content"].removeprefix("http://lentera.test") + "/h5p.json")
    assert manifest.status_code == 200 and manifest.headers["Access-Control-Allow-Origin"] == "*"
    assert manifest.get_json()["mainLibrary"] == "H5P.TrueFalse"
    manifest.close()
    assert client.get(config["content"].removeprefix("http://lentera.test")
                      + "/../../h5p.json").status_code == 404
    bundle = client.get("/h5p/player/main.bundle.js")
    assert bundle.status_code == 200
    bundle.close()
    # The credential is bound to the learner: its launch fields are signed.
    user = base64.b64decode(config["auth"].split()[1]).decode().split(":")[0]
    assert user.startswith("launch.")


def test_the_launch_credential_writes_only_about_its_h5p_activity(
        app: Any, db: Any, client: Any, runner: Any, login_as: Any, tmp_path: Path,
        sample_h5p: bytes) -> None:
    _course(app, runner, tmp_path, sample_h5p)
    config = _launch(client, login_as)
    base = app.config["BASE_URL"]
    # Completing the Lentera course or module directly: refused.
    for target in (f"{base}/courses/latihan-h5p", f"{base}/courses/latihan-h5p/modules/01-latihan",
                   "urn:lentera:h5p:another-course:01-latihan"):
        response = _post(client, config, _statement(config, "completed", target,
                                                    {"completion": True}))
        assert response.status_code == 403, target
    # An answer to a sub-question is recorded but completes nothing.
    sub = _post(client, config, _statement(config, "answered", ACTIVITY + "?subContentId=1",
                                           {"completion": True}))
    assert sub.status_code == 200
    db.expire_all()
    assert db.scalar(sa.select(ModuleProgress.completed_at)) is None
    # An attempted statement of the activity completes nothing either.
    assert _post(client, config, _statement(config, "attempted")).status_code == 200
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 0
    # The answer of the activity itself, with completion, completes module and course.
    answered = _statement(config, "answered", result={
        "completion": True, "success": True, "score": {"raw": 1, "min": 0, "max": 1,
                                                       "scaled": 1}})
    answered["object"]["definition"] = {
        "interactionType": "true-false", "correctResponsesPattern": ["true"],
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction"}
    assert _post(client, config, answered).status_code == 200
    db.expire_all()
    assert db.scalar(sa.select(ModuleProgress.completed_at)) is not None
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 1
    # Answering again stores the answer, and nothing is completed twice.
    assert _post(client, config, answered).status_code == 200
    db.expire_all()
    completed = db.scalar(sa.select(sa.func.count()).select_from(Statement).where(
        Statement.verb_id == "http://adlnet.gov/expapi/verbs/completed",
        Statement.activity_id == f"{base}/courses/latihan-h5p/modules/01-latihan"))
    assert completed == 1


def test_another_learner_and_a_missing_package(
        app: Any, db: Any, client: Any, runner: Any, login_as: Any, tmp_path: Path,
        sample_h5p: bytes) -> None:
    _course(app, runner, tmp_path, sample_h5p)
    config = _launch(client, login_as)
    other = _statement(config, "answered", result={"completion": True})
    other["actor"] = {"objectType": "Agent", "mbox": "mailto:lain@example.org"}
    assert _post(client, config, other).status_code == 403
    # A page whose package file is gone says so instead of failing.
    from lms.courses import service as courses

    stored = next(Path(courses.content_dir()).rglob("latihan.h5p"))
    stored.rename(stored.with_suffix(".gone"))
    try:
        page = client.get("/courses/latihan-h5p/modules/01-latihan")
    finally:
        stored.with_suffix(".gone").rename(stored)
    assert page.status_code == 200 and "Berkas H5P modul ini tidak ditemukan" in \
        page.get_data(as_text=True)


def test_a_course_folder_with_a_broken_h5p_package_is_refused(
        app: Any, db: Any, runner: Any, tmp_path: Path) -> None:
    folder = course_folder(tmp_path, h5p_file({"content/content.json": {}}))
    result = runner.invoke(args=["import-courses", str(folder)])
    assert result.exit_code != 0
    assert "latihan.h5p" in result.output and "h5p.json" in result.output
    db.expire_all()
    from lms.courses.models import Course

    assert db.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
