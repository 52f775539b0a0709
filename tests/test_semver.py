"""Versions and constraints."""

from __future__ import annotations

import pytest

from orkestra.semver import SemverError, Version, satisfies


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("1.2.3", "^1.2", True),
        ("2.0.0", "^1.2", False),
        ("0.2.5", "^0.2", True),
        ("0.3.0", "^0.2", False),
        ("0.0.3", "^0.0.3", True),
        ("0.0.4", "^0.0.3", False),
        ("1.2.9", "~1.2", True),
        ("1.3.0", "~1.2", False),
        ("1.2.3", ">=1.0, <2", True),
        ("1.2.3", "1.2.x", True),
        ("1.3.0", "1.2.x", False),
        ("1.4.9", "1.2 - 1.4", True),
        ("1.5.0", "1.2 - 1.4", False),
        ("2.0.0", "<1 || >=2", True),
        ("1.5.0", "<1 || >=2", False),
        ("1.0.0-rc.1", "^1.0.0", False),
        ("1.0.0-rc.2", ">=1.0.0-rc.1", True),
        ("v1.2.3", "*", True),
        ("1.2.3", "!=1.2.3", False),
        ("3.0.0", ">2 <4", True),
        ("1.2.3", "=1.2.3", True),
        ("1.2.4", "1.2.3", False),
    ],
)
def test_constraints(version: str, constraint: str, expected: bool) -> None:
    assert satisfies(version, constraint) is expected


def test_ordering_follows_semver() -> None:
    versions = [
        "1.0.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta",
        "1.0.0-rc.1",
        "0.9.9",
        "1.0.0-alpha.beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
    ]
    ordered = sorted(versions, key=Version.parse)
    assert ordered == [
        "0.9.9",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ]


@pytest.mark.parametrize("bad", ["", "1.2.3.4", "01.2.3", "v", "1.2.3-", "latest"])
def test_invalid_versions(bad: str) -> None:
    with pytest.raises(SemverError):
        Version.parse(bad, strict=True)


def test_invalid_constraint() -> None:
    with pytest.raises(SemverError):
        satisfies("1.0.0", ">= banana")
