"""Engines: importing a composition's hooks up front, where only errors stop the run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from orkestra.compose import compose_file
from orkestra.compose.engines import Engines
from orkestra.model.errors import PatternError
from orkestra.runtime.pattern import Unit
from tests.hooks.patterns import write_pattern

CODE = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=reconcile)

def reconcile(cr, ctx):
    pass
"""


def go_era_pattern(root: Path, function: str = "hooks") -> Engines:
    """Engines of a katalog naming its hook module with the Go-era key ``location``."""
    katalog = write_pattern(root, CODE, hooks={"function": function})
    katalog.write_text(katalog.read_text().replace("module: myhooks.ops", "location: myhooks.ops"))
    return Engines(compose_file(katalog, katalog.name))


def test_a_warning_alone_does_not_stop_the_hooks_from_loading(tmp_path: Path) -> None:
    engines = go_era_pattern(tmp_path)
    [warning] = engines.load_hooks()
    assert engines.hooks("db") is not None
    assert '"location" is the Go-era key' in warning.render()


def test_the_runtime_logs_the_warnings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    go_era_pattern(tmp_path)
    with caplog.at_level(logging.WARNING, logger="orkestra.runtime.pattern"):
        Unit.load(tmp_path / "katalog.yaml")
    assert '"location" is the Go-era key' in caplog.text


def test_an_error_stops_them_and_shows_the_warning_with_it(tmp_path: Path) -> None:
    with pytest.raises(PatternError) as caught:
        go_era_pattern(tmp_path, function="missing").load_hooks()
    assert sorted(p.severity for p in caught.value.problems) == ["error", "warning"]
