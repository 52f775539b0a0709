"""Patterns as OCI artifacts: references, the artifact format, registries and the cache.

This package owns how a pattern travels: resolving ``name:version`` against
``ORK_REGISTRY`` / ``ORK_MOTIFS_REGISTRY`` (:mod:`~orkestra.registry.refs`), the manifest,
layers and quality annotations (:mod:`~orkestra.registry.artifact`, read back by
:mod:`~orkestra.registry.info`), the embedded registry of OCI image layouts
(:mod:`~orkestra.registry.layout`) and any OCI Distribution registry over HTTP
(:mod:`~orkestra.registry.remote`, :mod:`~orkestra.registry.auth`), the ``index:latest``
artifact ``ork patterns`` reads, the verified local cache that makes imports work
offline, and what ``ork inspect`` learns before anything is pulled
(:mod:`~orkestra.registry.inspection`). :class:`RegistryClient` is the entry point.
"""

from __future__ import annotations

from orkestra import lazy

# Re-exported lazily: importing one submodule (say ``registry.artifact`` for a status line)
# must not load the client and everything behind it.
_EXPORTS = {
    "Fetched": "client",
    "Pulled": "client",
    "RegistryClient": "client",
    "RegistryError": "errors",
    "Reference": "refs",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy.exports(__name__, _EXPORTS)
