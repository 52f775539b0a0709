"""Informers: paged lists, watch events into the store, resume, relist on 410, reconnect."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from orkestra.cluster.errors import GoneError, ServiceUnavailableError
from orkestra.runtime.informer import Informer
from orkestra.runtime.kube import Resource
from orkestra.runtime.metrics import RuntimeMetrics
from orkestra.runtime.store import Change, Store, resource_version

Obj = dict[str, Any]
CONFIG_MAPS = Resource(
    group="", version="v1", plural="configmaps", kind="ConfigMap", namespaced=True
)


def cm(name: str, rv: int) -> Obj:
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "resourceVersion": str(rv),
            "managedFields": [{"manager": "kubectl"}],
        }
    }


def event(kind: str, obj: Obj) -> Obj:
    return {"type": kind, "object": obj}


class Script:
    """A client whose lists and watches play a script; each watch call takes the next
    entry (a list of events, or an exception to raise)."""

    def __init__(
        self, pages: list[tuple[list[Obj], str, str]], watches: list[list[Obj] | Exception]
    ) -> None:
        self.pages = pages
        self.watches = watches
        self.lists: list[str] = []
        self.resumed: list[str] = []

    async def list_page(
        self, res: Resource, namespace: str | None, *, limit: int, token: str = ""
    ) -> tuple[list[Obj], str, str]:
        self.lists.append(token)
        return self.pages[len(self.lists) - 1 if len(self.lists) <= len(self.pages) else -1]

    async def watch(
        self,
        res: Resource,
        namespace: str | None,
        resource_version: str,
        timeout_seconds: int,
        on_event: Callable[[Obj], None],
    ) -> int:
        self.resumed.append(resource_version)
        step = self.watches.pop(0) if self.watches else []
        if isinstance(step, Exception):
            raise step
        for item in step:
            on_event(item)
        if not self.watches:
            await asyncio.sleep(3600)
        return len(step)


def run(script: Script, until: Any) -> tuple[Informer, list[Change]]:
    informer = Informer(
        client=script,
        resource=CONFIG_MAPS,
        store=Store(),  # type: ignore[arg-type]
        metrics=RuntimeMetrics(),
        retry_base=0.001,
    )
    seen: list[Change] = []
    informer.subscribe(seen.append)

    async def go() -> None:
        task = asyncio.create_task(informer.run())
        for _ in range(500):
            if until(informer, seen):
                break
            await asyncio.sleep(0.002)
        task.cancel()

    asyncio.run(go())
    return informer, seen


def test_a_paged_list_fills_the_store_and_marks_it_synced() -> None:
    script = Script([([cm("a", 1)], "10", "next"), ([cm("b", 2)], "10", "")], [])
    informer, seen = run(script, lambda i, s: i.synced.is_set())
    assert script.lists == ["", "next"]
    assert [c.type for c in seen] == ["ADDED", "ADDED"]
    stored = informer.store.get(("default", "a"))
    assert stored is not None and stored["kind"] == "ConfigMap"
    assert stored["apiVersion"] == "v1" and "managedFields" not in stored["metadata"]
    assert informer.resource_version == "10"


def test_watch_events_change_the_store_and_echoes_change_nothing() -> None:
    script = Script(
        [([cm("a", 5)], "5", "")],
        [
            [
                event("MODIFIED", cm("a", 5)),  # what the list already held
                event("ADDED", cm("b", 6)),
                event("MODIFIED", cm("a", 7)),
                event("BOOKMARK", {"metadata": {"resourceVersion": "8"}}),
                event("DELETED", cm("b", 9)),
            ]
        ],
    )
    informer, seen = run(script, lambda i, s: i.resource_version == "9")
    assert [(c.type, c.obj["metadata"]["name"]) for c in seen] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
        ("MODIFIED", "a"),
        ("DELETED", "b"),
    ]
    assert informer.store.list_keys() == [("default", "a")]


def test_a_watch_that_ends_resumes_from_the_last_version_seen() -> None:
    script = Script([([], "5", "")], [[event("ADDED", cm("a", 6))], [event("ADDED", cm("b", 7))]])
    _, seen = run(script, lambda i, s: len(s) == 2)
    assert len(seen) == 2
    assert script.resumed[:2] == ["5", "6"]
    assert script.lists == [""]


def test_410_gone_lists_again_and_deletes_what_went_away_meanwhile() -> None:
    script = Script(
        [([cm("a", 5), cm("b", 5)], "5", ""), ([cm("a", 5)], "20", "")],
        [
            GoneError("too old"),
            [event("ERROR", {"kind": "Status", "code": 410, "reason": "Expired"})],
            [],
        ],
    )
    informer, seen = run(script, lambda i, s: len(script.lists) >= 3)
    assert ("DELETED", "b") in [(c.type, c.obj["metadata"]["name"]) for c in seen]
    assert informer.store.list_keys() == [("default", "a")]


def test_a_failed_watch_reconnects_after_a_backoff() -> None:
    script = Script(
        [([], "5", "")],
        [
            ServiceUnavailableError("connection refused"),
            ServiceUnavailableError("connection refused"),
            [event("ADDED", cm("a", 6))],
        ],
    )
    _, seen = run(script, lambda i, s: bool(s))
    assert script.resumed[:3] == ["5", "5", "5"]
    assert len(seen) == 1


def test_a_failing_handler_does_not_stop_the_watch() -> None:
    script = Script([([], "5", "")], [[event("ADDED", cm("a", 6)), event("ADDED", cm("b", 7))]])
    informer = Informer(
        client=script,
        resource=CONFIG_MAPS,
        store=Store(),  # type: ignore[arg-type]
        metrics=RuntimeMetrics(),
    )

    def broken(change: Change) -> None:
        raise RuntimeError("bug")

    informer.subscribe(broken)

    async def go() -> None:
        task = asyncio.create_task(informer.run())
        while len(informer.store) < 2:
            await asyncio.sleep(0.002)
        task.cancel()

    asyncio.run(asyncio.wait_for(go(), 5))


def line(kind: str, obj: Obj) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode()


def counted(informer: Informer, kind: str) -> float:
    return (
        informer.metrics.registry.get_sample_value(
            "orkestra_watch_events_total", {"resource": informer.name, "type": kind}
        )
        or 0.0
    )


def test_lines_the_store_already_holds_are_counted_and_skipped_undecoded() -> None:
    informer = Informer(
        client=None,
        resource=CONFIG_MAPS,
        store=Store(),  # type: ignore[arg-type]
        metrics=RuntimeMetrics(),
    )
    seen: list[Change] = []
    informer.subscribe(seen.append)
    informer.apply(line("ADDED", cm("a", 5)))
    informer.apply(line("MODIFIED", cm("a", 5)))  # the echo of a write already held
    informer.apply(line("MODIFIED", cm("a", 4)))  # older than what is held
    informer.apply(line("BOOKMARK", {"kind": "ConfigMap", "metadata": {"resourceVersion": "7"}}))
    assert informer.resource_version == "7"
    informer.apply(line("MODIFIED", cm("a", 8)))
    informer.apply(b'{"type": "DELETED", "object": ' + json.dumps(cm("a", 9)).encode() + b"}")
    assert [(c.type, resource_version(c.obj)) for c in seen] == [
        ("ADDED", 5),
        ("MODIFIED", 8),
        ("DELETED", 8),
    ]
    assert informer.resource_version == "9"
    assert (
        counted(informer, "ADDED"),
        counted(informer, "MODIFIED"),
        counted(informer, "BOOKMARK"),
        counted(informer, "DELETED"),
    ) == (1, 3, 1, 1)
    assert len(informer.store) == 0


def test_lines_of_other_shapes_are_decoded_and_judged_in_full() -> None:
    informer = Informer(
        client=None,
        resource=CONFIG_MAPS,
        store=Store(),  # type: ignore[arg-type]
        metrics=RuntimeMetrics(),
    )
    informer.apply(
        line("ADDED", {"metadata": {"name": "a", "namespace": "default", "resourceVersion": 5}})
    )  # a number
    assert len(informer.store) == 1
    with pytest.raises(GoneError):
        informer.apply(line("ERROR", {"kind": "Status", "code": 410, "reason": "Expired"}))
    with pytest.raises(ServiceUnavailableError, match="unexpected watch event"):
        informer.apply(b'["not", "an", "event"]')
    with pytest.raises(ServiceUnavailableError, match="unexpected watch event 'SURPRISE'"):
        informer.apply(line("SURPRISE", cm("b", 6)))


def test_an_echo_that_overtakes_its_write_is_held_back_and_recognised() -> None:
    informer = Informer(client=None, resource=CONFIG_MAPS, store=Store(), metrics=RuntimeMetrics())  # type: ignore[arg-type]
    seen: list[Change] = []
    informer.subscribe(seen.append)
    informer.apply(line("ADDED", cm("a", 5)))
    key = ("default", "a")
    informer.store.begin_write(key)  # a worker's update is on its way
    informer.apply(line("MODIFIED", cm("a", 6)))  # its echo, before the worker stored it
    informer.apply(line("MODIFIED", cm("b", 7)))  # other objects are not held back
    assert [(c.type, c.obj["metadata"]["name"]) for c in seen] == [("ADDED", "a"), ("ADDED", "b")]
    informer.store.upsert(cm("a", 6))  # the worker stores the answer (write-through)
    informer.store.end_write(key)
    assert len(seen) == 2  # the echo changed nothing
    assert counted(informer, "MODIFIED") == 2 and informer.resource_version == "6"
    informer.store.begin_write(key)  # a write that fails (a conflict): nothing is stored
    informer.apply(line("MODIFIED", cm("a", 8)))  # someone else's change
    informer.apply(line("DELETED", cm("a", 9)))
    informer.store.end_write(key)
    assert [(c.type, resource_version(c.obj)) for c in seen[2:]] == [
        ("MODIFIED", 8),
        ("DELETED", 8),
    ]


def test_held_back_events_are_applied_on_the_informers_loop() -> None:
    informer = Informer(client=None, resource=CONFIG_MAPS, store=Store(), metrics=RuntimeMetrics())  # type: ignore[arg-type]
    seen: list[tuple[str, bool]] = []
    informer.subscribe(lambda c: seen.append((c.type, threading.current_thread() is main)))
    main = threading.current_thread()

    async def go() -> None:
        informer._loop = asyncio.get_running_loop()  # as run() does
        informer.store.begin_write(("default", "a"))
        informer.apply(line("ADDED", cm("a", 1)))
        worker = threading.Thread(target=informer.store.end_write, args=(("default", "a"),))
        worker.start()
        worker.join()
        assert seen == []  # not applied on the worker's thread
        await asyncio.sleep(0)
        assert seen == [("ADDED", True)]

    asyncio.run(go())


def test_events_released_after_the_loop_closed_are_dropped_quietly() -> None:
    informer = Informer(client=None, resource=CONFIG_MAPS, store=Store(), metrics=RuntimeMetrics())  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    informer._loop = loop  # as run() does
    informer.store.begin_write(("default", "a"))
    informer.apply(line("ADDED", cm("a", 1)))
    loop.close()  # the runtime stopped while a worker's write was in flight
    informer.store.end_write(("default", "a"))  # the worker ends its write: no error
    assert len(informer.store) == 0
