"""Integration helpers: an embedded API server per test, the runtime on a thread of its own,
polling, its metrics as served, and the reconciles it logs."""

from __future__ import annotations

import asyncio
import logging
import textwrap
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from orkestra.apiserver import EmbeddedServer
from orkestra.loops import new_event_loop
from orkestra.runtime import Operator, Options, Unit
from orkestra.runtime.controller import Controller, Settings
from orkestra.runtime.events import EventRecorder
from orkestra.runtime.kube import KubeClient, load_config
from orkestra.runtime.metrics import RuntimeMetrics
from tests.apiserver.conftest import wait_until

Obj = dict[str, Any]


def wait_for(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll ``check`` until it returns something truthy."""
    return wait_until(check, timeout, what=what)


class Runtime:
    """An Operator running on a thread with its own event loop."""

    def __init__(
        self, server: EmbeddedServer, *paths: Path, trust_hooks: bool = False, **options: Any
    ) -> None:
        client = KubeClient(load_config(str(server.kubeconfig)))
        self.operator = Operator(
            [Unit.load(p, trust_hooks=trust_hooks) for p in paths],
            client,
            Options(http_host="127.0.0.1", http_port=0, **options),
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self.exit_code: int | None = None

    def _main(self) -> None:
        async def main() -> int:
            self._loop = asyncio.get_running_loop()
            self._loop.call_soon(self._running.set)
            return await self.operator.run()

        with asyncio.Runner(loop_factory=new_event_loop) as runner:  # as `ork run` does
            self.exit_code = runner.run(main())

    def start(self, *, ready: bool = True) -> Runtime:
        """Start; wait until the controllers exist (``ready``: until they all started)."""
        self._thread.start()
        self._running.wait(10)
        count = sum(len(u.composed.enabled_crds) for u in self.operator.units)
        wait_for(lambda: len(self.operator.controllers) == count, "the controllers")
        if ready:
            wait_for(lambda: self.operator.ready, "the runtime to be ready")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.operator.stop)
        self._thread.join(30)
        assert not self._thread.is_alive(), "the runtime did not stop"

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample of ``/metrics`` as served over HTTP (0 when absent)."""
        host, port = self.operator.addresses[0]
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )

    def writes(self) -> float:
        """API writes this runtime made (from its metrics)."""
        return sum(
            s.value
            for m in self.operator.metrics.writes.collect()
            for s in m.samples
            if s.name.endswith("_total")
        )


def write_files(directory: Path, **files: str) -> Path:
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return directory


def katalog(directory: Path, crds: str, *, top: str = "") -> Path:
    """Write ``katalog.yaml`` with these CRD entries (YAML indented under ``spec.crds``) and
    top-level blocks."""
    header = (
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\n"
        "metadata: {name: test-operator, version: v1.0.0}\n"
    )
    body = textwrap.indent(textwrap.dedent(crds).strip("\n"), "    ")
    path = directory / "katalog.yaml"
    path.write_text(header + textwrap.dedent(top).lstrip("\n") + "spec:\n  crds:\n" + body + "\n")
    return path


def apply(server: EmbeddedServer, path: Path) -> list[Obj]:
    """Create every object of a YAML file in the server's store."""
    made = []
    for doc in yaml.safe_load_all(path.read_text()):
        if isinstance(doc, dict) and doc.get("kind"):
            made.append(server.cluster.create(doc, record=False))
    return made


def crd_manifest(kind: str, scope: str = "Namespaced") -> str:
    """A CRD of group test.orkestra.dev for ``kind``, with a status subresource and any
    fields."""
    plural = kind.lower() + "s"
    return f"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {{name: {plural}.test.orkestra.dev}}
        spec:
          group: test.orkestra.dev
          scope: {scope}
          names: {{kind: {kind}, plural: {plural}}}
          versions:
            - name: v1
              served: true
              storage: true
              subresources: {{status: {{}}}}
              schema:
                openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
        """


class _Names(logging.Handler):
    def __init__(self, names: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.names = names

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "reconciled":
            self.names.append(getattr(record, "fields", {}).get("name", ""))


@contextmanager
def reconciled() -> Iterator[list[str]]:
    """The names of the CRs the runtime reconciles meanwhile, in order (from its log)."""
    logger = logging.getLogger("orkestra.runtime.controller")
    names: list[str] = []
    handler, level = _Names(names), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield names
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def paused_controller(path: Path, crd: str) -> tuple[Controller, RuntimeMetrics]:
    """A controller of ``crd`` with no cluster behind it and its queue paused: what its event
    handling enqueues, gates and drops can be read without any reconcile running."""
    unit, metrics = Unit.load(path), RuntimeMetrics()
    made = Controller(
        unit,
        crd,
        client=None,  # type: ignore[arg-type]
        informers=None,  # type: ignore[arg-type]
        metrics=metrics,
        recorder=EventRecorder(lambda *a: None),
        settings=Settings.of(crd, unit),
    )
    made.queue.pause()
    return made, metrics
