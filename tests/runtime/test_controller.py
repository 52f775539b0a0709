"""One CRD's controller without a cluster: settings, owners, outcomes, drain."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from orkestra.engine.reconcile import CycleResult
from orkestra.errors import OrkError
from orkestra.greenbridge import wait_for
from orkestra.runtime.cache import Retry, Write
from orkestra.runtime.controller import WRITE_STREAK, Controller, Settings, _Worker
from orkestra.runtime.events import EventRecorder
from orkestra.runtime.metrics import RuntimeMetrics
from orkestra.runtime.pattern import Unit
from orkestra.runtime.store import Change
from tests.conftest import PACK
from tests.runtime.harness import katalog

Obj = dict[str, Any]
KEY = ("default", "web")
CHILD_UPDATE = Write("update", "deployments", "default", "web")
CR = {
    "apiVersion": "rkguide.demo/v1",
    "kind": "WebApp",
    "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "1"},
}


class Cluster:
    def __init__(self) -> None:
        self.writes: list[Write] = []

    def begin(self) -> None:
        self.writes.clear()


class Engine:
    """A reconciler whose outcomes the test scripts."""

    def __init__(
        self,
        cluster: Cluster,
        *outcomes: CycleResult | Exception,
        delay: float = 0.0,
        writing: int = 0,
        write: Write = CHILD_UPDATE,
        reads_own_status: bool = True,
    ) -> None:
        self.cluster = cluster
        self.outcomes = list(outcomes)
        self.delay = delay
        self.writing = writing  # how many reconciles write something
        self.write = write  # what they write
        self.reads_own_status = reads_own_status
        self.done: list[str] = []

    def reconcile(self, name: str, namespace: str | None = None) -> CycleResult:
        if self.delay:  # waiting as a cluster call waits: on the event loop
            wait_for(asyncio.sleep(self.delay))
        outcome = self.outcomes.pop(0) if self.outcomes else CycleResult()
        self.done.append(name)
        if len(self.done) <= self.writing:
            self.cluster.writes.append(self.write)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class NoClient:
    """The workers' client, for workers whose engine needs none: they only close it."""

    def close(self) -> None:
        pass


@pytest.fixture
def unit() -> Unit:
    return Unit.load(PACK / "02-katalog-api" / "katalog.yaml")


def controller(unit: Unit, sent: list[tuple[str, str, Obj]] | None = None) -> Controller:
    recorder = EventRecorder(lambda m, p, b: (sent if sent is not None else []).append((m, p, b)))
    made = Controller(
        unit,
        "webapp",
        client=NoClient(),  # type: ignore[arg-type]
        informers=None,  # type: ignore[arg-type]
        metrics=RuntimeMetrics(),
        recorder=recorder,
        settings=Settings.of("webapp", unit),
    )
    made.store.upsert(CR)
    return made


def thing(directory: Path, operator_box: str, top: str = "") -> Unit:
    """A katalog with one CRD, ``thing``, with this operatorBox (a YAML flow mapping)."""
    return Unit.load(
        katalog(
            directory,
            f"""
        thing:
          apiTypes: {{group: test.orkestra.dev, version: v1, kind: Thing, plural: things}}
          operatorBox: {operator_box}
        """,
            top=top,
        )
    )


def worker(engine: Engine) -> _Worker:
    return _Worker(engine.cluster, engine)  # type: ignore[arg-type]


def test_settings_come_from_reconcile_its_profile_and_the_command_line(tmp_path: Path) -> None:
    tuned = thing(
        tmp_path,
        "{reconcile: {profile: busy, resync: 1m, queue: {failureThreshold: 4}}}",
        top="""
        profiles:
          reconciler:
            - {name: busy, workers: 8, resync: 5m, queue: {retryBackoff: 2s}}
        """,
    )
    assert Settings.of("thing", tuned) == Settings(
        workers=8, resync=60.0, retry_base=0.005, failure_threshold=4
    )
    assert Settings.of("thing", tuned, workers=2, resync=0) == Settings(
        workers=2, resync=0, retry_base=0.005, failure_threshold=4
    )
    unit = Unit.load(PACK / "02-katalog-api" / "katalog.yaml")
    assert Settings.of("webapp", unit) == Settings(workers=2, resync=30.0)


def test_a_profile_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OrkError, match="no reconciler profile named"):
        Settings.of("thing", thing(tmp_path, "{reconcile: {profile: missing}}"))


def test_children_lead_to_their_owner_by_reference_or_by_label(unit: Unit) -> None:
    made = controller(unit)
    made._on_cr(Change("ADDED", CR))
    assert made.queue.take() == KEY
    by_reference = {
        "metadata": {
            "name": "x",
            "namespace": "default",
            "ownerReferences": [
                {
                    "apiVersion": "rkguide.demo/v1",
                    "kind": "WebApp",
                    "name": "web",
                    "controller": True,
                },
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "controller": False},
            ],
        }
    }
    by_label = {
        "metadata": {"name": "cluster-thing", "labels": {"orkestra.io/owner": "webapp.default.web"}}
    }
    stranger = {
        "metadata": {
            "name": "y",
            "namespace": "default",
            "ownerReferences": [
                {"apiVersion": "other.io/v1", "kind": "WebApp", "name": "web", "controller": True}
            ],
        }
    }
    assert made.owners(by_reference) == [KEY]
    assert made.owners(by_label) == [KEY]
    assert made.owners(stranger) == []
    made._on_cr(Change("DELETED", CR, CR))
    assert made.owners(by_label) == []


