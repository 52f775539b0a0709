"""Leader election on a Lease: acquire, renew, expiry by observed time, release."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from orkestra.cluster import MemoryCluster
from orkestra.cluster.errors import ConflictError
from orkestra.runtime.leader import LeaderElector

Obj = dict[str, Any]


class Leases:
    """LeaseAPI over a MemoryCluster (resourceVersion checks included)."""

    def __init__(self) -> None:
        self.cluster = MemoryCluster(record=False)
        self.conflicts = 0

    async def get_lease(self, namespace: str, name: str) -> Obj | None:
        await asyncio.sleep(0)  # let a racing candidate read the same version
        return self.cluster.find("coordination.k8s.io/v1", "Lease", name, namespace)

    async def create_lease(self, lease: Obj) -> Obj:
        return self.cluster.create(lease)

    async def replace_lease(self, lease: Obj) -> Obj:
        if self.conflicts:
            self.conflicts -= 1
            raise ConflictError("injected")
        return self.cluster.update(lease)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Election:
    """Two candidates, ``a`` and ``b``, for one lease, on a fake clock."""

    def __init__(self) -> None:
        self.leases, self.clock, self.log = Leases(), Clock(), list[str]()
        self.a, self.b = self.candidate("a"), self.candidate("b")

    def candidate(self, identity: str) -> LeaderElector:
        clock = self.clock
        return LeaderElector(
            api=self.leases,
            name="orkestra-test",
            namespace="default",
            identity=identity,
            on_started=lambda: self.log.append(f"{identity} leads"),
            on_stopped=lambda: self.log.append(f"{identity} stops"),
            lease_duration=15,
            renew_deadline=10,
            retry_period=2,
            clock=clock,
            wall=lambda: datetime.fromtimestamp(clock.now, UTC),
        )

    def spec(self) -> Obj:
        lease = self.leases.cluster.get(
            "coordination.k8s.io/v1", "Lease", "orkestra-test", "default"
        )
        result: Obj = lease["spec"]
        return result


def run(*steps: Any) -> None:
    async def go() -> None:
        for step in steps:
            await step

    asyncio.run(go())


@pytest.fixture
def election() -> Election:
    return Election()


def test_the_first_candidate_creates_the_lease_and_leads(election: Election) -> None:
    run(election.a.step(), election.b.step())
    assert election.log == ["a leads"]
    assert election.spec()["holderIdentity"] == "a"
    assert election.spec()["leaseDurationSeconds"] == 15
    assert election.spec()["leaseTransitions"] == 0


def test_a_follower_takes_over_only_after_the_lease_stops_changing_for_its_duration(
    election: Election,
) -> None:
    a, b, clock = election.a, election.b, election.clock
    run(a.step(), b.step())
    for _ in range(10):  # a renews every 2s: b never takes over
        clock.now += 2
        run(a.step(), b.step())
    assert election.log == ["a leads"]
    clock.now += 14  # a died: b first sees the record unchanged ...
    run(b.step())
    assert not b.leading
    clock.now += 2  # ... and takes over 15s after it last saw it change
    run(b.step())
    assert election.log == ["a leads", "b leads"]
    assert election.spec()["holderIdentity"] == "b"
    assert election.spec()["leaseTransitions"] == 1


def test_a_leader_that_cannot_renew_steps_down_after_the_deadline(election: Election) -> None:
    a, clock = election.a, election.clock
    run(a.step())
    election.leases.conflicts = 100
    clock.now += 6
    run(a.step())
    assert a.leading
    clock.now += 5
    run(a.step())
    assert election.log == ["a leads", "a stops"]


def test_releasing_lets_a_follower_take_over_at_its_next_attempt(election: Election) -> None:
    run(election.a.step(), election.b.step(), election.a.release())
    assert election.spec()["holderIdentity"] == ""
    election.clock.now += 2
    run(election.b.step())
    assert election.log == ["a leads", "b leads"]


def test_racing_candidates_cannot_both_win(election: Election) -> None:
    a, b = election.a, election.b
    run(a.step(), a.release())  # free for both to take

    async def both() -> None:
        await asyncio.gather(a.step(), b.step())

    asyncio.run(both())
    assert [a.leading, b.leading].count(True) == 1
    assert election.spec()["holderIdentity"] in ("a", "b")
