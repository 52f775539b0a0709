"""Pattern references: parsing, registry bases and resolution.

A reference names one artifact: ``host/repository:tag`` or ``host/repository@sha256:…``,
optionally written with ``oci://``. Short names (``webapp-operator:v1.0.0``) are resolved
against a base chosen by the pattern kind: ``ORK_MOTIFS_REGISTRY`` for motifs and
``ORK_REGISTRY`` for everything else. When a variable is unset the base is the embedded
registry (host ``local``: an OCI image layout on this machine), so every command works
offline until a remote registry is configured.

On the command line ``@`` is only for digests (``name@v1`` is an error that says to use
``:``); inside Komposer and Katalog imports ``name@v1`` is accepted as a version, as the
original tool's import parser does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from orkestra.registry.errors import InvalidReferenceError

LOCAL_HOST = "local"
"""The host name of the embedded registry in references (``oci://local/katalogs/x:v1``)."""

DEFAULT_KATALOG_BASE = f"{LOCAL_HOST}/katalogs"
DEFAULT_MOTIF_BASE = f"{LOCAL_HOST}/motifs"

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$")
_DIGEST_PREFIXES = ("sha256:", "sha384:", "sha512:")
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True, kw_only=True)
class Reference:
    """One artifact in one repository of one registry."""

    host: str
    repository: str
    tag: str = "latest"
    digest: str = ""
    layout: str = ""
    """Set for an OCI image layout directory named on the command line (``--oci-layout``)."""

    def __str__(self) -> str:
        if self.layout:
            return f"{self.layout}{self.suffix}"
        return f"oci://{self.host}/{self.repository}{self.suffix}"

    @property
    def suffix(self) -> str:
        """``:tag``, or ``@digest`` when the reference is pinned to a digest."""
        return f"@{self.digest}" if self.digest else f":{self.tag}"

    @property
    def target(self) -> str:
        """What the registry API addresses: the digest if pinned, else the tag."""
        return self.digest or self.tag

    @property
    def name(self) -> str:
        """The last path segment: the pattern's name."""
        if self.layout:
            return self.layout.rstrip("/").rsplit("/", 1)[-1]
        return self.repository.rsplit("/", 1)[-1]

    @property
    def location(self) -> str:
        """Where the repository lives: ``host/parent path`` (or the layout directory)."""
        if self.layout:
            return self.layout
        parent = self.repository.rsplit("/", 1)[0] if "/" in self.repository else ""
        return f"{self.host}/{parent}" if parent else self.host

    @property
    def short_name(self) -> str:
        return f"{self.name}{self.suffix}"

    @property
    def is_local(self) -> bool:
        """Whether this names the embedded registry."""
        return self.host == LOCAL_HOST

    @property
    def is_loopback(self) -> bool:
        return self.host.rsplit(":", 1)[0] in _LOOPBACK or self.host in _LOOPBACK

    def with_tag(self, tag: str) -> Reference:
        return replace(self, tag=tag, digest="")

    def with_digest(self, digest: str) -> Reference:
        return replace(self, digest=digest)

    def index(self) -> Reference:
        """``<host>/<repository minus its last segment>/index:latest``."""
        parent = self.repository.rsplit("/", 1)[0] if "/" in self.repository else ""
        return Reference(host=self.host, repository=f"{parent}/index" if parent else "index")


@dataclass(frozen=True)
class Bases:
    """Where short names resolve: one base for katalogs (and komposers), one for motifs."""

    katalogs: str = DEFAULT_KATALOG_BASE
    motifs: str = DEFAULT_MOTIF_BASE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Bases:
        env = os.environ if env is None else env
        return cls(
            _clean_base(env.get("ORK_REGISTRY", "")) or DEFAULT_KATALOG_BASE,
            _clean_base(env.get("ORK_MOTIFS_REGISTRY", "")) or DEFAULT_MOTIF_BASE,
        )

    def for_kind(self, kind: str) -> str:
        return self.motifs if kind == "Motif" else self.katalogs


def configured_hosts(env: Mapping[str, str]) -> set[str]:
    """Hosts named by ORK_REGISTRY / ORK_MOTIFS_REGISTRY (where env credentials apply)."""
    bases = (_clean_base(env.get(key, "")) for key in ("ORK_REGISTRY", "ORK_MOTIFS_REGISTRY"))
    return {base.split("/", 1)[0] for base in bases if base}


def _clean_base(base: str) -> str:
    base = base.strip()
    base = base.removeprefix("oci://")
    return base.rstrip("/")


def is_full(text: str) -> bool:
    """Whether ``text`` starts with a registry host rather than a short name."""
    first = text.split("/", 1)[0]
    return "/" in text and ("." in first or ":" in first or first in ("localhost", LOCAL_HOST))


def resolve(text: str, kind: str = "Katalog", bases: Bases | None = None) -> Reference:
    """Resolve a command-line reference (``name:tag``, ``host/repo@sha256:…``, ``oci://…``)."""
    cleaned = text.strip().removeprefix("oci://")
    if not cleaned:
        raise InvalidReferenceError(
            "invalid reference: empty reference",
            hint="write NAME:VERSION, e.g. webapp-operator:v1.0.0",
        )
    if not is_full(cleaned):
        cleaned = f"{(bases or Bases.from_env()).for_kind(kind)}/{cleaned}"
    return parse(cleaned, original=text.strip())


