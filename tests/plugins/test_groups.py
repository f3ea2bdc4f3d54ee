"""Lentera's own content types, statement consumers and job kinds come through the same
entry-point groups as a plugin's; a plugin content type plays its modules."""

from __future__ import annotations

import uuid
from importlib.metadata import EntryPoint
from typing import Any

import pytest

import lms.plugins
from lms.plugins.content import CONTENT_TYPES, ContentType, content_types
from lms.xapi.consumers import registered_consumers
from tests.courses.conftest import course, course_dir  # noqa: F401  (fixtures)

OWN = {
    "lms.content_types": {"lesson", "video", "embed", "quiz", "cmi5", "scorm", "h5p"},
    "lms.statement_consumers": {"courses", "cmi5", "competency", "jp-credits", "plans",
                                "evaluation", "lti", "assignments", "packages", "h5p"},
    "lms.jobs": {"courses.certificates", "courses.transcript", "reports.completions",
                 "reports.needs", "people.invitations"},
}


def _with_extra(monkeypatch: Any, *extra: EntryPoint, drop: str = "") -> None:
    real = lms.plugins.entry_points

    def fake(group: str) -> list[EntryPoint]:
        return [*(ep for ep in real(group=group) if ep.name != drop),
                *(ep for ep in extra if ep.group == group)]

    monkeypatch.setattr(lms.plugins, "entry_points", fake)


@pytest.fixture
def registries() -> Any:
    """Restore the process-wide registries a test adds to."""
    from lms import tasks
    from lms.courses import views

    saved = (dict(CONTENT_TYPES), dict(views.MODULE_PLAYERS), dict(tasks._JOB_KINDS))
    yield
    for registry, before in zip((CONTENT_TYPES, views.MODULE_PLAYERS, tasks._JOB_KINDS),
                                saved, strict=True):
        registry.clear()
        registry.update(before)


@pytest.mark.parametrize("group", sorted(OWN))
def test_the_built_ins_are_loaded_through_the_groups(group: str) -> None:
    assert set(lms.plugins.BUILTINS[group]) == OWN[group]
    declared = {ep.name: ep.value for ep in lms.plugins._entry_points(group)}
    assert all(declared[name].startswith("lms.") for name in OWN[group])


def test_the_built_ins_are_registered_from_the_groups(app: Any) -> None:
    from lms.authoring import Cmi5ContentType
    from lms.competency.engine import CompetencyConsumer
    from lms.courses import views
    from lms.tasks import job_kinds

    assert set(registered_consumers(app)) >= OWN["lms.statement_consumers"]
    consumer = registered_consumers(app)["competency"]
    assert isinstance(consumer, CompetencyConsumer)
    assert consumer.engine is app.extensions["lms.competency.engine"]
    types = content_types()
    assert set(types) >= OWN["lms.content_types"]
    assert isinstance(types["cmi5"], Cmi5ContentType) and not types["cmi5"].self_paced
    assert types["lesson"].self_paced and not types["quiz"].self_paced
    assert str(types["quiz"].label) == "Kuis"
    assert "cmi5" in views.MODULE_PLAYERS and "lesson" not in views.MODULE_PLAYERS
    assert set(job_kinds()) >= OWN["lms.jobs"]


def test_a_module_left_out_of_the_app_takes_its_entries_with_it(
        app: Any, monkeypatch: Any) -> None:
    import lms as package

    monkeypatch.setattr(package, "MODULES",
                        tuple(m for m in package.MODULES if m != "lms.reports"))
    assert "jp-credits" not in lms.plugins._enabled("lms.statement_consumers", app)
    assert "courses" in lms.plugins._enabled("lms.statement_consumers", app)


def test_pyproject_declares_exactly_the_built_ins() -> None:
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    groups = project["project"]["entry-points"]
    for group, entries in lms.plugins.BUILTINS.items():
        assert groups[group] == {name: value for name, (_m, value) in entries.items()}


def test_stale_package_metadata_falls_back_to_the_declarations(
        app: Any, monkeypatch: Any, caplog: Any) -> None:
    _with_extra(monkeypatch, drop="lesson")
    monkeypatch.setattr(lms.plugins, "_WARNED", set())
    assert "lesson" in lms.plugins._enabled("lms.content_types", app)
    assert "pip install -e" in caplog.text


class Reader(ContentType):
    """A plugin content type: a module read in a plain page."""

    name = "reader"
    label = "Reader"
    self_paced = False
    played: list[str] = []

    def player(self, slug: str, module: dict[str, Any]) -> Any:
        Reader.played.append(module["id"])
        return f"<h1>{module['title']}</h1>"


class NoPlayer(ContentType):
    name = "noplayer"


class Misnamed(ContentType):
    name = "something-else"


def echo_job(job: Any, params: dict[str, Any], progress: Any) -> Any:
    out = job.output("echo.txt")
    out.write_text(str(params.get("text", "")))
    return out


def test_a_plugin_content_type_plays_its_modules(
        monkeypatch: Any, make_app: Any, registries: Any, course: Any,  # noqa: F811
        client: Any, login_as: Any) -> None:
    from lms.courses.models import CourseVersion
    from lms.db import get_session

    _with_extra(monkeypatch, EntryPoint("reader", f"{__name__}:Reader", "lms.content_types"))
    make_app()
    assert isinstance(content_types()["reader"], Reader)
    make_app()  # a second app in the process registers the same player again

    version = get_session().query(CourseVersion).one()
    definition = dict(version.definition)
    definition["modules"] = [*definition["modules"],
                             {"id": "baca", "kind": "reader", "title": "Bacaan Plugin"}]
    version.definition = definition
    version.content_hash = uuid.uuid4().hex
    get_session().commit()
    login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    page = client.get("/courses/mini-kursus/modules/baca")
    assert page.status_code == 200
    assert page.get_data(as_text=True) == "<h1>Bacaan Plugin</h1>"
    assert Reader.played == ["baca"]


@pytest.mark.parametrize(("entry", "message"), [
    ("NoPlayer", "has no player"), ("Misnamed", "whose name is"),
])
def test_a_bad_content_type_stops_the_start(monkeypatch: Any, make_app: Any, registries: Any,
                                            entry: str, message: str) -> None:
    name = "noplayer" if entry == "NoPlayer" else "misnamed"
    _with_extra(monkeypatch, EntryPoint(name, f"{__name__}:{entry}", "lms.content_types"))
    with pytest.raises(lms.plugins.PluginError, match=message):
        make_app()


def test_a_plugin_cannot_take_a_built_in_kind(monkeypatch: Any, make_app: Any,
                                              registries: Any) -> None:
    _with_extra(monkeypatch, EntryPoint("lesson", f"{__name__}:Reader", "lms.content_types"))
    with pytest.raises(lms.plugins.PluginError, match="two plugins register 'lesson'"):
        make_app()


def test_a_plugin_job_kind_runs(monkeypatch: Any, make_app: Any, registries: Any,
                                users: dict[str, Any]) -> None:
    from pathlib import Path

    from lms.db import get_session
    from lms.tasks import Job, submit_job

    _with_extra(monkeypatch, EntryPoint("plugin.echo", f"{__name__}:echo_job", "lms.jobs"))
    other = make_app()
    with other.app_context():
        job_id = submit_job("plugin.echo", {"text": "halo"}, user=users["learner"]).id
    get_session().expire_all()
    job = get_session().get(Job, job_id)
    assert job.status == "done"
    assert Path(other.instance_path, job.result_path).read_text() == "halo"
