"""Registry imports made local: the cache entry behind a motif or katalog reference.

Composition (motif imports in katalogs, ``imports.registry`` in komposers) asks this module
for a directory; it answers from the cache, pulling first when the reference is not cached
yet (unless ``offline``). With a lock file (``komposer.lock``) each import is read by its
locked digest; ``check_tags`` (``ork pull -f``) also asks the registry where each tag points
now and refuses a tag that moved; ``update`` ignores the lock and re-resolves tags and
version constraints (``@^1.2``). Every resolution is recorded, so ``ork pull -f`` can write
the lock afterwards.

Every cached entry is verified against its manifest when read (no network is needed for
that); one that was changed since its pull is an error naming the change, except under
``repair`` (``ork pull -f``), which downloads it again and notes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orkestra.registry.cache import CacheIntegrityError
from orkestra.registry.client import Pulled, RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError, IntegrityError, RegistryError
from orkestra.registry.info import PatternInfo
from orkestra.registry.lock import LockEntry, LockFile
from orkestra.registry.refs import Reference, resolve, split_constraint


@dataclass(frozen=True)
class Located:
    """An import resolved to a cached pattern."""

    text: str
    ref: Reference
    directory: Path
    info: PatternInfo

    def file(self, name: str) -> Path:
        return self.directory / name


@dataclass(kw_only=True)
class RegistrySource:
    client: RegistryClient = field(default_factory=RegistryClient)
    offline: bool = False
    refresh: bool = False
    on_pull: Callable[[Reference], None] | None = None
    lock: LockFile | None = None
    check_tags: bool = False
    update: bool = False
    allow_unverified: bool = False
    repair: bool = False
    located: dict[Reference, Located] = field(default_factory=dict)
    pulled: set[Reference] = field(default_factory=set)
    resolved: dict[tuple[str, str], LockEntry] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def locate(self, text: str, kind: str, version: str = "") -> Located:
        written = f"{text}@{version}" if version and "@" not in text else text
        entry = None if self.update or self.lock is None else self.lock.get(written, kind)
        ref = self._locked(entry) if entry else self._resolve(written, kind, version)
        if ref in self.located:
            return self.located[ref]
        pulled = self._fetch(ref)
        if pulled.info.kind != kind:
            raise RegistryError(
                f"{ref} is a {pulled.info.kind}, not a {kind}",
                hint="motifs are imported by katalogs, katalogs by komposers",
            )
        tagged = Reference(host=ref.host, repository=ref.repository, tag=ref.tag)
        located = Located(text, tagged, pulled.directory, pulled.info)
        self.located[ref] = located
        self._record(written, kind, tagged, pulled.info)
        return located

    def _locked(self, entry: LockEntry) -> Reference:
        ref = resolve(entry.ref)
        if self.check_tags and not self.offline:
            current = self.client.info(ref)
            if current.digest != entry.digest:
                raise IntegrityError(
                    f"{entry.ref} now points to {current.digest[:19]}…, but komposer.lock "
                    f"pins {entry.digest[:19]}… (the tag was moved)",
                    hint="check why with ork inspect --versions; accept it with "
                    "ork pull -f <komposer> --update",
                )
        return ref.with_digest(entry.digest)

    def _resolve(self, text: str, kind: str, version: str) -> Reference:
        base, constraint = split_constraint(text)
        if not constraint:
            ref = self.client.resolve_import(text, kind, version)
            if ref.tag == "latest" and not ref.digest:
                self.notes.append(
                    f"{text}: not pinned (resolves to :latest); pin a version "
                    "or a constraint such as @^1.0"
                )
            return ref
        if self.offline:
            raise ArtifactNotFoundError(
                f"{text}: a version constraint needs the registry or a lock file",
                hint="run `ork pull -f <file>` while online",
            )
        from orkestra.registry.versions import pick  # brings the semantic versions

        choice = pick(
            self.client,
            self.client.resolve_import(base, kind),
            constraint,
            allow_unverified=self.allow_unverified,
        )
        self.notes += [f"{text}: skipped {reason}" for reason in choice.skipped]
        return choice.info.ref.with_digest(choice.info.digest)

    def _fetch(self, ref: Reference) -> Pulled:
        if not ref.digest and self.check_tags and not self.offline:
            ref = ref.with_digest(self.client.info(ref).digest)  # what the tag means now
        cached = None if self.refresh else self._verified(ref)
        if cached is not None:
            return cached
        if self.offline:
            raise ArtifactNotFoundError(
                f"{ref} is not in the local cache",
                hint="run `ork pull -f <file>` while the registry is reachable",
            )
        if self.on_pull is not None:
            self.on_pull(Reference(host=ref.host, repository=ref.repository, tag=ref.tag))
        pulled = self.client.pull(ref, refresh=True)
        self.pulled.add(Reference(host=ref.host, repository=ref.repository, tag=ref.tag))
        return pulled

    def _verified(self, ref: Reference) -> Pulled | None:
        """The cached entry; one that fails verification is an error, or under ``repair``
        (and online) a note and a download."""
        try:
            return self._cached(ref)
        except CacheIntegrityError as exc:
            if not self.repair or self.offline:
                raise
            self.notes.append(f"{exc.message}; downloading it again")
            return None

    def _cached(self, ref: Reference) -> Pulled | None:
        """By digest when pinned (also accepting the tag's entry if its digest matches)."""
        found = self.client.cached(ref)
        if found is None and ref.digest:
            by_tag = self.client.cached(ref.with_tag(ref.tag))
            if by_tag is not None and by_tag.info.digest == ref.digest:
                found = by_tag
        return found

    def _record(self, written: str, kind: str, ref: Reference, info: PatternInfo) -> None:
        self.resolved[(written, kind)] = LockEntry(
            import_=written,
            kind=kind,
            ref=str(ref),
            digest=info.digest,
            version=info.metadata.version,
            simulate=info.simulate.status if info.simulate else "",
            e2e=info.e2e.status if info.e2e else "",
            deprecated=info.metadata.deprecation is not None,
        )

    def lock_file(self, path: Path) -> LockFile:
        """What was resolved, as a lock file at ``path``."""
        return LockFile(path, dict(self.resolved))
