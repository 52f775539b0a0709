"""How watch events reach the clients: written by the hub while a watch keeps up, queued
for its task while the client is slow, cut after a number of events, dropped with a client
that left; through the real application on a connection whose transport records writes."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from orkestra.apiserver.app import build_app
from orkestra.apiserver.faults import Faults
from orkestra.apiserver.watch import WatchHub
from orkestra.cluster import MemoryCluster
from orkestra.httpserver import Connection, HttpServer
from orkestra.kubeobjects import KubeObject

PATH = "/api/v1/namespaces/default/configmaps"


class Transport:
    """Each write kept apart (so a test sees how events were grouped)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def writelines(self, parts: Any) -> None:
        self.writes.append(b"".join(parts))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def events(self) -> list[tuple[str, str]]:
        """(type, name) of every event sent so far (the stream's chunks decoded)."""
        body = b"".join(self.writes).partition(b"\r\n\r\n")[2]
        out = []
        while body:
            size, _, body = body.partition(b"\r\n")
            length = int(size, 16)
            chunk, body = body[:length], body[length + 2 :]
            for line in chunk.splitlines():
                event = json.loads(line)
                out.append((event["type"], event["object"]["metadata"].get("name", "")))
        return out


def configmap(name: str) -> KubeObject:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


@asynccontextmanager
async def watching(
    faults: Faults | None = None, *, flush_interval: float = 0.0
) -> AsyncIterator[tuple[MemoryCluster, WatchHub, Connection, Transport]]:
    """A store, its hub and one watch of configmaps in ``default`` (from now on); the hub
    dispatches each burst at once unless given a ``flush_interval``."""
    cluster = MemoryCluster(record=False)
    loop = asyncio.get_running_loop()
    hub = WatchHub(
        cluster,
        loop,
        flush_interval=flush_interval,
        cut_after=faults.cut_after if faults else lambda: None,
    )
    app = build_app(cluster, hub, token=None, address=lambda: "x", faults=faults)
    connection = Connection(HttpServer(app, loop))
    transport = Transport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    version = cluster.resource_version
    connection.data_received(
        f"GET {PATH}?watch=1&resourceVersion={version} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    await asyncio.sleep(0.01)
    try:
        yield cluster, hub, connection, transport
    finally:
        hub.close()
        await asyncio.sleep(0.01)
        await app.cleanup()


async def turns(count: int = 5) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def test_a_watch_that_keeps_up_gets_each_burst_in_one_write() -> None:
    async def scenario() -> tuple[list[tuple[str, str]], int]:
        async with watching() as (cluster, _, _, transport):
            head_writes = len(transport.writes)
            cluster.create(configmap("a"), record=False)
            cluster.create(configmap("b"), record=False)  # the same burst: one write
            await turns()
            cluster.create(configmap("c"), record=False)
            await turns()
            return transport.events(), len(transport.writes) - head_writes

    events, writes = asyncio.run(scenario())
    assert events == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")]
    assert writes == 2


def test_changes_that_keep_coming_are_written_once_per_flush_interval() -> None:
    async def scenario() -> list[tuple[list[tuple[str, str]], int]]:
        seen = []
        async with watching(flush_interval=0.2) as (cluster, _, _, transport):
            head_writes = len(transport.writes)

            def progress() -> tuple[list[tuple[str, str]], int]:
                return transport.events(), len(transport.writes) - head_writes

            cluster.create(configmap("a"), record=False)  # after a quiet spell: at once
            await turns()
            seen.append(progress())
            cluster.create(configmap("b"), record=False)  # within the interval: held back
            await turns()
            cluster.create(configmap("c"), record=False)
            await turns()
            seen.append(progress())
            await asyncio.sleep(0.3)  # the interval passed: b and c in one write
            seen.append(progress())
        return seen

    first, held, flushed = asyncio.run(scenario())
    assert first == ([("ADDED", "a")], 1)
    assert held == first
    assert flushed == ([("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")], 2)


def test_a_slow_client_gets_every_event_in_order_once_it_reads_again() -> None:
    async def scenario() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        async with watching() as (cluster, _, connection, transport):
            connection.pause_writing()
            for name in "abc":  # a: written by the watch's task, which then waits to drain
                cluster.create(configmap(name), record=False)
                await turns()
            while_paused = transport.events()
            connection.resume_writing()
            cluster.create(configmap("d"), record=False)
            await turns()
            return while_paused, transport.events()

    while_paused, after = asyncio.run(scenario())
    assert while_paused == [("ADDED", "a")]
    assert after == [("ADDED", name) for name in "abcd"]


def test_a_cut_stream_ends_after_its_events_also_when_written_live() -> None:
    async def scenario() -> tuple[list[tuple[str, str]], bool]:
        async with watching(Faults(watch_cut_every=2)) as (cluster, _, connection, transport):
            for name in "abc":
                cluster.create(configmap(name), record=False)
                await turns()
            return transport.events(), connection.idle

    events, idle = asyncio.run(scenario())
    assert events == [("ADDED", "a"), ("ADDED", "b")]
    assert idle  # the stream ended: the connection waits for its next request


def test_a_client_that_left_is_dropped_by_the_hub() -> None:
    async def scenario() -> int:
        async with watching() as (cluster, hub, connection, transport):
            transport.closed = True
            cluster.create(configmap("a"), record=False)
            await turns()
            connection.connection_lost(None)
            await turns()
            return sum(len(watchers) for watchers in hub._watchers.values())

    assert asyncio.run(scenario()) == 0


def test_events_written_from_other_threads_arrive_in_order() -> None:
    async def scenario() -> list[tuple[str, str]]:
        async with watching() as (cluster, _, _, transport):

            def write() -> None:
                for i in range(20):
                    cluster.create(configmap(f"t{i:02d}"), record=False)

            threads = [threading.Thread(target=write)]
            for thread in threads:
                thread.start()
            for i in range(20):
                cluster.create(configmap(f"l{i:02d}"), record=False)
                await asyncio.sleep(0)
            for thread in threads:
                thread.join()
            await asyncio.sleep(0.05)
            return transport.events()

    events = asyncio.run(scenario())
    assert len(events) == 40
    assert [n for _, n in events if n.startswith("t")] == [f"t{i:02d}" for i in range(20)]
    assert [n for _, n in events if n.startswith("l")] == [f"l{i:02d}" for i in range(20)]
