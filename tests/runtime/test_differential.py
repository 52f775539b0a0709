"""The runtime against simulate: for each pack example and official pattern with a
simulate.yaml, the children the runtime makes on the embedded server at steady state equal
those simulate's cluster holds (kind, namespace, name, spec, labels, ownerReferences; Secret
data by key, since generated values differ; Service specs but the cluster IPs, allocated in
creation order), and so does the CR status (but transition times). Simulations whose
katalogs import from a registry run in a copy of the pack published to a registry of its
own, as the pack's READMEs publish it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.cli import main
from orkestra.cluster.data import clone
from orkestra.engine.build.base import OWNER_NAME_LABEL, label_value
from orkestra.simulate.runner import Simulation, cr_documents
from orkestra.simulate.spec import SimulationSpec, load_specs
from tests.conftest import PACK, publishing_pack
from tests.packs.conftest import publish_pack
from tests.runtime.harness import Runtime, wait_for

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
SIMULATIONS = [
    "02-katalog-api/simulate.yaml",
    "02-katalog-api/simulate-ingress.yaml",
    "03-katalog-cache/simulate.yaml",
    "04-katalog-platform/simulate.yaml",
    "04-katalog-platform/simulate-denied.yaml",
    "10-hooks-katalog/simulate.yaml",
    "10-hooks-katalog/simulate-no-backup.yaml",
    "12-ork-action/database-operator/simulate.yaml",
    *(
        f"official/{n}/simulate.yaml"
        for n in ("deployment-stack", "kafka", "mongodb", "mysql", "postgres", "rabbitmq", "redis")
    ),
]
NEEDS_REGISTRY = [
    "03-katalog-cache/no-assertions/simulate.yaml",
    "06-pattern-zoo/simulate.yaml",
    "07-upgrade/webapp-operator-v1.1.0/simulate.yaml",
    "08-bad-actor/webapp-operator-v1.2.0/simulate.yaml",
    "09-deprecation/simulate.yaml",
    *(
        f"11-typed-komposer/{n}.yaml"
        for n in (
            "simulate",
            "simulate-cache",
            "simulate-database",
            "simulate-webapp",
            "webapp-operator-v2.0.0/simulate",
            "webapp-operator-v2.0.0/simulate-denied",
        )
    ),
    "12-ork-action/webapp-operator/simulate.yaml",
]
SKIPPED_KINDS = {"CustomResourceDefinition", "Namespace", "Node", "Event", "Lease"}


def children(objects: list[Obj], owner: Obj) -> dict[str, Obj]:
    """What one CR's children look like for the comparison (the CR's uid, which templates
    may use, made neutral)."""
    found = {}
    for obj in objects:
        meta = obj["metadata"]
        if (meta.get("labels") or {}).get(OWNER_NAME_LABEL) != label_value(
            owner["metadata"]["name"]
        ):
            continue
        refs = [
            {k: v for k, v in r.items() if k != "uid"} for r in meta.get("ownerReferences") or []
        ]
        body = {
            k: v
            for k, v in obj.items()
            if k not in ("apiVersion", "kind", "metadata", "status", "data", "stringData")
        }
        if obj["kind"] == "Service":  # allocated in creation order, which workers change
            body["spec"] = {
                k: v for k, v in body["spec"].items() if k not in ("clusterIP", "clusterIPs")
            }
        data = obj.get("data")
        found[f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}"] = {
            **body,
            "labels": meta.get("labels"),
            "ownerReferences": refs,
            "data": sorted(data) if obj["kind"] == "Secret" and data else data,
        }
    neutral: dict[str, Obj] = json.loads(
        json.dumps(found).replace(owner["metadata"]["uid"], "CR-UID")
    )
    return neutral


def comparable_status(cr: Obj) -> Obj:
    status = clone(cr.get("status") or {})
    for condition in status.get("conditions") or []:
        condition.pop("lastTransitionTime", None)
    return status


def every_object(server: EmbeddedServer) -> list[Obj]:
    return [
        o
        for rt in server.cluster.types()
        if rt.kind not in SKIPPED_KINDS
        for o in server.cluster.list_type(rt, None, record=False)
    ]


def settled(server: EmbeddedServer, runtime: Runtime) -> bool:
    """Nothing queued or running, and the server unchanged for a moment."""
    before = server.cluster.resource_version
    time.sleep(0.3)
    idle = all(
        len(c.queue) == 0 and c.queue.processing == 0 for c in runtime.operator.controllers.values()
    )
    return idle and server.cluster.resource_version == before


@pytest.fixture(scope="module")
def published_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A copy of the pack published to an embedded registry of its own (the pack and the
    ORK_HOME holding the registry), the zoo's imports pulled."""
    with publishing_pack(tmp_path_factory, "published") as (home, pack):
        publish_pack(pack)
        for komposer in ("06-pattern-zoo", "11-typed-komposer"):
            assert main(["pull", "-f", str(pack / komposer / "komposer.yaml")]) == 0
    yield pack, home


@pytest.mark.parametrize("simulation", SIMULATIONS)
def test_the_runtime_reaches_what_simulate_predicts(simulation: str) -> None:
    compare(load_specs(PACK / simulation)[0])


@pytest.mark.parametrize("simulation", NEEDS_REGISTRY)
def test_registry_imports_too(
    simulation: str, published_pack: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pack, home = published_pack
    monkeypatch.setenv("ORK_HOME", str(home))
    compare(load_specs(pack / simulation)[0], trust_hooks=True)  # 11's pulled database hooks


def compare(plan: SimulationSpec, *, trust_hooks: bool = False) -> None:
    predicted = Simulation(plan, trust_hooks=trust_hooks)
    runs = predicted.run(plan.cycles)
    with EmbeddedServer(port=0) as server:
        for crd in list(predicted.composed.crd_manifests.values()) + [
            d.data for p in plan.crds for d in cr_documents([p])
        ]:
            if (
                server.cluster.find(
                    "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"]
                )
                is None
            ):
                server.cluster.create(crd, record=False)
        for doc in predicted.documents:
            server.cluster.create(doc.data, record=False)
        with Runtime(server, plan.katalog, trust_hooks=trust_hooks) as runtime:
            wait_for(lambda: settled(server, runtime), "the runtime to settle", 30)
        actual = every_object(server)
    expected = [
        o
        for rt in predicted.cluster.types()
        if rt.kind not in SKIPPED_KINDS
        for o in predicted.cluster.list_type(rt, None, record=False)
    ]
    assert runs
    for run in runs:
        kind = str((predicted.composed.crds[run.crd].get("apiTypes") or {})["kind"])
        [cr] = [o for o in actual if o["kind"] == kind and o["metadata"]["name"] == run.cr_name]
        [simulated] = [
            o for o in expected if o["kind"] == kind and o["metadata"]["name"] == run.cr_name
        ]
        assert children(actual, cr) == children(expected, simulated)
        assert comparable_status(cr) == comparable_status(simulated)


def test_the_lists_cover_every_simulation_of_the_pack() -> None:
    found = {str(p.relative_to(PACK)) for p in PACK.rglob("simulate*.yaml")}
    assert found == set(SIMULATIONS) | set(NEEDS_REGISTRY)
