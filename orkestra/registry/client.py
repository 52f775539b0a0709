"""The registry client: push, pull, inspect and index patterns on any backend.

:class:`RegistryClient` picks the backend from the reference (the embedded layout registry
for host ``local``, an OCI layout directory for ``--oci-layout`` references, HTTP for every
other host; httpx is imported only when a remote registry is used) and implements every
operation once on top of :class:`~orkestra.registry.backend.Backend`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orkestra.files import write_atomic
from orkestra.registry.artifact import CREATED, PatternArtifact, created_now
from orkestra.registry.backend import Backend
from orkestra.registry.cache import Cache, CacheIntegrityError, orkestra_home
from orkestra.registry.errors import IntegrityError, NotFoundError, TransientError
from orkestra.registry.index import (
    INDEX_ARTIFACT_TYPE,
    INDEX_FILE,
    INDEX_LAYER_TYPE,
    IndexEntry,
    RegistryIndex,
)
from orkestra.registry.info import PatternInfo
from orkestra.registry.layout import LayoutBackend
from orkestra.registry.oci import (
    EMPTY_JSON,
    EMPTY_MEDIA_TYPE,
    INDEX_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    TITLE,
    Descriptor,
    Manifest,
    index_bytes,
    parse_index,
)
from orkestra.registry.refs import Bases, Reference, resolve, resolve_import
from orkestra.registry.retry import DeadlineError, Deadlines, RetryPolicy

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Fetched:
    """A pattern downloaded and verified, not yet written anywhere."""

    info: PatternInfo
    files: dict[str, bytes]
    manifest: bytes


@dataclass(frozen=True)
class Pulled:
    """A pattern in the local cache (verified against its manifest)."""

    info: PatternInfo
    directory: Path
    from_cache: bool
    moved_from: str = ""
    """The digest the cached copy of this tag had, when the registry's tag had moved."""
    replaced: str = ""
    """Why a cached copy was downloaded again: it no longer matched its manifest."""


