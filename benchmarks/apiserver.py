"""The embedded API server on its own: GET throughput and a LIST of 10,000 objects.

The server runs as ``ork cluster up`` in a process of its own (in memory, HTTPS, bearer
token), so the clients measuring it do not share its interpreter. References measured in
the same run:

* GET/s: the same ``wrk`` run against a trivial aiohttp application in another process,
  serving the same response bytes over the same TLS setup: the ceiling of the stack
  (aiohttp, ``ssl``, CPython) the server is built on;
* LIST: ``json.dumps`` of the same 10,000 objects in-process, the cost of merely encoding
  what the server has to send (and ``msgspec.json.encode``, the encoder the server uses).

This module also holds what the operator benchmarks share: starting and stopping the
server process, an async HTTP client with the server's credentials, and the memory figures
of a process (``/proc/PID/status``).
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import json
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import yaml

Obj = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
START_TIMEOUT = 30.0
LIST_SIZE = 10_000
PR_SET_PDEATHSIG = 1
LIST_NAMESPACE = "list-bench"
GET_TARGET = 5_000.0
LIST_TARGET_MS = 200.0


# -- processes ------------------------------------------------------------------------
def proc_kib(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` figure in KiB (``VmHWM``: peak resident set; ``VmRSS``: now);
    0 once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def mib(kib: int) -> float:
    return kib / 1024


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; only the process we started."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the benchmark dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            argv,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, "NO_COLOR": "1", **(env or {})},
            preexec_fn=_die_with_parent,
        )


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` blocks stop the processes we started."""

    def leave(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)


# -- the server process -----------------------------------------------------------------
@dataclass
class ServerProcess:
    """A running ``ork cluster up`` and what a client needs to talk to it."""

    process: subprocess.Popen[bytes]
    url: str
    token: str
    kubeconfig: Path
    ca_pem: bytes

    @property
    def pid(self) -> int:
        return self.process.pid

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    def client(self, connections: int = 32) -> Client:
        return Client(self.url, self.token, self.ssl_context(), connections)


def _read_kubeconfig(path: Path) -> tuple[str, str, bytes]:
    config = yaml.safe_load(path.read_text())
    cluster = config["clusters"][0]["cluster"]
    token = config["users"][0]["user"]["token"]
    return cluster["server"], token, base64.b64decode(cluster["certificate-authority-data"])


@contextmanager
def embedded_server(work: Path) -> Iterator[ServerProcess]:
    """``ork cluster up`` on a free port, in memory; stopped (and waited for) on exit."""
    work.mkdir(parents=True, exist_ok=True)
    kubeconfig = work / "kubeconfig"
    kubeconfig.unlink(missing_ok=True)  # its appearance tells that this server listens
    process = spawn(
        [str(BIN / "ork"), "cluster", "up", "--port", "0", "--kubeconfig", str(kubeconfig)],
        work / "server.log",
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not kubeconfig.exists():  # written once the server listens
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "ork cluster up did not start:\n" + (work / "server.log").read_text()
                )
            time.sleep(0.05)
        url, token, ca = _read_kubeconfig(kubeconfig)
        yield ServerProcess(process, url, token, kubeconfig, ca)
    finally:
        stop_process(process)


# -- an HTTP client with the server's credentials -----------------------------------------
class Client:
    """aiohttp with the server's CA and token; a fresh session per ``async with``."""

    def __init__(self, url: str, token: str, context: ssl.SSLContext, connections: int) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.context = context
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        connector = aiohttp.TCPConnector(ssl=self.context, limit=self.connections)
        self._session = aiohttp.ClientSession(self.url, headers=self.headers, connector=connector)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use the client with async with"
        return self._session

    async def get_bytes(self, path: str) -> bytes:
        async with self.session.get(path) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
            return body

    async def get(self, path: str) -> Obj:
        result: Obj = json.loads(await self.get_bytes(path))
        return result

    async def post(self, path: str, obj: Obj) -> Obj:
        async with self.session.post(path, json=obj) as response:
            body = await response.read()
            if response.status not in (200, 201):
                raise RuntimeError(f"POST {path}: {response.status} {body[:300]!r}")
            result: Obj = json.loads(body)
            return result

    async def create_all(self, path: str, objects: Iterable[Obj]) -> float:
        """POST every object, ``connections`` at a time; the seconds it took."""
        queue: asyncio.Queue[Obj] = asyncio.Queue()
        for obj in objects:
            queue.put_nowait(obj)

        async def worker() -> None:
            while not queue.empty():
                await self.post(path, queue.get_nowait())

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(self.connections)))
        return time.perf_counter() - start


