"""The kubectl-level steps of a suite, against one kubeconfig.

e2e drives the cluster the way its users do, with the real ``kubectl`` (and ``helm``), so
what it proves is what ``kubectl apply`` of the same files does: admission, defaults,
validation, rollout. Every call names the kubeconfig explicitly; the user's current
context is never switched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import cast

import yaml

from orkestra import yamltext
from orkestra.e2e.commands import Commands, Completed
from orkestra.errors import OrkError
from orkestra.kubeobjects import KubeObject
from orkestra.model.source import LOADER, read_text


class KubectlError(OrkError):
    """kubectl (or helm) failed at a step that has no expectation of its own."""


def require(program: str, hint: str) -> str:
    """The path of ``program``, or a clear error naming what to install."""
    found = shutil.which(program)
    if found is None:
        raise OrkError(f"{program} not found on PATH", hint=hint)
    return found


class Kubectl:
    def __init__(
        self,
        kubeconfig: Path,
        commands: Commands,
        *,
        binary: str = "kubectl",
        context: str | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.commands = commands
        self.binary = binary
        self.context = context

    def run(self, *args: str, input: str | None = None, timeout: float = 60.0) -> Completed:
        argv = [self.binary, "--kubeconfig", str(self.kubeconfig)]
        if self.context:
            argv += ["--context", self.context]
        return self.commands.run([*argv, *args], input=input, timeout=timeout)

    def must(self, *args: str, input: str | None = None, timeout: float = 60.0) -> Completed:
        done = self.run(*args, input=input, timeout=timeout)
        if not done.ok:
            raise KubectlError(f"kubectl {' '.join(args)}: {done.message()}")
        return done

    # -- writes -----------------------------------------------------------------------
    def apply_file(self, path: Path) -> Completed:
        return self.run("apply", "-f", str(path))

    def apply_objects(self, objects: list[KubeObject]) -> Completed:
        return self.run("apply", "-f", "-", input=yamltext.safe_all(objects))

    def delete_file(self, path: Path, *, wait: bool, timeout: float = 60.0) -> Completed:
        return self.run(
            "delete",
            "-f",
            str(path),
            "--ignore-not-found",
            f"--wait={'true' if wait else 'false'}",
            f"--timeout={timeout:g}s",
            timeout=timeout + 10,
        )

    def delete(
        self, kind: str, name: str, namespace: str | None = None, *, timeout: float = 60.0
    ) -> Completed:
        args = ["delete", kind, name, "--ignore-not-found", f"--timeout={timeout:g}s"]
        return self.run(*args, *(["-n", namespace] if namespace else []), timeout=timeout + 10)

    # -- reads ------------------------------------------------------------------------
    def get(
        self, kind: str, name: str = "", namespace: str | None = None, selector: str = ""
    ) -> tuple[list[KubeObject], str]:
        """The objects (one named, or all of ``kind``), and kubectl's error if any."""
        args = ["get", kind, *([name] if name else []), "-o", "json"]
        args += ["-n", namespace] if namespace else ["-A"] if not name else []
        if selector:
            args += ["-l", selector]
        done = self.run(*args, timeout=30)
        if not done.ok:
            if "NotFound" in done.stderr or "not found" in done.stderr:
                return [], ""
            return [], done.message()
        data = json.loads(done.stdout)
        return (data.get("items", []) if data.get("kind", "").endswith("List") else [data], "")

    def field(self, kind: str, name: str, namespace: str, path: str) -> tuple[str | None, str]:
        """``kubectl get -o jsonpath={path}``: the value, or None and why."""
        expression = path if path.startswith("{") else "{" + path + "}"
        done = self.run(
            "get", kind, name, "-n", namespace, "-o", f"jsonpath={expression}", timeout=30
        )
        return (done.stdout, "") if done.ok else (None, done.message())

    def objects_of(self, path: Path) -> list[KubeObject]:
        """The manifests in a file (what ``kubectl apply -f`` would send)."""
        documents = yaml.load_all(read_text(path), Loader=LOADER)
        # (cast: kubectl, not this reader, checks a manifest's shape)
        return [cast(KubeObject, d) for d in documents if isinstance(d, dict)]
