"""``ork inspect NAME --versions`` and ``ork inspect NAME``: the latest is the highest
release, not the last push."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orkestra.cli import main


def _push(web: Path, *tags: str) -> None:
    """Push the motif as each version in turn (its metadata.version set to the tag)."""
    motif = web / "motif.yaml"
    original = motif.read_text()
    for tag in tags:
        motif.write_text(original.replace("version: v1.0.0", f"version: {tag}", 1))
        assert main(["push", "--update-meta", f"web-service:{tag}", str(web)]) == 0


def test_a_backport_pushed_last_is_not_the_latest(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # v1.0.1 is a backport
    _push(pack_copy / "01-motifs" / "web-service", "v1.0.0", "v2.0.0", "v2.1.0-rc.1", "v1.0.1")
    capsys.readouterr()
    assert main(["inspect", "web-service", "--motif", "--versions"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    latest = [row.split()[0] for row in rows if row.endswith("← latest")]
    assert latest == ["v2.0.0"]
    assert sorted(row.split()[0] for row in rows) == ["v1.0.0", "v1.0.1", "v2.0.0", "v2.1.0-rc.1"]


def test_inspect_without_a_tag_picks_the_latest_release(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _push(pack_copy / "01-motifs" / "web-service", "v1.0.0", "v2.0.0", "v2.1.0-rc.1", "v1.0.1")
    capsys.readouterr()
    assert main(["inspect", "web-service", "--motif"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("web-service:v2.0.0\n")
    assert "ork pull web-service:v2.0.0 --motif" in captured.out
    assert "no tag given, inspecting v2.0.0 (the latest of 4 tags" in captured.err
    assert main(["inspect", "web-service", "--motif", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ref"].endswith("/web-service:v2.0.0")


def test_without_a_release_the_highest_prerelease_is_the_latest(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _push(pack_copy / "01-motifs" / "web-service", "v2.0.0-rc.2", "v2.0.0-rc.10", "v1.9.0-rc.1")
    capsys.readouterr()
    assert main(["inspect", "web-service", "--motif"]) == 0
    assert capsys.readouterr().out.startswith("web-service:v2.0.0-rc.10\n")


def test_inspect_without_a_tag_of_an_unknown_pattern(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "nothing-here"]) == 1
    err = capsys.readouterr().err
    assert "no versions of nothing-here in local/katalogs" in err
    assert "nothing named nothing-here is published in local/katalogs" in err
