"""OCI content: stable serialization, strict parsing of what registries serve."""

from __future__ import annotations

import json

import pytest

from orkestra.registry.errors import IntegrityError, TooLargeError
from orkestra.registry.oci import (
    TITLE,
    Descriptor,
    Manifest,
    check_size,
    digest_of,
    index_bytes,
    parse_index,
    verify,
)

CONFIG = Descriptor.of(b"{}", "application/vnd.orkestra.pattern.v1+tar+gzip")
LAYER = Descriptor.of(
    b"kind: Katalog\n", "application/vnd.orkestra.katalog.v1+yaml", {TITLE: "katalog.yaml"}
)


def test_manifest_round_trip_is_byte_stable() -> None:
    manifest = Manifest(config=CONFIG, layers=(LAYER,), annotations={"b": "2", "a": "1"})
    data = manifest.to_bytes()
    again = Manifest.parse(data, "m")
    assert again == manifest
    assert again.to_bytes() == data
    assert list(json.loads(data)["annotations"]) == ["a", "b"]
    assert again.layer("katalog.yaml") == LAYER and again.layer("x") is None
    assert again.kind_type == CONFIG.media_type


def test_artifact_type_and_subject_survive() -> None:
    manifest = Manifest(
        config=CONFIG,
        layers=(LAYER,),
        annotations={},
        artifact_type="application/x-report",
        subject=LAYER,
    )
    again = Manifest.parse(manifest.to_bytes(), "m")
    assert again.artifact_type == "application/x-report" and again.subject == LAYER


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        ("not json", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"schemaVersion": 1}', "schemaVersion must be 2"),
        (
            '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}',
            "is not an image manifest",
        ),
        ('{"schemaVersion": 2, "config": {}, "layers": {}}', "layers must be a list"),
        (
            '{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "md5:1", "size": 1},'
            ' "layers": []}',
            "is not a sha256 digest",
        ),
        (
            '{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:'
            + "a" * 64
            + '", "size": -1}, "layers": []}',
            "is not a non-negative integer",
        ),
        (
            '{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:'
            + "a" * 64
            + '", "size": 1}, "layers": [], "annotations": {"a": 1}}',
            "annotations must map",
        ),
    ],
)
def test_malformed_manifests_are_rejected(doc: str, why: str) -> None:
    with pytest.raises(IntegrityError) as caught:
        Manifest.parse(doc.encode(), "oci://h/r:t")
    assert caught.value.message.startswith("oci://h/r:t")
    assert why in caught.value.message
    assert "nothing was written" in caught.value.hint


def test_verify_checks_size_and_digest() -> None:
    verify(b"abc", digest_of(b"abc"), 3, "blob")
    with pytest.raises(IntegrityError, match="received 3 bytes, the manifest says 4"):
        verify(b"abc", digest_of(b"abc"), 4, "blob")
    with pytest.raises(IntegrityError, match="does not match"):
        verify(b"abd", digest_of(b"abc"), None, "blob")


def test_size_limit() -> None:
    check_size(10, 10, "x")
    with pytest.raises(TooLargeError, match="11 bytes, over the 10-byte limit"):
        check_size(11, 10, "x")


def test_index_round_trip() -> None:
    assert parse_index(index_bytes([LAYER, CONFIG]), "i") == [LAYER, CONFIG]
    with pytest.raises(IntegrityError, match="manifests must be a list"):
        parse_index(b'{"manifests": 1}', "i")