# -- the hello-world reference ------------------------------------------------------------
def serve_hello(port: int, pki: Path, body_file: Path) -> None:
    """A trivial aiohttp application answering every GET with the same bytes, over TLS
    like the embedded server (``python -m benchmarks.apiserver hello PORT PKI BODY``)."""
    from aiohttp import web

    body = body_file.read_bytes()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki / "server.crt", pki / "server.key")

    async def hello(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    web.run_app(app, host="127.0.0.1", port=port, ssl_context=context, access_log=None, print=None)


@contextmanager
def hello_server(work: Path, body: bytes) -> Iterator[str]:
    from orkestra.apiserver.certs import load_or_create
    from orkestra.apiserver.server import free_port

    load_or_create(work / "pki", names=["127.0.0.1"])
    (work / "body.json").write_bytes(body)
    port = free_port()
    process = spawn(
        [
            sys.executable,
            "-m",
            "benchmarks.apiserver",
            "hello",
            str(port),
            str(work / "pki"),
            str(work / "body.json"),
        ],
        work / "hello.log",
        cwd=ROOT,
    )
    try:
        _wait_listening(port, process)
        yield f"https://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the hello-world server did not listen on {port}")


# -- wrk ----------------------------------------------------------------------------------
@dataclass
class WrkResult:
    rate: float
    p50_ms: float
    p99_ms: float


def _latency_ms(text: str, percentile: str) -> float:
    found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if found is None:
        return float("nan")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return float(found.group(1)) * scale


def wrk(url: str, token: str | None, *, connections: int, seconds: int) -> WrkResult:
    """Requests per second of one ``wrk`` run (one thread); fails on any non-2xx answer."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token:
        argv += ["-H", f"Authorization: Bearer {token}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=True)
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise RuntimeError(f"wrk saw errors against {url}:\n{done.stdout}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if rate is None:
        raise RuntimeError(f"no rate in wrk's output:\n{done.stdout}")
    return WrkResult(
        float(rate.group(1)), _latency_ms(done.stdout, "50"), _latency_ms(done.stdout, "99")
    )


# -- the measurements -----------------------------------------------------------------------
def configmap(name: str, namespace: str, index: int) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app": "bench", "shard": str(index % 10)},
        },
        "data": {
            "index": str(index),
            "greeting": "hello from the benchmark",
            "config.yaml": f"replicas: {index % 5 + 1}\nport: 8080\n",
        },
    }


@dataclass
class ListResult:
    created_per_s: float
    median_ms: float
    best_ms: float
    size: int
    items: int
    dumps_ms: float
    msgspec_ms: float


async def _fill(client: Client, count: int) -> float:
    await client.post(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LIST_NAMESPACE}},
    )
    path = f"/api/v1/namespaces/{LIST_NAMESPACE}/configmaps"
    seconds = await client.create_all(
        path, (configmap(f"cm-{i:05d}", LIST_NAMESPACE, i) for i in range(count))
    )
    return count / seconds


async def _time_list(client: Client, runs: int) -> tuple[list[float], bytes]:
    path = f"/api/v1/namespaces/{LIST_NAMESPACE}/configmaps"
    await client.get_bytes(path)  # warm: connection, TLS session
    times, body = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        body = await client.get_bytes(path)
        times.append((time.perf_counter() - start) * 1000)
    return times, body


def encode_ms(encode: Callable[[Obj], object], doc: Obj, runs: int) -> float:
    """Median milliseconds of encoding ``doc`` in this process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        encode(doc)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def list_benchmark(
    server: ServerProcess, count: int = LIST_SIZE, runs: int = 9
) -> ListResult:
    async with server.client(connections=16) as client:
        created = await _fill(client, count)
        times, body = await _time_list(client, runs)
    doc = json.loads(body)
    return ListResult(
        created,
        statistics.median(times),
        min(times),
        len(body),
        len(doc["items"]),
        encode_ms(lambda d: json.dumps(d, separators=(",", ":")), doc, runs),
        encode_ms(msgspec.json.encode, doc, runs),
    )


