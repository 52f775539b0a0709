#!/usr/bin/env python3
"""Benchmarks, one command: ``python benchmarks/run.py``.

Every figure is a ratio against a reference measured in the same run on the same machine:

* template rendering throughput, ours versus Jinja2 on equivalent templates (compiled once,
  rendered many times), on the pack's templates and a synthetic set; target ≥ 1.0×;
* parse + render of the pack's templates, ours versus real Go through the gotmpl oracle
  (the oracle parses each request, so both sides parse every time); skipped without Go;
* whole-process medians of ``ork --help``, ``ork validate`` and ``ork simulate`` on
  02-katalog-api, next to the ``python -c pass`` floor of the same interpreter (targets:
  60 ms, 150 ms and 250 ms);
* the reconcile engine: 10 cycles of 02-katalog-api (target: 5 ms median) and a forEach
  over 100 to 1,000 items (target: 1,000 items in 1 s, growing linearly);
* the registry: ``ork push`` and ``ork pull`` of the 02 pattern against a local
  docker-registry versus ``skopeo copy`` of the same artifact (target: 1.5×), and the HTTP
  requests per push (target: at most 2 per new blob plus the manifest and index updates);
* ``ork plan --against`` between two versions of the 06 komposer, nine CRDs (target:
  500 ms whole-process median);
* rendering at scale (:mod:`benchmarks.render`): ``ork template`` and ``ork simulate`` of
  1,000 ConfigMaps against ``helm template`` of the same objects (target: within 1.5x of
  Helm's objects/s), and ``ork simulate`` of a forEach over 10 to 10,000 items with the
  slope and peak RSS (targets: 0.5 s at 1,000, 5 s at 10,000, linear);
* the embedded API server (``ork cluster up`` in its own process): GET/s with ``wrk``
  against an aiohttp hello-world serving the same bytes (target: 5,000 GET/s) and a LIST of
  10,000 objects against ``json.dumps`` of them (target: 200 ms);
* operators on the embedded server: ``ork run`` of 02-katalog-api versus a Kopf operator
  creating the same children, 1,000 and 10,000 CRs, time to all Ready, reconciles/s and peak
  RSS (target: 3x Kopf's throughput at no more than Kopf's memory).

``python benchmarks/run.py`` runs every section; ``python benchmarks/run.py SECTION ...``
only the named ones: ``foundation`` (templates, processes, engine, registry, plan),
``render``, ``apiserver``, ``operators``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jinja2  # noqa: E402

from benchmarks import apiserver, operators, plan, push, registry, render  # noqa: E402
from benchmarks.engine import for_each_scaling, pack_cycles, slope  # noqa: E402
from benchmarks.templates import PACK, SYNTHETIC, data  # noqa: E402
from orkestra.template import LIBRARY, Renderer, Template  # noqa: E402
from orkestra.template.notes.kube import replicas_ready  # noqa: E402


def best_rate(work: Callable[[], int], seconds: float = 1.0, repeats: int = 5) -> float:
    """Renders per second: the best of ``repeats`` timed rounds of ``work``."""
    rates = []
    for _ in range(repeats):
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds / repeats:
            count += work()
        rates.append(count / (time.perf_counter() - start))
    return max(rates)


def throughput(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    ctx = data()
    renderer = Renderer()
    ours = [renderer.compile(go) for go, _ in pairs]
    env = jinja2.Environment(autoescape=False)
    env.globals["allReplicasReady"] = replicas_ready
    theirs = [env.from_string(j2) for _, j2 in pairs]
    texts = [go for go, _ in pairs]

    def run_ours() -> int:
        for text in texts:
            renderer.render(text, ctx)
        return len(texts)

    def run_jinja() -> int:
        for template in theirs:
            template.render(ctx)
        return len(theirs)

    assert ours  # compiled up front, like Jinja2's templates
    return best_rate(run_ours), best_rate(run_jinja)


class OracleUnavailableError(Exception):
    """Why the Go comparison cannot run here."""


def oracle() -> str:
    given = os.environ.get("GOTMPL_ORACLE")
    if given and Path(given).exists():
        return given
    built = Path(tempfile.gettempdir()) / "gotmpl-oracle"
    if built.exists():
        return str(built)
    src = ROOT.parent / "shared" / "tools" / "gotmpl-oracle" / "build.sh"
    if not (src.exists() and shutil.which("go")):
        raise OracleUnavailableError("no gotmpl-oracle and no Go toolchain")
    done = subprocess.run(["bash", str(src), str(built)], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1].strip()
        raise OracleUnavailableError(f"building gotmpl-oracle failed: {last}")
    return str(built)


def versus_go(rounds: int = 400) -> tuple[float, float]:
    binary = oracle()
    ctx = data()
    requests = [
        json.dumps({"template": go, "data": ctx, "missingkey": "zero", "nosprig": True})
        for go, _ in PACK
        if "allReplicasReady" not in go and "default" not in go
    ]
    payload = ("\n".join(requests) + "\n") * rounds
    start = time.perf_counter()
    out = subprocess.run([binary], input=payload, capture_output=True, text=True, check=True)
    go_rate = len(out.stdout.splitlines()) / (time.perf_counter() - start)
    texts = [json.loads(r)["template"] for r in requests]
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            Template(text, LIBRARY).execute(ctx)
    ours_rate = rounds * len(texts) / (time.perf_counter() - start)
    return ours_rate, go_rate


def process_median(argv: list[str], cwd: Path, runs: int = 21) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


_STDLIB = "typing, enum, re, dataclasses, pathlib, collections, functools, contextlib, datetime"
STACK = (
    ("stdlib of any cmd", _STDLIB),
    ("  + PyYAML", f"{_STDLIB}, yaml"),
    ("  + PyYAML + click", f"{_STDLIB}, yaml, click"),
)
"""What every pattern command imports before any of Orkestra's own modules: the standard
library modules of typed Python code, the YAML library, the command-line library. Its cost
against the bare interpreter bounds how close a command can get to ``python -c pass``."""


def main() -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"python {platform.python_version()}, jinja2 {jinja2.__version__}\n")
    print("Template rendering (renders/s, compiled once)")
    for label, pairs in (("pack templates", PACK), ("synthetic set", SYNTHETIC)):
        ours, jinja = throughput(pairs)
        print(
            f"  {label:<16} ours {ours:>10,.0f}   jinja2 {jinja:>10,.0f}   "
            f"ratio {ours / jinja:5.2f}x  (target >= 1.0x)"
        )
    try:
        go = versus_go()
    except OracleUnavailableError as missing:
        print(f"  versus Go: skipped ({missing})")
    else:
        print(
            f"  parse+render     ours {go[0]:>10,.0f}   go     {go[1]:>10,.0f}   "
            f"ratio {go[0] / go[1]:5.2f}x  (Go through the oracle, JSON in and out)"
        )
    bindir = Path(sys.executable).parent
    ork = str(bindir / "ork")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [ork, "init", "--pack", "registry-guide"], cwd=tmp, check=True, capture_output=True
        )
        katalog_dir = Path(tmp) / "registry-guide" / "02-katalog-api"
        floor = process_median([sys.executable, "-c", "pass"], katalog_dir)
        timings = [
            ("ork --help", [ork, "--help"], 60),
            ("ork validate (02)", [ork, "validate"], 150),
            ("ork simulate (02)", [ork, "simulate"], 250),
        ]
        measured = [
            (label, process_median(argv, katalog_dir), target) for label, argv, target in timings
        ]
        stack = [
            (label, process_median([sys.executable, "-c", f"import {modules}"], katalog_dir))
            for label, modules in STACK
        ]
    print("\nWhole process (median of 21 runs)")
    print(f"  python -c pass      {floor:6.1f} ms  (floor)")
    for label, ms in stack:
        print(f"  {label:<19} {ms:6.1f} ms  ({ms / floor:4.1f}x floor; no Orkestra code)")
    for label, ms, target in measured:
        print(f"  {label:<19} {ms:6.1f} ms  ({ms / floor:4.1f}x floor; target <= {target} ms)")
    print("\nReconcile engine")
    cycles_ms = pack_cycles()
    print(
        f"  10 cycles of 02     {cycles_ms:6.2f} ms median  ({cycles_ms / 5:4.2f}x the 5 ms target)"
    )
    points = for_each_scaling()
    per_item, _ = slope(points)
    for size, seconds in points:
        print(f"  forEach {size:>5} items, 10 cycles: {seconds * 1000:7.1f} ms")
    growth = (points[-1][1] / points[0][1]) / (points[-1][0] / points[0][0])
    print(
        f"  slope {per_item * 1e6:.0f} µs per item (10 cycles); growth 100 -> 1000 items is "
        f"{growth:.2f}x linear; 1000 items = {points[-1][1]:.2f} s (target <= 1 s)"
    )
    registry.run()
    plan.run()
    return 0


SECTIONS: dict[str, Callable[[], object]] = {
    "foundation": main,
    "render": render.run,
    "push": push.run,
    "apiserver": apiserver.run,
    "operators": operators.run,
}


def entry(chosen: list[str]) -> int:
    """Every section, or only those named on the command line."""
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        print(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
        return 2
    if chosen and "foundation" not in chosen:
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
        print(f"python {platform.python_version()}")
    for name in chosen or list(SECTIONS):
        SECTIONS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(entry(sys.argv[1:]))
