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
