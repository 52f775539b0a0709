"""What ``ork plan`` can read: a pattern directory, a katalog or komposer file, a registry
reference (pulled into the cache, digest verified), a bundle (the ConfigMap that carries a
deployed katalog) or that ConfigMap read from the cluster with ``kubectl``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orkestra.compose import Composed, MotifResolver
from orkestra.compose.katalog import compose_katalog
from orkestra.compose.load import compose_file
from orkestra.errors import OrkError
from orkestra.model.loader import build_document
from orkestra.model.source import LOADER, parse_documents
from orkestra.plan.objects import Inventory, inventory
from orkestra.plan.proof import Proof, prove
from orkestra.registry.client import RegistryClient
from orkestra.registry.sources import RegistrySource

PATTERN_FILES = ("katalog.yaml", "komposer.yaml")
CONFIGMAP_KEYS = ("katalog", "katalog.yaml")


@dataclass
class PlanSource:
    """One version of a pattern, expanded, with its proof."""

    label: str
    inventory: Inventory
    proof: Proof = field(default_factory=Proof)
    digest: str = ""


def load(
    text: str, client: RegistryClient, *, with_proof: bool = True, trust_hooks: bool = False
) -> PlanSource:
    """A directory, a pattern or bundle file, or a registry reference. ``trust_hooks``: the
    proof may run a pulled pattern's Python hooks (otherwise the proof says it did not)."""
    path = Path(text)
    resolver = MotifResolver(registry=RegistrySource(client=client))
    proof = with_proof, trust_hooks
    if path.is_dir():
        return _from_file(_pattern_file(path), text, resolver, proof)
    if path.is_file():
        if _is_bundle(path):
            return from_bundle(path)
        return _from_file(path, text, resolver, proof)
    ref = client.resolve(text)
    pulled = client.pull(ref)
    file = _pattern_file(pulled.directory)
    source = _from_file(file, str(ref), resolver, proof, display=f"{ref}/{file.name}")
    source.digest = pulled.info.digest
    return source


def _pattern_file(directory: Path) -> Path:
    for name in PATTERN_FILES:
        if (directory / name).is_file():
            return directory / name
    raise OrkError(
        f"no katalog.yaml or komposer.yaml in {directory}",
        hint="plan a pattern directory, a katalog or komposer file, or a "
        "registry reference such as webapp-operator:v1.1.0",
    )


def _from_file(
    path: Path, label: str, resolver: MotifResolver, proof_of: tuple[bool, bool], display: str = ""
) -> PlanSource:
    composed = compose_file(
        path, display or (label if label.endswith(".yaml") else str(path)), motifs=resolver
    )
    planned = inventory(composed)
    with_proof, trust_hooks = proof_of
    proof = prove(composed, planned, resolver, trust_hooks=trust_hooks) if with_proof else Proof()
    return PlanSource(label, planned, proof)


def _is_bundle(path: Path) -> bool:
    return any(
        isinstance(doc, dict) and doc.get("kind") == "ConfigMap"
        for doc in _documents(path.read_text(encoding="utf-8"), str(path))
    )


def _documents(text: str, where: str) -> list[Any]:
    try:
        return [d for d in yaml.load_all(text, Loader=LOADER) if d is not None]
    except yaml.YAMLError as exc:
        raise OrkError(f"{where}: not valid YAML ({exc})") from None


def from_bundle(path: Path) -> PlanSource:
    """The katalog a bundle deploys (its ConfigMap), or nothing when it has none."""
    return _from_configmap(_documents(path.read_text(encoding="utf-8"), str(path)), str(path), path)


def from_cluster(name: str, namespace: str) -> PlanSource:
    """The deployed katalog ConfigMap, read with ``kubectl`` from the current context."""
    if name.endswith((".yaml", ".yml")):
        return from_bundle(Path(name))
    import json  # the cluster is read only here
    import shutil
    import subprocess

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise OrkError(
            "kubectl is needed to read a ConfigMap from the cluster",
            hint="install kubectl, or pass the bundle with --bundle FILE",
        )
    done = subprocess.run(
        [kubectl, "get", "configmap", name, "-n", namespace, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        if "NotFound" in done.stderr:
            return PlanSource(f"{namespace}/{name} (not deployed)", Inventory("", "", [], False))
        raise OrkError(f"kubectl get configmap {name} -n {namespace} failed: {done.stderr.strip()}")
    return _from_configmap(
        [json.loads(done.stdout)], f"configmap {namespace}/{name}", Path.cwd() / f"{name}.yaml"
    )


def _from_configmap(docs: list[Any], label: str, file: Path) -> PlanSource:
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap" and doc.get("data"):
            data: dict[str, str] = doc["data"]
            key = next((k for k in CONFIGMAP_KEYS if k in data), next(iter(data)))
            name = (doc.get("metadata") or {}).get("name", "")
            return PlanSource(
                f"{label} (ConfigMap {name}, key {key})",
                inventory(_compose_text(data[key], f"{label}:{key}", file)),
            )
    return PlanSource(f"{label} (no deployed katalog)", Inventory("", "", [], False))


def _compose_text(text: str, display: str, file: Path) -> Composed:
    """A deployed (already composed) katalog: no CRD files travel with it."""
    doc = build_document(parse_documents(text, display)[0], file, ("Katalog",))
    for entry in (doc.katalog.get("spec") or {}).get("crds", {}).values():
        entry.pop("crdFile", None)
    return compose_katalog(doc)