def resolve_import(
    text: str, kind: str = "Katalog", bases: Bases | None = None, version: str = ""
) -> Reference:
    """Resolve a reference written in an import: ``name@v1`` means the tag ``v1``.

    ``version`` (the struct form's ``version:`` key) applies only when the text carries
    neither a tag nor a digest.
    """
    cleaned = text.strip().removeprefix("oci://")
    last = cleaned.rsplit("/", 1)[-1]
    if "@" in last and not last.split("@", 1)[1].startswith(_DIGEST_PREFIXES):
        head, _, tag = cleaned.rpartition("@")
        cleaned = f"{head}:{tag}"
    elif version and ":" not in last and "@" not in last:
        cleaned = f"{cleaned}:{version}"
    return resolve(cleaned, kind, bases)


_CONSTRAINT_START = ("^", "~", ">", "<", "=", "!")


def split_constraint(text: str) -> tuple[str, str]:
    """``name@^1.2`` -> (``name``, ``^1.2``): a version constraint in an import, or "".

    A constraint starts with ``^ ~ > < = !`` or holds a space, ``*``, ``x`` wildcard or
    ``||``; anything else after ``@`` or ``:`` is a tag (or a digest).
    """
    cleaned = text.strip()
    head, _, last = cleaned.rpartition("/")
    for separator in ("@", ":"):
        name, found, version = last.partition(separator)
        if (
            found
            and version
            and not version.startswith(_DIGEST_PREFIXES)
            and _is_constraint(version)
        ):
            return (f"{head}/{name}" if head else name), version
    return cleaned, ""


def _is_constraint(version: str) -> bool:
    return (
        version.startswith(_CONSTRAINT_START)
        or " " in version
        or "||" in version
        or "*" in version
        or bool(re.fullmatch(r"v?\d+(\.(\d+|x|X))*\.(x|X)", version))
    )


def parse(text: str, *, original: str = "") -> Reference:
    """Parse ``host/repository[:tag][@digest]`` (no short names, no ``oci://``)."""
    shown = original or text
    if "/" not in text:
        raise InvalidReferenceError(
            f'invalid reference "{shown}": missing repository path',
            hint="write HOST/REPOSITORY:TAG or a short NAME:TAG",
        )
    host, rest = text.split("/", 1)
    digest = ""
    last_slash = rest.rfind("/")
    at = rest.find("@", last_slash + 1)
    if at >= 0:
        digest = rest[at + 1 :]
        rest = rest[:at]
        _check_not_a_range(digest, rest, shown)
        if not digest.startswith(_DIGEST_PREFIXES):
            raise InvalidReferenceError(
                f"invalid reference \"{shown}\": use ':' not '@' for version tags "
                f"(e.g. ...:{digest}) — '@' is for digest references like @sha256:..."
            )
        if not _DIGEST.match(digest):
            raise InvalidReferenceError(
                f'invalid reference "{shown}": malformed digest "{digest}"',
                hint="sha256: followed by 64 hex digits",
            )
    tag = "latest"
    colon = rest.find(":", rest.rfind("/") + 1)
    if colon >= 0:
        rest, tag = rest[:colon], rest[colon + 1 :]
        _check_not_a_range(tag, rest, shown)
        if not _TAG.match(tag):
            raise InvalidReferenceError(
                f'invalid reference "{shown}": "{tag}" is not a valid tag',
                hint="tags are up to 128 letters, digits, '_', '.' and '-', not starting "
                "with '.' or '-'",
            )
    _check_repository(rest, shown)
    return Reference(host=host, repository=rest, tag=tag, digest=digest)


def _check_not_a_range(version: str, repository: str, shown: str) -> None:
    """A version range after ``@`` or ``:`` gets one answer, whichever was written: it is
    not a tag (a valid tag such as ``1.x`` stays a tag)."""
    if _TAG.match(version) or not _is_constraint(version):
        return
    name = repository.rsplit("/", 1)[-1]
    raise InvalidReferenceError(
        f'invalid reference "{shown}": "{version}" is a version range, not a tag',
        hint=f"name one version ({name}:v1.2.3, listed by 'ork inspect {name} --versions') "
        f"or a digest ({name}@sha256:...); ranges are written in imports "
        f"({name}@{version})",
    )


def _check_repository(repository: str, shown: str) -> None:
    for component in repository.split("/"):
        if not _COMPONENT.match(component):
            raise InvalidReferenceError(
                f'invalid reference "{shown}": "{component}" is not a valid repository '
                "path component",
                hint="lowercase letters and digits, separated by '.', '_', '__' or '-'",
            )


def layout_reference(text: str) -> Reference:
    """``DIR[:TAG]`` or ``DIR@sha256:…``: an artifact in an OCI image layout (as oras and
    skopeo's ``oci:`` transport write them)."""
    path, tag, digest = text, "latest", ""
    if "@" in text:
        path, _, digest = text.rpartition("@")
        if not _DIGEST.match(digest):
            raise InvalidReferenceError(
                f'invalid layout reference "{text}": malformed digest "{digest}"'
            )
    else:
        head, colon, tail = text.rpartition(":")
        if colon and tail and "/" not in tail:
            path, tag = head, tail
            if not _TAG.match(tag):
                raise InvalidReferenceError(
                    f'invalid layout reference "{text}": "{tag}" is not a valid tag'
                )
    if not path:
        raise InvalidReferenceError(
            f'invalid layout reference "{text}": no directory',
            hint="write DIR:TAG, e.g. ./layout:v1.0.0",
        )
    return Reference(
        host="",
        repository="",
        tag=tag,
        digest=digest,
        layout=str(Path(path).expanduser().resolve()),
    )


def tag_of(text: str) -> str:
    """The tag written in a command-line reference, or "" (``ExtractTagVersion``)."""
    text = text.split("@", 1)[0]
    colon = text.rfind(":")
    return text[colon + 1 :] if colon > text.rfind("/") else ""


def cache_segment(ref: Reference) -> str:
    """The directory name a tag or digest gets in the local cache."""
    return ref.target.replace(":", "_")