class RegistryClient:
    """Registry operations for one environment (``ORK_*`` variables, ``ORK_HOME``)."""

    def __init__(self, env: Mapping[str, str] | None = None, *, insecure: bool = False,
                 retry: RetryPolicy | None = None, timeout: float | None = None,
                 deadlines: Deadlines | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        self.bases = Bases.from_env(self.env)
        self.home = orkestra_home(self.env)
        self.cache = Cache(self.home / "registry")
        self.insecure = insecure
        self.retry = retry
        self._timeout = timeout
        self._deadlines = deadlines
        self._backends: dict[str, Backend] = {}

    @property
    def deadlines(self) -> Deadlines:
        """The time limits every remote registry of this client shares: ``timeout``
        (``--timeout``), else ``ORK_TIMEOUT``, else the defaults."""
        if self._deadlines is None:
            self._deadlines = Deadlines.from_env(self.env, self._timeout)
        return self._deadlines

    @property
    def local_root(self) -> Path:
        """Where the embedded registry keeps its layouts (``ORK_LOCAL_REGISTRY``)."""
        configured = self.env.get("ORK_LOCAL_REGISTRY", "")
        return Path(configured).expanduser() if configured else self.home / "local-registry"

    def resolve(self, text: str, kind: str = "Katalog") -> Reference:
        return resolve(text, kind, self.bases)

    def resolve_import(self, text: str, kind: str = "Katalog", version: str = "") -> Reference:
        return resolve_import(text, kind, self.bases, version)

    def backend(self, ref: Reference) -> Backend:
        key = ref.layout or ref.host
        if key not in self._backends:
            self._backends[key] = self._make_backend(ref)
        return self._backends[key]

    def _make_backend(self, ref: Reference) -> Backend:
        if ref.layout:
            return LayoutBackend(Path(ref.layout), single=True, name=ref.layout)
        if ref.is_local:
            return LayoutBackend(self.local_root,
                                 name=f"the local registry ({self.local_root})")
        from orkestra.registry.auth import find_credentials
        from orkestra.registry.remote import RemoteBackend

        host, env = ref.host, self.env
        return RemoteBackend(host, lambda: find_credentials(host, env),
                             plain_http=ref.is_loopback and not self.insecure,
                             insecure=self.insecure,
                             retry=self.retry, deadlines=self.deadlines)

    def request_count(self) -> int:
        """HTTP requests sent so far (all remote backends)."""
        return sum(getattr(b, "requests", 0) for b in self._backends.values())

    # -- publishing --------------------------------------------------------------------
    def push(self, artifact: PatternArtifact, ref: Reference,
             progress: Progress | None = None) -> Descriptor:
        """Upload the files, then the manifest under ``ref``'s tag; returns the manifest."""
        backend = self.backend(ref)
        config, config_data = artifact.config()
        backend.push_blob(ref.repository, config, config_data)
        for descriptor, data in artifact.layers():
            if progress is not None:
                progress(descriptor.title, descriptor.size)
            backend.push_blob(ref.repository, descriptor, data)
        manifest = artifact.manifest().to_bytes()
        return backend.push_manifest(ref.repository, manifest, MANIFEST_MEDIA_TYPE, ref.tag)

    def update_index(self, ref: Reference, entry: IndexEntry) -> None:
        """Record a push in ``<parent>/index:latest`` (read, merge, write back)."""
        index_ref = ref.index()
        backend = self.backend(index_ref)
        with backend.locked(index_ref.repository):
            index = self.read_index(index_ref) or RegistryIndex()
            now = created_now()
            index.record(entry, now)
            self._push_single_file(index_ref, index.to_bytes(), INDEX_FILE, INDEX_LAYER_TYPE,
                                   INDEX_ARTIFACT_TYPE, {CREATED: now}, tag=index_ref.tag)

    def read_index(self, index_ref: Reference) -> RegistryIndex | None:
        try:
            manifest, _, _ = self.manifest(index_ref)
        except NotFoundError:
            return None
        layer = manifest.layer(INDEX_FILE)
        if layer is None:
            raise IntegrityError(f"{index_ref} has no {INDEX_FILE} layer",
                                 hint="it was not written by ork push")
        return RegistryIndex.parse(self.blob(index_ref, layer), str(index_ref))

    def attach(self, subject_ref: Reference, subject: Descriptor, artifact_type: str,
               name: str, data: bytes, media_type: str,
               annotations: dict[str, str]) -> Descriptor:
        """Push ``data`` as an artifact referring to ``subject`` (OCI 1.1 referrers).

        Registries without the referrers API get the tag-schema fallback: an image index
        tagged ``sha256-<hex>`` listing the referrers.
        """
        backend, repository = self.backend(subject_ref), subject_ref.repository
        pushed = self._push_single_file(subject_ref, data, name, media_type, artifact_type,
                                        annotations, subject=subject)
        if backend.referrers_api(repository, subject.digest) is not None:
            return pushed
        tag = fallback_tag(subject.digest)
        with backend.locked(repository):
            listed = self._fallback_referrers(subject_ref, subject.digest)
            entry = Descriptor(MANIFEST_MEDIA_TYPE, pushed.digest, pushed.size, annotations,
                               artifact_type)
            listed = [d for d in listed if d.digest != pushed.digest] + [entry]
            backend.push_manifest(repository, index_bytes(listed), INDEX_MEDIA_TYPE, tag)
        return pushed

    def _push_single_file(self, ref: Reference, data: bytes, name: str, media_type: str,
                          artifact_type: str, annotations: dict[str, str], *,
                          tag: str | None = None,
                          subject: Descriptor | None = None) -> Descriptor:
        backend = self.backend(ref)
        config = Descriptor.of(EMPTY_JSON, EMPTY_MEDIA_TYPE)
        layer = Descriptor.of(data, media_type, {TITLE: name})
        backend.push_blob(ref.repository, config, EMPTY_JSON)
        backend.push_blob(ref.repository, layer, data)
        manifest = Manifest(config, (layer,), annotations, artifact_type, subject)
        return backend.push_manifest(ref.repository, manifest.to_bytes(), MANIFEST_MEDIA_TYPE,
                                     tag)

    def referrers(self, ref: Reference, digest: str) -> list[Descriptor]:
        """Artifacts attached to ``digest`` (referrers API, else the fallback tag)."""
        listed = self.backend(ref).referrers_api(ref.repository, digest)
        return listed if listed is not None else self._fallback_referrers(ref, digest)

    def _fallback_referrers(self, ref: Reference, digest: str) -> list[Descriptor]:
        try:
            data, _ = self.backend(ref).fetch_manifest(ref.repository, fallback_tag(digest))
        except NotFoundError:
            return []
        return parse_index(data, f"{ref.with_tag(fallback_tag(digest))}")

    # -- reading -----------------------------------------------------------------------
    def manifest(self, ref: Reference) -> tuple[Manifest, Descriptor, bytes]:
        backend = self.backend(ref)
        try:
            data, descriptor = backend.fetch_manifest(ref.repository, ref.target)
        except NotFoundError as exc:
            raise NotFoundError(f"{ref} not found in {backend.describe()}", exc.hint) from None
        return Manifest.parse(data, str(ref)), descriptor, data

    def info(self, ref: Reference) -> PatternInfo:
        manifest, descriptor, _ = self.manifest(ref)
        return PatternInfo.read(ref, manifest, descriptor)

    def blob(self, ref: Reference, descriptor: Descriptor) -> bytes:
        return self.backend(ref).fetch_blob(ref.repository, descriptor)

    def fetch(self, ref: Reference) -> Fetched:
        """Download every file of a pattern, verified; nothing is written. Reading the
        manifest checks the layer titles (safe relative paths, no duplicates)."""
        manifest, descriptor, data = self.manifest(ref)
        info = PatternInfo.read(ref, manifest, descriptor)
        files = {layer.title: self.blob(ref, layer) for layer in manifest.layers}
        return Fetched(info, files, data)

    def pull(self, ref: Reference, *, refresh: bool = False, offline: bool = False,
             check_tag: bool = False) -> Pulled:
        """The pattern in the local cache, downloaded unless already there and verified.

        ``offline``: only the cache (an error when the pattern is not in it or does not
        verify). ``check_tag``: for a tag, ask the registry which digest it names now and
        download again when the tag moved (``Pulled.moved_from``). A cached copy that no
        longer matches its manifest is downloaded again (``Pulled.replaced``) unless
        ``offline``; a digest reference that is cached needs no network.
        """
        if offline:
            return self._offline(ref)
        cached, replaced = None, ""
        if not refresh:
            try:
                cached = self.cached(ref)
            except CacheIntegrityError as exc:
                replaced = exc.message
        if cached is not None and (ref.digest or not check_tag):
            return cached
        manifest, descriptor, data = self._current(ref, cached)
        if cached is not None and cached.info.digest == descriptor.digest:
            return cached
        info = PatternInfo.read(ref, manifest, descriptor)
        files = {layer.title: self.blob(ref, layer) for layer in manifest.layers}
        directory = self.cache.store(ref, files, data)
        return Pulled(info, directory, from_cache=False,
                      moved_from=cached.info.digest if cached is not None else "",
                      replaced=replaced)

    def _current(self, ref: Reference, cached: Pulled | None
                 ) -> tuple[Manifest, Descriptor, bytes]:
        """The manifest ``ref`` names now; when the registry cannot be reached and a copy
        is cached, the error says that ``--offline`` uses it."""
        try:
            return self.manifest(ref)
        except (TransientError, DeadlineError) as exc:
            if cached is None:
                raise
            offline = f"--offline uses the cached copy ({cached.info.digest[:19]}…)"
            raise type(exc)(exc.message, f"{exc.hint}; {offline}" if exc.hint else offline
                            ) from None

    def _offline(self, ref: Reference) -> Pulled:
        cached = self.cached(ref)
        if cached is None:
            raise NotFoundError(f"{ref} is not in the local cache ({self.cache.root})",
                                hint="pull it without --offline while the registry is "
                                     "reachable")
        return cached

    def cached(self, ref: Reference) -> Pulled | None:
        """The cached copy of ``ref``, verified file by file against its manifest (None
        when not cached); :class:`~orkestra.registry.cache.CacheIntegrityError` when it
        was changed since the pull."""
        entry = self.cache.read(ref)
        if entry is None:
            return None
        directory, manifest, descriptor = entry
        return Pulled(PatternInfo.read(ref, manifest, descriptor), directory, from_cache=True)

    def versions(self, ref: Reference, limit: int = 10) -> list[PatternInfo]:
        """Every pushed version of ``ref``'s repository, newest first, one per digest."""
        backend = self.backend(ref)
        by_digest: dict[str, PatternInfo] = {}
        for tag in backend.tags(ref.repository):
            if tag.startswith("sha256-"):
                continue
            try:
                info = self.info(ref.with_tag(tag))
            except (NotFoundError, IntegrityError):
                continue
            known = by_digest.get(info.digest)
            if known is None or (_looks_versioned(tag) and not _looks_versioned(known.ref.tag)):
                by_digest[info.digest] = info
        ordered = sorted(by_digest.values(), key=lambda i: (i.created is not None, i.created),
                         reverse=True)
        return ordered[:limit]


def fallback_tag(digest: str) -> str:
    """The referrers tag-schema tag for a digest: ``sha256-<hex>``."""
    return digest.replace(":", "-", 1)


def _looks_versioned(tag: str) -> bool:
    return bool(tag) and (tag[0] == "v" or tag[0].isdigit())


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    """Write pulled files into ``directory`` under their relative paths (checked when the
    manifest was read), each atomically (no half-written file)."""
    for name, data in files.items():
        write_atomic(directory / name, data)
