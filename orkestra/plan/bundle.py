"""``ork generate bundle``: what a cluster needs, besides the CRDs, to run composed patterns
with the runtime (reference §7.7, §11.3).

One YAML stream, applied before the Helm chart, which finds its objects by name:

- the Namespace (unless it is one every cluster has);
- ServiceAccount ``orkestra`` (the runtime) and, when the gateway is needed, ``orkestra-gateway``;
- ClusterRole and ClusterRoleBinding ``orkestra-runtime``: least privilege, derived by
  :mod:`orkestra.plan.rbac` from the same expansion ``ork plan`` lists (every kind the
  katalogs' templates can create or read, with exactly the verbs the runtime sends for it,
  no ``*``), plus the runtime's own needs: Events, and its CRDs read by name;
- Role and RoleBinding ``orkestra-runtime`` in the namespace: the leader-election Lease;
- the gateway's ClusterRole, ClusterRoleBinding, Role and RoleBinding (webhook
  configurations, its certificate Secret in the namespace, reads of the CRs) when webhooks,
  protection or conversion are on;
- ConfigMap ``orkestra-katalog``: key ``katalog.yaml`` holds the merged katalog (the runtime
  view ``ork template`` prints, registry imports expanded, ``crdFile`` dropped since the
  CRDs are applied on their own), and key ``imports.lock`` every registry import the
  composition resolved, pinned to the digest it was read by (``komposer.lock`` entries).

With ``with_crds`` the CRD manifests of the katalogs' ``crdFile`` come first. Every object
carries the ``app.kubernetes.io/part-of: orkestra`` and ``managed-by: ork`` labels. The
output is deterministic: the same input gives the same bytes (rules are sorted, nothing
depends on set order, time or the machine), while the katalog keeps the author's order,
which the runtime's start order follows.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from orkestra import yamltext
from orkestra.compose import Composed, MotifResolver, compose_file
from orkestra.errors import OrkError, UsageError
from orkestra.kubeobjects import KubeObject, ObjectMeta, PolicyRule, Subject
from orkestra.model.errors import PatternError, Problem
from orkestra.model.formats import API_VERSION
from orkestra.model.shapes import Katalog, TopLevel
from orkestra.plan.rbac import (
    RUNTIME,
    Rule,
    RuleSet,
    crd_rules,
    known_plurals,
    system_rules,
)
from orkestra.registry.client import RegistryClient
from orkestra.registry.lock import LOCK_KIND, LockEntry
from orkestra.registry.sources import RegistrySource

NAMESPACE = "orkestra-system"
RUNTIME_ACCOUNT = "orkestra"
RUNTIME_NAME = "orkestra-runtime"
GATEWAY_NAME = "orkestra-gateway"
CONFIGMAP = "orkestra-katalog"
KATALOG_KEY = "katalog.yaml"
LOCK_KEY = "imports.lock"
LABELS = {"app.kubernetes.io/part-of": "orkestra", "app.kubernetes.io/managed-by": "ork"}
CONFIGMAP_LIMIT = 1024 * 1024  # what the API server accepts in one ConfigMap
_SYSTEM_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_RBAC = "rbac.authorization.k8s.io/v1"
# what as_katalog() carries besides the CRDs
_TOP_KEYS: tuple[Literal["notes", "profiles", "security"], ...] = ("notes", "profiles", "security")


@dataclass
class Source:
    """One composed pattern file and the registry imports its composition resolved."""

    composed: Composed
    pinned: list[LockEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Bundle:
    """The objects of a bundle, in the order they are written."""

    namespace: str
    composed: Composed
    objects: list[KubeObject]
    warnings: list[str] = field(default_factory=list)
    patterns: tuple[str, ...] = ()  # "name version" of each file bundled

    def text(self) -> str:
        """The YAML stream."""
        header = (
            f"# ork generate bundle: {', '.join(self.patterns)} in namespace "
            f"{self.namespace}\n# Apply the CRDs first, then this file; the Helm chart "
            "uses these objects by name.\n"
        )
        return header + "".join("---\n" + yamltext.block(obj) for obj in self.objects)

    def find(self, kind: str, name: str) -> KubeObject | None:
        return next(
            (o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name), None
        )


# -- loading -------------------------------------------------------------------------------


def load(files: Sequence[tuple[Path, str]], client: RegistryClient | None = None) -> list[Source]:
    """Compose each (path, display) file, each with its own registry source, so each
    komposer reads its imports by its own ``komposer.lock``."""
    sources = []
    for path, display in files:
        registry = RegistrySource(client=client or RegistryClient())
        composed = compose_file(path, display, motifs=MotifResolver(registry=registry))
        pinned = sorted(registry.resolved.values(), key=lambda e: (e.kind, e.import_, e.ref))
        sources.append(Source(composed, pinned, list(registry.notes)))
    return sources


def merge(composed: Sequence[Composed]) -> Composed:
    """Several compositions as one: their CRDs side by side (a CRD name twice is an error),
    and their top-level blocks, which must agree where two files set the same one."""
    first = composed[0]
    crds, top = dict(first.crds), first.top.copy()
    owners = dict.fromkeys(first.crds, first.source.display)
    problems: list[Problem] = []
    for other in composed[1:]:
        for name, entry in other.crds.items():
            if name in crds:
                problems.append(
                    other.origins.problem(
                        ("spec", "crds", name),
                        f'CRD "{name}" is also defined in {owners[name]}',
                        key=True,
                        hint="a CRD must come from one file only; drop one -f",
                    )
                )
            crds[name], owners[name] = entry, other.source.display
        problems += _merge_top(top, other)
    if problems:
        raise PatternError(problems)
    return dataclasses.replace(
        first,
        crds=crds,
        top=top,
        crd_manifests={k: v for c in composed for k, v in c.crd_manifests.items()},
        documents=[d for c in composed for d in c.documents],
        warnings=[w for c in composed for w in c.warnings],
    )


def _merge_top(top: TopLevel, other: Composed) -> list[Problem]:
    problems = []
    for key in _TOP_KEYS:
        if not other.top.get(key):
            continue
        if top.get(key) and top[key] != other.top[key]:
            problems.append(
                other.source.problem(
                    (key,),
                    f"{key} differs from the one of another file of this bundle",
                    key=True,
                    hint="one runtime runs one katalog: compose the files in a komposer that "
                    f"sets {key} once",
                )
            )
        top[key] = other.top[key]
    return problems


# -- building ------------------------------------------------------------------------------


def build(
    sources: Sequence[Source], namespace: str = NAMESPACE, *, with_crds: bool = False
) -> Bundle:
    """The bundle of one or more composed files."""
    check_namespace(namespace)
    if not sources:
        raise UsageError("no pattern file to bundle", hint="name one with -f FILE")
    composed = merge([s.composed for s in sources])
    runtime = runtime_rules(composed)
    warnings = [
        f"{line}; the bundle does not grant it, add a rule for it yourself"
        for line in runtime.unresolved
    ]
    warnings += [note for s in sources for note in s.notes]
    objects: list[KubeObject] = []
    if with_crds:
        objects += _crds(composed, warnings)
    if namespace not in _SYSTEM_NAMESPACES:
        objects.append(_object("v1", "Namespace", namespace, None, "runtime"))
    objects += _rbac(namespace, RUNTIME_ACCOUNT, RUNTIME_NAME, runtime, "runtime")
    gateway = system_rules(composed).get("gateway")  # there when needs_gateway()
    if gateway is not None:
        objects += _rbac(namespace, GATEWAY_NAME, GATEWAY_NAME, gateway, "gateway")
    objects = sorted(objects, key=_kind_order)  # accounts, cluster RBAC, namespace RBAC
    objects.append(_configmap(namespace, composed, [e for s in sources for e in s.pinned]))
    patterns = tuple(
        dict.fromkeys(f"{s.composed.name} {s.composed.version}".strip() for s in sources)
    )
    return Bundle(
        namespace=namespace,
        composed=composed,
        objects=objects,
        warnings=warnings,
        patterns=patterns,
    )


def check_namespace(namespace: str) -> None:
    if not _DNS_LABEL.fullmatch(namespace):
        raise UsageError(
            f'namespace "{namespace}" is not a valid name',
            hint="lower-case letters, digits and '-', at most 63 characters, e.g. orkestra-system",
        )


def runtime_rules(composed: Composed) -> RuleSet:
    """Everything the runtime needs for these CRDs, and nothing else."""
    plurals = known_plurals(composed)
    rules = RuleSet()
    for name, entry in composed.enabled_crds.items():
        rules.update(crd_rules(entry, RUNTIME, plurals, name=name))
    rules.update(system_rules(composed)["runtime"])
    return rules


_ORDER = (
    "CustomResourceDefinition",
    "Namespace",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
)


def _kind_order(obj: KubeObject) -> int:
    return _ORDER.index(obj["kind"])  # a stable sort keeps runtime before gateway


def _object(
    api_version: str, kind: str, name: str, namespace: str | None, component: str
) -> KubeObject:
    meta: ObjectMeta = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = {**LABELS, "app.kubernetes.io/component": component}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def _rbac(
    namespace: str, account: str, name: str, rules: RuleSet, component: str
) -> list[KubeObject]:
    """A ServiceAccount with its ClusterRole, and its Role when it needs one, each bound."""
    subject: Subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    objects = [_object("v1", "ServiceAccount", account, namespace, component)]
    for kind, scope, binding in (
        ("ClusterRole", None, "ClusterRoleBinding"),
        ("Role", namespace, "RoleBinding"),
    ):
        part = rules.part(namespaced=scope is not None)
        if not part:
            continue
        objects.append(
            {**_object(_RBAC, kind, name, scope, component), "rules": [_rule(r) for r in part]}
        )
        objects.append(
            {
                **_object(_RBAC, binding, name, scope, component),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
                "subjects": [subject.copy()],
            }
        )
    return objects


def _rule(rule: Rule) -> PolicyRule:
    if "*" in (*rule.verbs, rule.resource, rule.api_group, *rule.names):
        raise OrkError(
            f"a template declares {rule.api_group or 'core'}/{rule.resource}: "
            "a bundle never grants a wildcard",
            hint="name the API group and kind the CRD creates",
        )
    return rule.as_dict()


def _crds(composed: Composed, warnings: list[str]) -> list[KubeObject]:
    by_name = {m["metadata"]["name"]: m for m in composed.crd_manifests.values()}
    missing = sorted(set(composed.enabled_crds) - set(composed.crd_manifests))
    warnings += [
        f"CRD {name} has no crdFile: --with-crds cannot include its manifest" for name in missing
    ]
    return [copy.deepcopy(by_name[name]) for name in sorted(by_name)]


def katalog(composed: Composed) -> Katalog:
    """The runtime view of the merged katalog, as the ConfigMap carries it."""
    view = copy.deepcopy(composed.as_katalog())
    for entry in view["spec"]["crds"].values():
        entry.pop("crdFile", None)  # the CRDs are applied on their own
    return view


def _configmap(namespace: str, composed: Composed, pinned: list[LockEntry]) -> KubeObject:
    data = {KATALOG_KEY: yamltext.block(katalog(composed))}
    entries = sorted({(e.kind, e.import_, e.ref, e.digest): e for e in pinned}.items())
    if entries:
        data[LOCK_KEY] = yamltext.block(
            {
                "apiVersion": API_VERSION,
                "kind": LOCK_KIND,
                "imports": [e.to_json() for _, e in entries],
            }
        )
    size = sum(len(k) + len(v.encode("utf-8")) for k, v in data.items())
    if size > CONFIGMAP_LIMIT:
        raise OrkError(
            f"the merged katalog is {size} bytes, more than a ConfigMap holds ({CONFIGMAP_LIMIT})",
            hint="split the CRDs over several runtimes, one bundle (and namespace) each",
        )
    return {**_object("v1", "ConfigMap", CONFIGMAP, namespace, "katalog"), "data": data}
