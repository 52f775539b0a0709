"""Operators on the embedded API server: ``ork run`` versus a Kopf operator, 02-katalog-api.

For each operator and each N (1,000 and 10,000) a fresh ``ork cluster up`` process gets the
pack's CRD and N WebApps (cr.yaml's spec, names ``web-00000`` ...) created in bulk by
concurrent POSTs, *before* the operator starts and outside its time. Then the operator
process starts, and the clock runs from its spawn until every CR is Ready: status
``observedGeneration`` equal to ``metadata.generation`` and a ``Ready`` condition ``True``,
which both operators only write once the CR's Deployment reports its replicas ready (the
server plays kubelet 50 ms after a workload changes). Readiness is followed with a watch on
the WebApps from the resourceVersion of a LIST made before the operator starts, so the
figure includes the operator's start (imports, login, initial LIST), no event is missed and
nothing is polled; the watch is kept light (:mod:`benchmarks.readiness`), as it shares the
machine with what it measures.

Figures per run: time to all Ready and reconciles/s = N / that time (a reconcile here being
one CR brought to Ready: two children created, status written twice); the time to the first
Ready CR; the operator's peak RSS (``VmHWM``) and CPU seconds; the server's CPU seconds
during the run (N divided by them is the rate the server alone would allow with a core to
itself: on a two-core machine the server, the operator and this watch share the CPUs) and
its peak RSS; the load average when the run started, since other work on the machine shows
in every figure. After each run the children are counted and one
CR's Deployment and Service are compared with what ``ork simulate`` builds for cr.yaml, so
both operators are known to have done the same work. A run that does not finish within its
timeout reports the rate over the part that finished. The machine is shared and its speed
drifts (the same run's CPU seconds vary by a fifth from one minute to the next), so each
operator runs three times at each size, interleaved, and the ratios use each one's best
run.

``ork run`` runs the katalog as written (its ``workers: 2``); ``$ORK_RUN_ARGS`` adds options,
e.g. ``ORK_RUN_ARGS="--workers 3" python -m benchmarks.operators 1000``, and the heading
names them. The Kopf reference operator is :mod:`benchmarks.kopf_webapp`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from benchmarks.apiserver import (
    BIN,
    Client,
    ServerProcess,
    embedded_server,
    exit_on_sigterm,
    mib,
    proc_kib,
    spawn,
    stop_process,
)
from benchmarks.readiness import ReadinessWatch, first_version

Obj = dict[str, Any]
HERE = Path(__file__).resolve().parent
SIZES = (1_000, 10_000)
TIMEOUTS = {1_000: 300.0, 10_000: 600.0}
REPEATS = {1_000: 3, 10_000: 3}  # runs per operator, interleaved; the best one counts
NAMESPACE = "default"
WEBAPPS = f"/apis/rkguide.demo/v1/namespaces/{NAMESPACE}/webapps"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
TARGET_RATIO = 3.0
SAMPLE_NAME = "my-webapp"  # the name in cr.yaml, as simulate builds it

Launcher = Callable[[Path, Path], list[str]]  # (pack dir, kubeconfig) -> argv


@dataclass
class RunResult:
    operator: str
    size: int
    seconds: float  # until all Ready, or until the timeout
    ready: int
    first_ready: float | None
    finished: bool
    operator_peak_kib: int
    operator_cpu: float
    server_cpu: float
    server_peak_kib: int
    server_rss_before_kib: int
    create_per_s: float
    load: float = 0.0  # the machine's 1-minute load average when the run started
    children: tuple[int, int] = (0, 0)
    same_as_simulate: bool = False
    exit_note: str = ""

    @property
    def rate(self) -> float:
        return self.ready / self.seconds if self.seconds else 0.0

    @property
    def server_bound(self) -> float:
        """CRs per second if the server had a core to itself and the operator cost nothing:
        the CRs made Ready per second of the server's CPU."""
        return self.ready / self.server_cpu if self.server_cpu else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.operator_cpu / max(self.ready, 1) * 1000

    @property
    def server_ms(self) -> float:
        """The server's CPU per CR made Ready."""
        return self.server_cpu / max(self.ready, 1) * 1000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- preparing the server ---------------------------------------------------------------
def webapp(name: str, spec: Obj) -> Obj:
    return {
        "apiVersion": "rkguide.demo/v1",
        "kind": "WebApp",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"team": "api"}},
        "spec": spec,
    }


