"""The registry client: push, pull, inspect and index patterns on any backend.

:class:`RegistryClient` picks the backend from the reference (the embedded layout registry
for host ``local``, an OCI layout directory for ``--oci-layout`` references, HTTP for every
other host; each is imported only when a reference needs it) and implements every operation
once on top of :class:`~orkestra.registry.backend.Backend`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from orkestra.files import write_atomic
from orkestra.registry.artifact import CREATED, PatternArtifact, created_now
from orkestra.registry.backend import Backend
from orkestra.registry.cache import Cache, CacheIntegrityError, orkestra_home
from orkestra.registry.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    RegistryError,
    TransientError,
)
from orkestra.registry.info import PatternInfo
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

if TYPE_CHECKING:
    # Imported by the methods that use them: a pull or an inspect needs neither the index
    # nor the push records (nor the semantic versions behind them).
    from orkestra.registry.index import RegistryIndex
    from orkestra.registry.records import PushRecord

Progress = Callable[[str, int], None]
_SETTLE_ROUNDS = 7
"""Rounds of listing rivals and checking the tag one push makes at most; with rivals
about, the pauses between them add up to 3 s."""
_RIVAL_WAIT = 0.05
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Fetched:
    """A pattern downloaded and verified, not yet written anywhere."""

    info: PatternInfo
    files: dict[str, bytes]
    manifest: bytes


@dataclass(frozen=True, kw_only=True)
class Settlement:
    """Where a version's tag settled after a push."""

    digest: str
    """What the tag names: this push's digest when it won."""
    record: PushRecord
    moved_on: bool = False
    """Not a rival but a later push (one checked against the winner) holds the tag."""
    records: Mapping[str, PushRecord] = field(default_factory=dict)
    """The push records of this version read (or written) while settling, by tag: what
    :meth:`RegistryClient.refresh_index` then need not fetch again."""
    listed: tuple[str, ...] = ()
    """The index repository's tags as settling last listed them (its own records
    included): what :meth:`RegistryClient.refresh_index` then need not list again."""
    cached: RegistryIndex | None = None
    """The cached index document, when settling read it (for the records it holds)."""

    @property
    def won(self) -> bool:
        return self.digest == self.record.digest