async def _one_configmap(server: ServerProcess) -> tuple[str, bytes]:
    async with server.client() as client:
        obj = configmap("get-me", "default", 0)
        await client.post("/api/v1/namespaces/default/configmaps", obj)
        path = "/api/v1/namespaces/default/configmaps/get-me"
        return server.url + path, await client.get_bytes(path)


@dataclass
class GetResult:
    server: WrkResult
    hello: WrkResult
    connections: int
    body_bytes: int


def get_benchmark(
    server: ServerProcess, work: Path, connections: int = 4, seconds: int = 5
) -> GetResult:
    url, body = asyncio.run(_one_configmap(server))
    wrk(url, server.token, connections=connections, seconds=1)  # warm-up
    ours = wrk(url, server.token, connections=connections, seconds=seconds)
    with hello_server(work / "hello", body) as hello_url:
        target = hello_url + "/api/v1/namespaces/default/configmaps/get-me"
        wrk(target, None, connections=connections, seconds=1)
        ceiling = wrk(target, None, connections=connections, seconds=seconds)
    return GetResult(ours, ceiling, connections, len(body))


def print_results(got: GetResult, listed: ListResult, server_peak: int) -> None:
    print(
        "\nEmbedded API server (ork cluster up, own process, HTTPS + token, in memory; load "
        f"{os.getloadavg()[0]:.2f})"
    )
    print(f"  GET one ConfigMap ({got.body_bytes} B), wrk 1 thread {got.connections} connections:")
    print(
        f"    ork cluster up      {got.server.rate:>9,.0f} GET/s  p50 "
        f"{got.server.p50_ms:.2f} ms  p99 {got.server.p99_ms:.2f} ms  "
        f"({got.server.rate / GET_TARGET:4.2f}x the {GET_TARGET:,.0f}/s target)"
    )
    print(
        f"    aiohttp hello world {got.hello.rate:>9,.0f} GET/s  p50 "
        f"{got.hello.p50_ms:.2f} ms  p99 {got.hello.p99_ms:.2f} ms  (same bytes, same TLS: "
        "the ceiling)"
    )
    print(f"    ratio               {got.server.rate / got.hello.rate:9.2f}x the ceiling")
    print(
        f"  LIST {listed.items:,} ConfigMaps ({listed.size / 1e6:.2f} MB), median of 9: "
        f"{listed.median_ms:.1f} ms (best {listed.best_ms:.1f}; "
        f"{listed.median_ms / LIST_TARGET_MS:4.2f}x the {LIST_TARGET_MS:.0f} ms target)"
    )
    print(
        f"    json.dumps of the same objects in-process: {listed.dumps_ms:.1f} ms "
        f"(the LIST is {listed.median_ms / listed.dumps_ms:.2f}x that); msgspec.json.encode "
        f"(the server's encoder): {listed.msgspec_ms:.1f} ms "
        f"({listed.median_ms / listed.msgspec_ms:.1f}x)"
    )
    print(
        f"  created {listed.items:,} ConfigMaps at {listed.created_per_s:,.0f}/s "
        f"(16 concurrent POSTs); server peak RSS {mib(server_peak):.0f} MiB"
    )


def run() -> None:
    if shutil.which("wrk") is None:
        print("\nEmbedded API server: skipped (needs wrk)")
        return
    exit_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="ork-bench-") as tmp:
        work = Path(tmp)
        with embedded_server(work / "server") as server:
            got = get_benchmark(server, work)
            listed = asyncio.run(list_benchmark(server))
            peak = proc_kib(server.pid, "VmHWM")
    print_results(got, listed, peak)


if __name__ == "__main__":
    if sys.argv[1:2] == ["hello"]:
        serve_hello(int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        run()
