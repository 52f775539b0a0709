"""An embedded Kubernetes API server over the in-memory cluster.

This package is the HTTP layer only: routing, discovery documents, OpenAPI, content
negotiation and server-side tables, watch streaming, TLS and token authentication, fault
injection for tests. Object semantics (resourceVersion, generation, schemas, selectors,
finalizers, garbage collection) live in :mod:`orkestra.cluster`, so simulate and the server
agree by construction. Real ``kubectl``, the official ``kubernetes`` client, lightkube and
Kopf work against it; it serves JSON, and decodes the protobuf bodies client-go's typed
clients send for Secrets, ConfigMaps, Namespaces, ServiceAccounts, Events and DeleteOptions
(Helm 4's release records, ``kubectl create namespace``); other kinds in protobuf get 415.
"""

from orkestra.apiserver.faults import Faults
from orkestra.apiserver.server import EmbeddedServer, ServerError

__all__ = ["EmbeddedServer", "Faults", "ServerError"]
