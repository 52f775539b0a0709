"""The webhook configurations the gateway keeps on the cluster, as it wants them.

``orkestra-admission-validation`` (ValidatingWebhookConfiguration, webhook
``validate.orkestra.orkspace.io``, path ``/validate``) covers the CRDs whose validation runs
at admission; ``orkestra-admission-mutation`` (MutatingWebhookConfiguration, webhook
``mutate.orkestra.orkspace.io``, ``/mutate``) those with mutation rules, since a validating
webhook cannot change an object; ``orkestra-deletion-protection`` (webhook
``protect.resources.orkestra.orkspace.io``, ``/protect``) sees the DELETE of protected CRs,
of their CRDs and of the gateway's Deployment (matchConditions pick those out by name; the
handler checks again), and with strictMode their UPDATEs. :func:`desired` gives each name
its manifest, or None when nothing needs it (the housekeeper then deletes it). The client
configuration is the gateway's Service or, for a gateway run outside the cluster, a URL;
``caBundle`` is the CA bundle the serving certificate chains to. Rules match any scope:
the CRD manifest, not the katalog, decides it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import NotRequired, TypedDict
from urllib.parse import urlsplit

from orkestra.gateway.decide import CRDS, DEPLOYMENTS, Guard
from orkestra.gateway.targets import Target, Targets
from orkestra.kubeobjects import KubeObject

GROUP_VERSION = "admissionregistration.k8s.io/v1"
VALIDATING = "ValidatingWebhookConfiguration"
MUTATING = "MutatingWebhookConfiguration"
VALIDATION_CONFIG = "orkestra-admission-validation"
MUTATION_CONFIG = "orkestra-admission-mutation"
PROTECTION_CONFIG = "orkestra-deletion-protection"
VALIDATE_WEBHOOK = "validate.orkestra.orkspace.io"
MUTATE_WEBHOOK = "mutate.orkestra.orkspace.io"
PROTECT_WEBHOOK = "protect.resources.orkestra.orkspace.io"
# name -> (kind, webhook name, path)
CONFIGS: dict[str, tuple[str, str, str]] = {
    VALIDATION_CONFIG: (VALIDATING, VALIDATE_WEBHOOK, "/validate"),
    MUTATION_CONFIG: (MUTATING, MUTATE_WEBHOOK, "/mutate"),
    PROTECTION_CONFIG: (VALIDATING, PROTECT_WEBHOOK, "/protect"),
}
MANAGED_BY = {"app.kubernetes.io/managed-by": "orkestra-gateway"}
TIMEOUT_SECONDS = 10
MUTABLE = ("CREATE", "UPDATE")


# -- the admissionregistration.k8s.io/v1 shapes the gateway writes --------------------


class ServiceReference(TypedDict):
    name: str
    namespace: str
    path: str
    port: int


class ClientConfig(TypedDict, total=False):
    url: str
    service: ServiceReference
    caBundle: str


class RuleWithOperations(TypedDict):
    apiGroups: list[str]
    apiVersions: list[str]
    operations: list[str]
    resources: list[str]
    scope: str


class MatchCondition(TypedDict):
    name: str
    expression: str


class AdmissionWebhook(TypedDict):
    """One webhook of a configuration (``ValidatingWebhook``/``MutatingWebhook``)."""

    name: str
    clientConfig: ClientConfig
    rules: list[RuleWithOperations]
    failurePolicy: str
    matchPolicy: str
    sideEffects: str
    admissionReviewVersions: list[str]
    timeoutSeconds: int
    reinvocationPolicy: NotRequired[str]
    matchConditions: NotRequired[list[MatchCondition]]


class WebhookConfiguration(KubeObject, total=False):
    """A ValidatingWebhookConfiguration or MutatingWebhookConfiguration."""

    webhooks: list[AdmissionWebhook]


@dataclass(frozen=True)
class Endpoint:
    """Where the API server reaches the gateway: its Service, or a URL."""

    service: str
    namespace: str
    port: int = 8443
    url: str | None = None

    def client_config(self, path: str, ca_bundle: bytes) -> ClientConfig:
        bundle = base64.b64encode(ca_bundle).decode()
        if self.url:
            return {"url": self.url.rstrip("/") + path, "caBundle": bundle}
        return {
            "service": {
                "name": self.service,
                "namespace": self.namespace,
                "path": path,
                "port": self.port,
            },
            "caBundle": bundle,
        }

    @property
    def names(self) -> list[str]:
        """The names the serving certificate must hold."""
        svc, ns = self.service, self.namespace
        names = [f"{svc}.{ns}.svc", svc, f"{svc}.{ns}", f"{svc}.{ns}.svc.cluster.local"]
        host = urlsplit(self.url).hostname if self.url else None
        if host and host not in names:
            names.append(host)
        return names


def _rule(
    groups: list[str], versions: list[str], operations: list[str], resources: list[str], scope: str
) -> RuleWithOperations:
    return {
        "apiGroups": groups,
        "apiVersions": versions,
        "operations": operations,
        "resources": resources,
        "scope": scope,
    }


def _target_rule(target: Target, operations: list[str]) -> RuleWithOperations:
    return _rule([target.group], [target.version], operations, [target.plural], "*")


def _webhook(
    name: str,
    path: str,
    rules: list[RuleWithOperations],
    policy: str,
    endpoint: Endpoint,
    ca_bundle: bytes,
    *,
    mutating: bool = False,
) -> AdmissionWebhook:
    hook: AdmissionWebhook = {
        "name": name,
        "clientConfig": endpoint.client_config(path, ca_bundle),
        "rules": rules,
        "failurePolicy": policy,
        "matchPolicy": "Equivalent",
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": TIMEOUT_SECONDS,
    }
    if mutating:
        hook["reinvocationPolicy"] = "Never"
    return hook


def _config(
    name: str,
    rules: list[RuleWithOperations],
    policy: str,
    endpoint: Endpoint,
    ca_bundle: bytes,
    conditions: list[MatchCondition] | None = None,
) -> WebhookConfiguration:
    kind, webhook, path = CONFIGS[name]
    hook = _webhook(webhook, path, rules, policy, endpoint, ca_bundle, mutating=kind == MUTATING)
    if conditions:
        hook["matchConditions"] = conditions
    return {
        "apiVersion": GROUP_VERSION,
        "kind": kind,
        "metadata": {"name": name, "labels": dict(MANAGED_BY)},
        "webhooks": [hook],
    }


def _cel_list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _protection_conditions(guard: Guard) -> list[MatchCondition]:
    """matchConditions that send the API server's CRD and Deployment requests only for
    ours, so a gateway that is down (failurePolicy Fail) blocks nothing else. (An API
    server without matchConditions calls for every one; the handler still lets the others
    through.)"""
    conditions: list[MatchCondition] = []
    if guard.crds:
        conditions.append(
            {
                "name": "orkestra-crds",
                "expression": (
                    f"request.resource.group != '{CRDS[0]}' || request.resource.resource != "
                    f"'{CRDS[1]}' || request.name in {_cel_list(sorted(guard.crds))}"
                ),
            }
        )
    if guard.deployment:
        namespace, name = guard.deployment
        conditions.append(
            {
                "name": "orkestra-gateway-deployment",
                "expression": (
                    f"request.resource.group != '{DEPLOYMENTS[0]}' || request.resource.resource != "
                    f"'{DEPLOYMENTS[1]}' || (request.namespace == '{namespace}' && "
                    f"request.name == '{name}')"
                ),
            }
        )
    return conditions


def _protection_rules(targets: Targets, guard: Guard) -> list[RuleWithOperations]:
    protected = targets.protected
    strict = any(t.strict for t in protected)
    rules = [_target_rule(t, ["DELETE", "UPDATE"] if t.strict else ["DELETE"]) for t in protected]
    if guard.crds:
        rules.append(
            _rule(
                [CRDS[0]],
                ["v1"],
                ["DELETE", "UPDATE"] if strict else ["DELETE"],
                [CRDS[1]],
                "Cluster",
            )
        )
    if guard.deployment:
        rules.append(
            _rule(
                [DEPLOYMENTS[0]],
                ["v1"],
                ["DELETE", "UPDATE"] if guard.deployment_strict else ["DELETE"],
                [DEPLOYMENTS[1]],
                "Namespaced",
            )
        )
    return rules


def desired(
    targets: Targets,
    guard: Guard,
    endpoint: Endpoint,
    ca_bundle: bytes,
    failure_policy: str | None = None,
) -> dict[str, WebhookConfiguration | None]:
    """Each managed configuration's manifest; None for those nothing needs."""
    settings = targets.settings
    admission_policy = failure_policy or settings.validation_policy
    protection_policy = failure_policy or settings.protection_policy
    validated = [_target_rule(t, list(t.operations)) for t in targets.validated]
    mutated = [
        r
        for r in (
            _target_rule(t, [o for o in t.operations if o in MUTABLE]) for t in targets.mutated
        )
        if r["operations"]
    ]
    protection = _protection_rules(targets, guard) if guard.active else []
    return {
        VALIDATION_CONFIG: _config(
            VALIDATION_CONFIG, validated, admission_policy, endpoint, ca_bundle
        )
        if validated
        else None,
        MUTATION_CONFIG: _config(MUTATION_CONFIG, mutated, admission_policy, endpoint, ca_bundle)
        if mutated
        else None,
        PROTECTION_CONFIG: _config(
            PROTECTION_CONFIG,
            protection,
            protection_policy,
            endpoint,
            ca_bundle,
            _protection_conditions(guard),
        )
        if protection
        else None,
    }