async def install_crd(client: Client, pack: Path, timeout: float = 30.0) -> None:
    crd = yaml.safe_load((pack / "crd.yaml").read_text())
    await client.post(CRDS, crd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = await client.get(f"{CRDS}/{crd['metadata']['name']}")
        conditions = (current.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the WebApp CRD was not established")


async def create_webapps(client: Client, pack: Path, size: int) -> float:
    """Creates per second of ``size`` WebApps with cr.yaml's spec."""
    spec = yaml.safe_load((pack / "cr.yaml").read_text())["spec"]
    seconds = await client.create_all(WEBAPPS, (webapp(f"web-{i:05d}", spec) for i in range(size)))
    return size / seconds


# -- checking the children ------------------------------------------------------------------
def _essence(obj: Mapping[str, Any], owner: str) -> str:
    """Kind, name, labels, annotations, ownerReferences (without uid) and spec, with the
    owner's name replaced by cr.yaml's and the allocated cluster IPs left out."""
    meta = obj["metadata"]
    spec = {k: v for k, v in obj["spec"].items() if k not in ("clusterIP", "clusterIPs")}
    refs = [{k: v for k, v in r.items() if k != "uid"} for r in meta.get("ownerReferences", [])]
    data = {
        "kind": obj["kind"],
        "name": meta["name"],
        "labels": meta.get("labels"),
        "annotations": meta.get("annotations"),
        "ownerReferences": refs,
        "spec": spec,
    }
    return json.dumps(data, sort_keys=True).replace(owner, SAMPLE_NAME)


def simulated_children(pack: Path) -> list[str]:
    """The Deployment and Service ``ork simulate`` builds for cr.yaml."""
    from orkestra.simulate.runner import Simulation
    from orkestra.simulate.spec import load_specs

    simulation = Simulation(load_specs(pack / "simulate.yaml")[0])
    simulation.run()
    return [
        _essence(obj, SAMPLE_NAME)
        for api, kind in (("apps/v1", "Deployment"), ("v1", "Service"))
        for obj in simulation.cluster.list(api, kind, None, record=False)
    ]


async def check_children(
    client: Client, expected: list[str], sample: str
) -> tuple[tuple[int, int], bool]:
    selector = "?labelSelector=managed-by%3Dorkestra"
    deployments = await client.get(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments" + selector)
    services = await client.get(f"/api/v1/namespaces/{NAMESPACE}/services" + selector)
    found = [
        _essence(o, sample)
        for o in deployments["items"] + services["items"]
        if o["metadata"]["labels"].get("orkestra-owner") == sample
    ]
    return (len(deployments["items"]), len(services["items"])), sorted(found) == sorted(expected)


# -- one run -----------------------------------------------------------------------------------
def _measure(
    server: ServerProcess, argv: list[str], log: Path, size: int, timeout: float
) -> tuple[RunResult, subprocess.Popen[bytes]]:
    context = server.ssl_context()
    version = first_version(server.url, server.token, context, WEBAPPS)
    server_cpu = cpu_seconds(server.pid)
    rss_before = proc_kib(server.pid, "VmRSS")
    load = os.getloadavg()[0]
    start = time.perf_counter()
    process = spawn(argv, log, env={"KUBECONFIG": str(server.kubeconfig)}, cwd=HERE)
    watch = ReadinessWatch(server.url, server.token, context, WEBAPPS, size, start)
    try:
        progress = watch.follow(version, start + timeout, process)
    except BaseException:
        stop_process(process)
        raise
    finished = len(progress.ready) >= size
    seconds = (progress.last or 0.0) if finished else time.perf_counter() - start
    result = RunResult(
        "",
        size,
        seconds,
        len(progress.ready),
        progress.first,
        finished,
        proc_kib(process.pid, "VmHWM"),
        cpu_seconds(process.pid),
        cpu_seconds(server.pid) - server_cpu,
        proc_kib(server.pid, "VmHWM"),
        rss_before,
        0.0,
        load,
    )
    return result, process


def run_one(
    name: str, launcher: Launcher, pack: Path, size: int, work: Path, expected: list[str]
) -> RunResult:
    work = Path(tempfile.mkdtemp(prefix=f"{name}-{size}-", dir=work))
    with embedded_server(work / "server") as server:
        argv = launcher(pack, server.kubeconfig)

        async def prepare() -> float:
            async with server.client(connections=16) as client:
                await install_crd(client, pack)
                return await create_webapps(client, pack, size)

        created = asyncio.run(prepare())
        result, process = _measure(
            server, argv, work / "operator.log", size, TIMEOUTS.get(size, 600.0)
        )
        try:
            if process.poll() is not None or not result.finished:
                result.exit_note = _log_tail(work / "operator.log", process)

            async def check() -> tuple[tuple[int, int], bool]:
                async with server.client() as client:
                    return await check_children(client, expected, "web-00000")

            result.children, result.same_as_simulate = asyncio.run(check())
        finally:
            stop_process(process)
    result.operator, result.create_per_s = name, created
    return result


def _log_tail(log: Path, process: subprocess.Popen[bytes], lines: int = 5) -> str:
    state = "running" if process.poll() is None else f"exited {process.returncode}"
    tail = log.read_text(errors="replace").splitlines()[-lines:]
    return f"operator {state}; its log ends:\n          " + "\n          ".join(tail)


# -- the two operators ----------------------------------------------------------------------
def kopf_argv(pack: Path, kubeconfig: Path) -> list[str]:
    return [str(BIN / "kopf"), "run", "--standalone", "-A", "--quiet", str(HERE / "kopf_webapp.py")]


def ork_argv(pack: Path, kubeconfig: Path) -> list[str]:
    return [
        str(BIN / "ork"),
        "run",
        "-f",
        str(pack / "katalog.yaml"),
        "--kubeconfig",
        str(kubeconfig),
        "--http-port",
        "0",
        "--log-level",
        "warning",
        *extra_ork_args(),
    ]


def extra_ork_args() -> list[str]:
    """More ``ork run`` options from ``$ORK_RUN_ARGS`` (e.g. ``--workers 3``, to measure
    another setting than the katalog's own; none by default)."""
    return shlex.split(os.environ.get("ORK_RUN_ARGS", ""))


def ork_available() -> str | None:
    """Why ``ork run`` cannot be measured (None: it can)."""
    done = subprocess.run(
        [str(BIN / "ork"), "run", "--help"], capture_output=True, text=True, check=False
    )
    return None if done.returncode == 0 else (done.stderr.strip() or "ork run --help failed")


def print_run(r: RunResult) -> None:
    state = "all Ready" if r.finished else f"TIMED OUT, {r.ready:,}/{r.size:,} Ready"
    first = f"{r.first_ready:.2f} s" if r.first_ready is not None else "never"
    print(
        f"  {r.operator:<5} N={r.size:>6,}  {r.seconds:7.1f} s {state}  "
        f"{r.rate:6.1f} reconciles/s  first Ready {first}  "
        f"peak RSS {mib(r.operator_peak_kib):4.0f} MiB  CPU {r.operator_cpu:5.1f} s "
        f"({r.cpu_ms:.1f} ms/CR)  [load {r.load:.2f} at start]"
    )
    print(
        f"        server: CPU {r.server_cpu:5.1f} s in the run ({r.server_bound:.0f} CRs per "
        f"server CPU second), RSS {mib(r.server_rss_before_kib):.0f} MiB with the CRs, peak "
        f"{mib(r.server_peak_kib):.0f} MiB; {r.size:,} CRs created at "
        f"{r.create_per_s:,.0f}/s beforehand"
    )
    print(
        f"        children: {r.children[0]:,} Deployments + {r.children[1]:,} Services; "
        f"web-00000's equal simulate's: {'yes' if r.same_as_simulate else 'NO'}"
        + (f"\n        {r.exit_note}" if r.exit_note else "")
    )


def best(results: list[RunResult]) -> dict[tuple[str, int], RunResult]:
    """The fastest run of each operator and size."""
    chosen: dict[tuple[str, int], RunResult] = {}
    for r in results:
        key = (r.operator, r.size)
        if key not in chosen or r.rate > chosen[key].rate:
            chosen[key] = r
    return chosen


def print_ratios(results: list[RunResult]) -> None:
    by = best(results)
    for size in sorted({r.size for r in results}):
        ork, kopf = by.get(("ork", size)), by.get(("kopf", size))
        if ork is None or kopf is None or not kopf.rate or not ork.cpu_ms:
            continue
        memory = ork.operator_peak_kib / max(kopf.operator_peak_kib, 1)
        print(
            f"  N={size:>6,}: ork run {ork.rate / kopf.rate:4.2f}x Kopf's throughput (target "
            f">= {TARGET_RATIO:.0f}x) at {memory:4.2f}x its peak RSS (target <= 1x); "
            f"{kopf.cpu_ms / ork.cpu_ms:4.2f}x less operator CPU per CR"
        )
        print(
            f"           embedded server CPU per CR: {ork.server_ms:.2f} ms in ork run's best run, "
            f"{kopf.server_ms:.2f} ms in Kopf's"
        )


def operators_to_run() -> list[tuple[str, Launcher]]:
    chosen: list[tuple[str, Launcher]] = [("kopf", kopf_argv)]
    reason = ork_available()
    if reason is None:
        chosen.append(("ork", ork_argv))
    else:
        print(f"  ork run: PENDING ({reason})")
    return chosen


def run(sizes: tuple[int, ...] = SIZES) -> None:
    print(
        f"\nOperators on the embedded API server (kopf {version('kopf')}): 02-katalog-api, "
        "N WebApps created before the operator starts; time from its spawn to all Ready"
        + (f"; ork run {shlex.join(extra_ork_args())}" if extra_ork_args() else "")
    )
    exit_on_sigterm()
    results = []
    with tempfile.TemporaryDirectory(prefix="ork-bench-ops-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [str(BIN / "ork"), "init", "--pack", "registry-guide"],
            cwd=work,
            check=True,
            capture_output=True,
        )
        pack = work / "registry-guide" / "02-katalog-api"
        expected = simulated_children(pack)
        operators = operators_to_run()
        for size in sizes:
            for _ in range(REPEATS.get(size, 1)):
                for name, launcher in operators:
                    result = run_one(name, launcher, pack, size, work, expected)
                    print_run(result)
                    results.append(result)
    print_ratios(results)


if __name__ == "__main__":
    run(tuple(int(a) for a in sys.argv[1:]) or SIZES)
