"""Untrusted input never escapes as anything but the project's own errors."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from orkestra.registry.errors import IntegrityError, InvalidReferenceError
from orkestra.registry.index import RegistryIndex
from orkestra.registry.oci import Manifest, parse_index
from orkestra.registry.refs import Bases, Reference, resolve, resolve_import

BASES = Bases("ghcr.io/o/katalogs", "ghcr.io/o/motifs")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "schemaVersion",
        "mediaType",
        "config",
        "layers",
        "annotations",
        "subject",
        "artifactType",
        "manifests",
        "entries",
        "name",
        "digest",
        "size",
    ]
)


@given(st.text(max_size=80))
@settings(max_examples=400)
def test_references_parse_or_fail_cleanly(text: str) -> None:
    for parse in (
        lambda t: resolve(t, "Katalog", BASES),
        lambda t: resolve_import(t, "Motif", BASES),
    ):
        try:
            ref = parse(text)
        except InvalidReferenceError:
            continue
        assert isinstance(ref, Reference)
        assert resolve(str(ref), "Katalog", BASES) == ref  # printing round-trips


@given(st.dictionaries(KEYS, JSON, max_size=8))
@settings(max_examples=400)
def test_manifests_index_and_registry_index_fail_cleanly(doc: dict[str, object]) -> None:
    data = json.dumps(doc).encode()
    for parse in (
        lambda d: Manifest.parse(d, "m"),
        lambda d: parse_index(d, "i"),
        lambda d: RegistryIndex.parse(d, "r"),
    ):
        with contextlib.suppress(IntegrityError):
            parse(data)


ENTRY = st.fixed_dictionaries(
    {"name": st.text(max_size=5)},
    optional=dict.fromkeys(("tags", "versions", "latestVersion", "deprecated", "kind"), JSON),
)


@given(st.lists(ENTRY | JSON, max_size=4), JSON)
def test_index_entries_fail_cleanly(entries: list[object], updated: object) -> None:
    with contextlib.suppress(IntegrityError):
        RegistryIndex.parse(json.dumps({"entries": entries, "updatedAt": updated}).encode(), "r")


@given(st.binary(max_size=200))
def test_arbitrary_bytes_fail_cleanly(data: bytes) -> None:
    for parse in (lambda d: Manifest.parse(d, "m"), lambda d: RegistryIndex.parse(d, "r")):
        with contextlib.suppress(IntegrityError):
            parse(data)
