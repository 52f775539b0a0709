"""``ork inspect NAME --versions``: the latest is the highest release, not the last push."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from orkestra.cli import main
from orkestra.cli.inspect import _latest


def test_a_backport_pushed_last_is_not_the_latest(pack_copy: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    web = pack_copy / "01-motifs" / "web-service"
    for tag in ("v1.0.0", "v2.0.0", "v2.1.0-rc.1", "v1.0.1"):  # v1.0.1 is a backport
        assert main(["push", "--force", f"web-service:{tag}", str(web)]) == 0
    capsys.readouterr()
    assert main(["inspect", "web-service", "--motif", "--versions"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    latest = [row.split()[0] for row in rows if row.endswith("← latest")]
    assert latest == ["v2.0.0"]
    assert sorted(row.split()[0] for row in rows) == ["v1.0.0", "v1.0.1", "v2.0.0",
                                                      "v2.1.0-rc.1"]


def _found(*tags: str) -> Any:
    return [SimpleNamespace(ref=SimpleNamespace(tag=tag)) for tag in tags]


@pytest.mark.parametrize(("tags", "latest"), [
    (("v2.1.0-rc.1", "v1.0.0"), 1),  # newest first: a release wins over a newer rc
    (("v2.0.0-rc.1", "v2.0.0-rc.2", "v1.0.0-rc.1"), 1),  # no release: the highest rc
    (("edge", "v0.1.0-alpha"), 1),
    (("edge", "stable"), 0),  # nothing semantic: the newest push
    ((), 0),
])
def test_the_latest_agrees_with_the_index(tags: tuple[str, ...], latest: int) -> None:
    assert _latest(_found(*tags)) == latest
