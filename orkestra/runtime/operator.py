"""The operator process: everything assembled, run until SIGTERM or SIGINT.

:func:`run` is the entry point ``ork run`` calls. In order, the :class:`Operator` serves
its HTTP endpoints, applies the patterns' CRDs and CRs with ``--apply-cr`` (CRDs first,
then, once they are established, the CRs), joins leader election when asked (the queues
stay paused until this process leads), and starts one controller per enabled CRD in
``dependsOn`` order: a controller waits until each dependency's controller has started
(and, for ``condition: healthy``, has no failing reconciles). On a signal it stops handing
out work, lets running reconciles finish until the shutdown deadline, releases the lease,
stops the informers and the endpoints, and returns 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass

from orkestra import loops
from orkestra.cluster.errors import AlreadyExistsError, ApiError
from orkestra.engine.build.base import label_value
from orkestra.errors import OrkError
from orkestra.httpserver import HttpServer
from orkestra.kubeobjects import KubeObject
from orkestra.model.shapes import Katalog
from orkestra.runtime.controller import CRDS, Controller, Settings, established
from orkestra.runtime.cross import CrossSources
from orkestra.runtime.events import EventRecorder, loop_sink
from orkestra.runtime.http import KatalogList, make_app, metrics_app
from orkestra.runtime.informer import Informers
from orkestra.runtime.kube import USER_AGENT, KubeClient
from orkestra.runtime.leader import KubeLeases, LeaderElector
from orkestra.runtime.logs import fields
from orkestra.runtime.metrics import RuntimeMetrics
from orkestra.runtime.pattern import Unit

log = logging.getLogger("orkestra.runtime")
HTTP_CLOSE_TIMEOUT = 5.0  # seconds the endpoints' requests in flight get at shutdown


@dataclass(kw_only=True)
class Options:
    """How to run (``ork run``'s flags)."""

    namespace: str | None = None
    leader_elect: bool = False
    lease_name: str | None = None
    lease_namespace: str | None = None
    identity: str | None = None
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    http_host: str = "0.0.0.0"
    http_port: int = 8081
    metrics_port: int | None = None
    workers: int | None = None
    resync: float | None = None
    apply_cr: bool = False
    shutdown_timeout: float = 30.0
    establish_timeout: float = 60.0


class Operator:
    """One runtime process over one or more composed patterns."""

    def __init__(self, units: list[Unit], client: KubeClient, options: Options) -> None:
        self.units = units
        self.client = client
        self.options = options
        self.identity = options.identity or _identity()
        client.user_agent = f"{USER_AGENT} ({self.identity})"  # who wrote, in server logs
        self.metrics = RuntimeMetrics()
        self.controllers: dict[str, Controller] = {}
        self.addresses: list[tuple[str, int]] = []
        self.elector: LeaderElector | None = None
        self._owners: dict[str, Unit] = {}
        for unit in units:
            for crd in unit.composed.enabled_crds:
                if crd in self._owners:
                    raise OrkError(
                        f'CRD "{crd}" is in both {self._owners[crd].path} and {unit.path}',
                        hint="run each CRD from one file only",
                    )
                self._owners[crd] = unit
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[HttpServer] = []
        self._tasks: list[asyncio.Task[None]] = []

    # -- views ------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return bool(self.controllers) and all(c.started.is_set() for c in self.controllers.values())

    def katalog(self) -> Katalog | KatalogList:
        katalogs = [u.composed.as_katalog() for u in self.units]
        if len(katalogs) == 1:
            return katalogs[0]
        return {"apiVersion": "v1", "kind": "KatalogList", "items": katalogs}

    def stop(self) -> None:
        """Begin a graceful shutdown (what SIGTERM does); callable from any thread."""
        if self._stop is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    # -- run --------------------------------------------------------------------------
    async def run(self) -> int:
        loop = self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._signals(loop)
        informers = Informers(self.client, self.metrics, namespace=self.options.namespace)
        recorder = EventRecorder(loop_sink(self.client, loop))
        cross = CrossSources(self.client, [unit.composed for unit in self.units])
        for crd, unit in self._owners.items():
            settings = Settings.of(
                crd, unit, workers=self.options.workers, resync=self.options.resync
            )
            self.controllers[crd] = Controller(
                unit,
                crd,
                client=self.client,
                informers=informers,
                metrics=self.metrics,
                recorder=recorder,
                settings=settings,
                cross=cross,
            )
        try:
            await self._serve()
            if self.options.apply_cr:
                await self.apply_manifests()
            self._elect(loop)
            for name in self._start_order():
                self._tasks.append(loop.create_task(self._start(name), name=f"start {name}"))
            await self._stop.wait()
            log.info("shutting down")
        finally:
            await self._shutdown(informers)
        return 0

    def _signals(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.stop)
            except (NotImplementedError, RuntimeError, ValueError):
                return  # not the main thread (tests): stop() is called directly

    def _start_order(self) -> list[str]:
        order = [n for u in self.units for n in u.composed.start_order()]
        return [n for n in order if n in self.controllers]

    async def _start(self, name: str) -> None:
        controller = self.controllers[name]
        for dep, spec in (controller.entry.get("dependsOn") or {}).items():
            other = self.controllers.get(dep)
            if other is None:
                log.warning("dependency %s is not run by this process", dep, extra=fields(crd=name))
                continue
            await other.started.wait()
            while (spec or {}).get("condition") == "healthy" and not other.healthy:
                await asyncio.sleep(1.0)
        try:
            await controller.start()
        except Exception:
            log.exception("controller failed to start", extra=fields(crd=name))
            raise

    def _elect(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.options.leader_elect:
            self.metrics.leader.set(1)
            return
        for controller in self.controllers.values():
            controller.pause()
        self.metrics.leader.set(0)
        self.elector = LeaderElector(
            api=KubeLeases(self.client),
            name=self.options.lease_name or self._lease_name(),
            namespace=self.options.lease_namespace or self.client.namespace,
            identity=self.identity,
            on_started=lambda: self._lead(True),
            on_stopped=lambda: self._lead(False),
            lease_duration=self.options.lease_duration,
            renew_deadline=self.options.renew_deadline,
            retry_period=self.options.retry_period,
        )
        self._tasks.append(loop.create_task(self.elector.run(), name="leader election"))

    def _lease_name(self) -> str:
        return label_value(f"orkestra-{self.units[0].name}".lower())

    def _lead(self, leading: bool) -> None:
        self.metrics.leader.set(1 if leading else 0)
        for controller in self.controllers.values():
            if leading:
                controller.resume()
            else:
                controller.pause()

    async def _serve(self) -> None:
        apps = [(make_app(self), self.options.http_port)]
        if (
            self.options.metrics_port is not None
            and self.options.metrics_port != self.options.http_port
        ):
            apps.append((metrics_app(self), self.options.metrics_port))
        for app, port in apps:
            server = HttpServer(app, asyncio.get_running_loop())
            try:
                await server.start(self.options.http_host, port, None)
            except OSError as exc:
                raise OrkError(
                    f"cannot serve http on {self.options.http_host}:{port}: {exc.strerror}",
                    hint="choose another --http-port or --metrics-port (0: any free port)",
                ) from None
            self._servers.append(server)
            host, bound = server.addresses[0]
            self.addresses.append((host, bound))
            log.info("serving http on %s:%s", host, bound)

    # -- --apply-cr -------------------------------------------------------------------
    async def apply_manifests(self) -> None:
        """Apply every unit's CRDs, wait until they are established, then its CRs."""
        for unit in self.units:
            crds, crs = unit.manifests()
            if not crds and not crs:
                log.warning("--apply-cr: no crd.yaml or cr.yaml next to %s", unit.path)
            for crd in crds:
                await self._apply(crd)
            for crd in crds:
                await self._wait_established(crd["metadata"]["name"])
            for cr in crs:
                await self._apply(cr)

    async def _apply(self, obj: KubeObject) -> None:
        """Create ``obj``, or replace the existing object's content with it."""
        meta = obj["metadata"]
        try:
            res = await asyncio.to_thread(self.client.resource, obj["apiVersion"], obj["kind"])
            path = res.path(res.namespace_of(meta.get("namespace")))
            try:
                await self.client.arequest("POST", path, body=obj)
                verb = "created"
            except AlreadyExistsError:
                current = await self.client.arequest("GET", f"{path}/{meta['name']}")
                version = current["metadata"]["resourceVersion"]
                await self.client.arequest(
                    "PUT",
                    f"{path}/{meta['name']}",
                    body={**obj, "metadata": {**meta, "resourceVersion": version}},
                )
                verb = "configured"
        except ApiError as exc:
            raise OrkError(
                f"--apply-cr: {obj['kind']} {meta['name']}: {exc.message}",
                hint="check the manifest and the cluster access",
            ) from None
        log.info("%s %s %s", obj["kind"].lower(), meta["name"], verb)

    async def _wait_established(self, name: str) -> None:
        deadline = time.monotonic() + self.options.establish_timeout
        while not await self._established(name):
            if time.monotonic() > deadline:
                raise OrkError(
                    f"--apply-cr: CRD {name} was not established within "
                    f"{self.options.establish_timeout:g}s",
                    hint="kubectl describe crd " + name,
                )
            await asyncio.sleep(0.2)

    async def _established(self, name: str) -> bool:
        try:
            return await established(self.client, f"{CRDS}/{name}")
        except ApiError:
            return False

    # -- shutdown ---------------------------------------------------------------------
    async def _shutdown(self, informers: Informers) -> None:
        for controller in self.controllers.values():
            controller.stop()
        deadline = time.monotonic() + self.options.shutdown_timeout
        joined = [await c.join(deadline) for c in self.controllers.values()]
        drained = all(joined)
        if not drained:
            log.warning("shutdown deadline passed with reconciles still running")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.elector is not None:
            await self.elector.release()
        await informers.stop()
        for server in self._servers:
            await server.close(timeout=HTTP_CLOSE_TIMEOUT)
        await self.client.aclose()


def _identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def run(units: list[Unit], client: KubeClient, options: Options) -> int:
    """Run the operator until a signal; the exit code."""
    return loops.run(Operator(units, client, options).run())
