"""Building Kubernetes objects from resource declarations.

Each resource kind of a katalog (``deployments``, ``services``, ``secrets`` ...) has a
builder that turns one declaration, rendered against the CR, into the object(s) the
operator wants to exist, with Kubernetes' conventions (``app`` selector labels, container
named after the workload, ports named ``port-targetPort`` as kubectl does) and the
ownership the runtime relies on: managed labels, a declaration annotation, and an
ownerReference to the CR (or an owner label where ownerReferences cannot reach:
cluster-scoped objects and other namespaces).
"""

# Each module registers its builders when imported.
from orkestra.engine.build import access, configs, custom, policy, services, workloads  # noqa: F401
from orkestra.engine.build.base import (
    DECLARATION_ANNOTATION,
    MANAGED_LABELS,
    OWNER_LABEL,
    Build,
    Owner,
    build_objects,
    default_name,
    kind_type,
)

__all__ = [
    "DECLARATION_ANNOTATION",
    "MANAGED_LABELS",
    "OWNER_LABEL",
    "Build",
    "Owner",
    "build_objects",
    "default_name",
    "kind_type",
]
