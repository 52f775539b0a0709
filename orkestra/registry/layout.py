"""The embedded registry: OCI image layouts on the local disk.

Each repository is one OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/``)
under the registry root, so ``skopeo inspect oci:<root>/katalogs/webapp-operator:v1.0.0``
and ``skopeo copy`` read what ``ork push`` wrote, and ``ork pull --oci-layout`` reads
layouts other tools wrote. Tags are the ``org.opencontainers.image.ref.name`` annotations
of ``index.json``.

Several ``ork`` processes may use the same root at once: blobs are written to a temporary
file and renamed into place (content addressing makes concurrent writers of one blob
harmless), and ``index.json`` is rewritten the same way under an exclusive ``flock`` on
``index.json.lock``, which also guards the index artifact's read-modify-write. The layout
format is small and fully specified, so it is written here rather than through a library
(oras-py can read layouts but not write artifacts into one).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from orkestra.files import write_atomic
from orkestra.registry.errors import ArtifactNotFoundError
from orkestra.registry.oci import (
    MANIFEST_MEDIA_TYPE,
    MAX_BLOB_BYTES,
    MAX_MANIFEST_BYTES,
    REF_NAME,
    Descriptor,
    check_size,
    index_bytes,
    parse_index,
    verify,
)

LAYOUT_MARKER = b'{"imageLayoutVersion":"1.0.0"}'
LOCK_FILE = "index.json.lock"


class LayoutBackend:
    """Repositories as OCI image layouts under ``root`` (or ``root`` itself, ``single``)."""

    transfers = 1

    def __init__(self, root: Path, *, single: bool = False, name: str = "") -> None:
        self.root = root
        self.single = single
        self.name = name or f"local registry ({root})"
        self._thread_lock = threading.RLock()
        self._depth: dict[Path, int] = {}
        self._fds: dict[Path, int] = {}

    def describe(self) -> str:
        return self.name

    def layout_dir(self, repository: str) -> Path:
        return self.root if self.single else self.root.joinpath(*repository.split("/"))

    # -- blobs -------------------------------------------------------------------------
    def _blob_path(self, repository: str, digest: str) -> Path:
        algorithm, hexdigest = digest.split(":", 1)
        return self.layout_dir(repository) / "blobs" / algorithm / hexdigest

    def push_blob(self, repository: str, descriptor: Descriptor, data: bytes) -> None:
        path = self._blob_path(repository, descriptor.digest)
        if not path.is_file():
            self._ensure_layout(repository)
            write_atomic(path, data)

    def fetch_blob(self, repository: str, descriptor: Descriptor) -> bytes:
        check_size(descriptor.size, MAX_BLOB_BYTES, f"blob {descriptor.digest}")
        data = self._read_blob(repository, descriptor.digest, MAX_BLOB_BYTES)
        verify(data, descriptor.digest, descriptor.size, f"blob {descriptor.digest}")
        return data

    def _read_blob(self, repository: str, digest: str, limit: int) -> bytes:
        path = self._blob_path(repository, digest)
        try:
            size = path.stat().st_size
            check_size(size, limit, f"{digest} in {self.layout_dir(repository)}")
            return path.read_bytes()
        except FileNotFoundError:
            raise ArtifactNotFoundError(
                f"{repository}: blob {digest} not found in {self.layout_dir(repository)}",
                hint="the layout is incomplete; push the artifact again",
            ) from None

    # -- manifests ---------------------------------------------------------------------
    def push_manifest(
        self, repository: str, data: bytes, media_type: str, tag: str | None
    ) -> Descriptor:
        descriptor = Descriptor.of(data, media_type)
        with self.locked(repository):
            self.push_blob(repository, descriptor, data)
            entries = [
                e
                for e in self._index(repository)
                if not (tag and e.annotations.get(REF_NAME) == tag)
                and not (
                    not tag and e.digest == descriptor.digest and REF_NAME not in e.annotations
                )
            ]
            annotations = {REF_NAME: tag} if tag else {}
            entries.append(
                Descriptor(
                    media_type=media_type,
                    digest=descriptor.digest,
                    size=descriptor.size,
                    annotations=annotations,
                )
            )
            write_atomic(self.layout_dir(repository) / "index.json", index_bytes(entries))
        return descriptor

    def fetch_manifest(self, repository: str, target: str) -> tuple[bytes, Descriptor]:
        entries = self._index(repository)
        if target.startswith("sha256:"):
            found = next((e for e in entries if e.digest == target), None)
            data = self._read_blob(repository, target, MAX_MANIFEST_BYTES)
            media_type = found.media_type if found else _media_type_of(data)
            descriptor = Descriptor(media_type=media_type, digest=target, size=len(data))
        else:
            tagged = [e for e in entries if e.annotations.get(REF_NAME) == target]
            if not tagged:
                raise ArtifactNotFoundError(f"{repository}:{target} not found in {self.describe()}")
            descriptor = tagged[-1]
            check_size(descriptor.size, MAX_MANIFEST_BYTES, f"manifest {repository}:{target}")
            data = self._read_blob(repository, descriptor.digest, MAX_MANIFEST_BYTES)
        verify(data, descriptor.digest, descriptor.size, f"manifest {repository}@{target}")
        return data, Descriptor(
            media_type=descriptor.media_type, digest=descriptor.digest, size=descriptor.size
        )

    def manifest_digest(self, repository: str, target: str) -> str:
        if target.startswith("sha256:"):
            return self.fetch_manifest(repository, target)[1].digest
        tagged = [e for e in self._index(repository) if e.annotations.get(REF_NAME) == target]
        if not tagged:
            raise ArtifactNotFoundError(f"{repository}:{target} not found in {self.describe()}")
        return tagged[-1].digest

    def tags(self, repository: str) -> list[str]:
        seen: dict[str, None] = {}
        for entry in self._index(repository):
            name = entry.annotations.get(REF_NAME)
            if name:
                seen[name] = None
        return list(seen)

    def referrers_api(self, repository: str, digest: str) -> list[Descriptor] | None:
        return None

    # -- layout files ------------------------------------------------------------------
    def _index(self, repository: str) -> list[Descriptor]:
        path = self.layout_dir(repository) / "index.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        return parse_index(data, str(path))

    def _ensure_layout(self, repository: str) -> None:
        marker = self.layout_dir(repository) / "oci-layout"
        if not marker.is_file():
            write_atomic(marker, LAYOUT_MARKER)

    @contextlib.contextmanager
    def locked(self, repository: str) -> Iterator[None]:
        directory = self.layout_dir(repository)
        with self._thread_lock:
            depth = self._depth.get(directory, 0)
            if depth == 0:
                directory.mkdir(parents=True, exist_ok=True)
                fd = os.open(directory / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._fds[directory] = fd
            self._depth[directory] = depth + 1
            try:
                yield
            finally:
                self._depth[directory] -= 1
                if self._depth[directory] == 0:
                    fd = self._fds.pop(directory)
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)


def _media_type_of(data: bytes) -> str:
    try:
        value = json.loads(data).get("mediaType")
    except (ValueError, AttributeError):
        value = None
    return value if isinstance(value, str) else MANIFEST_MEDIA_TYPE
