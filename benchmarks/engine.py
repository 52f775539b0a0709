"""Engine benchmarks: 10 reconcile cycles of the pack's 02-katalog-api, and a forEach over
100 to 1,000 items (time per size, slope, and how far from linear it is)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import yaml

from orkestra.compose import compose_file
from orkestra.packs import write_pack
from orkestra.simulate.runner import Simulation
from orkestra.simulate.spec import SimulationSpec, load_specs

SHARDS_KATALOG = {
    "apiVersion": "orkestra.orkspace.io/v1",
    "kind": "Katalog",
    "metadata": {"name": "shards"},
    "spec": {
        "crds": {
            "shardset": {
                "apiTypes": {
                    "group": "bench.io",
                    "version": "v1",
                    "kind": "ShardSet",
                    "plural": "shardsets",
                },
                "operatorBox": {
                    "reconcile": {
                        "onReconcile": {
                            "configMaps": [
                                {
                                    "name": "{{ .metadata.name }}-{{ .shard }}",
                                    "forEach": {"field": "spec.shards", "as": "shard"},
                                    "data": {"shard": "{{ .shard }}", "index": "{{ .index }}"},
                                }
                            ]
                        }
                    },
                    "emit": {
                        "status": {
                            "fields": [
                                {"path": "shards", "type": "int", "value": "{{ len .spec.shards }}"}
                            ]
                        }
                    },
                },
            }
        }
    },
}


def pack_cycles(runs: int = 40) -> float:
    """Median milliseconds of 10 cycles of 02-katalog-api (composition done once)."""
    with tempfile.TemporaryDirectory() as tmp:
        write_pack("registry-guide", Path(tmp) / "rg")
        plan = load_specs(Path(tmp) / "rg" / "02-katalog-api" / "simulate.yaml")[0]
        composed = compose_file(plan.katalog)
        times = []
        for _ in range(runs):
            simulation = Simulation(plan, composed=composed)
            start = time.perf_counter()
            simulation.run(10)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def for_each_scaling(
    sizes: tuple[int, ...] = (100, 250, 500, 1000), cycles: int = 10, runs: int = 3
) -> list[tuple[int, float]]:
    """(items, best seconds of ``runs``) for a forEach over ``items`` ConfigMaps."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        katalog = Path(tmp) / "katalog.yaml"
        katalog.write_text(yaml.safe_dump(SHARDS_KATALOG))
        composed = compose_file(katalog)
        for size in sizes:
            cr = Path(tmp) / f"cr{size}.yaml"
            cr.write_text(
                yaml.safe_dump(
                    {
                        "apiVersion": "bench.io/v1",
                        "kind": "ShardSet",
                        "metadata": {"name": "s", "namespace": "default"},
                        "spec": {"shards": [f"s{i}" for i in range(size)]},
                    }
                )
            )
            best = float("inf")
            for _ in range(runs):
                simulation = Simulation(
                    SimulationSpec(name="bench", katalog=katalog, crs=[cr], cycles=cycles),
                    composed=composed,
                )
                start = time.perf_counter()
                simulation.run(cycles)
                best = min(best, time.perf_counter() - start)
            results.append((size, best))
    return results


def slope(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares slope (seconds per item) and intercept."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    return b, my - b * mx
