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


@dataclass(frozen=True)
class Pack:
    name: str
    description: str
    first: str


PACKS: tuple[Pack, ...] = (
    Pack("registry-guide", "End-to-end registry workflow: consume, build motifs, publish, "
         "compose, upgrade, audit, deprecate.", "00-consume"),
)


def find_pack(name: str) -> Pack:
    for pack in PACKS:
        if pack.name == name:
            return pack
    raise OrkError(f'no pack named "{name}"; available: '
                   + ", ".join(p.name for p in PACKS) + " (see `ork init --list`)")


def pack_files(name: str) -> list[tuple[str, Traversable]]:
    """(relative path, resource) of every file in a pack, sorted."""
    root = resources.files("orkestra.packs").joinpath(name)
    found: list[tuple[str, Traversable]] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name.startswith((".", "__")):
                continue
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, rel + "/")
            else:
                found.append((rel, child))

    walk(root, "")
    return found


def write_pack(name: str, destination: Path, *, force: bool = False) -> list[str]:
    """Write pack ``name`` to ``destination``; nothing is left half-written on failure."""
    find_pack(name)
    if destination.exists() and not force:
        raise OrkError(f"{destination} already exists; use --force to replace it")
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    written = []
    try:
        for rel, resource in pack_files(name):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(resource.read_bytes())
            if rel.endswith(".sh"):
                target.chmod(0o755)
            written.append(rel)
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written
