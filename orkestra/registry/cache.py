"""The local cache of pulled patterns: ``~/.orkestra/registry/<host>/<repository>/<tag>/``.

A cached entry is a directory holding the pattern's files under their relative paths (a
typed katalog's hook sources in their packages, e.g. ``dbhooks/database.py``) plus
``.manifest.json`` (the manifest exactly as the registry served it, so the digest and the
gate record can be read offline; its presence marks a directory as pulled, whose code runs
only when trusted). Entries are written into a temporary directory beside their final
place and renamed into it, so a failed or interrupted pull never leaves a partial entry,
and a reader never sees one. ``ORK_HOME`` moves the whole ``~/.orkestra`` tree.

Every read re-verifies an entry (:meth:`Cache.read`): each file the manifest lists must be
a regular file with the layer's size and sha256 digest, nothing else may have been added
(bytecode in ``__pycache__`` and a ``komposer.lock`` written beside a pulled komposer
aside), and an entry read by digest must hold the manifest with that digest. An entry that
fails is never used: :class:`CacheIntegrityError` says what changed. (An entry whose files
and manifest were rewritten consistently under a tag cannot be told apart offline; a
``pull`` asks the registry for the tag's digest, and signatures are the full answer.)
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from orkestra.registry.artifact import check_titles
from orkestra.registry.errors import IntegrityError, RegistryError
from orkestra.registry.oci import MANIFEST_MEDIA_TYPE, Descriptor, Manifest, digest_of
from orkestra.registry.refs import Reference, cache_segment

MANIFEST_FILE = ".manifest.json"
PRIMARY_NAMES = ("katalog.yaml", "motif.yaml")
_ALLOWED_EXTRA = frozenset({"komposer.lock"})
"""Files a command may write into an entry: ``ork pull -f`` beside a pulled komposer."""
_SHOWN_PROBLEMS = 3


class CacheIntegrityError(IntegrityError):
    """A cached entry no longer matches the manifest it was pulled with."""


class CacheWriteError(RegistryError):
    """A pulled pattern could not be written to the cache (disk full, permissions)."""


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
        return (
            Manifest.parse(data, str(directory / MANIFEST_FILE)),
            Descriptor(media_type=MANIFEST_MEDIA_TYPE, digest=digest_of(data), size=len(data)),
        )

    def read(self, ref: Reference) -> tuple[Path, Manifest, Descriptor] | None:
        """The verified entry of ``ref`` (None when not cached); raises
        :class:`CacheIntegrityError` when it does not match its manifest."""
        directory = self.lookup(ref)
        if directory is None:
            return None
        try:
            stored = self.manifest(directory)
        except IntegrityError as exc:
            raise _mismatch(ref, f"its {MANIFEST_FILE} is unreadable: {exc.message}") from None
        if stored is None:
            return None
        manifest, descriptor = stored
        if ref.digest and descriptor.digest != ref.digest:
            raise _mismatch(ref, f"{MANIFEST_FILE} has digest {descriptor.digest}")
        self.verify(ref, directory, manifest)
        return directory, manifest, descriptor

    def verify(self, ref: Reference, directory: Path, manifest: Manifest) -> None:
        """Fail unless the entry holds exactly the manifest's files, byte for byte."""
        titles = [layer.title for layer in manifest.layers]
        try:
            check_titles(titles, str(ref))
        except IntegrityError as exc:
            raise _mismatch(ref, exc.message) from None
        problems = differences(directory, manifest.layers)
        if problems:
            more = len(problems) - _SHOWN_PROBLEMS
            raise _mismatch(
                ref,
                "; ".join(problems[:_SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else ""),
            )

    def store(self, ref: Reference, files: dict[str, bytes], manifest: bytes) -> Path:
        """Write an entry atomically (replacing an older one) and return its directory;
        a name that is not a relative path inside the entry is refused."""
        import shutil
        import tempfile  # only a pull writes an entry: reading one needs neither

        check_titles(list(files), str(ref))
        final = self.path(ref)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.pull-"))
        except OSError as exc:
            raise _write_error(ref, final, exc) from None
        try:
            for name, data in files.items():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_bytes(data)
            (staging / MANIFEST_FILE).write_bytes(manifest)
            replace_dir(staging, final)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise _write_error(ref, final, exc) from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final


def differences(directory: Path, layers: tuple[Descriptor, ...]) -> list[str]:
    """How the files under ``directory`` differ from ``layers`` (empty: they match)."""
    found, odd = _walk(directory)
    problems = [f"{name} is not a regular file" for name in odd]
    for layer in layers:
        path = found.pop(layer.title, None)
        if path is None:
            if layer.title not in odd:
                problems.append(f"{layer.title} is missing")
        elif not _matches(path, layer):
            problems.append(f"{layer.title} was modified")
    problems += [f"{name} was added" for name in sorted(found) if name not in _ALLOWED_EXTRA]
    return problems


def _walk(directory: Path) -> tuple[dict[str, Path], list[str]]:
    """Regular files by relative path, and the names of everything else (symbolic links,
    devices, FIFOs), skipping the manifest and bytecode caches; links are not followed."""
    files: dict[str, Path] = {}
    odd: list[str] = []
    for root, dirs, names in os.walk(directory):
        base = Path(root)
        for name in list(dirs):
            if (base / name).is_symlink():
                odd.append((base / name).relative_to(directory).as_posix())
                dirs.remove(name)
            elif name == "__pycache__":
                dirs.remove(name)
        for name in names:
            path = base / name
            rel = path.relative_to(directory).as_posix()
            if rel == MANIFEST_FILE:
                continue
            mode = path.lstat().st_mode
            if stat.S_ISREG(mode):
                files[rel] = path
            else:
                odd.append(rel)
    return files, sorted(odd)


def _matches(path: Path, layer: Descriptor) -> bool:
    try:
        if path.stat().st_size != layer.size:
            return False
        with path.open("rb") as handle:
            return "sha256:" + hashlib.file_digest(handle, "sha256").hexdigest() == layer.digest
    except OSError:
        return False


def _mismatch(ref: Reference, what: str) -> CacheIntegrityError:
    return CacheIntegrityError(
        f"cached copy of {ref} does not match its manifest ({what})",
        hint=f"the files in the local cache were changed after the pull; download them "
        f"again with `ork pull --refresh {ref}`",
    )


def _write_error(ref: Reference, final: Path, exc: OSError) -> CacheWriteError:
    return CacheWriteError(
        f"cannot store {ref} in the cache at {final}: {exc.strerror or exc}",
        hint="nothing was written; free some disk space or fix the permissions of "
        f"{final.parent} (ORK_HOME moves the cache), then pull again",
    )


def replace_dir(staging: Path, final: Path) -> None:
    """Move ``staging`` to ``final``; an existing ``final`` is swapped out, then removed."""
    import shutil

    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
