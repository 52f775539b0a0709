"""Registry benchmarks: ``ork push`` / ``ork pull`` of the 02 pattern against a local
docker-registry, versus ``skopeo copy`` of the same artifact, and the HTTP requests a push
makes (counted by a pass-through proxy that logs each request)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.registry.server import DistributionRegistry, FaultProxy


@dataclass
class Setup:
    registry: DistributionRegistry
    pattern: Path
    env: dict[str, str]
    work: Path


def median_ms(
    argv: list[str],
    env: dict[str, str],
    runs: int,
    cwd: Path | None = None,
    before: list[str] | None = None,
) -> float:
    times = []
    for _ in range(runs):
        if before:
            subprocess.run(before, check=True, capture_output=True)
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{argv} failed: {done.stderr.decode()}")
    return statistics.median(times) * 1000


@contextmanager
def setup(ork: str) -> Iterator[Setup]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        registry = DistributionRegistry(work / "registry").start()
        try:
            env = {
                **os.environ,
                "ORK_HOME": str(work / "home"),
                "NO_COLOR": "1",
                "ORK_REGISTRY": f"{registry.host}/bench/katalogs",
                "ORK_MOTIFS_REGISTRY": f"{registry.host}/bench/motifs",
            }
            subprocess.run(
                [ork, "init", "--pack", "registry-guide"],
                cwd=work,
                env=env,
                check=True,
                capture_output=True,
            )
            guide = work / "registry-guide"
            subprocess.run(
                [ork, "push", str(guide / "01-motifs" / "web-service")],
                env=env,
                check=True,
                capture_output=True,
            )
            pattern = guide / "02-katalog-api"
            katalog = pattern / "katalog.yaml"
            katalog.write_text(
                katalog.read_text().replace(
                    "../01-motifs/web-service/motif.yaml",
                    f"oci://{registry.host}/bench/motifs/web-service:v1.0.0",
                )
            )
            yield Setup(registry, pattern, env, work)
        finally:
            registry.stop()


def requests_per_push(ork: str, s: Setup) -> Counter[str]:
    """Push once through a logging proxy and classify every request."""
    proxy = FaultProxy(s.registry.host).start()
    try:
        env = {
            **s.env,
            "ORK_REGISTRY": f"{proxy.host}/count/katalogs",
            "ORK_MOTIFS_REGISTRY": f"{s.registry.host}/bench/motifs",
        }
        subprocess.run([ork, "push", str(s.pattern)], env=env, check=True, capture_output=True)
    finally:
        proxy.stop()
    return classify(proxy.log)


def classify(log: list[str]) -> Counter[str]:
    """Requests by purpose: the pattern (blobs and manifest, up to its tagged manifest PUT),
    the index artifact, and the gate report referrer (everything after, in its repo)."""
    kinds: Counter[str] = Counter()
    pattern_done = False
    for line in log:
        method, path = line.split(" ", 1)
        repository = path.split("/v2/", 1)[1].split("/blobs/")[0].split("/manifests/")[0]
        target = (
            "blob" if "/blobs/" in path else "manifest" if "/manifests/" in path else "referrers"
        )
        if repository.endswith("/index"):
            area = "index"
        elif pattern_done:
            area = "gate report"
        else:
            area = "pattern"
            pattern_done = method == "PUT" and target == "manifest"
        kinds[f"{area}: {target} {method}"] += 1
    return kinds


def in_process_ms(s: Setup, runs: int) -> tuple[float, float]:
    """Median transfer times inside one warm process: push of the 02 files (blobs already
    there) and pull with --refresh semantics (manifest + every blob, verified, cached)."""
    from orkestra.registry.artifact import Metadata, PatternArtifact, collect_files
    from orkestra.registry.client import RegistryClient

    client = RegistryClient(s.env)
    ref = client.resolve("webapp-operator:v1.0.0")
    artifact = PatternArtifact(
        metadata=Metadata(kind="Katalog", name="webapp-operator", version="v1.0.0"),
        files=collect_files(s.pattern, "Katalog"),
    )
    client.push(artifact, ref.with_tag("warm"))
    pushes, pulls = [], []
    for _ in range(runs):
        start = time.perf_counter()
        client.push(artifact, ref.with_tag("in-process"))
        pushes.append(time.perf_counter() - start)
        start = time.perf_counter()
        client.pull(ref, refresh=True)
        pulls.append(time.perf_counter() - start)
    return statistics.median(pushes) * 1000, statistics.median(pulls) * 1000


def run(runs: int = 15) -> None:
    bindir = Path(sys.executable).parent
    ork = str(bindir / "ork")
    skopeo = shutil.which("skopeo")
    if skopeo is None or not Path("/usr/bin/docker-registry").exists():
        print("\nRegistry: skipped (needs skopeo and docker-registry; make test installs them)")
        return
    with setup(ork) as s:
        host = s.registry.host
        source = f"docker://{host}/bench/katalogs/webapp-operator:v1.0.0"
        layout = s.work / "layout"
        subprocess.run([ork, "push", str(s.pattern)], env=s.env, check=True, capture_output=True)
        subprocess.run(
            [skopeo, "copy", "--quiet", "--src-tls-verify=false", source, f"oci:{layout}:v1.0.0"],
            check=True,
            capture_output=True,
        )
        files = len(
            [
                p
                for p in s.pattern.iterdir()
                if p.name in ("katalog.yaml", "crd.yaml", "README.md", "cr.yaml", "simulate.yaml")
            ]
        )
        skopeo_push = median_ms(
            [
                skopeo,
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                f"oci:{layout}:v1.0.0",
                f"docker://{host}/bench/skopeo/webapp-operator:v1.0.0",
            ],
            s.env,
            runs,
        )
        ork_push = median_ms([ork, "push", "--no-e2e", "--overwrite", str(s.pattern)], s.env, runs)
        ork_push_raw = median_ms(
            [ork, "push", "--no-simulate", "--no-e2e", "--overwrite", str(s.pattern)], s.env, runs
        )
        out = s.work / "out"
        skopeo_pull = median_ms(
            [
                skopeo,
                "copy",
                "--quiet",
                "--src-tls-verify=false",
                source,
                f"oci:{out}-skopeo:v1.0.0",
            ],
            s.env,
            runs,
            before=["rm", "-rf", f"{out}-skopeo"],
        )
        ork_pull = median_ms(
            [ork, "pull", "webapp-operator:v1.0.0", "--refresh", "-o", f"{out}-ork"], s.env, runs
        )
        counted = requests_per_push(ork, s)
        floor = median_ms([sys.executable, "-c", "pass"], s.env, runs)
        imports = median_ms(
            [sys.executable, "-c", "import orkestra.cli.pull, orkestra.registry.remote"],
            s.env,
            runs,
        )
        push_inside, pull_inside = in_process_ms(s, runs)
    print(
        f"\nRegistry: docker-registry on 127.0.0.1, 02 pattern ({files} files), "
        f"median of {runs} whole-process runs"
    )
    print(f"  skopeo copy layout -> registry      {skopeo_push:6.1f} ms  (reference)")
    print(
        f"  ork push --no-e2e (validate, sim.)  {ork_push:6.1f} ms  "
        f"({ork_push / skopeo_push:4.2f}x skopeo; target <= 1.5x)"
    )
    print(
        f"  ork push --no-simulate --no-e2e     {ork_push_raw:6.1f} ms  "
        f"({ork_push_raw / skopeo_push:4.2f}x skopeo)"
    )
    print(f"  skopeo copy registry -> layout      {skopeo_pull:6.1f} ms  (reference)")
    print(
        f"  ork pull --refresh -o DIR           {ork_pull:6.1f} ms  "
        f"({ork_pull / skopeo_pull:4.2f}x skopeo; target <= 1.5x)"
    )
    print(
        f"  where the time goes: python -c pass {floor:.1f} ms; python + the imports of "
        f"ork pull (click, the registry client) {imports:.1f} ms; inside a warm process a "
        f"push of the files takes {push_inside:.1f} ms and a pull {pull_inside:.1f} ms"
    )
    blobs = files + 1
    uploads = counted["pattern: blob POST"] + counted["pattern: blob PUT"]
    print(
        f"  requests per push: {sum(counted.values())} in all; pattern blobs {uploads} for "
        f"{blobs} blobs ({uploads / blobs:.1f} per blob; target <= 2), pattern manifest "
        f"{counted['pattern: manifest PUT']}"
    )
    for kind, count in sorted(counted.items()):
        print(f"    {kind:<28} {count}")
