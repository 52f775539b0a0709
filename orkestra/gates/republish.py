"""Pushing a version that is already published: what may replace it.

Consumers pin versions, so a published version must not silently change under them. A
re-push is allowed in the two workflows the registry guide documents: a draft (a gate
skipped or failed, as ``--force`` records) may be replaced by anything (gate mechanics:
push a draft, fix it, push it cleanly), and a verified artifact may be re-pushed with the
same behaviour and added deprecation or other metadata (09-deprecation), or with changed
documentation and tests. Behaviour is the primary document without its ``metadata``, the
CRD, the komposer and the hook code, compared as parsed YAML (comments and layout do not
count) with motif imports resolved (``web-service:v1.0.0`` and
``oci://local/motifs/web-service:v1.0.0`` are one import). Anything else (a behaviour
change over a verified version, a draft over a verified version, or a re-push that would
drop a published deprecation) is refused unless ``--overwrite``. Every replacement names
the previous digest; the artifact stays in the registry, pullable by digest, and the index
history lists it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from orkestra.errors import OrkError
from orkestra.kubeobjects import JsonDict
from orkestra.model.imports import motif_imports
from orkestra.model.source import LOADER
from orkestra.registry.artifact import CODE_REQUIREMENTS, PRIMARY_FILES
from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError, IntegrityError
from orkestra.registry.info import PatternInfo
from orkestra.registry.refs import Reference

_BEHAVIOUR_YAML = ("crd.yaml", "komposer.yaml")
DRAFT_STATUSES = ("skipped", "failed")


@dataclass(frozen=True)
class Previous:
    """The artifact a version's tag names before the push (``info`` is None when it is
    not an Orkestra pattern)."""

    digest: str
    info: PatternInfo | None
    behaviour: dict[str, str]

    @property
    def draft(self) -> bool:
        return self.info is not None and is_draft(
            self.info.simulate.status if self.info.simulate else "",
            self.info.e2e.status if self.info.e2e else "",
        )

    @property
    def deprecated(self) -> bool:
        return self.info is not None and self.info.metadata.deprecation is not None


class ReplaceRefusedError(OrkError):
    """A push would replace a published version in a way the rules do not allow."""


def is_draft(*statuses: str) -> bool:
    return any(status in DRAFT_STATUSES for status in statuses)


def previous_push(client: RegistryClient, ref: Reference) -> Previous | None:
    """What ``ref``'s tag names now, with the behaviour of its files (None: a new version)."""
    try:
        manifest, descriptor, _ = client.manifest(ref)
    except ArtifactNotFoundError:
        return None
    try:
        info = PatternInfo.read(ref, manifest, descriptor)
    except IntegrityError:
        return Previous(descriptor.digest, None, {})
    files = {
        layer.title: client.blob(ref, layer)
        for layer in info.files
        if _is_behaviour(layer.title, info.kind)
    }
    return Previous(info.digest, info, behaviour(files, info.kind, client))


def behaviour(files: Mapping[str, bytes], kind: str, client: RegistryClient) -> dict[str, str]:
    """A digest per file that decides what the pattern does (see the module docstring);
    ``client`` resolves motif imports."""
    return {
        name: _digest(name, data, kind, client)
        for name, data in files.items()
        if _is_behaviour(name, kind)
    }


def check_content(
    ref: Reference, previous: Previous, new: dict[str, str], deprecated: bool
) -> None:
    """Refuse, before any gate runs, what no gate result can make acceptable."""
    if previous.info is None:
        raise ReplaceRefusedError(
            f"{ref.short_name} names an artifact that is not an Orkestra pattern "
            f"({previous.digest})",
            hint="push to another tag, or --overwrite to replace it",
        )
    if previous.deprecated and not deprecated:
        raise ReplaceRefusedError(
            f"{ref.short_name} is published with a deprecation notice "
            f"({previous.digest[:19]}…) and this push has none",
            hint="keep metadata.deprecation in the pattern to re-push it (a deprecation is "
            "never taken back silently), or --overwrite to replace it anyway",
        )
    changed = sorted(
        name
        for name in {*previous.behaviour, *new}
        if previous.behaviour.get(name) != new.get(name)
    )
    if changed and not previous.draft:
        what = ", ".join(_what(name, previous.info.kind) for name in changed)
        raise ReplaceRefusedError(
            f"{ref.short_name} is already published ({_described(previous)}) and this push "
            f"changes what it does: {what}",
            hint="publish the change as a new version (metadata.version), or --overwrite to "
            "replace it (the old artifact stays pullable by digest and is listed in the "
            "index history)",
        )


def check_gates(ref: Reference, previous: Previous, simulate: str, e2e: str) -> None:
    """A verified version is not replaced by a draft."""
    if previous.draft or not is_draft(simulate, e2e):
        return
    skipped = [
        gate for gate, status in (("simulate", simulate), ("e2e", e2e)) if status in DRAFT_STATUSES
    ]
    raise ReplaceRefusedError(
        f"{ref.short_name} is already published ({_described(previous)}); this push "
        f"skipped the {' and '.join(skipped)} gate{'s' if len(skipped) > 1 else ''} and "
        "would replace it with a draft",
        hint="push without --force/--no-simulate/--no-e2e, or --overwrite to replace it",
    )


def _described(previous: Previous) -> str:
    info = previous.info
    gates = [
        f"{gate} {record.status}"
        for gate, record in (
            ("simulate", info.simulate if info else None),
            ("e2e", info.e2e if info else None),
        )
        if record
    ]
    return ", ".join([previous.digest[:19] + "…", *gates])


def _is_behaviour(name: str, kind: str) -> bool:
    return (
        name == PRIMARY_FILES[kind]
        or name in _BEHAVIOUR_YAML
        or name in CODE_REQUIREMENTS
        or name.endswith(".py")
    )


def _what(name: str, kind: str) -> str:
    return f"{name} (outside metadata)" if name == PRIMARY_FILES[kind] else name


def _digest(name: str, data: bytes, kind: str, client: RegistryClient) -> str:
    if name == PRIMARY_FILES[kind] or name in _BEHAVIOUR_YAML:
        try:
            docs = list(yaml.load_all(data.decode("utf-8"), Loader=LOADER))
        except (yaml.YAMLError, UnicodeDecodeError):
            docs = None
        if docs is not None:
            if name == PRIMARY_FILES[kind] and docs and isinstance(docs[0], dict):
                docs[0] = _without_metadata(docs[0], client)
            data = json.dumps(docs, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()


def _without_metadata(doc: JsonDict, client: RegistryClient) -> JsonDict:
    """The document minus ``metadata``, each registry motif import resolved."""
    doc = {key: value for key, value in doc.items() if key != "metadata"}
    for imp in motif_imports(doc):
        if not imp.is_registry:
            continue
        node: Any = doc
        for key in imp.path:
            node = node[key]
        try:
            resolved = str(client.resolve_import(imp.ref, "Motif", imp.version))
        except OrkError:
            continue
        node.update(motif=resolved, version="", oci=True)
    return doc
