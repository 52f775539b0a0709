"""The runtime under test, run in this process against the suite's cluster.

The runtime is the same :class:`~orkestra.runtime.Operator` ``ork run`` assembles, on a
thread with its own event loop, with the suite's kubeconfig, HTTP endpoints on a free
loopback port and its log kept in memory: the runner shows the warnings and errors of a
failing suite instead of interleaving them with its own output. (Deploying the runtime
with the Helm chart, as a real installation does, comes with ``ork generate bundle`` and
the chart.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path

from orkestra import loops
from orkestra.errors import OrkError
from orkestra.runtime import Operator, Options, Unit
from orkestra.runtime.kube import KubeClient, load_config

_LOGGER = "orkestra.runtime"


class _Recent(logging.Handler):
    """The last runtime log lines at WARNING and above."""

    def __init__(self, size: int = 50) -> None:
        super().__init__(logging.WARNING)
        self.lines: deque[str] = deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")


class RuntimeHost:
    def __init__(self, units: list[Unit], kubeconfig: Path, *, workers: int | None = None) -> None:
        self.units = units
        self.kubeconfig = kubeconfig
        self.workers = workers
        self.operator: Operator | None = None
        self.log = _Recent()
        self._thread: threading.Thread | None = None
        self._failure: list[BaseException] = []

    def start(self, timeout: float = 60.0) -> None:
        client = KubeClient(load_config(str(self.kubeconfig)))
        options = Options(
            http_host="127.0.0.1", http_port=0, workers=self.workers, shutdown_timeout=10.0
        )
        self.operator = Operator(self.units, client, options)
        logger = logging.getLogger(_LOGGER)
        logger.addHandler(self.log)
        logger.propagate = False
        self._thread = threading.Thread(target=self._run, name="ork-e2e-runtime", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.operator.ready:
            if self._failure:
                raise OrkError(f"the runtime did not start: {self._failure[0]}")
            if time.monotonic() > deadline:
                raise OrkError(
                    f"the runtime was not ready within {timeout:g}s", hint="\n".join(self.log.lines)
                )
            time.sleep(0.05)

    def _run(self) -> None:
        assert self.operator is not None
        try:
            loops.run(self.operator.run())
        except BaseException as exc:  # reported to the thread that waits for readiness
            self._failure.append(exc)

    def stop(self) -> None:
        if self.operator is not None and self._thread is not None:
            self.operator.stop()
            self._thread.join(timeout=30)
        logger = logging.getLogger(_LOGGER)
        logger.removeHandler(self.log)
        logger.propagate = True
        self._thread = None
