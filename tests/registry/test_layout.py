"""The embedded registry: OCI image layouts on disk, safe for concurrent ork processes."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from orkestra.registry.artifact import GateRecord, Metadata, PatternArtifact, PatternFile
from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError, IntegrityError
from orkestra.registry.layout import LayoutBackend
from orkestra.registry.oci import MANIFEST_MEDIA_TYPE, REF_NAME, Descriptor
from orkestra.registry.records import PushRecord, claim_time
from orkestra.registry.refs import Reference, layout_reference


def artifact(
    name: str = "web", version: str = "v1.0.0", text: str = "kind: Katalog\n"
) -> PatternArtifact:
    return PatternArtifact(
        metadata=Metadata(
            kind="Katalog",
            name=name,
            version=version,
            description="d",
            author="me",
            license="MIT",
            tags=("a",),
        ),
        files=(PatternFile("katalog.yaml", text.encode()), PatternFile("README.md", b"# readme\n")),
        simulate=GateRecord(
            status="passed", duration="3ms", tested_at="2026-01-01T00:00:00Z", assertions=2
        ),
    )


def test_layout_files_follow_the_spec(tmp_path: Path) -> None:
    client = RegistryClient({"ORK_HOME": str(tmp_path)})
    ref = client.resolve("web:v1.0.0")
    pushed = client.push(artifact(), ref)
    layout = tmp_path / "local-registry" / "katalogs" / "web"
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((layout / "index.json").read_text())
    assert index["schemaVersion"] == 2
    assert index["manifests"] == [
        {
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": pushed.digest,
            "size": pushed.size,
            "annotations": {REF_NAME: "v1.0.0"},
        }
    ]
    blob = layout / "blobs" / "sha256" / pushed.digest.split(":")[1]
    assert blob.stat().st_size == pushed.size
    assert not list(layout.rglob("*.tmp"))


def test_tags_move_and_digests_stay_addressable(tmp_path: Path) -> None:
    client = RegistryClient({"ORK_HOME": str(tmp_path)})
    ref = client.resolve("web:v1.0.0")
    first = client.push(artifact(text="one\n"), ref)
    second = client.push(artifact(text="two\n"), ref)
    client.push(artifact(version="v2.0.0"), ref.with_tag("v2.0.0"))
    assert client.backend(ref).tags("katalogs/web") == ["v1.0.0", "v2.0.0"]
    assert client.info(ref).digest == second.digest
    assert client.info(ref.with_digest(first.digest)).digest == first.digest


def test_tampered_blob_is_detected(tmp_path: Path) -> None:
    client = RegistryClient({"ORK_HOME": str(tmp_path)})
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    manifest, _, _ = client.manifest(ref)
    layer = manifest.layer("katalog.yaml")
    assert layer is not None
    blob = (
        tmp_path
        / "local-registry"
        / "katalogs"
        / "web"
        / "blobs"
        / "sha256"
        / layer.digest.split(":")[1]
    )
    blob.write_bytes(b"kind: Evil\n")
    with pytest.raises(IntegrityError, match="received 11 bytes, the manifest says 14"):
        client.pull(ref)
    blob.write_bytes(b"kind: Evil!!!\n")
    with pytest.raises(IntegrityError, match="does not match"):
        client.pull(ref)
    assert client.cache.lookup(ref) is None


def test_missing_things_are_not_found(tmp_path: Path) -> None:
    client = RegistryClient({"ORK_HOME": str(tmp_path)})
    with pytest.raises(
        ArtifactNotFoundError,
        match=r"oci://local/katalogs/nope:v1 not found in the "
        r"local registry \(",
    ):
        client.info(client.resolve("nope:v1"))
    backend = LayoutBackend(tmp_path / "x")
    assert backend.tags("a/b") == []
    with pytest.raises(ArtifactNotFoundError):
        backend.fetch_blob("a/b", Descriptor.of(b"x", "text/plain"))


def _push_one(root: str, i: int) -> str:
    client = RegistryClient({"ORK_HOME": root})
    ref = client.resolve(f"shared:v1.0.{i}")
    pushed = client.push(artifact(version=f"v1.0.{i}", text=f"n: {i}\n"), ref)
    record(client, ref, pushed.digest, f"p{i}", f"v1.0.{i}")
    return pushed.digest


def record(
    client: RegistryClient, ref: Reference, digest: str, name: str, version: str, **fields: Any
) -> None:
    """What ``ork push`` records after tagging: a push record, then the index rebuilt."""
    client.add_record(
        ref.index(),
        PushRecord(
            name=name,
            version=version,
            kind=fields.pop("kind", "Katalog"),
            digest=digest,
            claimedAt=claim_time(),
            **fields,
        ),
    )
    client.refresh_index(ref)


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=8) as pool:
        digests = list(pool.map(_push_one, [str(tmp_path)] * 16, range(16)))
    client = RegistryClient({"ORK_HOME": str(tmp_path)})
    ref = client.resolve("shared:v1.0.0")
    assert sorted(client.backend(ref).tags("katalogs/shared")) == sorted(
        f"v1.0.{i}" for i in range(16)
    )
    for i, digest in enumerate(digests):
        assert client.info(ref.with_tag(f"v1.0.{i}")).digest == digest
    index = client.read_index(ref.index())
    assert index is not None and sorted(e.name for e in index.entries) == sorted(
        f"p{i}" for i in range(16)
    )


@pytest.mark.integration
def test_skopeo_reads_the_embedded_registry(tmp_path: Path) -> None:
    client = RegistryClient({"ORK_HOME": str(tmp_path)})
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    _, _, raw = client.manifest(ref)
    layout = tmp_path / "local-registry" / "katalogs" / "web"
    shown = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{layout}:v1.0.0"], check=True, capture_output=True
    ).stdout
    assert shown == raw
    copy = tmp_path / "copy"
    subprocess.run(
        ["skopeo", "copy", "--quiet", f"oci:{layout}:v1.0.0", f"oci:{copy}:v1.0.0"],
        check=True,
        capture_output=True,
    )
    pulled = client.fetch(client.resolve("web:v1.0.0"))
    copied = client.fetch(layout_reference(f"{copy}:v1.0.0"))
    assert copied.files == pulled.files
    assert copied.info.digest == pulled.info.digest
