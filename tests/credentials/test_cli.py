"""``lms credentials``: print a badge, check it, export and import CASE."""

from __future__ import annotations

import json

import pytest

from lms.competency import service as competency_service

NUMBER = "LEN-2026-000123"
pytest.importorskip("cryptography", reason="a dependency of Lentera (signing badges)")


def test_badge_and_verify(runner, certificate, tmp_path):
    result = runner.invoke(args=["credentials", "badge", NUMBER])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.count(".") == 2
    path = tmp_path / "badge.jwt"
    path.write_text(token)
    checked = runner.invoke(args=["credentials", "verify", str(path)])
    assert checked.exit_code == 0 and "valid: Komunikasi Publik" in checked.output
    path.write_text(token[:-6] + "AAAAAA")
    assert runner.invoke(args=["credentials", "verify", str(path)]).exit_code == 1
    as_json = runner.invoke(args=["credentials", "badge", NUMBER, "--json"])
    assert json.loads(as_json.output)["type"][1] == "OpenBadgeCredential"
    assert runner.invoke(args=["credentials", "badge", "NOPE"]).exit_code == 1


def test_case_export_and_import(runner, frameworks, tmp_path):
    result = runner.invoke(args=["credentials", "case-export", "TEKNIS-PEMDA"])
    assert result.exit_code == 0
    package = json.loads(result.output)
    path = tmp_path / "teknis.case.json"
    path.write_text(json.dumps(package))
    imported = runner.invoke(args=["credentials", "case-import", str(path)])
    assert imported.exit_code == 0 and "TEKNIS-PEMDA: 0 new" in imported.output
    path.write_text("{}")
    refused = runner.invoke(args=["credentials", "case-import", str(path)])
    assert refused.exit_code == 1 and "nothing imported" in refused.output
    assert competency_service.get_framework("TEKNIS-PEMDA").competencies
