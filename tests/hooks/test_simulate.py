"""`ork simulate` of a typed katalog: nothing to build, the hooks' objects among the ops,
their Events in the verbose and JSON reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orkestra.cli import main
from tests.hooks.patterns import write_pattern
from tests.hooks.test_runner import ARGS, SERVICE

CR = """apiVersion: test.io/v1
kind: Db
metadata: {name: orders, namespace: default}
spec: {region: eu-west-1}
"""


def test_simulate_runs_the_hooks_and_reports_their_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    katalog = write_pattern(tmp_path, SERVICE, hooks=ARGS)
    (tmp_path / "cr.yaml").write_text(CR)
    assert main(["simulate", "-f", str(katalog), "-v"]) == 0
    text = capsys.readouterr().out
    assert "+ services/orders" in text
    assert "⚑ event Normal Provisioning: creating orders" in text
    assert main(["simulate", "-f", str(katalog), "-o", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    first = report["runs"][0]["cycles"][0]
    assert first["events"] == [
        {"type": "Normal", "reason": "Provisioning", "message": "creating orders"}
    ]
