"""Example packs that ``ork init --pack NAME`` writes to disk.

Each pack is a directory of example steps (a katalog, its motifs, CRD, CRs, simulate and
e2e files and a README per step) shipped as package data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from orkestra.errors import OrkError
from orkestra.files import write_error


@dataclass(frozen=True)
class Pack:
    name: str
    description: str
    first: str


PACKS: tuple[Pack, ...] = (
    Pack(
        "registry-guide",
        "End-to-end registry workflow: consume, build motifs, publish, "
        "compose, upgrade, audit, deprecate.",
        "00-consume",
    ),
)


def find_pack(name: str) -> Pack:
    for pack in PACKS:
        if pack.name == name:
            return pack
    raise OrkError(
        f'no pack named "{name}"; available: '
        + ", ".join(p.name for p in PACKS)
        + " (see `ork init --list`)"
    )


def pack_files(name: str) -> list[tuple[str, Traversable]]:
    """(relative path, resource) of every file in a pack, sorted."""
    root = resources.files("orkestra.packs").joinpath(name)
    found: list[tuple[str, Traversable]] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name.startswith("__") or (
                child.name.startswith(".") and child.name != ".github"
            ):
                continue
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, rel + "/")
            else:
                found.append((rel, child))

    walk(root, "")
    return found


def write_pack(name: str, destination: Path, *, force: bool = False) -> list[str]:
    """Write pack ``name`` to ``destination``; nothing is left half-written on failure (a
    full disk or a read-only location is an error naming the directory)."""
    find_pack(name)
    _check_destination(destination, force)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    except OSError as exc:
        raise _write_failed(destination, exc) from None
    try:
        written = _fill(name, staging)
        _swap(staging, destination)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _write_failed(destination, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _swap(staging: Path, destination: Path) -> None:
    """Move ``staging`` to ``destination``; a replaced directory is restored if that fails
    and removed once it succeeded."""
    old = None
    if destination.exists():
        old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
        os.replace(destination, old)
    try:
        os.replace(staging, destination)
    except BaseException:
        if old is not None:
            os.replace(old, destination)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_failed(destination: Path, exc: OSError) -> OrkError:
    return write_error(destination, exc, f"the pack to {destination}")


def _check_destination(destination: Path, force: bool) -> None:
    if not destination.exists():
        return
    if not force:
        raise OrkError(f"{destination} already exists; use --force to replace it")
    if not destination.is_dir() or destination.is_symlink():
        raise OrkError(
            f"{destination} exists and is not a directory; --force replaces directories only",
            hint="choose another directory with -d",
        )
    if Path.cwd().resolve().is_relative_to(destination.resolve()):
        raise OrkError(
            f"{destination} contains the current directory; --force will not replace it",
            hint="choose another directory with -d",
        )


def _fill(name: str, staging: Path) -> list[str]:
    """Write the pack's files under ``staging``; their relative paths."""
    written = []
    for rel, resource in pack_files(name):
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(resource.read_bytes())
        if rel.endswith(".sh"):
            target.chmod(0o755)
        written.append(rel)
    return written
