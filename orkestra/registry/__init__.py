"""Patterns as OCI artifacts: references, the artifact format, registries and the cache.

This package owns how a pattern travels: resolving ``name:version`` against
``ORK_REGISTRY`` / ``ORK_MOTIFS_REGISTRY`` (:mod:`~orkestra.registry.refs`), the manifest,
layers and quality annotations (:mod:`~orkestra.registry.artifact`, read back by
:mod:`~orkestra.registry.info`), the embedded registry of OCI image layouts
(:mod:`~orkestra.registry.layout`) and any OCI Distribution registry over HTTP
(:mod:`~orkestra.registry.remote`, :mod:`~orkestra.registry.auth`), the ``index:latest``
artifact ``ork patterns`` reads, and the verified local cache that makes imports work
offline. :class:`RegistryClient` is the entry point.
"""

from orkestra.registry.client import Fetched, Pulled, RegistryClient
from orkestra.registry.errors import RegistryError
from orkestra.registry.refs import Reference

__all__ = ["Fetched", "Pulled", "Reference", "RegistryClient", "RegistryError"]
