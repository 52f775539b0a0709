"""A cycle that changed nothing, read no clock and ran no user code is a fixed point: the
cycles after it are recorded as its copies, exactly what running them would record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.simulate.runner import Cycle, Simulation, unrepeatable_templates
from orkestra.simulate.spec import SimulationSpec

CRD = {"group": "bench.io", "version": "v1", "kind": "ShardSet", "plural": "shardsets"}


def katalog(on_create: dict[str, Any], on_reconcile: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "orkestra.orkspace.io/v1",
        "kind": "Katalog",
        "metadata": {"name": "shards"},
        "spec": {
            "crds": {
                "shardset": {
                    "apiTypes": CRD,
                    "operatorBox": {
                        "reconcile": {"onCreate": on_create, "onReconcile": on_reconcile},
                        "emit": {
                            "status": {
                                "fields": [
                                    {
                                        "path": "shards",
                                        "type": "int",
                                        "value": "{{ len .spec.shards }}",
                                    }
                                ]
                            }
                        },
                    },
                }
            }
        },
    }


SHARDS = {
    "configMaps": [
        {
            "name": "{{ .metadata.name }}-{{ .shard }}",
            "forEach": {"field": "spec.shards", "as": "shard"},
            "data": {"shard": "{{ .shard }}", "index": "{{ .index }}"},
        }
    ]
}
ROTATED = {
    "secrets": [
        {
            "name": "{{ .metadata.name }}-creds",
            "once": True,
            "rotateAfter": "3s",
            "data": {"user": "admin"},
        }
    ]
}


def simulation(tmp_path: Path, document: dict[str, Any], cycles: int) -> Simulation:
    tmp_path.mkdir()
    (tmp_path / "katalog.yaml").write_text(yaml.safe_dump(document))
    (tmp_path / "cr.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "bench.io/v1",
                "kind": "ShardSet",
                "metadata": {"name": "s", "namespace": "default"},
                "spec": {"shards": ["a", "b", "c"]},
            }
        )
    )
    return Simulation(
        SimulationSpec(
            name="fixed",
            katalog=tmp_path / "katalog.yaml",
            crs=[tmp_path / "cr.yaml"],
            cycles=cycles,
        )
    )


def every_cycle(sim: Simulation, count: int) -> list[Cycle]:
    """The cycles run one by one, none of them taken as a copy."""
    [(crd, _)] = sim.targets()
    sim.seed()
    reconciler = sim.engines.reconciler(crd, sim.cluster, sim.clock)
    cycles = []
    for number in range(1, count + 1):
        sim.clock.tick()
        cycles.append(sim.cycle(reconciler, number, "s", "default"))
        sim.settle()
    return cycles


@pytest.mark.parametrize(
    "document", [katalog({}, SHARDS), katalog(ROTATED, SHARDS)], ids=["forEach", "rotated-secret"]
)
def test_a_run_records_what_running_every_cycle_records(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    shortcut = simulation(tmp_path / "a", document, 10)
    [run] = shortcut.run()
    full = simulation(tmp_path / "b", document, 10)
    assert run.cycles == every_cycle(full, 10)
    assert run.steady_at == 2
    run_ops, full_ops = len(shortcut.cluster.operations), len(full.cluster.operations)
    if document["spec"]["crds"]["shardset"]["operatorBox"]["reconcile"]["onCreate"]:
        # reading the clock (is the secret due?) makes every cycle run: it is rotated
        rotations = [
            c.number
            for c in run.cycles
            for op in c.writes
            if (op.verb, op.resource) == ("delete", "secrets")
        ]
        assert rotations and run_ops == full_ops
    else:
        assert run_ops < full_ops / 3  # cycles 3 to 10 were copies of cycle 2


def test_templates_of_time_or_chance_are_found() -> None:
    assert unrepeatable_templates({"a": ["x", {"b": "{{ now | date }}"}]})
    assert unrepeatable_templates(
        {}, {"notes": {"functions": [{"name": "pick", "expression": "{{ randomHex 4 }}"}]}}
    )
    assert unrepeatable_templates("{{ timeSince\n .metadata.creationTimestamp }}")
    assert not unrepeatable_templates({"now": "now", "when": "{{ .spec.name }}"}, "{{ len . }}")


WATCHING = {
    "apiVersion": "orkestra.orkspace.io/v1",
    "kind": "Katalog",
    "metadata": {"name": "shards"},
    "spec": {
        "crds": {
            "shardset": {
                "apiTypes": CRD,
                "operatorBox": {
                    "observe": {
                        "watch": [
                            {
                                "apiVersion": "v1",
                                "kind": "ConfigMap",
                                "namespace": "default",
                                "name": "flags",
                            }
                        ]
                    }
                },
            }
        }
    },
}


def test_a_watched_object_that_changes_makes_the_next_cycle_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = simulation(tmp_path / "a", WATCHING, 6)
    settled = {"count": 0}

    def settle() -> None:
        """During cycle 2, which writes nothing, the watched ConfigMap changes."""
        settled["count"] += 1
        if settled["count"] == 2:
            sim.cluster.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "flags", "namespace": "default"},
                },
                record=False,
            )

    monkeypatch.setattr(sim, "settle", settle)
    [run] = sim.run()
    reconciled = [
        op for op in sim.cluster.operations if (op.verb, op.resource) == ("get", "shardsets")
    ]
    # cycle 1 writes the status, 2 writes nothing but the watched object changed: 3 runs
    # (the fixed point), 4 to 6 are its copies
    assert settled["count"] == len(reconciled) == 3
    assert not run.cycles[1].writes
    assert [c.number for c in run.cycles] == [1, 2, 3, 4, 5, 6]
