"""What the API server does to an object before storing it, besides storing it.

Names and label values are checked, a custom resource is defaulted, pruned and validated
against its CRD schema, a built-in kind loses the fields its type does not have, built-in
defaults are filled in, a CRD manifest and ValidatingAdmissionPolicies and their bindings
are checked, and the statuses the server reports at once (an Active namespace, an
established CRD) are set. Also which kinds carry ``metadata.generation``.

Mutating admission (the API server's webhooks, :mod:`orkestra.apiserver.admission`) hooks in
between the server's defaults and its validation, as in kube-apiserver: a :data:`Mutate`
given to :func:`admit` sees the defaulted object and answers the one to validate instead,
which is defaulted again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from orkestra.cluster import defaults, openapi, webhooks
from orkestra.cluster.data import maps
from orkestra.cluster.errors import InvalidError
from orkestra.cluster.kubeschema import kind_node
from orkestra.cluster.policies import BINDINGS, POLICIES, check_binding, check_policy
from orkestra.cluster.resources import ResourceType, crd_spec
from orkestra.cluster.strict import unknown_fields
from orkestra.kubeobjects import JsonDict, KubeObject, ObjectMeta, as_json
from orkestra.units import format_timestamp

Mutate = Callable[[KubeObject, KubeObject | None], KubeObject]
"""Mutating admission: the object about to be validated and the stored object it replaces
(None on create) in, the object to validate and store instead out."""
NAMESPACES = ("", "namespaces")
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_LABEL_NAMED = {"namespaces", "services"}
_NO_GENERATION_GROUPS = {
    "",
    "rbac.authorization.k8s.io",
    "coordination.k8s.io",
    "events.k8s.io",
    "discovery.k8s.io",
}


def body_and_status(obj: KubeObject) -> JsonDict:
    return {k: v for k, v in as_json(obj).items() if k not in ("apiVersion", "kind", "metadata")}


def admit(
    rt: ResourceType,
    obj: KubeObject,
    ips: Iterator[str],
    mutate: Mutate | None = None,
    old: KubeObject | None = None,
) -> KubeObject:
    """The API server's checks and defaults of an object about to be stored: name, labels
    and annotations, the CRD schema (defaults, pruning, validation) or a built-in kind's
    unknown fields, built-in defaults; with ``mutate``, mutating admission first (after the
    defaults). Answers the object to store (``obj`` itself unless ``mutate`` replaced it)."""
    if mutate is not None:
        _default(rt, obj, ips)
        obj = mutate(obj, old)
    meta = obj.setdefault("metadata", {})
    name = meta.get("name", "")
    pattern = _DNS_LABEL if rt.plural in _LABEL_NAMED else _DNS_SUBDOMAIN
    limit = 63 if rt.plural in _LABEL_NAMED else 253
    if not isinstance(name, str) or not name or len(name) > limit or not pattern.fullmatch(name):
        raise InvalidError(
            f'{rt.kind} "{name}" is invalid: metadata.name: Invalid value: '
            f'"{name}": a lowercase RFC 1123 '
            f"{'label' if limit == 63 else 'subdomain'} must consist of "
            "lower case alphanumeric characters, '-' or '.', and must "
            "start and end with an alphanumeric character"
        )
    _check_metadata(rt, name, meta)
    _default(rt, obj, ips)
    if rt.schema is not None:
        errors = rt.rules.validate(body_and_status(obj))
        if errors:
            raise InvalidError(
                f'{rt.kind}.{rt.group} "{name}" is invalid: ' + ", ".join(errors), details=errors
            )
    check = _KIND_CHECKS.get(rt.key)
    if check is not None:
        check(obj)
    return obj


def _default(rt: ResourceType, obj: KubeObject, ips: Iterator[str]) -> None:
    """What decoding does in kube-apiserver: schema defaults and pruning (or the removal of
    a built-in kind's unknown fields) and built-in defaults."""
    if rt.schema is not None:
        rt.rules.apply_defaults(obj)
        rt.rules.prune(obj, root=True)
    else:
        node = kind_node(rt.group, rt.version, rt.kind)
        if node is not None:
            unknown_fields(as_json(obj), node, remove=True)
    defaults.apply_defaults(rt.group, obj, ips)


def _check_metadata(rt: ResourceType, name: str, meta: ObjectMeta) -> None:
    for key in ("labels", "annotations"):
        values = meta.get(key) or {}
        if not isinstance(values, dict):
            raise InvalidError(
                f'{rt.kind} "{name}" is invalid: metadata.{key}: Invalid '
                "value: must be a map of strings"
            )
        for k, v in values.items():
            if not isinstance(v, str):
                raise InvalidError(
                    f'{rt.kind} "{name}" is invalid: metadata.{key}.{k}: '
                    f"Invalid value: {v!r}: must be a string"
                )
            if key == "labels" and (len(v) > 63 or not _LABEL_VALUE.fullmatch(v)):
                raise InvalidError(
                    f'{rt.kind} "{name}" is invalid: metadata.labels: Invalid value: '
                    f'"{v}": a valid label must be an empty string or consist of '
                    "alphanumeric characters, '-', '_' or '.', and must start and end "
                    "with an alphanumeric character (at most 63 characters)"
                )


def has_generation(rt: ResourceType) -> bool:
    """Whether objects of a type carry ``metadata.generation`` (kinds with a desired state:
    workloads, custom resources ...; not ConfigMaps, Secrets, RBAC or Leases)."""
    return rt.group not in _NO_GENERATION_GROUPS


def initial_status(rt: ResourceType, obj: KubeObject) -> None:
    """Status the server itself reports right away: namespaces are Active, CRDs are
    accepted and established."""
    if rt.key == NAMESPACES:
        obj["status"] = {"phase": "Active"}
    elif rt.key == CRDS:
        spec = obj.get("spec") or {}
        storage = [v.get("name") for v in maps(spec.get("versions")) if v.get("storage")]
        obj["status"] = {
            "acceptedNames": spec.get("names") or {},
            "storedVersions": storage,
            "conditions": [
                _crd_condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                _crd_condition(
                    "Established", "InitialNamesAccepted", "the initial names have been accepted"
                ),
            ],
        }


def _crd_condition(kind: str, reason: str, message: str) -> JsonDict:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": format_timestamp(datetime.now(UTC)),
    }


