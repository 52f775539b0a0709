"""The local process runner: a minimal kubelet for the project's own image.

A Deployment, StatefulSet or Job whose pod template runs a *local image* (an image
repository of ``EmbeddedServer(local_images=...)``, any tag or digest; ``ork cluster up``
runs the runtime image ``ghcr.io/orkspace/orkestra`` by default, ``--local-images`` names
others) gets real Pods: each
is a Pod object in the store (owned by the workload, on the embedded node) and a local
``python -m orkestra ARGS`` process (:mod:`orkestra.apiserver.launch` turns the container
into a command line, environment and files). Workloads of other images are left to
:class:`orkestra.apiserver.server.Kubelet`, which reports them ready without running
anything.

What it does, as the kubelet and the workload controllers would:

- starts ``replicas`` Pods (a Job: ``parallelism`` at a time until ``completions``
  succeeded or ``backoffLimit`` failed); restarts a crashed container with a short
  back-off (CrashLoopBackOff); replaces a deleted Pod;
- on a template change starts the new Pods and stops the old ones once the new are ready
  (a StatefulSet replaces ordinal by ordinal); on scale-down, deletion of the workload or
  of a Pod, and when the server stops, sends SIGTERM to the process group and SIGKILL
  after ``terminationGracePeriodSeconds`` (at most 30 s);
- marks a container ready from its ``readinessProbe`` (``httpGet`` or ``tcpSocket`` on the
  rewritten local port; ``initialDelaySeconds`` is not waited for) or, without one, once
  it runs; liveness probes are not run;
- writes the Pods' and workloads' statuses (what ``kubectl rollout status`` and Helm's
  ``--wait`` read) and keeps the container's output for ``kubectl logs``;
- points the Services that select a ready Pod at its local port, in the server's
  ``service_hosts`` (so admission webhooks reach a locally run ``ork gateway``).

Each Pod has a private directory (volumes, kubeconfig, log) removed when its process is
gone. ConfigMaps and Secrets are copied when the container starts, not followed. The
processes of every runner still alive are killed when the interpreter exits.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp

from orkestra.apiserver import certs, launch, pods
from orkestra.apiserver.specs import (
    Container,
    HTTPGetAction,
    pod_spec,
    service_spec,
    workload_spec,
)
from orkestra.cluster import MemoryCluster, WatchEvent
from orkestra.cluster.errors import ApiError, NotFoundError
from orkestra.cluster.resources import ResourceType
from orkestra.kubeobjects import JsonDict, KubeObject

log = logging.getLogger("orkestra.apiserver.processes")
Key = tuple[str, str, str]  # the workload's (kind, namespace, name)
DEFAULT_LOCAL_IMAGES = ("ghcr.io/orkspace/orkestra",)
KINDS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Job": "batch/v1"}
TICK = 0.2
MAX_GRACE = 30.0
KUBELET = "kubelet"
CONTROLLER_MANAGER = "kube-controller-manager"
LOCAL_RUN = "orkestra.io/run-locally"  # annotation of the Pods this runner made
_RUNNERS: weakref.WeakSet[ProcessRunner] = weakref.WeakSet()


@dataclass(frozen=True)
class ServerAccess:
    """How a process reaches the embedded server."""

    url: str
    ca_pem: bytes | None
    token: str


@dataclass(eq=False, kw_only=True)
class LocalPod:
    """One Pod and its container's process."""

    key: Key
    name: str
    revision: str
    pod: KubeObject
    container: Container
    home: Path
    one_shot: bool  # a Job's Pod: not restarted when it exits
    state: pods.PodState = field(default_factory=pods.PodState)
    plan: launch.Launch | None = None
    process: subprocess.Popen[bytes] | None = None
    stop_deadline: float | None = None  # set once it is being stopped
    restart_at: float = 0.0
    next_probe: float = 0.0
    probe_failures: int = 0

    @property
    def namespace(self) -> str:
        return self.key[1]

    @property
    def log(self) -> Path:
        return self.home / "container.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def active(self) -> bool:
        """Counted by its controller: not being stopped, not finished."""
        return self.stop_deadline is None and self.state.exit_code is None

    def grace(self) -> float:
        value = pod_spec(self.pod).get("terminationGracePeriodSeconds", 30)
        return min(float(value), MAX_GRACE) if isinstance(value, int | float) else MAX_GRACE