@dataclass(frozen=True, kw_only=True)
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

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        insecure: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
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
        if ref.layout or ref.is_local:
            from orkestra.registry.layout import LayoutBackend

            if ref.layout:
                return LayoutBackend(Path(ref.layout), single=True, name=ref.layout)
            return LayoutBackend(self.local_root, name=f"the local registry ({self.local_root})")
        from orkestra.registry.auth import find_credentials
        from orkestra.registry.remote import RemoteBackend

        host, env = ref.host, self.env
        return RemoteBackend(
            host,
            lambda: find_credentials(host, env),
            plain_http=ref.is_loopback and not self.insecure,
            insecure=self.insecure,
            retry=self.retry,
            deadlines=self.deadlines,
            env=env,
        )

    def request_count(self) -> int:
        """HTTP requests sent so far (all remote backends)."""
        return sum(getattr(b, "requests", 0) for b in self._backends.values())

    # -- publishing --------------------------------------------------------------------
    def push(
        self, artifact: PatternArtifact, ref: Reference, progress: Progress | None = None
    ) -> Descriptor:
        """Upload the files, then the manifest under ``ref``'s tag; returns the manifest.
        (``ork push`` tags through :meth:`settle` instead, which handles rival pushes.)"""
        manifest = self.upload_blobs(artifact, ref, progress)
        return self.backend(ref).push_manifest(
            ref.repository, manifest, MANIFEST_MEDIA_TYPE, ref.tag
        )

    def upload_blobs(
        self, artifact: PatternArtifact, ref: Reference, progress: Progress | None = None
    ) -> bytes:
        """Upload the config and the layers; returns the manifest, not yet pushed."""
        backend = self.backend(ref)
        config, config_data = artifact.config()
        # The config goes alone: the first upload finds out how the registry takes them.
        backend.push_blob(ref.repository, config, config_data)

        def upload(layer: tuple[Descriptor, bytes]) -> None:
            descriptor, data = layer
            if progress is not None:  # from the uploading thread, as the upload starts
                progress(descriptor.title, descriptor.size)
            backend.push_blob(ref.repository, descriptor, data)

        side_by_side(upload, artifact.layers(), at_once=backend.transfers)
        return artifact.manifest().to_bytes()

    def tagged(self, ref: Reference) -> str | None:
        """The digest ``ref``'s tag names now (a manifest HEAD), None when there is no
        such tag."""
        try:
            return self.backend(ref).manifest_digest(ref.repository, ref.target)
        except ArtifactNotFoundError:
            return None

    def settle(self, ref: Reference, record: PushRecord, manifest: bytes) -> Settlement:
        """Record a push whose blobs are uploaded, push its ``manifest`` and take
        ``ref``'s tag unless a rival push took it first (:mod:`orkestra.registry.records`).

        The tag is written only while it still names the base the push was checked
        against. After writing, a push that lists the records and sees no rival has won: a
        rival recorded later reads the tag after recording, finds this push there and
        yields (so the tag need not be read again; it is, when a later push is already
        recorded). One that sees rivals keeps checking, with growing pauses, that the tag
        stays its own, since a rival that read the base just before this push wrote the tag
        writes it too; the push whose write was overwritten yields. A losing push stays
        uploaded by digest.
        """
        from orkestra.registry.records import rivals, successors, version_prefix

        index_ref, backend = ref.index(), self.backend(ref)
        self.add_record(index_ref, record)
        prefix = version_prefix(record.name, record.version)
        read = Settlement(
            digest="", record=record, records={record.tag: record}
        )  # the tag: not yet known
        for attempt in range(_SETTLE_ROUNDS):
            now = self.tagged(ref)
            if now is not None and now not in (record.digest, record.replaces):
                return self._yield(
                    ref, manifest, replace(self._read_records(index_ref, prefix, read), digest=now)
                )
            written = now != record.digest
            if written:
                backend.push_manifest(ref.repository, manifest, MANIFEST_MEDIA_TYPE, ref.tag)
            read = self._read_records(index_ref, prefix, read)
            if len(rivals(read.records.values(), record)) == 1:
                if not (written and successors(read.records.values(), record)):
                    return replace(read, digest=record.digest)
                continue  # a later push is recorded: read the tag again, without waiting
            time.sleep(_RIVAL_WAIT * 2**attempt)
        return replace(read, digest=str(self.tagged(ref)))

    def _read_records(self, index_ref: Reference, prefix: str, read: Settlement) -> Settlement:
        """List the index repository and read the records starting with ``prefix`` that
        ``read`` does not hold: from the cached index (one read for all, which the index
        refresh reuses), else one by one."""
        from orkestra.registry.records import is_record_tag

        listed = self.backend(index_ref).tags(index_ref.repository)
        cached = read.cached
        if (
            cached is None
            and index_ref.tag in listed
            and any(
                tag.startswith(prefix) and is_record_tag(tag) and tag not in read.records
                for tag in listed
            )
        ):
            cached = self._readable_index(index_ref)
        known = {**(cached.records if cached else {}), **read.records}
        return replace(
            read,
            records=self.records(index_ref, known, prefix, listed),
            listed=tuple(listed),
            cached=cached,
        )

    def _readable_index(self, index_ref: Reference) -> RegistryIndex | None:
        """The cached index, None when it cannot be read now (the refresh after settling
        reads it again, and reports why)."""
        try:
            return self.read_index(index_ref)
        except RegistryError:
            return None

    def _yield(self, ref: Reference, manifest: bytes, read: Settlement) -> Settlement:
        """Leave the tag to ``read.digest``: push the manifest untagged and record that."""
        from orkestra.registry.records import rivals

        self.backend(ref).push_manifest(ref.repository, manifest, MANIFEST_MEDIA_TYPE, None)
        record, now = read.record, read.digest
        yielded = replace(record, supersededBy=now)
        self.add_record(ref.index(), yielded)
        contested = {r.digest for r in rivals(read.records.values(), record)}
        return replace(
            read,
            moved_on=now not in contested,
            records={**read.records, yielded.tag: yielded},
            listed=(*read.listed, yielded.tag),
        )

    def add_record(self, index_ref: Reference, record: PushRecord) -> None:
        """Write one push record into the index repository."""
        backend = self.backend(index_ref)
        empty = Descriptor.of(EMPTY_JSON, EMPTY_MEDIA_TYPE)
        backend.push_blob(index_ref.repository, empty, EMPTY_JSON)
        backend.push_manifest(
            index_ref.repository, record.manifest().to_bytes(), MANIFEST_MEDIA_TYPE, record.tag
        )

    def records(
        self,
        index_ref: Reference,
        known: Mapping[str, PushRecord],
        prefix: str = "",
        listed: Iterable[str] | None = None,
    ) -> dict[str, PushRecord]:
        """Every push record in the index repository (those whose tag starts with
        ``prefix``), fetching only the ones not in ``known``; an unreadable record is
        left out (the index is a listing; each artifact's own proof is checked apart).
        ``listed``: the repository's tags, when the caller has just listed them."""
        from orkestra.registry.records import is_record_tag

        if listed is None:
            listed = self.backend(index_ref).tags(index_ref.repository)
        found = {}
        for tag in listed:
            if not (tag.startswith(prefix) and is_record_tag(tag)):
                continue
            record = known.get(tag) or self._record(index_ref.with_tag(tag))
            if record is not None and record.tag == tag:
                found[tag] = record
        return found

    def _record(self, ref: Reference) -> PushRecord | None:
        from orkestra.registry.records import PushRecord

        try:
            manifest, _, _ = self.manifest(ref)
            return PushRecord.read(manifest, str(ref))
        except (ArtifactNotFoundError, IntegrityError):
            return None

    def index(self, index_ref: Reference) -> RegistryIndex | None:
        """The registry index as the push records say it now (None: no index, no records).
        Only the records the cached index does not hold are fetched."""
        return self._rebuilt(index_ref, self.read_index(index_ref))

    def _rebuilt(
        self,
        index_ref: Reference,
        cached: RegistryIndex | None,
        known: Mapping[str, PushRecord] | None = None,
        listed: Sequence[str] | None = None,
    ) -> RegistryIndex | None:
        from orkestra.registry.index import rebuild

        held = cached.records if cached else {}
        if listed is not None:  # listed before the cached index was read: keep its records
            listed = [*listed, *(tag for tag in held if tag not in listed)]
        records = self.records(index_ref, {**held, **(known or {})}, listed=listed)
        if cached is not None and records == cached.records:
            return cached
        if cached is None and not records:
            return None
        return rebuild(cached, records, created_now())

    def refresh_index(self, ref: Reference, settled: Settlement | None = None) -> RegistryIndex:
        """Rebuild ``<parent>/index:latest`` from the push records and write it back
        (nothing is written when it is current). A push passes what :meth:`settle` read:
        the records are not fetched again, nor the tags listed again, nor the cached index
        read again (or at all, when its tag was not listed); a record written after that
        listing is left to the next refresh (a push's, or ``ork patterns``')."""
        from orkestra.registry.index import RegistryIndex

        index_ref = ref.index()
        listed = settled.listed if settled is not None else None
        with self.backend(index_ref).locked(index_ref.repository):
            cached = settled.cached if settled is not None else None
            if cached is None and (listed is None or index_ref.tag in listed):
                cached = self.read_index(index_ref)
            index = self._rebuilt(
                index_ref, cached, settled.records if settled else None, listed
            ) or RegistryIndex(created_now())
            if index is not cached:
                self.write_index(index_ref, index)
            return index

    def write_index(self, index_ref: Reference, index: RegistryIndex) -> None:
        from orkestra.registry.index import INDEX_ARTIFACT_TYPE, INDEX_FILE, INDEX_LAYER_TYPE

        self._push_single_file(
            index_ref,
            index.to_bytes(),
            INDEX_FILE,
            INDEX_LAYER_TYPE,
            INDEX_ARTIFACT_TYPE,
            {CREATED: index.updatedAt},
            tag=index_ref.tag,
        )

    def read_index(self, index_ref: Reference) -> RegistryIndex | None:
        """The cached index document as written (see :meth:`index` for the current one)."""
        from orkestra.registry.index import INDEX_FILE, RegistryIndex

        try:
            manifest, _, _ = self.manifest(index_ref)
        except ArtifactNotFoundError:
            return None
        layer = manifest.layer(INDEX_FILE)
        if layer is None:
            raise IntegrityError(
                f"{index_ref} has no {INDEX_FILE} layer", hint="it was not written by ork push"
            )
        return RegistryIndex.parse(self.blob(index_ref, layer), str(index_ref))

    def attach(
        self,
        subject_ref: Reference,
        subject: Descriptor,
        artifact_type: str,
        name: str,
        data: bytes,
        media_type: str,
        annotations: dict[str, str],
    ) -> Descriptor:
        """Push ``data`` as an artifact referring to ``subject`` (OCI 1.1 referrers).

        Registries without the referrers API get the tag-schema fallback: an image index
        tagged ``sha256-<hex>`` listing the referrers.
        """
        backend, repository = self.backend(subject_ref), subject_ref.repository
        pushed = self._push_single_file(
            subject_ref, data, name, media_type, artifact_type, annotations, subject=subject
        )
        if backend.referrers_api(repository, subject.digest) is not None:
            return pushed
        tag = fallback_tag(subject.digest)
        with backend.locked(repository):
            listed = self._fallback_referrers(subject_ref, subject.digest)
            entry = Descriptor(
                media_type=MANIFEST_MEDIA_TYPE,
                digest=pushed.digest,
                size=pushed.size,
                annotations=annotations,
                artifact_type=artifact_type,
            )
            listed = [d for d in listed if d.digest != pushed.digest] + [entry]
            backend.push_manifest(repository, index_bytes(listed), INDEX_MEDIA_TYPE, tag)
        return pushed

    def _push_single_file(
        self,
        ref: Reference,
        data: bytes,
        name: str,
        media_type: str,
        artifact_type: str,
        annotations: dict[str, str],
        *,
        tag: str | None = None,
        subject: Descriptor | None = None,
    ) -> Descriptor:
        backend = self.backend(ref)
        config = Descriptor.of(EMPTY_JSON, EMPTY_MEDIA_TYPE)
        layer = Descriptor.of(data, media_type, {TITLE: name})
        backend.push_blob(ref.repository, config, EMPTY_JSON)
        backend.push_blob(ref.repository, layer, data)
        manifest = Manifest(
            config=config,
            layers=(layer,),
            annotations=annotations,
            artifact_type=artifact_type,
            subject=subject,
        )
        return backend.push_manifest(ref.repository, manifest.to_bytes(), MANIFEST_MEDIA_TYPE, tag)

    def referrers(self, ref: Reference, digest: str) -> list[Descriptor]:
        """Artifacts attached to ``digest`` (referrers API, else the fallback tag)."""
        listed = self.backend(ref).referrers_api(ref.repository, digest)
        return listed if listed is not None else self._fallback_referrers(ref, digest)

    def _fallback_referrers(self, ref: Reference, digest: str) -> list[Descriptor]:
        try:
            data, _ = self.backend(ref).fetch_manifest(ref.repository, fallback_tag(digest))
        except ArtifactNotFoundError:
            return []
        return parse_index(data, f"{ref.with_tag(fallback_tag(digest))}")

    # -- reading -----------------------------------------------------------------------
    def manifest(self, ref: Reference) -> tuple[Manifest, Descriptor, bytes]:
        backend = self.backend(ref)
        try:
            data, descriptor = backend.fetch_manifest(ref.repository, ref.target)
        except ArtifactNotFoundError as exc:
            raise ArtifactNotFoundError(
                f"{ref} not found in {backend.describe()}", exc.hint
            ) from None
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
        return Fetched(info, self._files(ref, manifest), data)

    def _files(self, ref: Reference, manifest: Manifest) -> dict[str, bytes]:
        """Every layer's bytes by title, downloaded a few at a time."""
        blobs = side_by_side(
            lambda layer: self.blob(ref, layer),
            manifest.layers,
            at_once=self.backend(ref).transfers,
        )
        return {layer.title: blob for layer, blob in zip(manifest.layers, blobs, strict=True)}

    def pull(
        self,
        ref: Reference,
        *,
        refresh: bool = False,
        offline: bool = False,
        check_tag: bool = False,
    ) -> Pulled:
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
        directory = self.cache.store(ref, self._files(ref, manifest), data)
        return Pulled(
            info=info,
            directory=directory,
            from_cache=False,
            moved_from=cached.info.digest if cached is not None else "",
            replaced=replaced,
        )

    def _current(self, ref: Reference, cached: Pulled | None) -> tuple[Manifest, Descriptor, bytes]:
        """The manifest ``ref`` names now; when the registry cannot be reached and a copy
        is cached, the error says that ``--offline`` uses it."""
        try:
            return self.manifest(ref)
        except (TransientError, DeadlineError) as exc:
            if cached is None:
                raise
            offline = f"--offline uses the cached copy ({cached.info.digest[:19]}…)"
            raise type(exc)(
                exc.message, f"{exc.hint}; {offline}" if exc.hint else offline
            ) from None

    def _offline(self, ref: Reference) -> Pulled:
        cached = self.cached(ref)
        if cached is None:
            raise ArtifactNotFoundError(
                f"{ref} is not in the local cache ({self.cache.root})",
                hint="pull it without --offline while the registry is reachable",
            )
        return cached

    def cached(self, ref: Reference) -> Pulled | None:
        """The cached copy of ``ref``, verified file by file against its manifest (None
        when not cached); :class:`~orkestra.registry.cache.CacheIntegrityError` when it
        was changed since the pull."""
        entry = self.cache.read(ref)
        if entry is None:
            return None
        directory, manifest, descriptor = entry
        return Pulled(
            info=PatternInfo.read(ref, manifest, descriptor), directory=directory, from_cache=True
        )

    def versions(self, ref: Reference, limit: int = 10) -> list[PatternInfo]:
        """Every pushed version of ``ref``'s repository, newest first, one per digest."""
        backend = self.backend(ref)
        by_digest: dict[str, PatternInfo] = {}
        for tag in backend.tags(ref.repository):
            if tag.startswith("sha256-"):
                continue
            try:
                info = self.info(ref.with_tag(tag))
            except (ArtifactNotFoundError, IntegrityError):
                continue
            known = by_digest.get(info.digest)
            if known is None or (_looks_versioned(tag) and not _looks_versioned(known.ref.tag)):
                by_digest[info.digest] = info
        ordered = sorted(
            by_digest.values(), key=lambda i: (i.created is not None, i.created), reverse=True
        )
        return ordered[:limit]