def _check_crd(crd: KubeObject) -> None:
    name = crd["metadata"]["name"]
    shape = [
        f"{openapi.field_path(path)}: {message}" for path, message in openapi.crd_problems(crd)
    ]
    if shape:  # a manifest the API server could not even decode
        raise InvalidError(
            f'CustomResourceDefinition.apiextensions.k8s.io "{name}" is '
            "invalid: " + ", ".join(shape),
            details=shape,
        )
    spec = crd_spec(crd)
    names = spec.get("names") or {}
    problems = []
    if not spec.get("group"):
        problems.append("spec.group: Required value")
    if not names.get("plural") or not names.get("kind"):
        problems.append("spec.names: Required value: plural and kind")
    elif name != f"{names['plural']}.{spec.get('group', '')}":
        problems.append(
            f'metadata.name: Invalid value: "{name}": must be spec.names.plural+"."+spec.group'
        )
    versions = spec.get("versions") or []
    if sum(1 for v in versions if v.get("storage")) != 1:
        problems.append(
            "spec.versions: Invalid value: must have exactly one version marked as storage version"
        )
    if problems:
        raise InvalidError(
            f'CustomResourceDefinition.apiextensions.k8s.io "{name}" is '
            "invalid: " + ", ".join(problems),
            details=problems,
        )


_KIND_CHECKS: dict[tuple[str, str], Callable[[KubeObject], None]] = {
    CRDS: _check_crd,
    POLICIES: check_policy,
    BINDINGS: check_binding,
    webhooks.MUTATING: webhooks.admit_configuration,
    webhooks.VALIDATING: webhooks.admit_configuration,
}
