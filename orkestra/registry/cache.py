"""The local cache of pulled patterns: ``~/.orkestra/registry/<host>/<repository>/<tag>/``.

A cached entry is a directory holding the pattern's files under their relative paths (a
typed katalog's hook sources in their packages, e.g. ``dbhooks/database.py``) plus
``.manifest.json`` (the manifest exactly as the registry served it, so the digest and the
gate record can be read offline; its presence marks a directory as pulled, whose code runs
only when trusted). Entries are written into a temporary directory beside their final
place and renamed into it, so a failed or interrupted pull never leaves a partial entry,
and a reader never sees one. ``ORK_HOME`` moves the whole ``~/.orkestra`` tree.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from orkestra.registry.artifact import check_titles
from orkestra.registry.oci import MANIFEST_MEDIA_TYPE, Descriptor, Manifest, digest_of
from orkestra.registry.refs import Reference, cache_segment

MANIFEST_FILE = ".manifest.json"
PRIMARY_NAMES = ("katalog.yaml", "motif.yaml")


def orkestra_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("ORK_HOME"):
        return Path(env["ORK_HOME"]).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".orkestra"


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, ref: Reference) -> Path:
        return self.root / ref.host.replace(":", "_") / ref.repository / cache_segment(ref)

    def lookup(self, ref: Reference) -> Path | None:
        """The entry's directory when ``ref`` is cached."""
        directory = self.path(ref)
        if any((directory / name).is_file() for name in PRIMARY_NAMES):
            return directory
        return None

    def manifest(self, directory: Path) -> tuple[Manifest, Descriptor] | None:
        """The manifest a cached entry was pulled with, if it was pulled by this version."""
        try:
            data = (directory / MANIFEST_FILE).read_bytes()
        except FileNotFoundError:
            return None
        return (Manifest.parse(data, str(directory / MANIFEST_FILE)),
                Descriptor(MANIFEST_MEDIA_TYPE, digest_of(data), len(data)))

    def store(self, ref: Reference, files: dict[str, bytes], manifest: bytes) -> Path:
        """Write an entry atomically (replacing an older one) and return its directory;
        a name that is not a relative path inside the entry is refused."""
        check_titles(list(files), str(ref))
        final = self.path(ref)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.pull-"))
        try:
            for name, data in files.items():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_bytes(data)
            (staging / MANIFEST_FILE).write_bytes(manifest)
            replace_dir(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final


def replace_dir(staging: Path, final: Path) -> None:
    """Move ``staging`` to ``final``; an existing ``final`` is swapped out, then removed."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
