"""ci/github/setup_ork.py, the action's install step: where ork comes from (never a version
by name from PyPI), the Python check, the tool-cache reuse and what it exports to the job.
The real installs run in tests/ci/test_action.py under act."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ci" / "github" / "setup_ork.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("setup_ork", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["setup_ork"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


setup = load()


def test_older_pythons_can_parse_it_and_get_told_what_to_do() -> None:
    ast.parse(SCRIPT.read_text(), feature_version=(3, 8))  # an error, not a SyntaxError
    with pytest.raises(setup.SetupError) as caught:
        setup.check_python((3, 10, 12, "final", 0), "/usr/bin/python3")
    assert str(caught.value) == (
        "ork needs Python 3.11 or newer; this runner's python3 is 3.10.12 (/usr/bin/python3). "
        "Run actions/setup-python with python-version: '3.11' (or newer) before this action."
    )
    setup.check_python((3, 11, 0), "python3")
    setup.check_python((3, 13, 1), "python3")


def test_the_default_is_the_actions_own_checkout_installed_editable(tmp_path: Path) -> None:
    source = setup.parse_source("", str(ROOT), tmp_path)
    assert source == setup.Source(str(ROOT), editable=True)
    assert source.fingerprint().startswith(f"editable:{ROOT}:")
    with pytest.raises(setup.SetupError, match="GITHUB_ACTION_PATH is not set"):
        setup.parse_source("", "", tmp_path)
    with pytest.raises(setup.SetupError, match="not a source checkout of this project"):
        setup.parse_source("", str(tmp_path), tmp_path)


@pytest.mark.parametrize("value", ["0.1.0", "v0.1.0", "latest", "orkestra==0.1.0", "orkestra"])
def test_a_version_or_name_is_refused(value: str, tmp_path: Path) -> None:
    with pytest.raises(setup.SetupError) as caught:
        setup.parse_source(value, str(ROOT), tmp_path)
    message = str(caught.value)
    assert f'ork-version "{value}" is neither a wheel' in message
    assert "the PyPI name orkestra belongs to an unrelated project" in message


def test_wheels_and_checkouts(tmp_path: Path) -> None:
    wheel = tmp_path / "dist" / "orkestra-0.1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"PK")
    assert setup.parse_source("dist/orkestra-0.1.0-py3-none-any.whl", "", tmp_path) == setup.Source(
        str(wheel), editable=False
    )
    with pytest.raises(setup.SetupError, match="no such wheel"):
        setup.parse_source("dist/other.whl", "", tmp_path)
    url = "https://example.invalid/orkestra-0.1.0-py3-none-any.whl"
    assert setup.parse_source(url, "", tmp_path) == setup.Source(url, editable=False)
    assert setup.Source(url, editable=False).fingerprint() == f"url:{url}"
    with pytest.raises(setup.SetupError, match="a URL must name a wheel"):
        setup.parse_source("https://example.invalid/orkestra.tar.gz", "", tmp_path)
    assert setup.parse_source(str(ROOT), "", tmp_path) == setup.Source(str(ROOT), True)
    before = setup.Source(str(wheel), editable=False).fingerprint()
    wheel.write_bytes(b"PK2")  # a rebuilt wheel at the same path is another installation
    assert before.startswith("wheel:")
    assert setup.Source(str(wheel), editable=False).fingerprint() != before


def test_registries_are_exported_one_word_each() -> None:
    assert setup.registry_env(
        {"ORK_REGISTRY_URL": " ghcr.io/acme/katalogs ", "ORK_MOTIFS_URL": ""}
    ) == ["ORK_REGISTRY=ghcr.io/acme/katalogs"]
    assert setup.registry_env({"ORK_MOTIFS_URL": "oci://r.example/motifs"}) == [
        "ORK_MOTIFS_REGISTRY=oci://r.example/motifs"
    ]
    for bad in ("ghcr.io/a\nEVIL=1", "ghcr.io/a b"):
        with pytest.raises(setup.SetupError, match="a registry is one word"):
            setup.registry_env({"ORK_REGISTRY_URL": bad})


def test_the_tool_cache_is_keyed_by_source_and_python(tmp_path: Path) -> None:
    env = {"RUNNER_TOOL_CACHE": str(tmp_path / "tools"), "RUNNER_TEMP": str(tmp_path / "t")}
    a = tmp_path / "a.whl"
    b = tmp_path / "b.whl"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    first = setup.install_dir(setup.Source(str(a), False), env, cache=True)
    assert first.parent == tmp_path / "tools" / "orkestra-action"
    assert first == setup.install_dir(setup.Source(str(a), False), env, cache=True)
    assert first != setup.install_dir(setup.Source(str(b), False), env, cache=True)
    assert (
        setup.install_dir(setup.Source(str(a), False), env, cache=False)
        == tmp_path / "t" / "orkestra-action"
    )


class FakeVenv:
    def __init__(self, **_: Any) -> None:
        pass

    def create(self, directory: Path) -> None:
        (Path(directory) / "bin").mkdir(parents=True)


def test_a_complete_installation_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pip_runs: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        pip_runs.append(command)
        (Path(command[0]).parent / "ork").write_text("#!/bin/sh\n")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(setup.venv, "EnvBuilder", FakeVenv)
    monkeypatch.setattr(setup.subprocess, "run", fake_run)
    source = setup.Source(str(ROOT), editable=True)
    root = tmp_path / "cache" / "key"
    bin_dir, reused = setup.install(source, root, reuse=True)
    assert (bin_dir, reused) == (root / "venv" / "bin", False)
    assert pip_runs[0][-2:] == ["--editable", str(ROOT)]
    assert setup.install(source, root, reuse=True) == (bin_dir, True)
    assert len(pip_runs) == 1
    assert setup.install(source, root, reuse=False) == (bin_dir, False)  # cache off: anew
    assert len(pip_runs) == 2

    def failing(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(setup.subprocess, "run", failing)
    with pytest.raises(setup.SetupError, match="pip could not install ork from"):
        setup.install(setup.Source("x.whl", False), tmp_path / "other", reuse=True)
    assert not (tmp_path / "other" / "venv" / setup.MARKER).exists()


def test_main_reports_one_error_and_exports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path_file = tmp_path / "path"
    env = {
        "ORK_SOURCE": "1.2.3",
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_PATH": str(path_file),
        "RUNNER_TEMP": str(tmp_path),
    }
    assert setup.main(env) == 1
    err = capsys.readouterr().err
    assert err.startswith('::error title=ork setup::ork-version "1.2.3" is neither a wheel')
    assert not path_file.exists()
