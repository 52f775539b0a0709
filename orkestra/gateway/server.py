"""The gateway's life: serve, keep the webhooks and the certificate current, stop.

:meth:`Gateway.start` loads the serving certificate, listens (HTTPS for the webhooks, HTTP
for health and metrics), then puts the webhook configurations in place (after listening,
so the API server never calls a gateway that is not there yet) and reports ready. A
maintenance task then refreshes the certificate every ``check_interval``: a new CA bundle
is written into the webhook configurations *before* a certificate chaining to it is
served, and a new certificate is loaded into the live TLS context, so open connections
finish on the old one and new ones get the new one. Every ``resync`` it applies the
configurations again (repairing edits and deletions). :meth:`Gateway.stop` removes what
``cleanupOnShutdown`` asks for, then stops listening once requests in flight are answered.
The gateway owns the Kubernetes client it is given and closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from orkestra.gateway import certs
from orkestra.gateway.app import admission_app, http_app
from orkestra.gateway.decide import Guard, mutate, protect, validate
from orkestra.gateway.housekeeper import Housekeeper
from orkestra.gateway.kube import KubeAPI
from orkestra.gateway.metrics import GatewayMetrics
from orkestra.gateway.review import Decision, Request
from orkestra.gateway.sources import CertSource, Material
from orkestra.gateway.targets import Targets
from orkestra.gateway.tls import ServingContext
from orkestra.gateway.webhooks import Endpoint, WebhookConfiguration, desired

Clock = Callable[[], datetime]
log = logging.getLogger("orkestra.gateway")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class Options:
    namespace: str = "orkestra-system"
    service_name: str = "orkestra-gateway"
    deployment: str = ""  # the gateway's Deployment (protected); default: the service name
    host: str = "0.0.0.0"
    port: int = 8443
    http_port: int = 8080
    service_port: int = 8443
    failure_policy: str | None = None
    manage_webhooks: bool = True
    url: str | None = None
    cert_secret: str = ""  # the generated certificate Secret, removed by an uninstall
    check_interval: float = 30.0
    resync: float = 300.0
    shutdown_timeout: float = 10.0

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.service_name, self.namespace, self.service_port, self.url)


class Gateway:
    """The admission gateway for ``targets``, serving with what ``source`` provides."""

    def __init__(
        self,
        targets: Targets,
        source: CertSource,
        options: Options,
        *,
        kube: KubeAPI | None = None,
        clock: Clock = _now,
    ) -> None:
        self.targets = targets
        self.source = source
        self.options = options
        self.kube = kube
        self.clock = clock
        self.guard = Guard.of(
            targets, options.namespace, options.deployment or options.service_name
        )
        self.metrics = GatewayMetrics()
        self.tls = ServingContext()
        self.material: Material | None = None
        self.ready = False
        self.housekeeper = (
            Housekeeper(kube, self.desired, secret=options.cert_secret, namespace=options.namespace)
            if kube is not None and options.manage_webhooks
            else None
        )
        self._runners: list[web.AppRunner] = []
        self._task: asyncio.Task[None] | None = None

    def desired(self, ca_bundle: bytes) -> dict[str, WebhookConfiguration | None]:
        return desired(
            self.targets, self.guard, self.options.endpoint, ca_bundle, self.options.failure_policy
        )

    def decide(self, webhook: str, request: Request) -> Decision:
        if webhook == "validate":
            return validate(self.targets, request, self.clock)
        if webhook == "mutate":
            return mutate(self.targets, request, self.clock)
        return protect(self.guard, request)

    # -- life -----------------------------------------------------------------------------
    async def start(self) -> None:
        await self._apply(await self.source.refresh(self.clock()))
        self._runners.append(
            await self._listen(
                admission_app(self.decide, self.metrics), self.options.port, ssl=True
            )
        )
        self._runners.append(
            await self._listen(
                http_app(lambda: self.ready, self.metrics), self.options.http_port, ssl=False
            )
        )
        if self.housekeeper is not None and self.material is not None:
            await self.housekeeper.sync(self.material.ca_bundle)
        self.ready = True
        self._task = asyncio.create_task(self._maintain())
        log.info("gateway serving webhooks on :%d, health on :%d", self.port, self.http_port)

    async def _listen(self, app: web.Application, port: int, *, ssl: bool) -> web.AppRunner:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.options.shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(
            runner, self.options.host, port, ssl_context=self.tls.context if ssl else None
        )
        await site.start()
        return runner

    @staticmethod
    def _port(runner: web.AppRunner) -> int:
        address = runner.addresses[0]
        return int(address[1])

    @property
    def port(self) -> int:
        return self._port(self._runners[0])

    @property
    def http_port(self) -> int:
        return self._port(self._runners[1])

    async def stop(self) -> None:
        self.ready = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.housekeeper is not None:
            settings = self.targets.settings
            try:
                await self.housekeeper.shutdown(
                    settings.cleanup_admission, settings.cleanup_protection
                )
            except Exception:
                log.exception("could not remove the webhook configurations on shutdown")
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self.kube is not None:
            await self.kube.close()
        self.tls.close()

    async def run(self) -> int:
        """Serve until SIGTERM or SIGINT."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stopping.set)
        try:
            await self.start()
            await stopping.wait()
        finally:
            await self.stop()
        return 0

    # -- certificates -----------------------------------------------------------------------
    async def rotate(self) -> bool:
        """Refresh the certificate; whether what is served changed."""
        return await self._apply(await self.source.refresh(self.clock()))

    async def _apply(self, material: Material) -> bool:
        current = self.material
        if material == current:
            return False
        if (
            current is not None
            and material.ca_bundle != current.ca_bundle
            and self.housekeeper is not None
        ):
            await self.housekeeper.sync(material.ca_bundle)
        if current is None or material.serving != current.serving:
            self.tls.load(material.serving)
            if current is not None:
                self.metrics.rotations.inc()
                log.info("serving a new certificate")
        self.material = material
        self.metrics.cert_expiry.set(certs.expires(material.serving.certificate).timestamp())
        return True

    async def _maintain(self) -> None:
        loop = asyncio.get_running_loop()
        synced = loop.time()
        while True:
            await asyncio.sleep(self.options.check_interval)
            try:
                await self.rotate()
                if (
                    self.housekeeper is not None
                    and self.material is not None
                    and loop.time() - synced >= self.options.resync
                ):
                    await self.housekeeper.sync(self.material.ca_bundle)
                    synced = loop.time()
            except Exception:
                self.metrics.sync_errors.inc()
                log.exception(
                    "gateway maintenance failed; trying again in %ss", self.options.check_interval
                )
