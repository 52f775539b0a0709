"""Where a suite runs: the embedded API server, a kind cluster, or an existing context.

A target brings a cluster up and down and hands the runner a :class:`Cluster`: a
kubeconfig of its own (a flattened copy for an existing context, so a run never switches
the user's current context) and what kind of cluster it is, for the record. Only clusters
the target created are deleted; an existing one is cleaned by the runner's teardown.
:class:`ContextGuard` puts the user's current context back on every exit path, since
``kind`` and the suites' own commands may switch it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from orkestra.e2e.commands import Commands, Completed
from orkestra.e2e.kubectl import KubectlError
from orkestra.e2e.result import EMBEDDED, EXISTING, KIND
from orkestra.errors import OrkError

if TYPE_CHECKING:
    from orkestra.apiserver import EmbeddedServer


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    kind: str
    name: str


class Target(Protocol):
    kind: str

    def up(self) -> Cluster: ...

    def down(self) -> None: ...


class EmbeddedTarget:
    """The embedded API server on a free port of this process (no kubelet: workloads are
    reported ready as in simulate)."""

    kind = EMBEDDED

    def __init__(self) -> None:
        self.server: EmbeddedServer | None = None

    def up(self) -> Cluster:
        from orkestra.apiserver import EmbeddedServer

        self.server = EmbeddedServer().start()
        return Cluster(self.server.kubeconfig, EMBEDDED, self.server.url)

    def down(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class CurrentTarget:
    """A cluster someone else owns: the current context, or ``context``. Never deleted."""

    kind = EXISTING

    def __init__(
        self, commands: Commands, *, kubeconfig: Path | None = None, context: str | None = None
    ) -> None:
        self.commands = commands
        self.kubeconfig = kubeconfig
        self.context = context
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def up(self) -> Cluster:
        argv = ["kubectl", "config", "view", "--minify", "--flatten", "--raw"]
        if self.kubeconfig is not None:
            argv += ["--kubeconfig", str(self.kubeconfig)]
        if self.context:
            argv += ["--context", self.context]
        done = self.commands.run(argv, timeout=30)
        if not done.ok or "server:" not in done.stdout:
            which = f" {self.context!r}" if self.context else ""
            raise OrkError(
                f"no usable kubectl context{which}: {done.message()}",
                hint="kubectl config get-contexts lists them",
            )
        self._scratch = tempfile.TemporaryDirectory(prefix="ork-e2e-")
        path = Path(self._scratch.name) / "kubeconfig"
        path.write_text(done.stdout, encoding="utf-8")
        path.chmod(0o600)
        return Cluster(path, EXISTING, self.context or _current(done.stdout))

    def down(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


class KindTarget:
    """A kind cluster named ``name``: created for the run (an existing one is deleted
    first unless ``reuse``), deleted after it unless ``keep``."""

    kind = KIND

    def __init__(
        self, commands: Commands, name: str, *, reuse: bool = False, keep: bool = False
    ) -> None:
        self.commands = commands
        self.name = name
        self.reuse = reuse
        self.keep = keep
        self._created = False
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    @staticmethod
    def available() -> bool:
        return all(shutil.which(p) for p in ("docker", "kind"))

    def up(self) -> Cluster:
        self._scratch = tempfile.TemporaryDirectory(prefix="ork-e2e-kind-")
        kubeconfig = Path(self._scratch.name) / "kubeconfig"
        exists = self.name in self._clusters()
        if exists and not self.reuse:
            self._kind("delete", "cluster", "--name", self.name)
            exists = False
        if exists:
            self._kind("export", "kubeconfig", "--name", self.name, "--kubeconfig", str(kubeconfig))
        else:
            self._created = True  # a create cut off half-way is still deleted in down()
            self._kind(
                "create",
                "cluster",
                "--name",
                self.name,
                "--kubeconfig",
                str(kubeconfig),
                "--wait",
                "120s",
                timeout=600,
            )
        return Cluster(kubeconfig, KIND, self.name)

    def down(self) -> None:
        if self._created and not self.keep:
            self._kind("delete", "cluster", "--name", self.name, timeout=300)
            self._created = False
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def _clusters(self) -> list[str]:
        return self._kind("get", "clusters").stdout.split()

    def _kind(self, *args: str, timeout: float = 120.0) -> Completed:
        done = self.commands.run(["kind", *args], timeout=timeout)
        if not done.ok:
            raise KubectlError(f"kind {' '.join(args)}: {done.message()}")
        return done


class ContextGuard:
    """Remembers the current kubectl context and switches back to it if a run changed it."""

    def __init__(self, commands: Commands, kubeconfig: Path | None = None) -> None:
        self.commands = commands
        self.kubeconfig = kubeconfig
        self.saved: str | None = None

    def _argv(self, *args: str) -> list[str]:
        extra = ["--kubeconfig", str(self.kubeconfig)] if self.kubeconfig else []
        return ["kubectl", "config", *args, *extra]

    def __enter__(self) -> ContextGuard:
        done = self.commands.run(self._argv("current-context"), timeout=30)
        self.saved = done.stdout.strip() if done.ok else None
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.saved:
            return
        done = self.commands.run(self._argv("current-context"), timeout=30)
        if done.stdout.strip() != self.saved:
            self.commands.run(self._argv("use-context", self.saved), timeout=30)


def _current(config: str) -> str:
    for line in config.splitlines():
        if line.startswith("current-context:"):
            return line.split(":", 1)[1].strip()
    return "current context"
