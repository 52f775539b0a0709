"""Semver notes: ``semverCompare CONSTRAINT VERSION`` (Sprig's order), ``semverValid``,
``semverMajor``/``Minor``/``Patch`` and ``semverGreater A B``."""

from __future__ import annotations

from orkestra.semver import Version, is_valid, satisfies
from orkestra.template.functions import Func, P, func


@func("semverCompare", P.STR, P.STR)
def semver_compare(constraint: str, version: str) -> bool:
    return satisfies(version, constraint)


@func("semverValid", P.STR)
def semver_valid(version: str) -> bool:
    return is_valid(version)


@func("semverMajor", P.STR)
def semver_major(version: str) -> int:
    return Version.parse(version).major


@func("semverMinor", P.STR)
def semver_minor(version: str) -> int:
    return Version.parse(version).minor


@func("semverPatch", P.STR)
def semver_patch(version: str) -> int:
    return Version.parse(version).patch


@func("semverGreater", P.STR, P.STR)
def semver_greater(a: str, b: str) -> bool:
    return Version.parse(a) > Version.parse(b)


NOTES: tuple[Func, ...] = (semver_compare, semver_valid, semver_major, semver_minor,
                           semver_patch, semver_greater)
