"""Push, pull, inspect, index and referrers: one set of tests, run against the embedded
registry and against real docker-registries (anonymous and with htpasswd Basic auth)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from orkestra.registry.artifact import CONTENT, CREATED, GateRecord
from orkestra.registry.cache import MANIFEST_FILE
from orkestra.registry.client import RegistryClient, side_by_side, write_files
from orkestra.registry.errors import ArtifactNotFoundError
from orkestra.registry.info import PatternInfo
from orkestra.registry.refs import Reference
from tests.conftest import RegistryTarget
from tests.registry.test_layout import artifact, record


def test_push_then_read_back(registry: RegistryTarget) -> None:
    client = RegistryClient()
    ref = client.resolve("web:v1.0.0")
    pushed = client.push(artifact(), ref)
    info = client.info(ref)
    assert isinstance(info, PatternInfo) and info.digest == pushed.digest
    meta = info.metadata
    assert (meta.kind, meta.name, meta.version, meta.tags) == ("Katalog", "web", "v1.0.0", ("a",))
    assert info.simulate == GateRecord(
        status="passed", duration="3ms", tested_at="2026-01-01T00:00:00Z", assertions=2
    )
    assert info.e2e is None
    assert [(f.title, f.size) for f in info.files] == [("katalog.yaml", 14), ("README.md", 9)]


def test_pull_caches_atomically_and_verifies(registry: RegistryTarget) -> None:
    client = RegistryClient()
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    pulled = client.pull(ref)
    assert not pulled.from_cache
    assert sorted(p.name for p in pulled.directory.iterdir()) == [
        MANIFEST_FILE,
        "README.md",
        "katalog.yaml",
    ]
    assert (pulled.directory / "katalog.yaml").read_bytes() == b"kind: Katalog\n"
    again = client.pull(ref)
    assert again.from_cache and again.info.digest == pulled.info.digest
    client.push(artifact(text="kind: Katalog # v2\n"), ref)
    assert client.pull(ref).info.digest == pulled.info.digest  # cached until refreshed
    fresh = client.pull(ref, refresh=True)
    assert (fresh.directory / "katalog.yaml").read_bytes() == b"kind: Katalog # v2\n"
    assert not [p for p in fresh.directory.parent.iterdir() if p.name.startswith(".")]


def test_same_files_same_content_digest(registry: RegistryTarget) -> None:
    client = RegistryClient()
    first = client.info(_pushed(client, "web:v1.0.0"))
    second = client.info(_pushed(client, "web:v1.0.1"))
    assert first.content == second.content
    assert [f.digest for f in first.files] == [f.digest for f in second.files]
    manifest_a, _, _ = client.manifest(first.ref)
    manifest_b, _, _ = client.manifest(second.ref)
    differing = {
        k
        for k in manifest_a.annotations
        if manifest_a.annotations[k] != manifest_b.annotations.get(k)
    }
    assert differing <= {CREATED}
    assert CONTENT in manifest_a.annotations


def _pushed(client: RegistryClient, text: str) -> Reference:
    ref = client.resolve(text)
    client.push(artifact(), ref)
    return ref


def test_index_and_versions(registry: RegistryTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    client = RegistryClient()
    for epoch, version in ((1000, "v1.0.0"), (2000, "v1.1.0")):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
        ref = client.resolve(f"web:{version}")
        pushed = client.push(artifact(version=version, text=f"v: {version}\n"), ref)
        record(client, ref, pushed.digest, "web", version, simulateStatus="passed")
    client.push(artifact(version="v1.1.0", text="v: v1.1.0\n"), client.resolve("web:latest"))
    index = client.read_index(client.resolve("web:v1.0.0").index())
    assert index is not None
    assert [(e.name, e.latestVersion, e.versions) for e in index.entries] == [
        ("web", "v1.1.0", ("v1.0.0", "v1.1.0"))
    ]
    versions = client.versions(client.resolve("web:latest"))
    assert [v.ref.tag for v in versions] == ["v1.1.0", "v1.0.0"]  # "latest" is a duplicate


def test_referrers_with_the_tag_schema_fallback(registry: RegistryTarget) -> None:
    client = RegistryClient()
    ref = client.resolve("web:v1.0.0")
    pushed = client.push(artifact(), ref)
    assert client.referrers(ref, pushed.digest) == []
    first = client.attach(
        ref, pushed, "application/vnd.test.a", "a.json", b'{"a":1}', "application/json", {"k": "1"}
    )
    second = client.attach(
        ref, pushed, "application/vnd.test.b", "b.json", b'{"b":2}', "application/json", {"k": "2"}
    )
    found = client.referrers(ref, pushed.digest)
    assert [(d.digest, d.artifact_type, d.annotations) for d in found] == [
        (first.digest, "application/vnd.test.a", {"k": "1"}),
        (second.digest, "application/vnd.test.b", {"k": "2"}),
    ]
    manifest, _, _ = client.manifest(ref.with_digest(first.digest))
    assert manifest.subject is not None and manifest.subject.digest == pushed.digest


def test_missing_reference(registry: RegistryTarget) -> None:
    client = RegistryClient()
    with pytest.raises(ArtifactNotFoundError, match=r"oci://\S+/katalogs/nope:v9 not found in "):
        client.pull(client.resolve("nope:v9"))
    assert client.cache.lookup(client.resolve("nope:v9")) is None


def test_write_files_into_a_directory(registry: RegistryTarget, tmp_path: Path) -> None:
    client = RegistryClient()
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    write_files(tmp_path / "out", client.fetch(ref).files)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["README.md", "katalog.yaml"]


def test_side_by_side_keeps_order_and_stops_at_a_failure() -> None:
    assert side_by_side(lambda n: n * 2, [3, 1, 2]) == [6, 2, 4]
    assert side_by_side(lambda n: n, []) == []
    started: list[int] = []
    lock = threading.Lock()

    def transfer(n: int) -> int:
        with lock:
            started.append(n)
        if n == 0:
            raise ValueError("blob 0 failed")
        time.sleep(0.05)
        return n

    with pytest.raises(ValueError, match="blob 0 failed"):
        side_by_side(transfer, list(range(40)))
    assert len(started) < 40  # those not started when the failure came are dropped
