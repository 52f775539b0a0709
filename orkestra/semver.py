"""Semantic versions and version constraints.

Versions are SemVer 2.0 with an optional ``v`` prefix (pattern tags are ``v1.2.3``).
Constraints follow the syntax Helm users know from Masterminds/semver: comparisons
(``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``), tilde (``~1.2`` = ``>=1.2.0 <1.3.0``),
caret (``^1.2`` = ``>=1.2.0 <2.0.0``; ``^0.2`` = ``>=0.2.0 <0.3.0``), wildcards
(``1.2.x``, ``1.*``, ``*``), hyphen ranges (``1.2 - 1.4``), AND with commas or spaces and
OR with ``||``. Pre-releases only satisfy a constraint that itself names a pre-release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from orkestra.errors import OrkError

_VERSION = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


class SemverError(OrkError):
    """A version or constraint that does not parse."""


# Positional: Version(major, minor, patch, ...) reads as the version number itself.
@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    @classmethod
    def parse(cls, text: str, *, strict: bool = False) -> Version:
        """Parse ``1.2.3``/``v1.2.3-rc.1+b``; ``strict`` requires all three numbers."""
        m = _VERSION.match(text.strip())
        if m is None or (strict and (m.group(2) is None or m.group(3) is None)):
            raise SemverError(f"invalid semantic version {text!r}")
        pre = tuple(m.group(4).split(".")) if m.group(4) else ()
        return cls(
            int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), pre, m.group(5) or ""
        )

    def __str__(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            s += "-" + ".".join(self.prerelease)
        if self.build:
            s += "+" + self.build
        return s

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def is_valid(text: str) -> bool:
    try:
        Version.parse(text)
    except SemverError:
        return False
    return True


_UNVERSIONED = Version(0, 0, 0)


def latest_key(tag: str) -> tuple[int, Version]:
    """How ``tag`` ranks when choosing a pattern's latest version, as Helm and npm choose
    it: every stable release above every pre-release (a pre-release is the latest only
    while no stable release exists), a pre-release above a tag that is no semantic version;
    the higher version within each. Tags that are no semantic versions tie (callers prefer
    the newest push among them): ``max(tags, key=latest_key)``."""
    try:
        version = Version.parse(tag)
    except SemverError:
        return (0, _UNVERSIONED)
    return (1 if version.prerelease else 2, version)


_TERM = re.compile(
    r"^(!=|>=|<=|=>|=<|>|<|=|~>|~|\^)?\s*v?([0-9xX*]+(?:\.[0-9xX*]+){0,2}"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$"
)


@dataclass(frozen=True)
class _Bound:
    op: str
    version: Version


def _wild(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _expand(op: str, text: str) -> list[_Bound]:
    """Turn one constraint term into lower/upper bounds."""
    core, _, pre = text.partition("-")
    parts: list[str | None] = list(core.split("+")[0].split("."))
    parts += [None] * (3 - len(parts))
    major, minor, patch = parts
    if _wild(major):
        matches_all = op in ("", "=", ">=", "<=", "~", "^", "~>")
        return [] if matches_all else [_Bound("<", Version(0, 0, 0))]
    if not all(p is None or p.isdigit() or _wild(p) for p in parts):
        raise SemverError(f"invalid constraint term {text!r}")
    major_n, minor_n, patch_n = (
        0 if _wild(part) else int(part or 0) for part in (major, minor, patch)
    )
    prerelease = tuple(pre.split(".")) if pre else ()
    base = Version(major_n, minor_n, patch_n, prerelease)
    if op in ("~", "~>"):
        upper = Version(major_n + 1, 0, 0) if _wild(minor) else Version(major_n, minor_n + 1, 0)
        return [_Bound(">=", base), _Bound("<", upper)]
    if op == "^":
        if major_n > 0 or _wild(minor):
            upper = Version(major_n + 1, 0, 0)
        elif minor_n > 0 or _wild(patch):
            upper = Version(0, minor_n + 1, 0)
        else:
            upper = Version(0, 0, patch_n + 1)
        return [_Bound(">=", base), _Bound("<", upper)]
    if _wild(minor) or _wild(patch):
        upper = Version(major_n + 1, 0, 0) if _wild(minor) else Version(major_n, minor_n + 1, 0)
        if op in ("", "="):
            return [_Bound(">=", base), _Bound("<", upper)]
        if op == ">":
            return [_Bound(">=", upper)]
        if op == "<=":
            return [_Bound("<", upper)]
        if op == "!=":
            return [_Bound("!range", base), _Bound("!range", upper)]
    return [_Bound({"=>": ">=", "=<": "<=", "": "="}.get(op, op), base)]


def _check(bound: _Bound, v: Version) -> bool:
    op, b = bound.op, bound.version
    return {
        "=": v == b,
        "!=": v != b,
        ">": v > b,
        "<": v < b,
        ">=": v >= b,
        "<=": v <= b,
    }[op]


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint: OR of AND-groups of bounds."""

    text: str
    groups: tuple[tuple[_Bound, ...], ...]

    @classmethod
    def parse(cls, text: str) -> Constraint:
        groups = []
        for alternative in text.split("||"):
            alt = alternative.strip()
            if not alt:
                raise SemverError(f"invalid constraint {text!r}")
            hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", alt)
            if hyphen:
                low = _expand(">=", hyphen.group(1))
                high_parts = hyphen.group(2).split(".")
                high = (
                    _expand("<=", hyphen.group(2))
                    if len(high_parts) == 3
                    else _expand("<", _bump(hyphen.group(2)))
                )
                groups.append(tuple(low + high))
                continue
            bounds: list[_Bound] = []
            for term in re.split(r"\s*,\s*|\s+(?![0-9xX*v])", alt):
                m = _TERM.match(term.strip())
                if m is None:
                    raise SemverError(f"invalid constraint {text!r}")
                bounds.extend(_expand(m.group(1) or "", m.group(2)))
            groups.append(tuple(bounds))
        return cls(text, tuple(groups))

    def allows(self, version: Version) -> bool:
        for group in self.groups:
            if version.prerelease and not any(
                b.version.prerelease and _core(b.version) == _core(version) for b in group
            ):
                continue
            ranges = [b for b in group if b.op == "!range"]
            plain = [b for b in group if b.op != "!range"]
            if ranges and ranges[0].version <= version < ranges[1].version:
                continue
            if all(_check(b, version) for b in plain):
                return True
        return False


def _core(v: Version) -> tuple[int, int, int]:
    return (v.major, v.minor, v.patch)


def _bump(text: str) -> str:
    parts = text.split(".")
    if len(parts) == 1:
        return f"{int(parts[0]) + 1}"
    return f"{parts[0]}.{int(parts[1]) + 1}"


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` satisfies ``constraint``; raises SemverError on bad input."""
    return Constraint.parse(constraint).allows(Version.parse(version))
