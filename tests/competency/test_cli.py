"""``lms profiles`` and ``lms framework`` commands."""

from __future__ import annotations

import json

from lms.competency import service
from lms.db import get_session
from tests.competency.conftest import completed, publish, send
from tests.factories import make_user


def test_profiles_rebuild_replays_everything_and_changes_nothing(runner, frameworks):
    publish()
    users = [make_user() for _ in range(3)]
    get_session().commit()
    send(*[completed(u) for u in users])
    before = service.profile_dump()
    result = runner.invoke(args=["profiles", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt from" in result.output
    get_session().expire_all()
    assert service.profile_dump() == before
    dumped = runner.invoke(args=["profiles", "dump"])
    assert json.loads(dumped.output) == json.loads(before)


def test_framework_export_and_import(runner, frameworks, tmp_path):
    result = runner.invoke(args=["framework", "export", "TEKNIS-PEMDA", "--format", "csv"])
    assert result.exit_code == 0 and "T.PTN" in result.output
    path = tmp_path / "teknis.csv"
    path.write_text(result.output, "utf-8")
    result = runner.invoke(args=["framework", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 new, 6 updated" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"code": "X"}', "utf-8")
    result = runner.invoke(args=["framework", "import", str(bad)])
    assert result.exit_code == 1


def test_apply_defaults(runner, frameworks):
    from tests.factories import make_position

    make_position()
    get_session().commit()
    result = runner.invoke(args=["profiles", "apply-defaults"])
    assert "applied to 1 positions" in result.output