def workload_key(obj: KubeObject) -> Key:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(meta.get("namespace", "")), str(meta.get("name", ""))


def _spec_changed(event: WatchEvent) -> bool:
    """Whether a workload event can change its Pods (not a status-only write)."""
    before = event.previous
    if event.type != "MODIFIED" or before is None:
        return True
    after = event.object
    return before.get("spec") != after.get("spec") or before["metadata"].get(
        "deletionTimestamp"
    ) != after["metadata"].get("deletionTimestamp")


class ProcessRunner:
    """Runs the Pods of local-image workloads of one store as local processes."""

    def __init__(
        self,
        cluster: MemoryCluster,
        loop: asyncio.AbstractEventLoop,
        *,
        access: ServerAccess,
        local_images: tuple[str, ...] = DEFAULT_LOCAL_IMAGES,
        service_hosts: MutableMapping[tuple[str, str], str] | None = None,
        tick: float = TICK,
    ) -> None:
        self.cluster = cluster
        self.loop = loop
        self.access = access
        self.local_images = tuple(local_images)
        self.service_hosts: MutableMapping[tuple[str, str], str] = (
            service_hosts if service_hosts is not None else {}
        )
        self.tick = tick
        self.pods: list[LocalPod] = []
        self.jobs: dict[Key, tuple[int, int]] = {}  # succeeded, failed
        self._dirty: set[Key] = set()
        self._known: set[Key] = set()
        self._hosts: dict[tuple[str, str], str] = {}  # the service_hosts entries set here
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._home = Path()  # made by start
        self._serial = itertools.count()
        _RUNNERS.add(self)

    # -- what it runs -----------------------------------------------------------------
    def claims(self, obj: KubeObject) -> bool:
        """Whether this runner runs the workload's Pods (so nothing else settles it)."""
        kind = str(obj.get("kind", ""))
        if KINDS.get(kind) != obj.get("apiVersion") or not self.local_images:
            return False
        spec = (workload_spec(obj).get("template") or {}).get("spec") or {}
        return launch.local_container(spec, self.local_images) is not None

    def pids(self) -> list[int]:
        """The processes currently alive."""
        return [p.process.pid for p in self.pods if p.process is not None and p.alive]

    # -- life -------------------------------------------------------------------------
    def start(self) -> None:
        """Forget Pods of an earlier run, take every local workload in hand and begin."""
        self._home = Path(tempfile.mkdtemp(prefix="ork-pods-"))
        pod_type = self.cluster.type_for("v1", "Pod")
        for pod in self.cluster.list("v1", "Pod", None, record=False):
            if (pod["metadata"].get("annotations") or {}).get(LOCAL_RUN):
                self._delete_object(
                    pod_type, pod["metadata"].get("namespace"), pod["metadata"]["name"]
                )
        for kind, api_version in KINDS.items():
            for obj in self.cluster.list(api_version, kind, None, record=False):
                if self.claims(obj):
                    self._dirty.add(workload_key(obj))
        self.cluster.subscribe(self.on_event)
        self._task = self.loop.create_task(self._run(), name="ork-local-pods")

    async def close(self) -> None:
        """Stop every process (SIGTERM, SIGKILL after its grace) and forget them."""
        self.cluster.unsubscribe(self.on_event)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for pod in self.pods:
            self._signal(pod, signal.SIGTERM)
        deadline = time.monotonic() + max((p.grace() for p in self.pods), default=0.0)
        while any(p.alive for p in self.pods) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.kill_all()
        for key in list(self._hosts):
            self._unset_host(key)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._home != Path():
            shutil.rmtree(self._home, ignore_errors=True)

    def kill_all(self) -> None:
        """SIGKILL every process still alive and reap it (also run at exit)."""
        for pod in self.pods:
            if pod.alive:
                self._signal(pod, signal.SIGKILL)
            if pod.process is not None:
                try:
                    pod.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    log.warning("process %d of pod %s did not die", pod.process.pid, pod.name)
        self.pods.clear()

    # -- events (any thread) ----------------------------------------------------------
    def on_event(self, event: WatchEvent) -> None:
        obj = event.object
        if event.resource == "pods" and event.group == "" and event.type == "DELETED":
            self._soon(
                self._pod_deleted,
                str(obj["metadata"].get("namespace", "")),
                str(obj["metadata"]["name"]),
                str(obj["metadata"].get("uid", "")),
            )
            return
        if obj.get("kind") not in KINDS or not _spec_changed(event):
            return
        key = workload_key(obj)
        if key in self._known or self.claims(obj):
            self._soon(self._mark, key)

    def _soon(self, call: Callable[..., None], *args: str | Key) -> None:
        try:
            self.loop.call_soon_threadsafe(call, *args)
        except RuntimeError:  # the loop is closed: the server is stopping
            return

    def _mark(self, key: Key) -> None:
        self._dirty.add(key)
        self._wake.set()

    def _pod_deleted(self, namespace: str, name: str, uid: str) -> None:
        for pod in self.pods:
            if (
                pod.namespace == namespace
                and pod.name == name
                and pod.stop_deadline is None
                and pod.pod["metadata"].get("uid") == uid
            ):
                self._stop(pod, delete=False)
                self._mark(pod.key)

    # -- the loop ---------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                await self._step()
            except Exception:  # one bad step must not end the kubelet
                log.exception("local pods: step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick)
            self._wake.clear()

    async def _step(self) -> None:
        now = time.monotonic()
        for pod in list(self.pods):
            self._advance(pod, now)
        await self._probe(now)
        dirty, self._dirty = self._dirty, set()
        for key in dirty:
            self._reconcile(key)
        for key in list(self._known):
            self._report(key)
        self._route_services()

    def _advance(self, pod: LocalPod, now: float) -> None:
        """One pod's process: reap, kill past its grace, (re)start when due."""
        if pod.stop_deadline is not None:
            if not pod.alive:
                self._forget(pod)
            elif now >= pod.stop_deadline:
                self._signal(pod, signal.SIGKILL)
            return
        if pod.process is not None and pod.process.poll() is not None:
            self._exited(pod, now)
        elif pod.process is None and pod.state.exit_code is None and now >= pod.restart_at:
            self._launch(pod, now)

    # -- processes --------------------------------------------------------------------
    def _launch(self, pod: LocalPod, now: float) -> None:
        try:
            if pod.plan is None:
                pod.plan = launch.plan(
                    pod.pod,
                    pod.container,
                    home=pod.home,
                    kubeconfig=self._kubeconfig(pod.home),
                    lookup=self._lookup(pod.namespace),
                )
        except launch.NotStartableError as exc:
            pod.state = replace(pod.state, waiting=exc.reason, message=str(exc))
            pod.restart_at = now + 1.0
            return
        plan = pod.plan
        with pod.log.open("ab") as out:
            pod.process = subprocess.Popen(
                plan.argv,
                env=plan.env,
                cwd=plan.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        log.info(
            "pod %s/%s: started process %d: %s",
            pod.namespace,
            pod.name,
            pod.process.pid,
            " ".join(plan.argv[3:]),
        )
        pod.state = replace(
            pod.state,
            running=True,
            ready=False,
            waiting="",
            message="",
            started_at=self.cluster.now(),
        )
        pod.next_probe = now
        pod.probe_failures = 0

    def _exited(self, pod: LocalPod, now: float) -> None:
        assert pod.process is not None
        code = pod.process.returncode
        pod.process = None
        log.info("pod %s/%s: process exited with %d", pod.namespace, pod.name, code)
        if pod.one_shot:
            pod.state = replace(pod.state, running=False, ready=False, exit_code=code)
            succeeded, failed = self.jobs.get(pod.key, (0, 0))
            self.jobs[pod.key] = (succeeded + 1, failed) if code == 0 else (succeeded, failed + 1)
            self._mark(pod.key)
            return
        restarts = pod.state.restarts + 1
        self._mark(pod.key)
        pod.state = replace(
            pod.state,
            running=False,
            ready=False,
            restarts=restarts,
            waiting="CrashLoopBackOff",
            message=f"back-off restarting failed container (exit {code})",
        )
        pod.restart_at = now + min(2.0 ** (restarts - 1), 10.0)

    def _signal(self, pod: LocalPod, sig: signal.Signals) -> None:
        if pod.process is None or pod.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pod.process.pid, sig)

    def _stop(self, pod: LocalPod, *, delete: bool = True) -> None:
        """Begin stopping a pod: SIGTERM now, SIGKILL after its grace."""
        if pod.stop_deadline is not None:
            return
        pod.stop_deadline = time.monotonic() + pod.grace()
        self._signal(pod, signal.SIGTERM)
        if delete:
            self._delete_object(
                self.cluster.type_for("v1", "Pod"),
                pod.namespace,
                pod.name,
                uid=str(pod.pod["metadata"].get("uid", "")),
            )
        self._wake.set()

    def _forget(self, pod: LocalPod) -> None:
        if pod.process is not None:
            pod.process.poll()
        self.pods.remove(pod)
        shutil.rmtree(pod.home, ignore_errors=True)
        self._mark(pod.key)

    # -- readiness --------------------------------------------------------------------
    async def _probe(self, now: float) -> None:
        due = [p for p in self.pods if p.stop_deadline is None and p.alive and now >= p.next_probe]
        if due:
            results = await asyncio.gather(*(self._probe_one(p) for p in due))
            for pod, ok in zip(due, results, strict=True):
                self._probed(pod, ok, now)

    def _probed(self, pod: LocalPod, ok: bool, now: float) -> None:
        probe = pod.container.get("readinessProbe") or {}
        period = float(probe.get("periodSeconds") or 10)
        threshold = int(probe.get("failureThreshold") or 3)
        pod.probe_failures = 0 if ok else pod.probe_failures + 1
        if ok and not pod.state.ready:
            pod.state = replace(pod.state, ready=True)
            log.info("pod %s/%s: ready", pod.namespace, pod.name)
            self._mark(pod.key)  # a rollout may go on
        elif pod.state.ready and pod.probe_failures >= threshold:
            pod.state = replace(pod.state, ready=False)
            self._mark(pod.key)
        # until ready, probe often; then at the probe's period (at most 5 s)
        pod.next_probe = now + (min(period, 5.0) if pod.state.ready else 0.3)

    async def _probe_one(self, pod: LocalPod) -> bool:
        probe = pod.container.get("readinessProbe") or {}
        plan = pod.plan
        timeout = min(float(probe.get("timeoutSeconds") or 1), 2.0)
        if plan is None:
            return False
        if isinstance(probe.get("httpGet"), dict):
            return await self._http_probe(plan, probe["httpGet"], timeout)
        if isinstance(probe.get("tcpSocket"), dict):
            port = plan.local_port(probe["tcpSocket"].get("port", 0))
            return port is not None and await _connects(port, timeout)
        return True  # no probe (or exec): ready once it runs

    async def _http_probe(self, plan: launch.Launch, get: HTTPGetAction, timeout: float) -> bool:
        port = plan.local_port(get.get("port", 0))
        if port is None:
            return False
        scheme = str(get.get("scheme") or "HTTP").lower()
        url = f"{scheme}://{launch.LOCALHOST}:{port}{get.get('path') or '/'}"
        if self._session is None:
            self._session = aiohttp.ClientSession()
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the kubelet does not verify probes either
        try:
            async with self._session.get(
                url,
                timeout=aiohttp.ClientTimeout(total=timeout),
                ssl=context if scheme == "https" else False,
            ) as response:
                return 200 <= response.status < 400
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False

    # -- controllers ------------------------------------------------------------------
    def _reconcile(self, key: Key) -> None:
        kind, namespace, name = key
        workload = self._read(KINDS[kind], kind, namespace, name)
        owned = [p for p in self.pods if p.key == key and p.active]
        if (
            workload is None
            or workload["metadata"].get("deletionTimestamp")
            or not self.claims(workload)
        ):
            for pod in [p for p in self.pods if p.key == key]:
                self._stop(pod)
            self._known.discard(key)
            self.jobs.pop(key, None)
            return
        self._known.add(key)
        revision = pods.template_hash(workload["spec"].get("template") or {})
        {"Deployment": self._deployment, "StatefulSet": self._statefulset, "Job": self._job}[kind](
            workload, revision, owned
        )

    def _deployment(self, workload: KubeObject, revision: str, owned: list[LocalPod]) -> None:
        wanted = pods.replicas(workload)
        new = [p for p in owned if p.revision == revision]
        old = [p for p in owned if p.revision != revision]
        for _ in range(wanted - len(new)):
            new.append(
                self._create(
                    workload,
                    revision,
                    f"{workload['metadata']['name']}-{revision}-{pods.random_suffix()}",
                )
            )
        surplus = sorted(new, key=lambda p: (p.state.ready, -self.pods.index(p)))
        for pod in surplus[: max(len(new) - wanted, 0)]:
            self._stop(pod)
        ready_new = sum(p.state.ready for p in new if p.stop_deadline is None)
        keep_old = max(wanted - ready_new, 0)
        for pod in sorted(old, key=lambda p: p.state.ready)[: max(len(old) - keep_old, 0)]:
            self._stop(pod)

    def _statefulset(self, workload: KubeObject, revision: str, owned: list[LocalPod]) -> None:
        name = workload["metadata"]["name"]
        wanted = pods.replicas(workload)
        by_name = {p.name: p for p in owned}
        for pod in owned:
            suffix = pod.name.rsplit("-", 1)[-1]
            if not suffix.isdigit() or int(suffix) >= wanted:
                self._stop(pod)
        for ordinal in range(wanted):
            pod_name = f"{name}-{ordinal}"
            current = by_name.get(pod_name)
            if current is not None and current.revision != revision:
                self._stop(current)  # replaced once its process is gone
                return
            if current is None and not any(
                p.key == workload_key(workload) and p.name == pod_name for p in self.pods
            ):
                self._create(workload, revision, pod_name)
            if current is None or not current.state.ready:
                return  # one ordinal at a time, in order

    def _job(self, workload: KubeObject, revision: str, owned: list[LocalPod]) -> None:
        key = workload_key(workload)
        succeeded, failed = self.jobs.get(key, (0, 0))
        counts = pods.Counts(succeeded=succeeded, failed=failed)
        if pods.job_succeeded(workload, counts) or pods.job_failed(workload, counts):
            return
        remaining = pods.completions(workload) - succeeded
        for _ in range(min(pods.replicas(workload), remaining) - len(owned)):
            self._create(
                workload, revision, f"{workload['metadata']['name']}-{pods.random_suffix()}"
            )

    def _create(self, workload: KubeObject, revision: str, name: str) -> LocalPod:
        """A new Pod object and its (not yet started) process."""
        key = workload_key(workload)
        obj = pods.pod_object(workload, name, revision)
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations[LOCAL_RUN] = "true"
        made = self.cluster.create_in(
            self.cluster.type_for("v1", "Pod"), key[1], obj, manager=CONTROLLER_MANAGER
        )
        container = launch.local_container(pod_spec(made), self.local_images) or {}
        home = self._home / f"{key[1]}.{name}.{next(self._serial)}"
        home.mkdir(parents=True)
        pod = LocalPod(
            key=key,
            name=name,
            revision=revision,
            pod=made,
            container=container,
            home=home,
            one_shot=key[0] == "Job",
        )
        pod.log.touch()
        self.pods.append(pod)
        self._wake.set()
        return pod

    # -- statuses ---------------------------------------------------------------------
    def _report(self, key: Key) -> None:
        kind, namespace, name = key
        for pod in self.pods:
            if pod.key == key and pod.stop_deadline is None:
                self._report_pod(pod)
        workload = self._read(KINDS[kind], kind, namespace, name)
        if workload is None:
            return
        status = self._workload_status(workload, key)
        if {**(workload.get("status") or {}), **status} != (workload.get("status") or {}):
            self._write_status(
                workload, {**(workload.get("status") or {}), **status}, CONTROLLER_MANAGER
            )

    def _workload_status(self, workload: KubeObject, key: Key) -> JsonDict:
        revision = pods.template_hash(workload["spec"].get("template") or {})
        active = [p for p in self.pods if p.key == key and p.active]
        updated = [p for p in active if p.revision == revision]
        succeeded, failed = self.jobs.get(key, (0, 0))
        counts = pods.Counts(
            total=len(active),
            updated=len(updated),
            ready=sum(p.state.ready for p in active),
            ready_updated=sum(p.state.ready for p in updated),
            succeeded=succeeded,
            failed=failed,
            active=len(active),
        )
        now = self.cluster.now()
        if key[0] == "Deployment":
            return pods.deployment_status(workload, counts, now)
        if key[0] == "StatefulSet":
            return pods.statefulset_status(workload, counts, revision, now)
        return pods.job_status(workload, counts, now)

    def _report_pod(self, pod: LocalPod) -> None:
        current = self._read("v1", "Pod", pod.namespace, pod.name)
        if current is None or current["metadata"].get("uid") != pod.pod["metadata"].get("uid"):
            return
        status = pods.pod_status(current, pod.container, pod.state, self.cluster.now())
        if status != current.get("status"):
            self._write_status(current, status, KUBELET)

    def _write_status(self, obj: KubeObject, status: JsonDict, manager: str) -> None:
        meta = obj["metadata"]
        rt = self.cluster.type_for(obj["apiVersion"], obj["kind"])
        try:
            self.cluster.replace_in(
                rt,
                meta.get("namespace"),
                meta["name"],
                {**obj, "status": status},
                subresource="status",
                manager=manager,
            )
        except ApiError:
            return  # changed or gone meanwhile: the next step writes it again

    # -- services ---------------------------------------------------------------------
    def _route_services(self) -> None:
        wanted: dict[tuple[str, str], str] = {}
        ready = [p for p in self.pods if p.active and p.state.ready and p.plan is not None]
        for namespace in {p.namespace for p in ready}:
            for service in self.cluster.list("v1", "Service", namespace, record=False):
                address = _service_address(service, [p for p in ready if p.namespace == namespace])
                if address is not None:
                    wanted[(namespace, service["metadata"]["name"])] = address
        for key in [k for k in self._hosts if k not in wanted]:
            self._unset_host(key)
        for key, address in wanted.items():
            if self._hosts.get(key) != address and (
                key not in self.service_hosts or key in self._hosts
            ):
                self.service_hosts[key] = address
                self._hosts[key] = address

    def _unset_host(self, key: tuple[str, str]) -> None:
        if self.service_hosts.get(key) == self._hosts.pop(key, None):
            self.service_hosts.pop(key, None)

    # -- logs (pods/log) --------------------------------------------------------------
    def log_file(self, namespace: str, name: str) -> Path | None:
        """The output of the Pod's container, when this runner ran it."""
        found = self._find(namespace, name)
        return found.log if found is not None else None

    def running(self, namespace: str, name: str) -> bool:
        """Its process is still running, also while it is being stopped: a terminating
        container still writes (its shutdown lines), and ``kubectl logs -f`` follows it
        until it exits, as with a kubelet."""
        found = self._find(namespace, name)
        return found is not None and found.alive

    def container_name(self, namespace: str, name: str) -> str | None:
        found = self._find(namespace, name)
        return str(found.container.get("name", "")) if found is not None else None

    def _find(self, namespace: str, name: str) -> LocalPod | None:
        matching = [p for p in self.pods if p.namespace == namespace and p.name == name]
        return next(
            (p for p in matching if p.stop_deadline is None), matching[0] if matching else None
        )

    # -- store access -----------------------------------------------------------------
    def _read(self, api_version: str, kind: str, namespace: str, name: str) -> KubeObject | None:
        try:
            return self.cluster.read(
                self.cluster.type_for(api_version, kind), namespace or None, name
            )
        except NotFoundError:
            return None

    def _delete_object(
        self, rt: ResourceType, namespace: str | None, name: str, uid: str = ""
    ) -> None:
        try:
            self.cluster.delete_in(rt, namespace, name, preconditions={"uid": uid} if uid else None)
        except ApiError:
            return  # already gone (the garbage collector was first) or replaced

    def _lookup(self, namespace: str) -> launch.Lookup:
        def lookup(kind: str, name: str) -> dict[str, bytes] | None:
            found = self._read("v1", kind, namespace, name)
            return launch.source_data(kind, found) if found is not None else None

        return lookup

    def _kubeconfig(self, home: Path) -> Path:
        path = home / "kubeconfig"
        certs.write_kubeconfig(
            path, server=self.access.url, ca_pem=self.access.ca_pem, token=self.access.token
        )
        return path


def _service_address(service: KubeObject, ready: list[LocalPod]) -> str | None:
    """127.0.0.1:<local port> of the first ready Pod the Service selects, for its first
    port."""
    spec = service_spec(service)
    selector = spec.get("selector") or {}
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    if not selector or not ports:
        return None
    for pod in ready:
        labels = pod.pod["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        assert pod.plan is not None
        local = pod.plan.local_port(ports[0].get("targetPort") or ports[0].get("port", 0))
        if local is not None:
            return f"{launch.LOCALHOST}:{local}"
    return None


async def _connects(port: int, timeout: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(launch.LOCALHOST, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


def _runners() -> Iterator[ProcessRunner]:
    return iter(list(_RUNNERS))


@atexit.register
def _kill_leftovers() -> None:
    """No process outlives the interpreter that started it."""
    for runner in _runners():
        runner.kill_all()
