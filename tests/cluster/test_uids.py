"""Object uids: random version-4 UUIDs, never the same twice, in a forked child either."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid

from orkestra.cluster import MemoryCluster, uids
from orkestra.cluster.uids import new_uid


def test_uids_are_random_version_4_uuids() -> None:
    uids = {new_uid() for _ in range(3000)}  # several pools
    assert len(uids) == 3000
    for text in uids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_objects_get_them() -> None:
    cluster = MemoryCluster()
    made = [
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}})
        for i in range(3)
    ]
    assert len({m["metadata"]["uid"] for m in made}) == 3
    assert uuid.UUID(made[0]["metadata"]["uid"]).version == 4


def uid_from_a_forked_child(hold_the_lock: bool = False) -> str:
    """A uid made in a child forked now (while the pool's lock is held, if asked)."""
    read, write = os.pipe()
    with uids._lock if hold_the_lock else contextlib.nullcontext():
        child = os.fork()
        if child == 0:  # pragma: no cover - the child only reports
            signal.alarm(5)  # a child stuck on an inherited lock dies of it
            os.write(write, new_uid().encode())
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0
    return theirs


def test_a_forked_child_does_not_repeat_its_parents_uids() -> None:
    new_uid()  # a pool with uids left in it
    assert uid_from_a_forked_child() != new_uid()


def test_a_child_forked_while_another_thread_takes_a_uid_can_still_make_them() -> None:
    assert uuid.UUID(uid_from_a_forked_child(hold_the_lock=True)).version == 4
