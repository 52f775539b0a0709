"""An in-memory Kubernetes cluster with API-server semantics.

This package owns the object store simulate runs against (and the embedded API server will
serve): resource types and CRD registration, resourceVersion and generation, the status
subresource, create/update/merge-patch/JSON-patch/delete, label and field selectors,
ownerReference cascading deletion, finalizers and deletionTimestamp, namespaces, OpenAPI
schema defaulting, pruning and validation of custom resources, ValidatingAdmissionPolicies,
admission webhook configurations (which webhooks a request meets and what their answers
mean; calling them is the API server's), a watch stream and a log of every operation. It
knows nothing about Orkestra patterns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orkestra import lazy

if TYPE_CHECKING:
    from orkestra.cluster.errors import (
        AlreadyExistsError,
        ApiError,
        ConflictError,
        ForbiddenError,
        GoneError,
        InvalidError,
        NotFoundError,
    )
    from orkestra.cluster.history import WatchEvent
    from orkestra.cluster.resources import ResourceType
    from orkestra.cluster.store import MemoryCluster, Operation

# Re-exported lazily: a caller of one submodule (``cluster.openapi`` to check a CRD while
# loading a katalog) must not load the store and everything behind it.
_EXPORTS = {
    "AlreadyExistsError": "errors",
    "ApiError": "errors",
    "ConflictError": "errors",
    "ForbiddenError": "errors",
    "GoneError": "errors",
    "InvalidError": "errors",
    "NotFoundError": "errors",
    "WatchEvent": "history",
    "ResourceType": "resources",
    "MemoryCluster": "store",
    "Operation": "store",
}
__all__ = [
    "AlreadyExistsError",
    "ApiError",
    "ConflictError",
    "ForbiddenError",
    "GoneError",
    "InvalidError",
    "MemoryCluster",
    "NotFoundError",
    "Operation",
    "ResourceType",
    "WatchEvent",
]


__getattr__ = lazy.exports(__name__, _EXPORTS)
