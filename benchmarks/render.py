"""Rendering at scale, whole processes, against ``helm template`` in the same run.

* ``ork template`` of a katalog declaring N ConfigMaps one by one, against ``helm template``
  of a chart whose template file holds the same N ConfigMaps (objects per second; target:
  within 1.5x of Helm);
* ``ork simulate`` of a katalog with a forEach making N ConfigMaps, against ``helm template``
  of a chart ranging over N values to make the same ConfigMaps (objects per second; target:
  within 1.5x of Helm);
* ``ork simulate`` of that forEach at 10, 100, 1,000 and 10,000 items: wall time and peak
  RSS per size, the least-squares slope, and how 10x the items grows time and memory
  (targets: 1,000 items in 0.5 s and 10,000 in 5 s, 10x the items at most 10.5x the time).

Every figure is the median of a few runs of a fresh process (both tools pay their start-up),
next to the ``python -c pass`` floor. Helm is the static binary ``make test`` installs as
``.venv/bin/helm`` (``tools/ensure-helm.sh``); without it the Helm comparisons are skipped.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import yaml

from benchmarks.engine import SHARDS_KATALOG, slope

BIN = Path(sys.executable).parent
ORK, HELM = BIN / "ork", BIN / "helm"
OBJECTS = 1_000
SIZES = (10, 100, 1_000, 10_000)
TARGET_RATIO = 1.5
LIFTED = {"ORK_MAX_FOREACH_ITEMS": str(max(SIZES))}  # the default limit is 1,000 items

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "shardsets.bench.io"},
    "spec": {
        "group": "bench.io",
        "scope": "Namespaced",
        "names": {"kind": "ShardSet", "plural": "shardsets"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                        },
                    }
                },
            }
        ],
    },
}


# Started by a small launcher, not by this process: a child's peak RSS (``ru_maxrss``)
# includes the copy of the process it was forked from, so a child forked from the benchmark
# (tens of MiB after writing the large inputs) would report that as its floor. The launcher
# is a bare interpreter (~10 MiB); it times the command itself, so its own start-up is not
# counted either.
_LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as handle:
    handle.write(f"{seconds} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_once(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and standard output of one process, which must succeed."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as report,
    ):
        status = subprocess.call(
            [sys.executable, "-c", _LAUNCHER, report.name, *argv],
            cwd=cwd,
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
        )
        out.seek(0)
        err.seek(0)
        if status != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{err.read().decode()[-2000:]}")
        seconds, peak = report.read().split()
        return float(seconds), int(peak), out.read().decode(errors="replace")


def median_run(
    argv: list[str],
    cwd: Path,
    runs: int,
    made: tuple[str, int] | None = None,
    env: dict[str, str] | None = None,
) -> tuple[float, int]:
    """Median wall seconds and the largest peak RSS (KiB) over ``runs`` processes, each
    checked to have printed ``made[0]`` exactly ``made[1]`` times (the objects it made)."""
    results = []
    for _ in range(runs):
        seconds, peak, output = run_once(argv, cwd, env)
        marker, count = made or ("", len(output) + 1)
        if output.count(marker) != count:
            raise RuntimeError(
                f"{' '.join(argv)} printed {output.count(marker)} "
                f"{marker!r}, not {count}:\n{output[-2000:]}"
            )
        results.append((seconds, peak))
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


# -- the inputs ---------------------------------------------------------------------------


def listed_katalog(count: int) -> dict[str, object]:
    """A katalog declaring ``count`` ConfigMaps one by one."""
    maps = [
        {
            "name": f"{{{{ .metadata.name }}}}-cm-{i}",
            "data": {"index": str(i), "owner": "{{ .metadata.name }}"},
        }
        for i in range(count)
    ]
    return {
        **SHARDS_KATALOG,
        "spec": {
            "crds": {
                "shardset": {
                    **SHARDS_KATALOG["spec"]["crds"]["shardset"],  # type: ignore[index]
                    "operatorBox": {"reconcile": {"onReconcile": {"configMaps": maps}}},
                }
            }
        },
    }


def listed_chart(count: int) -> str:
    """The same ``count`` ConfigMaps in one Helm template file."""
    return "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        f'  name: {{{{ .Release.Name }}}}-cm-{i}\ndata:\n  index: "{i}"\n'
        f"  owner: {{{{ .Release.Name | quote }}}}\n"
        for i in range(count)
    )


RANGED_CHART = """{{- range $i, $shard := .Values.shards }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $.Release.Name }}-{{ $shard }}
data:
  shard: {{ $shard | quote }}
  index: {{ $i | quote }}
{{- end }}
"""


def write_chart(directory: Path, template: str, shards: int = 0) -> Path:
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text("apiVersion: v2\nname: bench\nversion: 0.1.0\n")
    values = {"shards": [f"s{i}" for i in range(shards)]}
    (directory / "values.yaml").write_text(yaml.safe_dump(values))
    (directory / "templates" / "objects.yaml").write_text(template)
    return directory


def write_pattern(directory: Path, katalog: Mapping[str, object], shards: int) -> Path:
    directory.mkdir(parents=True)
    (directory / "katalog.yaml").write_text(yaml.safe_dump(katalog, sort_keys=False))
    (directory / "crd.yaml").write_text(yaml.safe_dump(CRD, sort_keys=False))
    (directory / "cr.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "bench.io/v1",
                "kind": "ShardSet",
                "metadata": {"name": "s", "namespace": "default"},
                "spec": {"shards": [f"s{i}" for i in range(shards)]},
            }
        )
    )
    return directory


# -- the sections -------------------------------------------------------------------------


def versus_helm(
    label: str, ours: tuple[list[str], str], pattern: Path, chart: Path, runs: int
) -> None:
    argv, marker = ours
    ork_s, _ = median_run(argv, pattern, runs, (marker, OBJECTS))
    helm_s, _ = median_run(
        [str(HELM), "template", "bench", str(chart)], chart, runs, ("kind: ConfigMap", OBJECTS)
    )
    ork_rate, helm_rate = OBJECTS / ork_s, OBJECTS / helm_s
    print(
        f"  {label:<32} ork {ork_rate:7.0f} objects/s ({ork_s * 1000:6.1f} ms)   "
        f"helm {helm_rate:7.0f} objects/s ({helm_s * 1000:6.1f} ms)   "
        f"helm/ork {helm_rate / ork_rate:4.2f}x (target <= {TARGET_RATIO}x)"
    )


def scaling(work: Path, runs: int) -> None:
    points, rss = [], []
    for size in SIZES:
        pattern = write_pattern(work / f"scale{size}", SHARDS_KATALOG, size)
        seconds, peak = median_run(
            [str(ORK), "simulate"],
            pattern,
            1 if size > 1_000 else runs,
            ("+ configmaps/", size),
            LIFTED,
        )
        points.append((size, seconds))
        rss.append(peak)
        print(
            f"  ork simulate, forEach {size:>6} items  {seconds * 1000:8.1f} ms   "
            f"peak RSS {peak / 1024:6.1f} MiB"
        )
    per_item, intercept = slope(points)
    tail = [(points[i + 1][1] / points[i][1], rss[i + 1] / rss[i]) for i in range(len(SIZES) - 1)]
    print(
        f"  slope {per_item * 1e6:.1f} µs per item (intercept {intercept * 1000:.0f} ms); "
        f"10x the items: time x{tail[-2][0]:.2f} (100 -> 1,000), x{tail[-1][0]:.2f} "
        f"(1,000 -> 10,000), peak RSS x{tail[-1][1]:.2f} (1,000 -> 10,000); "
        "targets: 1,000 <= 0.5 s, 10,000 <= 5 s, 10x items <= 10.5x time"
    )


def run(runs: int = 5) -> None:
    print(f"\nRendering at scale (whole processes, median of {runs})")
    with tempfile.TemporaryDirectory(prefix="ork-bench-render-") as tmp:
        work = Path(tmp)
        floor, _ = median_run([sys.executable, "-c", "pass"], work, runs)
        print(f"  python -c pass {floor * 1000:.1f} ms (floor)")
        if HELM.exists():
            listed = write_pattern(work / "listed", listed_katalog(OBJECTS), 0)
            versus_helm(
                f"template, {OBJECTS} listed objects",
                ([str(ORK), "template", "-f", "katalog.yaml"], "}}-cm-"),
                listed,
                write_chart(work / "listed-chart", listed_chart(OBJECTS)),
                runs,
            )
            ranged = write_pattern(work / "ranged", SHARDS_KATALOG, OBJECTS)
            versus_helm(
                f"simulate, forEach {OBJECTS} objects",
                ([str(ORK), "simulate"], "+ configmaps/"),
                ranged,
                write_chart(work / "ranged-chart", RANGED_CHART, OBJECTS),
                runs,
            )
        else:
            print(f"  versus helm: skipped ({HELM} missing: run tools/ensure-helm.sh)")
        scaling(work, runs)


if __name__ == "__main__":
    run()
