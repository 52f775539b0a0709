"""The embedded server's life: start and stop, TLS, kubeconfig, persistence, workloads.

:class:`EmbeddedServer` runs the application (:mod:`orkestra.apiserver.app`) either in a
loop of its own on a background thread (``start``/``stop``, or as a context manager: what
tests and ``ork run --dev`` use) or inside a running loop (``start_async``/``stop_async``:
what ``ork cluster up`` uses). It writes a kubeconfig with a bearer token and the CA of its
certificate, keeps its credentials and objects in ``data_dir`` when given (so a restart keeps
both), and plays kubelet: every workload that changes is given its running status shortly after
(:mod:`orkestra.cluster.kubelet`), except the workloads of a *local image* (``local_images``,
e.g. :data:`~orkestra.apiserver.processes.DEFAULT_LOCAL_IMAGES`, the runtime image, which
``ork cluster up`` runs by default): their Pods really run, as local ``ork`` processes
(:mod:`orkestra.apiserver.processes`), and ``kubectl logs`` reads their output.
With ``audit`` it lists every write request it answered
(method, path, status, User-Agent). Admission webhooks configured in it are called; as its
Services have no endpoints, ``service_hosts`` says where a webhook's service listens
(``{("orkestra-system", "orkestra-gateway"): "127.0.0.1:8443"}``), and a service it does not
name is reached on 127.0.0.1 at the Service's targetPort (:mod:`orkestra.apiserver.webhooks`).
"""

from __future__ import annotations

import asyncio
import gc
import socket
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from orkestra.apiserver import certs
from orkestra.apiserver.app import Application, AuditRecord, build_app
from orkestra.apiserver.faults import Faults
from orkestra.apiserver.processes import ProcessRunner, ServerAccess
from orkestra.apiserver.watch import WatchHub
from orkestra.apiserver.webhooks import ServiceHosts
from orkestra.cluster import MemoryCluster, WatchEvent
from orkestra.cluster.errors import ApiError
from orkestra.cluster.kubelet import WORKLOAD_RESOURCES, settled_status
from orkestra.cluster.resources import ResourceType
from orkestra.errors import OrkError
from orkestra.httpserver import HttpServer
from orkestra.kubeobjects import JsonDict, KubeObject
from orkestra.loops import new_event_loop

HISTORY_WINDOW = 50_000
# The collector's thresholds while a server runs (CPython's default: 700, 10, 10). The heap
# of a server is mostly long-lived JSON (objects and the watch history), which every full
# collection walks again: with the defaults, collections took ~7% of the server's CPU in the
# operator benchmark (three full ones of ~45 ms at 1,000 CRs, more as the heap grows);
# young collections every 10,000 allocations still reclaim the short-lived cycles of
# requests and tasks.
GC_THRESHOLDS = (10_000, 50, 1_000)
SHUTDOWN_TIMEOUT = 1.0  # seconds the requests being answered get to finish at a stop
CONTROLLER_MANAGER = "kube-controller-manager"  # who writes workload statuses on a cluster
NODE: KubeObject = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {
        "name": "ork-embedded",
        "labels": {"kubernetes.io/hostname": "ork-embedded", "kubernetes.io/os": "linux"},
    },
    "spec": {},
}


class ServerError(OrkError):
    """The embedded API server could not start."""


