"""The e2e pipeline: a cluster, the CRDs, the setup, the runtime, the CR, the
expectations, and a teardown that leaves nothing behind.

For one suite, in order: apply the CRDs (the suite's ``crd``, else the katalog's
``crdFile`` manifests) and wait until they are established; apply ``setup.apply`` files,
install ``setup.helm`` releases, wait for ``setup.wait`` objects; start the runtime on the
katalog (not for a custom operator); run the expectations in order, applying the CR
before the first ``cr-applied`` one and deleting it before the first ``cr-deleted`` one,
polling each until its checks pass or its timeout ends; then its imports, sharing the
cluster unless ``freshCluster``. Teardown runs on every exit path, Ctrl-C included, in
reverse: the CR (while the runtime still runs, so its finalizers are honoured), the
runtime, the helm releases, the setup files, the CRDs; then whatever is still there is
reported as a leftover and fails the suite.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from orkestra.e2e import checks
from orkestra.e2e.commands import Commands, Completed
from orkestra.e2e.host import RuntimeHost
from orkestra.e2e.kubectl import Kubectl, KubectlError, require
from orkestra.e2e.result import (
    EMBEDDED,
    EXISTING,
    KIND,
    CheckResult,
    ExpectationResult,
    RunResult,
    SuiteResult,
)
from orkestra.e2e.spec import CR_APPLIED, CR_DELETED, Expectation, HelmRelease, Suite
from orkestra.e2e.targets import (
    Cluster,
    ContextGuard,
    CurrentTarget,
    EmbeddedTarget,
    KindTarget,
    Target,
)
from orkestra.engine.build.base import OWNER_NAME_LABEL, label_value
from orkestra.errors import OrkError
from orkestra.kubeobjects import KubeObject
from orkestra.plan.objects import inventory
from orkestra.runtime import Unit

CLUSTER_KINDS = (EMBEDDED, KIND, EXISTING)


class Progress(Protocol):
    """Where the runner reports as it goes (the CLI prints; the push gate stays quiet)."""

    def step(self, text: str) -> None: ...

    def done(self, text: str) -> None: ...

    def expectation(self, result: ExpectationResult) -> None: ...

    def suite(self, suite: Suite, cluster: Cluster) -> None: ...


@dataclass(kw_only=True)
class Options:
    cluster_kind: str | None = None
    context: str | None = None
    kubeconfig: Path | None = None
    keep_cluster: bool = False
    poll: float = 1.0
    workers: int | None = None
    #: How long teardown waits for garbage collection before calling what remains a
    #: leftover.
    settle: float = 30.0
    #: Run the Python hooks of pulled patterns.
    trust_hooks: bool = False


def choose_target(suite: Suite, options: Options, commands: Commands) -> Target:
    """``--cluster-kind`` (or ``--use-current``/``--cluster``), else the file's provider;
    kind falls back to the embedded server where docker or kind is missing."""
    wanted = options.cluster_kind
    if wanted is None:
        wanted = (
            suite.cluster.provider
            if suite.cluster.provider != KIND or KindTarget.available()
            else EMBEDDED
        )
    if wanted == EXISTING:
        return CurrentTarget(commands, kubeconfig=options.kubeconfig, context=options.context)
    if wanted == KIND:
        if not KindTarget.available():
            raise OrkError(
                "--cluster-kind kind needs docker and kind on PATH",
                hint="use --cluster-kind embedded (no Docker needed) or --use-current",
            )
        return KindTarget(
            commands, suite.cluster.name, reuse=suite.cluster.reuse, keep=options.keep_cluster
        )
    return EmbeddedTarget()


def run(
    suite: Suite, options: Options, progress: Progress, commands: Commands | None = None
) -> RunResult:
    """Run ``suite`` and its imports; the kubectl context is restored however it ends."""
    commands = commands or Commands()
    require(
        "kubectl",
        "e2e drives the cluster with kubectl: install it (https://kubernetes.io/docs/tasks/tools/)",
    )
    started = time.monotonic()
    result = RunResult()
    units = _load_units(suite, options.trust_hooks)  # a broken katalog fails first
    with ContextGuard(commands, options.kubeconfig):
        _run_tree(suite, options, progress, commands, result, None, units)
    result.seconds = time.monotonic() - started
    return result


def _load_units(suite: Suite, trust_hooks: bool) -> dict[Path, Unit]:
    """The composed katalog of every suite in the tree, by katalog file."""
    units: dict[Path, Unit] = {}
    if suite.katalog is not None and not suite.custom:
        units[suite.katalog] = Unit.load(
            suite.katalog, _shown_next_to(suite, suite.katalog), trust_hooks=trust_hooks
        )
    for item in suite.imports:
        units.update(_load_units(item.suite, trust_hooks))
    return units


def _run_tree(
    suite: Suite,
    options: Options,
    progress: Progress,
    commands: Commands,
    result: RunResult,
    target: tuple[Target, Cluster] | None,
    units: dict[Path, Unit],
) -> None:
    owned = target is None
    chosen = target[0] if target is not None else choose_target(suite, options, commands)
    try:
        if target is None:
            progress.step(
                f"Starting a cluster ({chosen.kind})..."
                if chosen.kind != EXISTING
                else "Using the current cluster..."
            )
            target = (chosen, chosen.up())
        if suite.expect or suite.katalog or suite.cr:
            unit = units.get(suite.katalog) if suite.katalog is not None else None
            result.suites.append(SuiteRun(suite, target[1], options, progress, unit).run())
        for item in suite.imports:
            if item.wait:
                time.sleep(item.wait)
            _run_tree(
                item.suite,
                options,
                progress,
                commands,
                result,
                None if item.fresh_cluster else target,
                units,
            )
    finally:
        if owned:
            with _shielded():
                chosen.down()


class SuiteRun:
    """One suite on one cluster."""

    def __init__(
        self,
        suite: Suite,
        cluster: Cluster,
        options: Options,
        progress: Progress,
        unit: Unit | None,
    ) -> None:
        self.suite = suite
        self.cluster = cluster
        self.options = options
        self.progress = progress
        env = {"KUBECONFIG": str(cluster.kubeconfig)}
        self.shell = Commands(env)
        self.kubectl = Kubectl(cluster.kubeconfig, self.shell)
        self.result = SuiteResult(name=suite.name, file=suite.display, cluster=cluster.kind)
        self.unit = unit
        self.crds: list[KubeObject] = []
        self.applied: list[Path] = []
        self.releases: list[HelmRelease] = []
        self.host: RuntimeHost | None = None
        self.cr_applied = False
        self.cr_failed = ""
        self.children: list[tuple[str, str, str]] = []

    def run(self) -> SuiteResult:
        started = time.monotonic()
        self.progress.suite(self.suite, self.cluster)
        try:
            self._prepare()
            for expectation in self.suite.expect:
                outcome = self._expect(expectation)
                self.result.expectations.append(outcome)
                self.progress.expectation(outcome)
        except OrkError as exc:  # KubectlError among them
            self.result.error = exc.message
        finally:
            with _shielded():
                self._teardown()
        self.result.seconds = time.monotonic() - started
        return self.result

    # -- before the expectations --------------------------------------------------------
    def _prepare(self) -> None:
        self.crds = self._crd_objects()
        if self.crds:
            self.progress.step("Applying CRDs...")
            self._must(self.kubectl.apply_objects(self.crds), "apply the CRDs")
            for crd in self.crds:
                self.kubectl.must(
                    "wait",
                    "--for=condition=Established",
                    "--timeout=60s",
                    f"crd/{crd['metadata']['name']}",
                    timeout=70,
                )
            self.progress.done(
                f"{len(self.crds)} CRD{'s' if len(self.crds) != 1 else ''} established"
            )
        for path in self.suite.apply:
            self._must(self.kubectl.apply_file(path), f"apply {path.name}")
            self.applied.append(path)
            self.progress.done(f"applied {path.name}")
        for release in self.suite.helm:
            self._helm_install(release)
        for wait in self.suite.wait:
            self._setup_wait(wait.kind, wait.name, wait.namespace, wait.timeout)
        if self.unit is not None:
            self.progress.step("Starting the Orkestra runtime...")
            self.host = RuntimeHost(
                [self.unit], self.cluster.kubeconfig, workers=self.options.workers
            )
            self.host.start()
            self.progress.done("Orkestra runtime ready")

    def _crd_objects(self) -> list[KubeObject]:
        if self.suite.crds:
            return [
                o
                for path in self.suite.crds
                for o in self.kubectl.objects_of(path)
                if o.get("kind") == "CustomResourceDefinition"
            ]
        if self.unit is not None:
            return list(self.unit.composed.crd_manifests.values())
        return []

    def _helm_install(self, release: HelmRelease) -> None:
        helm = require(
            "helm",
            "setup.helm installs charts with helm: install it "
            "(https://helm.sh/docs/intro/install/)",
        )
        argv = [
            helm,
            "upgrade",
            "--install",
            release.release,
            release.chart,
            "--namespace",
            release.namespace,
            "--kubeconfig",
            str(self.cluster.kubeconfig),
            "--wait",
        ]
        argv += ["--repo", release.repo] if release.repo else []
        argv += ["--version", release.version] if release.version else []
        argv += ["--create-namespace"] if release.create_namespace else []
        for path in release.value_files:
            argv += ["--values", str(path)]
        for key, value in release.values.items():
            argv += ["--set-json", f"{key}={json.dumps(value)}"]
        self.progress.step(f"Installing {release.chart} ({release.release})...")
        self._must(self.shell.run(argv, timeout=600), f"helm install {release.release}")
        self.releases.append(release)
        self.progress.done(f"{release.release} installed")

    def _setup_wait(self, kind: str, name: str, namespace: str, timeout: float) -> None:
        if kind == "Deployment":
            args = ["rollout", "status", f"deployment/{name}"]
        else:
            args = ["wait", "--for=condition=Ready", f"{kind}/{name}"]
        args += ["-n", namespace, f"--timeout={timeout:g}s"]
        self._must(self.kubectl.run(*args, timeout=timeout + 10), f"wait for {kind} {name}")
        self.progress.done(f"{kind} {name} ready")

    # -- the expectations ---------------------------------------------------------------
    def _expect(self, expectation: Expectation) -> ExpectationResult:
        result = ExpectationResult(
            name=expectation.name, after=expectation.after, timeout=expectation.timeout
        )
        self._trigger(expectation.after)
        if self.cr_failed and expectation.after == CR_APPLIED:
            first = not any(e.after == CR_APPLIED for e in self.result.expectations)
            result.checks = [
                CheckResult(
                    "apply the CR",
                    False,
                    self.cr_failed if first else "not run: the CR was rejected (see above)",
                )
            ]
            return result
        started = time.monotonic()
        deadline = started + expectation.timeout
        while True:
            remaining = deadline - time.monotonic()
            result.checks = checks.poll(expectation, self.kubectl, self.shell, remaining)
            result.seconds = time.monotonic() - started
            if all(c.passed for c in result.checks):
                result.passed = True
                return result
            if time.monotonic() + self.options.poll > deadline:
                result.timed_out = True
                result.denial = self._denial()
                return result
            time.sleep(self.options.poll)

    def _trigger(self, after: str) -> None:
        cr = self.suite.cr
        if cr is None:
            return
        if after == CR_APPLIED and not self.cr_applied and not self.cr_failed:
            self.progress.step("Applying CR...")
            done = self.kubectl.apply_file(cr)
            if done.ok:
                self.cr_applied = True
                self.progress.done("CR applied")
            else:
                self.cr_failed = f"kubectl apply -f {cr.name}: {done.message()}"
        elif after == CR_DELETED and self.cr_applied:
            self._record_children()
            self.progress.step("Deleting CR...")
            self.kubectl.delete_file(cr, wait=False)
            self.cr_applied = False

    def _denial(self) -> str:
        if self.suite.cr is None or not self.cr_applied:
            return ""
        for obj in self.kubectl.objects_of(self.suite.cr):
            said = checks.denial(self.kubectl, obj)
            if said:
                return said
        return ""

    # -- teardown -----------------------------------------------------------------------
    def _teardown(self) -> None:
        self.progress.step("Cleaning up...")
        if self.cr_applied and self.suite.cr is not None:
            self._record_children()
            self.kubectl.delete_file(self.suite.cr, wait=True)
        if self.host is not None:
            self.host.stop()
        for release in reversed(self.releases):
            self.shell.run(
                [
                    "helm",
                    "uninstall",
                    release.release,
                    "--namespace",
                    release.namespace,
                    "--kubeconfig",
                    str(self.cluster.kubeconfig),
                    "--wait",
                ],
                timeout=300,
            )
        for path in reversed(self.applied):
            self.kubectl.delete_file(path, wait=True)
        for crd in reversed(self.crds):
            self.kubectl.delete("crd", crd["metadata"]["name"])
        self.result.leftovers = self._leftovers()
        if self.result.leftovers:
            self.progress.done(f"left behind: {', '.join(self.result.leftovers)}")
        else:
            self.progress.done("nothing left behind")

    def _record_children(self) -> None:
        """The objects the runtime made for the CR (found by the engine's owner label)."""
        if self.unit is None or self.suite.cr is None:
            return
        names = [
            o["metadata"]["name"]
            for o in self.kubectl.objects_of(self.suite.cr)
            if isinstance(o.get("metadata"), dict)
        ]
        for kind in self._child_kinds():
            for name in names:
                found, _ = self.kubectl.get(
                    kind, "", None, selector=f"{OWNER_NAME_LABEL}={label_value(name)}"
                )
                self.children += [
                    (o["kind"], (o["metadata"].get("namespace") or ""), o["metadata"]["name"])
                    for o in found
                ]

    def _child_kinds(self) -> list[str]:
        """Every kind the katalog can create (what ``ork plan`` lists): its templates' and
        the kinds its hooks declare they manage."""
        assert self.unit is not None
        crds = [crd for crd in inventory(self.unit.composed).crds if crd.enabled]
        return list(
            dict.fromkeys(
                kind for crd in crds for kind in (*(o.kind for o in crd.objects), *crd.hook_kinds)
            )
        )

    def _leftovers(self) -> list[str]:
        """What teardown should have removed and is still there (garbage collection on a
        real cluster takes a moment: what remains is asked again until ``settle`` seconds
        pass)."""
        deadline = time.monotonic() + self.options.settle
        left = list(dict.fromkeys(self._removed()))
        while True:
            left = [key for key in left if self.kubectl.get(key[0], key[2], key[1] or None)[0]]
            if not left or time.monotonic() > deadline:
                return [
                    f"{kind}/{namespace + '/' if namespace else ''}{name}"
                    for kind, namespace, name in left
                ]
            time.sleep(1.0)

    def _removed(self) -> list[tuple[str, str, str]]:
        """(kind, namespace, name) of everything teardown removes."""
        removed = [(c["kind"], "", c["metadata"]["name"]) for c in self.crds]
        removed += self.children
        for path in self.applied:
            removed += [
                (o["kind"], (o.get("metadata") or {}).get("namespace") or "", o["metadata"]["name"])
                for o in self.kubectl.objects_of(path)
                if isinstance(o.get("metadata"), dict)
            ]
        return removed

    def _must(self, done: Completed, what: str) -> None:
        if not done.ok:
            raise KubectlError(f"{what}: {done.message()}")


def _shown_next_to(suite: Suite, path: Path) -> str:
    """``path`` as the user would write it: relative to how the suite file was named."""
    return os.path.normpath(Path(suite.display).parent / os.path.relpath(path, suite.file.parent))


@contextmanager
def _shielded() -> Iterator[None]:
    """Teardown is not interrupted by a second Ctrl-C (it would leave things behind)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, _still_cleaning)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _still_cleaning(_signum: int, _frame: object) -> None:
    print("cleaning up, please wait (the cluster would be left dirty)", file=sys.stderr)


__all__ = ["CLUSTER_KINDS", "Options", "Progress", "SuiteRun", "choose_target", "run"]
