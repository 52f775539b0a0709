"""Shared fixtures."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

PACK = Path(__file__).resolve().parent.parent / "orkestra" / "packs" / "registry-guide"

WriteFiles = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteFiles:
    """Write dedented files into a temp dir (made the cwd); returns the dir."""
    monkeypatch.chdir(tmp_path)

    def _write(**files: str) -> Path:
        for name, text in files.items():
            target = tmp_path / name.replace("__", "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip("\n"))
        return tmp_path

    return _write


_ORK_VARIABLES = ("ORK_REGISTRY", "ORK_MOTIFS_REGISTRY", "ORK_REGISTRY_USERNAME",
                  "ORK_REGISTRY_PASSWORD", "ORK_LOCAL_REGISTRY", "SOURCE_DATE_EPOCH")
_CI_VARIABLES = ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "JENKINS_URL", "BUILDKITE",
                 "DRONE", "CI")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ~/.orkestra and docker config, and no registry settings,
    so nothing reads or writes the developer's real cache or credentials."""
    home = tmp_path_factory.mktemp("ork-home")
    monkeypatch.setenv("ORK_HOME", str(home / ".orkestra"))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / ".docker"))
    for name in _ORK_VARIABLES + _CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return home
