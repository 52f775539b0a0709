"""Reference resolution: the original tool's rules, plus the embedded registry host."""

from __future__ import annotations

import pytest

from orkestra.registry.errors import InvalidReferenceError
from orkestra.registry.refs import (
    Bases,
    Reference,
    layout_reference,
    parse,
    resolve,
    resolve_import,
    tag_of,
)

BASES = Bases("ghcr.io/myorg/katalogs", "ghcr.io/myorg/motifs")


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        (
            "webapp-operator:v1.0.0",
            "Katalog",
            "oci://ghcr.io/myorg/katalogs/webapp-operator:v1.0.0",
        ),
        ("web-service:v1.0.0", "Motif", "oci://ghcr.io/myorg/motifs/web-service:v1.0.0"),
        ("webapp-operator", "Katalog", "oci://ghcr.io/myorg/katalogs/webapp-operator:latest"),
        ("oci://ghcr.io/other/x:v2", "Katalog", "oci://ghcr.io/other/x:v2"),
        ("localhost:5000/team/x:1.0", "Motif", "oci://localhost:5000/team/x:1.0"),
        ("localhost/x", "Katalog", "oci://localhost/x:latest"),
        ("local/katalogs/x:v1", "Motif", "oci://local/katalogs/x:v1"),
        ("team/x:v1", "Katalog", "oci://ghcr.io/myorg/katalogs/team/x:v1"),
        ("  oci://127.0.0.1:5000/a/b:c  ", "Katalog", "oci://127.0.0.1:5000/a/b:c"),
        ("x@sha256:" + "a" * 64, "Katalog", "oci://ghcr.io/myorg/katalogs/x@sha256:" + "a" * 64),
    ],
)
def test_resolve(text: str, kind: str, expected: str) -> None:
    assert str(resolve(text, kind, BASES)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid reference: empty reference"),
        (
            "webapp@v1",
            "use ':' not '@' for version tags (e.g. ...:v1) — '@' is for digest "
            "references like @sha256:...",
        ),
        ("x@sha256:abc", 'malformed digest "sha256:abc"'),
        ("Web_App:v1", '"Web_App" is not a valid repository path component'),
        ("x:.bad", '".bad" is not a valid tag'),
        ("x:" + "a" * 129, "is not a valid tag"),
    ],
)
def test_bad_references(text: str, message: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        resolve(text, "Katalog", BASES)
    assert message in caught.value.render()


def test_missing_repository_path() -> None:
    with pytest.raises(InvalidReferenceError, match="missing repository path"):
        parse("ghcr.io")


def test_defaults_are_the_embedded_registry() -> None:
    bases = Bases.from_env({})
    assert str(resolve("x:v1", "Katalog", bases)) == "oci://local/katalogs/x:v1"
    assert str(resolve("x:v1", "Motif", bases)) == "oci://local/motifs/x:v1"
    assert resolve("x:v1", "Motif", bases).is_local
    env = {"ORK_REGISTRY": "oci://reg.example.com/k/", "ORK_MOTIFS_REGISTRY": ""}
    assert Bases.from_env(env) == Bases("reg.example.com/k", "local/motifs")


@pytest.mark.parametrize(
    ("text", "version", "expected"),
    [
        ("oci://ghcr.io/o/postgres@v1.0.0", "", "oci://ghcr.io/o/postgres:v1.0.0"),
        ("postgres@v1.0.0", "", "oci://ghcr.io/myorg/katalogs/postgres:v1.0.0"),
        ("postgres", "v2", "oci://ghcr.io/myorg/katalogs/postgres:v2"),
        ("postgres:v3", "v2", "oci://ghcr.io/myorg/katalogs/postgres:v3"),
        ("localhost:5000/o/p@v1", "", "oci://localhost:5000/o/p:v1"),
        ("p@sha256:" + "b" * 64, "v9", "oci://ghcr.io/myorg/katalogs/p@sha256:" + "b" * 64),
    ],
)
def test_imports_accept_at_versions(text: str, version: str, expected: str) -> None:
    assert str(resolve_import(text, "Katalog", BASES, version)) == expected


def test_reference_parts() -> None:
    ref = resolve("webapp-operator:v1.0.0", "Katalog", BASES)
    assert ref.name == "webapp-operator" and ref.short_name == "webapp-operator:v1.0.0"
    assert ref.location == "ghcr.io/myorg/katalogs"
    assert ref.index() == Reference(host="ghcr.io", repository="myorg/katalogs/index", tag="latest")
    assert Reference(host="h:1", repository="x").index() == Reference(
        host="h:1", repository="index"
    )
    assert Reference(host="127.0.0.1:5000", repository="x").is_loopback
    assert Reference(host="[::1]:5000", repository="x").is_loopback
    assert not Reference(host="ghcr.io", repository="x").is_loopback


@pytest.mark.parametrize(
    ("text", "tag"),
    [("web:v1", "v1"), ("host:5000/web", ""), ("host:5000/web:2.0@sha256:x", "2.0"), ("web", "")],
)
def test_tag_of(text: str, tag: str) -> None:
    assert tag_of(text) == tag


def test_layout_references() -> None:
    ref = layout_reference("/tmp/lay:v1.0.0")
    assert (ref.layout, ref.tag, str(ref)) == ("/tmp/lay", "v1.0.0", "/tmp/lay:v1.0.0")
    assert layout_reference("/tmp/lay").tag == "latest"
    digest = "sha256:" + "c" * 64
    assert layout_reference(f"/tmp/lay@{digest}").digest == digest
    with pytest.raises(InvalidReferenceError, match="malformed digest"):
        layout_reference("/tmp/lay@sha256:zz")