def test_a_reconcile_that_wrote_runs_again_until_one_writes_nothing(unit: Unit) -> None:
    made = controller(unit)
    engine = Engine(Cluster(), writing=2)
    for _ in range(3):
        made.process(worker(engine), KEY)
    assert made.queue.take() == KEY  # two reconciles wrote: queued again
    made.queue.done(KEY)
    assert made.queue.take() is None  # the third wrote nothing: done
    assert len(engine.done) == 3


@pytest.mark.parametrize(
    ("write", "reads_own_status", "again"),
    [
        (Write("status", "webapps", "default", "web"), False, False),
        (Write("status", "webapps", "default", "web"), True, True),
        (Write("status", "webapps", "default", "other"), False, True),
        (Write("update", "webapps", "default", "web"), False, True),
        (Write("status", "deployments", "default", "web"), False, True),
    ],
)
def test_a_write_of_only_the_crs_status_is_not_checked_again_when_nothing_reads_it(
    unit: Unit, write: Write, reads_own_status: bool, again: bool
) -> None:
    made = controller(unit)
    engine = Engine(Cluster(), writing=1, write=write, reads_own_status=reads_own_status)
    made.process(worker(engine), KEY)
    assert (made.queue.take() == KEY) is again


def test_a_key_that_keeps_writing_is_slowed_down(unit: Unit) -> None:
    made = controller(unit)
    engine = Engine(Cluster(), writing=100)
    for _ in range(WRITE_STREAK - 1):
        made.process(worker(engine), KEY)
        assert made.queue.take() == KEY
        made.queue.done(KEY)
    made.process(worker(engine), KEY)
    assert made.queue.take() is None and made.queue.delayed == 1


def test_errors_are_recorded_as_events_and_retried_with_backoff(unit: Unit) -> None:
    sent: list[tuple[str, str, Obj]] = []
    made = controller(unit, sent)
    engine = Engine(Cluster(), CycleResult(error="template: bad"), CycleResult())
    made.process(worker(engine), KEY)
    assert made.queue.failures(KEY) == 1 and made.queue.delayed == 1
    assert [b["reason"] for _, _, b in sent] == ["ReconcileError"]
    health = made.health()
    assert health["consecutiveFailures"] == 1
    assert health["lastError"]["message"] == "template: bad"
    made.process(worker(engine), KEY)
    assert made.queue.failures(KEY) == 0 and made.health()["consecutiveFailures"] == 0


def test_a_denial_is_an_event_and_waits_for_a_change(unit: Unit) -> None:
    sent: list[tuple[str, str, Obj]] = []
    made = controller(unit, sent)
    engine = Engine(Cluster(), CycleResult(error="validation denied: image", denied=True))
    made.process(worker(engine), KEY)
    assert [b["reason"] for _, _, b in sent] == ["ValidationFailed"]
    assert made.queue.delayed == 0 and len(made.queue) == 0


def test_a_retry_or_a_crash_backs_off_without_stopping_the_worker(unit: Unit) -> None:
    made = controller(unit)
    engine = Engine(Cluster(), Retry("changed", conflict=True), KeyError("bug"))
    made.process(worker(engine), KEY)
    made.process(worker(engine), KEY)
    assert made.queue.failures(KEY) == 2
    assert made.health()["errors"] == 1


@pytest.mark.parametrize(
    "reconcile,grace,joined,done",
    [
        (0.2, 5.0, True, ["a"]),  # the running reconcile finishes; nothing more is handed out
        (30.0, 0.1, False, []),  # one still running at the deadline is cancelled
    ],
)
def test_stopping_drains_the_workers_until_the_deadline(
    unit: Unit,
    monkeypatch: pytest.MonkeyPatch,
    reconcile: float,
    grace: float,
    joined: bool,
    done: list[str],
) -> None:
    made = controller(unit)
    engine = Engine(Cluster(), delay=reconcile)
    monkeypatch.setattr(unit, "reconciler", lambda crd, cluster: engine)
    for name in ("a", "b", "c"):
        made.queue.add(("default", name))

    async def main() -> tuple[bool, float]:
        made.workers = [asyncio.ensure_future(made.work())]
        await asyncio.sleep(0.05)  # the worker is in the reconcile of "a"
        made.stop()
        started = time.monotonic()
        drained = await made.join(started + grace)
        return drained, time.monotonic() - started

    drained, waited = asyncio.run(main())
    assert drained is joined and waited < 5
    assert engine.done == done and made.workers[0].cancelled() is not joined
