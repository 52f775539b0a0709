"""Semver notes: ``semverCompare CONSTRAINT VERSION`` (Sprig's order), ``semverValid``,
``semverMajor``/``Minor``/``Patch`` and ``semverGreater A B``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orkestra.template.functions import Func, P, func

if TYPE_CHECKING:
    from orkestra.semver import Version

# orkestra.semver loads on the first call: every template check imports this table.


@func("semverCompare", P.STR, P.STR)
def semver_compare(constraint: str, version: str) -> bool:
    from orkestra.semver import satisfies

    return satisfies(version, constraint)


@func("semverValid", P.STR)
def semver_valid(version: str) -> bool:
    from orkestra.semver import is_valid

    return is_valid(version)


def _parse(version: str) -> Version:
    from orkestra.semver import Version

    return Version.parse(version)


@func("semverMajor", P.STR)
def semver_major(version: str) -> int:
    return _parse(version).major


@func("semverMinor", P.STR)
def semver_minor(version: str) -> int:
    return _parse(version).minor


@func("semverPatch", P.STR)
def semver_patch(version: str) -> int:
    return _parse(version).patch


@func("semverGreater", P.STR, P.STR)
def semver_greater(a: str, b: str) -> bool:
    return _parse(a) > _parse(b)


NOTES: tuple[Func, ...] = (
    semver_compare,
    semver_valid,
    semver_major,
    semver_minor,
    semver_patch,
    semver_greater,
)
