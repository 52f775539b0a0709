"""An embedded Kubernetes API server over the in-memory cluster.

This package is the HTTP layer only: routing, discovery documents, OpenAPI, content
negotiation and server-side tables, watch streaming, TLS and token authentication, fault
injection for tests. Object semantics (resourceVersion, generation, schemas, selectors,
finalizers, garbage collection) live in :mod:`orkestra.cluster`, so simulate and the server
agree by construction. Real ``kubectl``, the official ``kubernetes`` client, lightkube and
Kopf work against it; it serves JSON only (protobuf is refused with 415).
"""

from orkestra.apiserver.faults import Faults
from orkestra.apiserver.server import EmbeddedServer, ServerError

__all__ = ["EmbeddedServer", "Faults", "ServerError"]
