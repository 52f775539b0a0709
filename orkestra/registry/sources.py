"""Registry imports made local: the cache entry behind a motif or katalog reference.

Composition (motif imports in katalogs, ``imports.registry`` in komposers) asks this module
for a directory; it answers from the cache, pulling first when the reference is not cached
yet (unless ``offline``). After ``ork pull -f komposer.yaml`` every import is cached, so
validate, template and simulate then run without a network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import NotFoundError, RegistryError
from orkestra.registry.info import PatternInfo
from orkestra.registry.refs import Reference


@dataclass(frozen=True)
class Located:
    """An import resolved to a cached pattern."""

    text: str
    ref: Reference
    directory: Path
    info: PatternInfo

    def file(self, name: str) -> Path:
        return self.directory / name


class RegistrySource:
    def __init__(self, client: RegistryClient | None = None, *, offline: bool = False,
                 refresh: bool = False,
                 on_pull: Callable[[Reference], None] | None = None) -> None:
        self.client = client or RegistryClient()
        self.offline = offline
        self.refresh = refresh
        self.on_pull = on_pull
        self.located: dict[Reference, Located] = {}
        self.pulled: set[Reference] = set()

    def locate(self, text: str, kind: str, version: str = "") -> Located:
        ref = self.client.resolve_import(text, kind, version)
        if ref in self.located:
            return self.located[ref]
        pulled = None if self.refresh else self.client.cached(ref)
        if pulled is None:
            if self.offline:
                raise NotFoundError(f"{ref} is not in the local cache",
                                    hint="run `ork pull -f <file>` while the registry is "
                                         "reachable")
            if self.on_pull is not None:
                self.on_pull(ref)
            pulled = self.client.pull(ref, refresh=True)
            self.pulled.add(ref)
        if pulled.info.kind != kind:
            raise RegistryError(f"{ref} is a {pulled.info.kind}, not a {kind}",
                                hint="motifs are imported by katalogs, katalogs by komposers")
        located = Located(text, ref, pulled.directory, pulled.info)
        self.located[ref] = located
        return located
