"""The interface every registry backend offers, whatever stores the content.

Two backends implement it: :mod:`orkestra.registry.layout` (the embedded registry, an OCI
image layout on disk) and :mod:`orkestra.registry.remote` (any OCI Distribution registry
over HTTP). Everything above this line (pushing patterns, the index artifact, pulling,
inspecting) is written once against this protocol, so both behave the same.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from orkestra.registry.oci import Descriptor


class Backend(Protocol):
    """Content-addressed storage of one registry host."""

    transfers: int
    """Blobs of one pattern moved at once: several where each is a network round trip, one
    where each is a local file (the 7 blobs of a pattern in the embedded registry: 0.15 ms
    one at a time, 1.6 ms on four threads, and importing the thread pool 4 ms)."""

    def describe(self) -> str:
        """How to name this registry in messages."""

    def push_blob(self, repository: str, descriptor: Descriptor, data: bytes) -> None:
        """Store a blob (a no-op when the registry already has it)."""

    def fetch_blob(self, repository: str, descriptor: Descriptor) -> bytes:
        """A blob's bytes, verified against the descriptor's digest and size."""

    def push_manifest(
        self, repository: str, data: bytes, media_type: str, tag: str | None
    ) -> Descriptor:
        """Store a manifest, tagged when ``tag`` is given; returns its descriptor."""

    def fetch_manifest(self, repository: str, target: str) -> tuple[bytes, Descriptor]:
        """A manifest by tag or digest, verified, with its descriptor."""

    def manifest_digest(self, repository: str, target: str) -> str:
        """The digest of the manifest a tag (or digest) names, without downloading it where
        the registry says it (raises :class:`~orkestra.registry.errors.ArtifactNotFoundError`)."""

    def tags(self, repository: str) -> list[str]:
        """Every tag of a repository (empty when the repository does not exist)."""

    def referrers_api(self, repository: str, digest: str) -> list[Descriptor] | None:
        """Manifests whose subject is ``digest``, or None when the API is not supported
        (callers then use the ``sha256-<hex>`` tag-schema fallback)."""

    def locked(self, repository: str) -> AbstractContextManager[None]:
        """Hold a repository for a read-modify-write (a no-op where it cannot be done)."""