class Kubelet:
    """Gives changed workloads their running status, ``delay`` seconds after the change
    (not those ``skip`` names: the local process runner reports theirs)."""

    def __init__(
        self,
        cluster: MemoryCluster,
        loop: asyncio.AbstractEventLoop,
        delay: float,
        skip: Callable[[KubeObject], bool] | None = None,
    ) -> None:
        self.cluster = cluster
        self.loop = loop
        self.delay = delay
        self.skip = skip
        self._pending: set[tuple[str, str, str, str]] = set()
        self._writing: tuple[str, str, str, str] | None = None  # the status being written
        self._types: dict[tuple[str, str], ResourceType] = {}
        self._loop_thread = threading.get_ident()
        cluster.subscribe(self.on_event)

    def close(self) -> None:
        self.cluster.unsubscribe(self.on_event)

    def on_event(self, event: WatchEvent) -> None:
        if event.type == "DELETED" or (event.group, event.resource) not in WORKLOAD_RESOURCES:
            return
        meta = event.object["metadata"]
        key = (event.group, event.resource, str(meta.get("namespace", "")), str(meta["name"]))
        on_loop = threading.get_ident() == self._loop_thread
        if (  # whether its status needs writing is judged once, when it is due
            key in self._pending
            or (on_loop and key == self._writing)  # our own write: settled by construction
            or (self.skip is not None and self.skip(event.object))
        ):
            return
        self._pending.add(key)
        if on_loop:
            self.loop.call_later(self.delay, self._settle, key)
        else:
            self.loop.call_soon_threadsafe(self.loop.call_later, self.delay, self._settle, key)

    def _settle(self, key: tuple[str, str, str, str]) -> None:
        self._pending.discard(key)
        group, plural, namespace, name = key
        rt = self._type(group, plural)
        if rt is None:
            return
        try:
            obj = self.cluster.read(rt, namespace or None, name)
            if self.skip is not None and self.skip(obj):
                return
            # only a DaemonSet's status counts nodes (listing them copies each one)
            nodes = self._nodes() if obj.get("kind") == "DaemonSet" else 1
            status = settled_status(obj, self.cluster.now(), nodes)
            if status is not None:
                self._writing = key
                self.cluster.replace_in(
                    rt,
                    namespace or None,
                    name,
                    {**obj, "status": status},
                    subresource="status",
                    manager=CONTROLLER_MANAGER,
                )
        except ApiError:
            return  # deleted or changed meanwhile: its next event brings it back here
        finally:
            self._writing = None

    def _type(self, group: str, plural: str) -> ResourceType | None:
        """The served type of a workload resource (built in, so it never changes)."""
        rt = self._types.get((group, plural))
        if rt is None:
            rt = next((t for t in self.cluster.types() if t.key == (group, plural)), None)
            if rt is not None:
                self._types[(group, plural)] = rt
        return rt

    def _nodes(self) -> int:
        return len(self.cluster.list("v1", "Node", None, record=False)) or 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """A Kubernetes API server on 127.0.0.1 over an in-memory (optionally persisted) store."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        data_dir: Path | None = None,
        kubeconfig: Path | None = None,
        cluster: MemoryCluster | None = None,
        faults: Faults | None = None,
        settle_delay: float = 0.05,
        auth: bool = True,
        audit: bool = False,
        service_hosts: ServiceHosts | None = None,
        local_images: Sequence[str] | None = None,
    ) -> None:
        """``local_images``: image repositories whose Pods run as local processes (default:
        none, every workload is only reported ready)."""
        self.host = host
        self.port = port or free_port(host)
        self.tls = tls
        self.data_dir = data_dir
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="ork-apiserver-")
            home = Path(self._scratch.name)
        else:
            home = data_dir
        self.kubeconfig = kubeconfig or home / "kubeconfig"
        self.credentials = certs.load_or_create(home / "pki", names=[host])
        self.token = self.credentials.token if auth else None
        self.cluster = cluster or MemoryCluster(
            record=False,
            history_window=HISTORY_WINDOW,
            track_fields=True,
            data_dir=data_dir / "objects" if data_dir is not None else None,
        )
        self.faults = faults
        self.audit: list[AuditRecord] | None = [] if audit else None
        self.settle_delay = settle_delay
        # read at each webhook call: may be filled in while the server runs
        self.service_hosts: dict[tuple[str, str], str] = dict(service_hosts or {})
        self._http: HttpServer | None = None
        self._app: Application | None = None
        self._hub: WatchHub | None = None
        self.local_images = tuple(local_images or ())
        self._kubelet: Kubelet | None = None
        self.processes: ProcessRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    # -- in a running loop ------------------------------------------------------------
    async def start_async(self) -> None:
        gc.set_threshold(*GC_THRESHOLDS)
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._ensure_node()
        self._hub = WatchHub(
            self.cluster, loop, cut_after=self.faults.cut_after if self.faults else lambda: None
        )
        if self.local_images:
            self.processes = ProcessRunner(
                self.cluster,
                loop,
                local_images=self.local_images,
                service_hosts=self.service_hosts,
                access=ServerAccess(
                    url=self.url,
                    token=self.token or "anonymous",
                    ca_pem=self.credentials.ca.certificate if self.tls else None,
                ),
            )
        self._kubelet = Kubelet(
            self.cluster,
            loop,
            self.settle_delay,
            skip=self.processes.claims if self.processes else None,
        )
        self._app = build_app(
            self.cluster,
            self._hub,
            token=self.token,
            faults=self.faults,
            audit=self.audit,
            service_hosts=self.service_hosts,
            address=lambda: f"{self.host}:{self.port}",
            logs=self.processes,
        )
        self._http = HttpServer(self._app, loop)
        context = certs.server_ssl_context(self.credentials) if self.tls else None
        try:
            await self._http.start(self.host, self.port, context)
        except OSError as exc:
            await self._app.cleanup()
            raise ServerError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror}",
                hint="choose another --port",
            ) from None
        certs.write_kubeconfig(
            self.kubeconfig,
            server=self.url,
            ca_pem=self.credentials.ca.certificate if self.tls else None,
            token=self.token or "anonymous",
        )
        if self.processes is not None:
            self.processes.start()

    async def stop_async(self) -> None:
        if self.processes is not None:  # while the server still answers their requests
            await self.processes.close()
        if self._hub is not None:
            self._hub.close()
        if self._kubelet is not None:
            self._kubelet.close()
        if self._http is not None:
            await self._http.close(timeout=SHUTDOWN_TIMEOUT)
            self._http = None
        if self._app is not None:
            await self._app.cleanup()
            self._app = None
        self.cluster.close()

    def expire_history(self) -> None:
        """Fault injection: compact the watch history and end every open watch, so each
        client's resume answers 410 Gone and it must list again."""
        self.cluster.expire_history()
        if self._hub is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._hub.end_all)

    def _ensure_node(self) -> None:
        if not self.cluster.list("v1", "Node", None, record=False):
            node = self.cluster.create(NODE, record=False)
            ready: JsonDict = {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "workloads are reported ready (those of "
                        "local images run as local processes)",
                    }
                ],
                "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110"},
                "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"},
                "nodeInfo": {
                    "kubeletVersion": "n/a",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                    "containerRuntimeVersion": "none",
                },
            }
            self.cluster.update_status({**node, "status": ready})

    # -- on a thread of its own -------------------------------------------------------
    def start(self) -> EmbeddedServer:
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._thread = threading.Thread(target=serve, name="ork-apiserver", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._thread = None
        if self._scratch is not None:
            self._scratch.cleanup()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
