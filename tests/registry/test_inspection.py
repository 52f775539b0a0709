"""Picking the latest version among pushed ones (the unit under ``ork inspect``'s
``← latest`` marker; the command itself is tested in tests/cli/test_inspect_versions.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from orkestra.registry.inspection import latest_position


def _found(*tags: str) -> Any:
    return [SimpleNamespace(ref=SimpleNamespace(tag=tag)) for tag in tags]


@pytest.mark.parametrize(
    ("tags", "latest"),
    [
        (("v2.1.0-rc.1", "v1.0.0"), 1),  # newest first: a release wins over a newer rc
        (("v2.0.0-rc.1", "v2.0.0-rc.2", "v1.0.0-rc.1"), 1),  # no release: the highest rc
        (("edge", "v0.1.0-alpha"), 1),
        (("edge", "stable"), 0),  # nothing semantic: the newest push
        ((), 0),
    ],
)
def test_the_latest_agrees_with_the_index(tags: tuple[str, ...], latest: int) -> None:
    assert latest_position(_found(*tags)) == latest
