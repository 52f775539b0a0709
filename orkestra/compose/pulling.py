"""Pulling what patterns import, as data for ``ork pull`` to print.

Two walks: the registry motifs a pulled katalog names (:func:`registry_motifs`, each
pulled by :func:`pull_motif` after ``ork pull NAME``; a failure there is reported, not
raised, since composing retries it), and every registry import a katalog or komposer file reaches
(:func:`pull_imports`, ``ork pull -f FILE``): the file is composed with a resolver that
pulls, so what is pulled is exactly what composing needs; for a komposer,
``komposer.lock`` is checked and written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orkestra.compose.load import compose_file
from orkestra.compose.motifs import MotifResolver
from orkestra.errors import OrkError
from orkestra.files import shown
from orkestra.kubeobjects import JsonDict
from orkestra.model.errors import PatternError
from orkestra.model.imports import MotifImport, motif_imports
from orkestra.model.loader import detect_kind
from orkestra.model.source import load_documents
from orkestra.registry.client import RegistryClient
from orkestra.registry.lock import LockFile, changes
from orkestra.registry.refs import Reference
from orkestra.registry.sources import RegistrySource


def first_document(path: Path) -> JsonDict:
    """A pulled file's first YAML document, read leniently (it is validated on use): an
    unreadable, oversized or non-UTF-8 file, or a non-mapping, reads as empty."""
    import yaml

    from orkestra.model.source import LOADER, read_text

    try:
        data = next(yaml.load_all(read_text(path), Loader=LOADER), None)
    except (PatternError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class DependencyPull:
    """One registry motif a katalog imports: pulled (``ref``), or why not (``error``)."""

    name: str  # the import as the katalog writes it
    ref: Reference | None = None
    error: str = ""


def registry_motifs(katalog: Path) -> list[MotifImport]:
    """The registry motifs a pulled katalog imports (local ones travel in the artifact)."""
    return [imp for imp in motif_imports(first_document(katalog)) if imp.is_registry]


def pull_motif(
    client: RegistryClient, imp: MotifImport, *, refresh: bool, offline: bool
) -> DependencyPull:
    try:
        ref = client.resolve_import(imp.ref, "Motif", imp.version)
        client.pull(ref, refresh=refresh, offline=offline, check_tag=True)
    except OrkError as exc:
        return DependencyPull(imp.ref, error=exc.message)
    return DependencyPull(imp.ref, ref)


@dataclass(frozen=True)
class LockUpdate:
    """``komposer.lock`` as written: where, how many imports it pins, what changed."""

    path: Path
    pinned: int
    changes: list[str]


@dataclass(frozen=True, kw_only=True)
class ImportsPull:
    located: list[tuple[Reference, bool]]  # every import found, and whether pulled now
    notes: list[str] = field(default_factory=list)  # warnings of the resolver
    problems: list[str] = field(default_factory=list)  # rendered; nothing written then
    lock: LockUpdate | None = None

    @property
    def unresolved_only(self) -> bool:
        """Every problem is an import that could not be resolved (a pull failure)."""
        return all("cannot resolve" in p for p in self.problems)


def pull_imports(
    client: RegistryClient,
    file: Path,
    *,
    refresh: bool,
    update: bool,
    allow_unverified: bool,
    offline: bool,
    on_pull: Callable[[Reference], None],
) -> ImportsPull:
    """Compose ``file`` while pulling each registry import it reaches (``on_pull`` is told
    of each download as it starts); a komposer's lock is honoured unless ``update``, and
    written again when everything resolved."""
    komposer = detect_kind(load_documents(file, display=shown(file))[0]) == "Komposer"
    old = LockFile.beside(file) if komposer else None
    source = RegistrySource(
        client=client,
        refresh=refresh,
        on_pull=on_pull,
        lock=old if old is not None and old.entries else None,
        check_tags=True,
        update=update,
        allow_unverified=allow_unverified,
        offline=offline,
        repair=True,
    )
    problems: list[str] = []
    try:
        compose_file(file, shown(file), motifs=MotifResolver(registry=source))
    except PatternError as exc:
        problems = [p.render() for p in exc.problems]
    located = [(found.ref, found.ref in source.pulled) for found in source.located.values()]
    if problems or old is None:
        return ImportsPull(located=located, notes=source.notes, problems=problems)
    new = source.lock_file(old.path)
    new.save(file.name)
    lock = LockUpdate(old.path, len(new.entries), changes(old, new) if old.entries else [])
    return ImportsPull(located=located, notes=source.notes, lock=lock)
