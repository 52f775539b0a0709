"""``ork push`` and ``ork pull`` against ``skopeo copy`` of the same artifact (issue 16,
item 4), on a local docker-registry, whole processes, median of a few runs each:

* a fresh push: ``ork push --force`` of the 02 pattern (gates skipped: the upload and the
  process start) into a namespace of its own each run, against ``skopeo copy`` of the same
  artifact from an OCI layout into a new repository (target: within 3x); ``ork push`` with
  its gates for scale (a re-push of the verified version: what a publisher runs again);
* a pull: ``ork pull --refresh -o DIR`` against ``skopeo copy`` from the registry into a
  new OCI layout (target: within 2x);
* the HTTP requests of a fresh push and of an unchanged re-push, read from the registry's
  access log (budget: two per new blob plus six; one per blob plus six).

``python -m benchmarks.push``; needs skopeo and docker-registry (``make test`` installs
both). The ``python -c pass`` floor is printed beside: ork pays an interpreter start, skopeo
(Go) does not.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.registry import Setup, setup
from benchmarks.render import run_once

ORK = str(Path(sys.executable).parent / "ork")
PUSH_TARGET, PULL_TARGET = 3.0, 2.0
OTHERS = 6
"""Requests of a push that are not per blob: the version check, the push record, the
tag's HEAD and PUT, the record listing and the index manifest."""
TAG = "webapp-operator:v1.0.0"


def median_s(
    command: Callable[[int], tuple[list[str], dict[str, str]]], work: Path, runs: int
) -> float:
    """Median wall seconds of ``runs`` processes; run ``i`` is ``command(i)`` (argv, env)."""
    commands = [command(i) for i in range(runs)]
    return statistics.median(run_once(argv, work, env)[0] for argv, env in commands)


def requests(s: Setup) -> tuple[int, int, int, int]:
    """Requests and blobs of a fresh push, then of an unchanged re-push (with its gates)."""
    namespace = "counted/katalogs"
    env = {**s.env, "ORK_REGISTRY": f"{s.registry.host}/{namespace}"}
    subprocess.run([ORK, "push", str(s.pattern)], env=env, check=True, capture_output=True)
    fresh = len(s.registry.requests(namespace))
    new = len(s.registry.blobs(namespace))
    subprocess.run([ORK, "push", str(s.pattern)], env=env, check=True, capture_output=True)
    again = len(s.registry.requests(namespace)) - fresh
    return fresh, new, again, len(referenced(env))


def referenced(env: dict[str, str]) -> set[tuple[str, str]]:
    """(repository, digest) of the blobs the pushed pattern and the index name."""
    from orkestra.registry.client import RegistryClient

    client = RegistryClient(env)
    ref = client.resolve(TAG)
    named = set()
    for target in (ref, ref.index()):
        manifest, _, _ = client.manifest(target)
        named |= {(target.repository, d.digest) for d in (manifest.config, *manifest.layers)}
    return named


def run(runs: int = 7) -> None:
    skopeo = shutil.which("skopeo")
    if skopeo is None or not Path("/usr/bin/docker-registry").exists():
        print(
            "\nPush and pull: skipped (needs skopeo and docker-registry; make test installs them)"
        )
        return
    with setup(ORK) as s:
        host, work = s.registry.host, s.work
        subprocess.run([ORK, "push", str(s.pattern)], env=s.env, check=True, capture_output=True)
        source, layout = f"docker://{host}/bench/katalogs/{TAG}", work / "layout"
        subprocess.run(
            [skopeo, "copy", "--quiet", "--src-tls-verify=false", source, f"oci:{layout}:v1.0.0"],
            check=True,
            capture_output=True,
        )
        floor = median_s(lambda i: ([sys.executable, "-c", "pass"], {}), work, runs)
        skopeo_push = median_s(
            lambda i: (
                [
                    skopeo,
                    "copy",
                    "--quiet",
                    "--dest-tls-verify=false",
                    f"oci:{layout}:v1.0.0",
                    f"docker://{host}/skopeo{i}/katalogs/{TAG}",
                ],
                {},
            ),
            work,
            runs,
        )
        ork_push = median_s(
            lambda i: (
                [ORK, "push", "--force", str(s.pattern)],
                {**s.env, "ORK_REGISTRY": f"{host}/fresh{i}/katalogs"},
            ),
            work,
            runs,
        )
        gated = median_s(lambda i: ([ORK, "push", str(s.pattern)], s.env), work, runs)
        skopeo_pull = median_s(
            lambda i: (
                [
                    skopeo,
                    "copy",
                    "--quiet",
                    "--src-tls-verify=false",
                    source,
                    f"oci:{work / f'skopeo-out{i}'}:v1.0.0",
                ],
                {},
            ),
            work,
            runs,
        )
        ork_pull = median_s(
            lambda i: ([ORK, "pull", TAG, "--refresh", "-o", str(work / f"ork-out{i}")], s.env),
            work,
            runs,
        )
        fresh, new, again, blobs = requests(s)
    print(
        f"\nPush and pull: 02 pattern against skopeo copy of the same artifact, "
        f"docker-registry on 127.0.0.1, median of {runs} whole-process runs"
    )
    print(f"  python -c pass                      {floor * 1000:7.1f} ms  (floor)")
    print(f"  skopeo copy layout -> registry      {skopeo_push * 1000:7.1f} ms  (reference)")
    print(
        f"  ork push --force, fresh namespace   {ork_push * 1000:7.1f} ms  "
        f"({ork_push / skopeo_push:4.2f}x skopeo; target <= {PUSH_TARGET:.0f}x)"
    )
    print(
        f"  ork push with its gates (re-push)   {gated * 1000:7.1f} ms  "
        f"({gated / skopeo_push:4.2f}x skopeo)"
    )
    print(f"  skopeo copy registry -> layout      {skopeo_pull * 1000:7.1f} ms  (reference)")
    print(
        f"  ork pull --refresh -o DIR           {ork_pull * 1000:7.1f} ms  "
        f"({ork_pull / skopeo_pull:4.2f}x skopeo; target <= {PULL_TARGET:.0f}x)"
    )
    print(
        f"  requests, fresh push: {fresh} for {new} new blobs (budget {2 * new + OTHERS}); "
        f"unchanged re-push: {again} for {blobs} blobs (budget {blobs + OTHERS})"
    )


if __name__ == "__main__":
    run()
