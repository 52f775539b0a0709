"""The registry index: one entry per pattern, the newest version leads."""

from __future__ import annotations

import pytest

from orkestra.registry.errors import IntegrityError
from orkestra.registry.index import IndexEntry, RegistryIndex
from orkestra.semver import latest_key


def entry(version: str, **kw: object) -> IndexEntry:
    return IndexEntry(name="web", latestVersion=version, kind="Katalog", **kw)  # type: ignore[arg-type]


def test_new_names_are_appended_and_versions_accumulate() -> None:
    index = RegistryIndex()
    index.record(entry("v1.0.0", description="one"), "t1")
    index.record(IndexEntry(name="db", latestVersion="v2.0.0", kind="Katalog"), "t2")
    index.record(entry("v1.1.0", description="two"), "t3")
    assert [e.name for e in index.entries] == ["web", "db"]
    web = index.entries[0]
    assert (web.latestVersion, web.description, web.versions) == (
        "v1.1.0",
        "two",
        ("v1.0.0", "v1.1.0"),
    )
    assert index.updatedAt == "t3"


def test_an_older_version_does_not_take_over() -> None:
    index = RegistryIndex()
    index.record(entry("v1.1.0", description="new"), "t1")
    index.record(entry("v1.0.0", description="old", deprecated=True), "t2")
    web = index.entries[0]
    assert (web.latestVersion, web.description, web.deprecated) == ("v1.1.0", "new", False)
    assert web.versions == ("v1.0.0", "v1.1.0")
    assert web.deprecatedVersions == ("v1.0.0",)
    index.record(entry("v1.0.0", description="old again"), "t3")  # re-pushed, no notice
    assert index.entries[0].deprecatedVersions == ()


def test_non_semantic_tags() -> None:
    index = RegistryIndex()
    index.record(entry("v1.0.0"), "t1")
    index.record(entry("stable"), "t2")
    assert index.entries[0].latestVersion == "v1.0.0"
    index2 = RegistryIndex()
    index2.record(entry("stable"), "t1")
    index2.record(entry("edge"), "t2")
    index2.record(entry("v2.0.0"), "t3")
    assert index2.entries[0].latestVersion == "v2.0.0"
    assert index2.entries[0].versions == ("v2.0.0", "edge", "stable")


@pytest.mark.parametrize(
    ("tags", "latest"),
    [
        (["v1.0.0", "v2.0.0-rc.1"], "v1.0.0"),  # a stable release wins over a pre-release
        (["v2.0.0-rc.1", "v1.0.0"], "v1.0.0"),
        (["v1.0.0", "v1.1.0-rc.1", "v1.0.1"], "v1.0.1"),
        (["v2.0.0-rc.1", "v2.0.0-beta.2", "v2.0.0-alpha"], "v2.0.0-rc.1"),  # no stable one
        (["v2.0.0-rc.1", "v2.0.0"], "v2.0.0"),
        (["edge", "v0.1.0-alpha"], "v0.1.0-alpha"),  # a pre-release over a non-semantic tag
    ],
)
def test_stable_releases_are_latest_before_any_pre_release(tags: list[str], latest: str) -> None:
    assert max(tags, key=latest_key) == latest
    index = RegistryIndex()
    for tag in tags:
        index.record(entry(tag), "t")
    assert index.entries[0].latestVersion == latest
    assert latest_key("stable") == latest_key("edge") < latest_key("v0.0.1-a")


def test_round_trip_and_bad_documents() -> None:
    index = RegistryIndex()
    index.record(entry("v1.0.0", tags=("a", "b"), simulateStatus="passed"), "t1")
    again = RegistryIndex.parse(index.to_bytes(), "i")
    assert again == index
    for bad in (b"nope", b'{"entries": 3}', b'{"entries": [{"latestVersion": "x"}]}'):
        with pytest.raises(IntegrityError):
            RegistryIndex.parse(bad, "i")