def fallback_tag(digest: str) -> str:
    """The referrers tag-schema tag for a digest: ``sha256-<hex>``."""
    return digest.replace(":", "-", 1)


def _looks_versioned(tag: str) -> bool:
    return bool(tag) and (tag[0] == "v" or tag[0].isdigit())


def side_by_side(transfer: Callable[[T], R], items: Sequence[T], *, at_once: int = 4) -> list[R]:
    """``transfer`` of each item, ``at_once`` at a time, results in order. Over the network
    each blob is a round trip the registry spends most of serving (~4 ms apiece from a local
    docker-registry), so a pattern's blobs go side by side. The first failure (in the items'
    order) is raised once the transfers under way end; those not started are dropped.
    Plain threads, not a ``concurrent.futures`` pool: that module brings ``logging`` with
    it, milliseconds of every push and pull's start."""
    if len(items) < 2 or at_once < 2:
        return [transfer(item) for item in items]
    pending = list(enumerate(items))[::-1]  # popped from the end: in order
    done: dict[int, R] = {}
    failed: dict[int, BaseException] = {}
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if failed or not pending:
                    return
                index, item = pending.pop()
            try:
                done[index] = transfer(item)
            except BaseException as exc:  # raised in the caller's thread, below
                with lock:
                    failed[index] = exc

    threads = [threading.Thread(target=work) for _ in range(min(at_once, len(items)))]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # interrupted: start nothing more, let the transfers end
        with lock:
            pending.clear()
        for thread in threads:
            thread.join()
        raise
    if failed:
        raise failed[min(failed)]
    return [done[index] for index in range(len(items))]


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    """Write pulled files into ``directory`` under their relative paths (checked when the
    manifest was read), each atomically (no half-written file)."""
    for name, data in files.items():
        write_atomic(directory / name, data)
