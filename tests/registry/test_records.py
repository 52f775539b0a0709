"""Push records: the index rebuilt from them, rivals for one tag, and the history."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from orkestra.registry.errors import IntegrityError
from orkestra.registry.index import IndexEntry, RegistryIndex, rebuild
from orkestra.registry.records import (
    PushRecord,
    current,
    is_record_tag,
    pushes,
    rivals,
    version_prefix,
    winner,
)


def digest(n: int) -> str:
    return "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()


def rec(
    n: int,
    version: str = "v1.0.0",
    *,
    at: int | None = None,
    replaces: int = 0,
    name: str = "web",
    **fields: object,
) -> PushRecord:
    return PushRecord(
        name=name,
        version=version,
        kind="Katalog",
        digest=digest(n),
        claimedAt=f"2026-12-02T10:00:{at if at is not None else n:02d}.000000Z",
        replaces=digest(replaces) if replaces else "",
        **fields,
    )  # type: ignore[arg-type]


def test_tags_are_unique_per_push_and_share_a_prefix_per_version() -> None:
    one, two = rec(1), rec(2)
    assert one.tag == "web_v1.0.0_" + digest(1)[7:19] != two.tag
    assert two.tag.startswith(version_prefix("web", "v1.0.0"))
    assert version_prefix("web", "v1.0.0+build.7") == "web_v1.0.0-build.7_"
    long = version_prefix("w" * 120, "v1.0.0")
    assert long.startswith("r_") and len(long) + 12 <= 128
    assert is_record_tag(one.tag) and not is_record_tag("latest")
    assert not is_record_tag("sha256-" + "a" * 64)


def test_records_round_trip_and_reject_garbage() -> None:
    record = rec(3, tags=("a", "b"), deprecated=True, replaces=2)
    assert PushRecord.read(record.manifest(), "r") == record
    assert PushRecord.from_json(json.loads(json.dumps(record.to_json())), "r") == record
    for bad in (
        {"name": "web"},
        {"name": "web", "version": "v1", "digest": "md5:x"},
        {"name": 3, "version": "v1", "digest": digest(1)},
        [],
    ):
        with pytest.raises(IntegrityError):
            PushRecord.from_json(bad, "r")


def test_the_current_push_follows_each_generations_winner() -> None:
    first, rival = rec(1, at=5), rec(2, at=3)
    assert winner([first, rival]) is rival
    assert rivals([first, rival, rec(3, replaces=2)], first) == [first, rival]
    later = rec(4, at=9, replaces=2)  # replaced the winner
    stale = rec(5, at=1, replaces=1)  # based on the loser: never current
    assert current([first, rival, later, stale]) == later
    assert current([]) is None
    assert current([rec(7, replaces=6)]) == rec(7, replaces=6)  # its base was not recorded
    lost = replace(rival, supersededBy=first.digest)
    assert lost.tag == rival.tag + "-superseded"
    assert pushes([first, rival, lost]) == [first, lost]
    assert rivals([first, rival, lost], first) == [first]
    assert current([first, rival, lost]) == first  # the rival yielded: first took the tag


def test_rebuild_folds_current_records_over_legacy_entries() -> None:
    legacy = RegistryIndex.parse(
        json.dumps(
            {
                "updatedAt": "t0",
                "entries": [
                    IndexEntry(name="old", latestVersion="v0.9.0", kind="Katalog").to_json()
                ],
            }
        ).encode(),
        "i",
    )
    assert [e.name for e in legacy.legacy] == ["old"]
    records = {
        r.tag: r
        for r in (
            rec(1, "v1.1.0", description="newest"),
            rec(2, "v1.0.0", deprecated=True),
            rec(3, "v1.0.0", at=1, name="db"),
            rec(4, "v1.0.0", at=2, name="db"),
            replace(rec(4, "v1.0.0", at=2, name="db"), supersededBy=digest(3)),
            rec(5, "v1.0.0", at=9, name="db", replaces=3, simulateStatus="passed"),
        )
    }
    index = rebuild(legacy, records, "t1")
    by_name = {e.name: e for e in index.entries}
    assert by_name["old"].latestVersion == "v0.9.0"
    web = by_name["web"]
    assert (web.latestVersion, web.description, web.versions, web.deprecatedVersions) == (
        "v1.1.0",
        "newest",
        ("v1.0.0", "v1.1.0"),
        ("v1.0.0",),
    )
    db = by_name["db"]
    assert (db.digest, db.simulateStatus) == (digest(5), "passed")
    assert [(h.digest, h.by, h.how) for h in db.history] == [
        (digest(3), digest(5), "replaced"),
        (digest(4), digest(3), "superseded"),
    ]
    again = RegistryIndex.parse(index.to_bytes(), "i")
    assert again == index
    assert rebuild(again, records, "t1").entries == index.entries
