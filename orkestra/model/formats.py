"""The declared shape of every pattern kind: Katalog, Motif, Komposer, Simulate, E2E.

Declarations accept all three layout generations of the original tool (G0 list-form
``spec.crds``, G1 ``operatorBox.reconciler``/``onCreate``/``status``, G2
``operatorBox.reconcile``/``emit``/``runtime``) and the spelling variants noted in the
reference (``or``/``anyOf``, ``resources``/``managedResources``, lowercase resource keys,
``eq``/``neq``); :mod:`orkestra.model.normalize` turns what was accepted into the single G2
model. Blocks whose content belongs to components outside Orkestra's own runtime
(``gateway``, ``publish``, ``notification``, ``serve``, ``idp``) are opaque mappings.
"""

from __future__ import annotations

from orkestra.kubeobjects import JsonDict
from orkestra.limits import MAX_CYCLES
from orkestra.model.errors import YamlPath
from orkestra.model.schema import (
    AnyValue,
    Bool,
    Context,
    Duration,
    Either,
    F,
    Int,
    ListOf,
    MapOf,
    Node,
    Obj,
    Opaque,
    Scalar,
    Shorthand,
    Str,
    export_json_schema,
    is_bool,
    is_list,
    is_map,
    is_str,
    named,
)

API_VERSION = "orkestra.orkspace.io/v1"
LEGACY_API_VERSION = "orkestra.konductor.io/v1Alpha"

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
GO_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
# a Kubernetes label or annotation key: an optional DNS-subdomain prefix and "/", then a name
QUALIFIED_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
METADATA_KEY = rf"({DNS_SUBDOMAIN}/)?{QUALIFIED_NAME}"
DATE = r"\d{4}-\d{2}-\d{2}"


def req(node: Node, description: str = "") -> F:
    return F(node, True, description)


def opt(node: Node, description: str = "") -> F:
    return F(node, False, description)


def name_node(what: str) -> Str:
    return Str(
        f"{what} (lowercase RFC 1123 name)",
        pattern=DNS_LABEL,
        templates=False,
        pattern_hint="a lowercase RFC 1123 name: a-z, 0-9 and '-', starting and ending "
        "with a letter or digit, at most 63 characters",
    )


STRINGS = ListOf(Str())
STRING_MAP = named(MapOf(Scalar()), "StringMap")

# -- conditions ---------------------------------------------------------------------------

OPERATORS = (
    "equals",
    "eq",
    "notEquals",
    "neq",
    "contains",
    "notContains",
    "prefix",
    "notPrefix",
    "suffix",
    "notSuffix",
    "regex",
    "exists",
    "notExists",
    "gt",
    "lt",
    "gte",
    "lte",
    "between",
    "notBetween",
    "in",
    "notIn",
    "unique",
    "typeOf",
    "typeMap",
    "typeList",
    "typeString",
    "typeNumber",
    "typeBool",
    "typeNull",
)
SHORTHANDS = (
    "equals",
    "notEquals",
    "contains",
    "notContains",
    "prefix",
    "notPrefix",
    "suffix",
    "notSuffix",
    "regex",
    "exists",
    "notExists",
    "greaterThan",
    "lessThan",
    "min",
    "greaterThanOrEqual",
    "max",
    "lessThanOrEqual",
    "between",
    "notBetween",
    "in",
    "notIn",
)
VALUE_TYPES = ("string", "int", "float", "bool")

_CONDITION_FIELDS = {
    "field": opt(
        Str(),
        "Dot path into the template context (spec.x, status.phase, "
        "children.job.status.succeeded) or a {{ template }} rendered first.",
    ),
    "operator": opt(Str(enum=OPERATORS), "Explicit operator; use with value."),
    "value": opt(Scalar(), "Comparison value for operator (templated)."),
    "valueType": opt(Str(enum=VALUE_TYPES), "How both sides are compared."),
    "negate": opt(Bool(), "Invert the result."),
    **{key: opt(Scalar(), f"Shorthand for operator {key}.") for key in SHORTHANDS},
    "time": opt(
        Obj(
            fields={
                "after": opt(Str(pattern=r"\d{1,2}:\d{2}", pattern_hint="HH:MM")),
                "before": opt(Str(pattern=r"\d{1,2}:\d{2}", pattern_hint="HH:MM")),
            },
            name="time",
        ),
        "UTC time-of-day window.",
    ),
    "dayOfWeek": opt(
        Obj(
            fields={
                "weekday": opt(Bool()),
                "weekend": opt(Bool()),
                "in": opt(STRINGS),
                "notIn": opt(STRINGS),
            },
            name="dayOfWeek",
        )
    ),
    "cron": opt(Str(), "A cron schedule; the window opens at each fire."),
    "duration": opt(Duration(), "How long a cron window stays open (default 60s)."),
}

CONDITION = named(
    Obj(
        fields=dict(_CONDITION_FIELDS),
        description="A condition: field + operator, or a time window.",
        aliases={"equal": "equals"},
        name="condition",
    ),
    "Condition",
)
CONDITIONS = ListOf(CONDITION)
GATE_FIELDS = {
    "when": opt(CONDITIONS, "All must pass (AND)."),
    "or": opt(CONDITIONS, "At least one must pass (OR)."),
}
GATE_ALIASES = {"anyOf": "or"}
GATE = named(Obj(fields=dict(GATE_FIELDS), aliases=dict(GATE_ALIASES), name="gate"), "Gate")

# -- shared small blocks ---------------------------------------------------------------------

AUTH = named(
    Obj(
        fields={
            "type": opt(Str(enum=("bearer", "github", "basic"))),
            "fromEnv": opt(Str(), "Environment variable holding the token."),
            "usernameFromEnv": opt(Str()),
            "passwordFromEnv": opt(Str()),
        },
        name="auth",
    ),
    "Auth",
)

EXTERNAL = named(
    Obj(
        fields={
            "name": req(Str(pattern=GO_IDENTIFIER + r"|[a-z0-9-]+", templates=False)),
            "url": req(Str()),
            "method": opt(Str(enum=("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"))),
            "headers": opt(STRING_MAP),
            "body": opt(AnyValue()),
            "expectedStatus": opt(Int(minimum=100, maximum=599)),
            "timeout": opt(Duration()),
            "continueOnError": opt(Bool()),
            "fires": opt(
                Obj(fields={"reconcile": opt(Bool()), "admission": opt(Bool())}, name="fires")
            ),
            "auth": opt(AUTH),
            **GATE_FIELDS,
        },
        description="An HTTP call whose result is available as .external.<name>.",
        aliases=dict(GATE_ALIASES),
        name="external call",
    ),
    "ExternalCall",
)

LABELS = named(
    Either(
        (is_map, STRING_MAP),
        (is_list, ListOf(Obj(fields={"key": req(Str()), "value": req(Scalar())}, name="label"))),
        description="Labels as a map, or a list of {key, value}.",
    ),
    "Labels",
)

FOR_EACH = named(
    Obj(
        fields={
            "field": req(Str(), "Path of the list or map to expand over (spec.regions)."),
            "as": opt(
                Str(pattern=GO_IDENTIFIER, templates=False),
                "Name of the item in the template context (default item).",
            ),
        },
        description="Turn one declaration into one object per item.",
        name="forEach",
    ),
    "ForEach",
)

COMMON_RESOURCE = {
    "name": opt(Str(), "Object name (template); each kind has a default."),
    "namespace": opt(Str(), "Defaults to the CR's namespace."),
    "labels": opt(LABELS),
    "annotations": opt(STRING_MAP),
    **GATE_FIELDS,
    "forEach": opt(FOR_EACH),
    "reconcile": opt(Bool(), "On an onCreate entry: also correct drift every cycle."),
    "sleep": opt(Duration(), "Injected delay (testing)."),
    "version": opt(Str(), "Implementation version tag."),
}

NUMERIC = Int(strings=True)
PORT = Int(minimum=1, maximum=65535, strings=True)
PROFILE_REF = Obj(fields={"profile": req(Str())}, name="profile reference")

RESOURCES = named(
    Either(
        (lambda v: isinstance(v, dict) and "profile" in v, PROFILE_REF),
        (
            is_map,
            Obj(fields={"requests": opt(STRING_MAP), "limits": opt(STRING_MAP)}, name="resources"),
        ),
        description="{profile: NAME} or explicit {requests, limits}.",
    ),
    "ContainerResources",
)

PROBE = named(
    Obj(
        fields={
            "type": opt(Str(enum=("http", "tcp", "exec", "grpc"))),
            "path": opt(Str()),
            "port": opt(PORT),
            "command": opt(STRINGS),
            "profile": opt(Str()),
            "initialDelaySeconds": opt(NUMERIC),
            "periodSeconds": opt(NUMERIC),
            "timeoutSeconds": opt(NUMERIC),
            "failureThreshold": opt(NUMERIC),
            "successThreshold": opt(NUMERIC),
        },
        name="probe",
    ),
    "Probe",
)

ENV_VAR = named(
    Obj(
        fields={"name": req(Str()), "value": opt(Scalar()), "valueFrom": opt(Opaque())},
        name="env var",
    ),
    "EnvVar",
)
NAME_REF = Obj(fields={"name": req(Str())}, name="reference")
ENV_FROM = Obj(
    fields={"secretRef": opt(ListOf(NAME_REF)), "configMapRef": opt(ListOf(NAME_REF))},
    name="envFrom",
)
PROFILE_OR_SPEC = Either(
    (lambda v: isinstance(v, dict) and "profile" in v, PROFILE_REF),
    (is_map, Opaque()),
    description="{profile: NAME} or the Kubernetes fields.",
)
VOLUME_MOUNT = Obj(
    fields={
        "name": req(Str()),
        "mountPath": req(Str()),
        "readOnly": opt(Bool()),
        "subPath": opt(Str()),
    },
    name="volumeMount",
)

POD_FIELDS = {
    "image": opt(Str(), "Container image (template)."),
    "imagePullSecrets": opt(ListOf(Either((is_str, Str()), (is_map, NAME_REF)))),
    "command": opt(STRINGS),
    "args": opt(STRINGS),
    "env": opt(ListOf(ENV_VAR)),
    "envFrom": opt(ENV_FROM),
    "resources": opt(RESOURCES),
    "securityContext": opt(PROFILE_OR_SPEC),
    "podSecurity": opt(PROFILE_OR_SPEC),
    "volumes": opt(ListOf(Opaque())),
    "volumeMounts": opt(ListOf(VOLUME_MOUNT)),
    "workingDirectory": opt(Str()),
    "serviceAccountName": opt(Str()),
    "nodeSelector": opt(STRING_MAP),
}

WORKLOAD_FIELDS = {
    **POD_FIELDS,
    "replicas": opt(Int(minimum=0, strings=True), 'Replica count (default "1").'),
    "port": opt(PORT, "Container port."),
    "protocol": opt(Str(enum=("TCP", "UDP", "SCTP"))),
    "probes": opt(
        Obj(
            fields={"startup": opt(PROBE), "liveness": opt(PROBE), "readiness": opt(PROBE)},
            name="probes",
        )
    ),
    "rollingUpdate": opt(
        Either(
            (lambda v: isinstance(v, dict) and "profile" in v, PROFILE_REF),
            (
                is_map,
                Obj(
                    fields={
                        "maxSurge": opt(Int(strings=True, percent=True)),
                        "maxUnavailable": opt(Int(strings=True, percent=True)),
                    },
                    name="rollingUpdate",
                ),
            ),
        )
    ),
    "autoscale": opt(
        Obj(
            fields={
                "min": opt(NUMERIC),
                "max": opt(NUMERIC),
                "cooldown": opt(Duration()),
                "scaleUp": opt(
                    Obj(fields={"conditions": opt(GATE), "increment": opt(NUMERIC)}, name="scaleUp")
                ),
                "scaleDown": opt(
                    Obj(
                        fields={"conditions": opt(GATE), "decrement": opt(NUMERIC)},
                        name="scaleDown",
                    )
                ),
            },
            name="autoscale",
        )
    ),
}

VOLUME_CLAIM = Obj(
    fields={
        "name": req(Str()),
        "storageClass": opt(Str()),
        "storageSize": opt(Str()),
        "mountPath": opt(Str()),
        "accessModes": opt(STRINGS),
    },
    name="volumeClaimTemplate",
)

RULE_FIELDS = {
    "apiGroups": opt(STRINGS),
    "resources": opt(STRINGS),
    "verbs": req(STRINGS),
    "resourceNames": opt(STRINGS),
    "nonResourceURLs": opt(STRINGS),
}
RBAC_RULE = named(Obj(fields=dict(RULE_FIELDS), name="rule"), "PolicyRule")
ROLE_REF = Obj(
    fields={
        "kind": req(Str(enum=("Role", "ClusterRole"))),
        "name": req(Str()),
        "apiGroup": opt(Str()),
    },
    name="roleRef",
)
SUBJECT = Obj(
    fields={
        "kind": req(Str(enum=("ServiceAccount", "User", "Group"))),
        "name": req(Str()),
        "namespace": opt(Str()),
        "apiGroup": opt(Str()),
    },
    name="subject",
)


def resource(kind: str, fields: dict[str, F]) -> Obj:
    return named(
        Obj(
            fields={**COMMON_RESOURCE, **fields},
            description=f"A {kind} template.",
            aliases=dict(GATE_ALIASES),
            name=kind,
        ),
        kind.replace(" ", "") + "Template",
    )


RESOURCE_KINDS: dict[str, Obj] = {
    "deployments": resource("Deployment", dict(WORKLOAD_FIELDS)),
    "statefulSets": resource(
        "StatefulSet",
        {
            **WORKLOAD_FIELDS,
            "tag": opt(Str()),
            "serviceName": opt(Str(), "Headless service name (default: the object name)."),
            "volumeClaimTemplates": opt(ListOf(VOLUME_CLAIM)),
        },
    ),
    "replicaSets": resource("ReplicaSet", dict(WORKLOAD_FIELDS)),
    "pods": resource(
        "Pod",
        {
            **POD_FIELDS,
            "port": opt(PORT),
            "restartPolicy": opt(Str(enum=("Always", "OnFailure", "Never"))),
        },
    ),
    "jobs": resource(
        "Job",
        {
            **POD_FIELDS,
            "backoffLimit": opt(Int(minimum=0, strings=True)),
            "restartPolicy": opt(Str(enum=("OnFailure", "Never"))),
        },
    ),
    "cronJobs": resource(
        "CronJob",
        {
            **POD_FIELDS,
            "schedule": req(Str(), "Cron schedule."),
            "suspend": opt(Bool(templates=True)),
            "successfulJobsHistoryLimit": opt(Int(minimum=0, strings=True)),
            "failedJobsHistoryLimit": opt(Int(minimum=0, strings=True)),
            "concurrencyPolicy": opt(
                Str(enum=("allow", "forbid", "replace", "Allow", "Forbid", "Replace"))
            ),
            "startingDeadlineSeconds": opt(Int(minimum=0, strings=True)),
            "backoffLimit": opt(Int(minimum=0, strings=True)),
        },
    ),
    "services": resource(
        "Service",
        {
            "type": opt(Str(enum=("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"))),
            "headless": opt(Bool(), "clusterIP: None."),
            "port": opt(PORT),
            "targetPort": opt(Int(strings=True)),
            "nodePort": opt(PORT),
            "protocol": opt(Str(enum=("TCP", "UDP", "SCTP"))),
            "selector": opt(STRING_MAP),
            "externalName": opt(Str()),
        },
    ),
    "ingresses": resource(
        "Ingress",
        {
            "host": opt(Str()),
            "serviceName": opt(Str()),
            "servicePort": opt(PORT),
            "path": opt(Str()),
            "pathType": opt(Str(enum=("Prefix", "Exact", "ImplementationSpecific"))),
            "className": opt(Str()),
            "tls": opt(
                Obj(
                    fields={"create": opt(Bool()), "secretName": opt(Str()), "hosts": opt(STRINGS)},
                    name="tls",
                )
            ),
        },
    ),
    "networkPolicies": resource(
        "NetworkPolicy",
        {
            "profile": opt(Str()),
            "podSelector": opt(STRING_MAP),
            "policyTypes": opt(STRINGS),
            "ingress": opt(ListOf(Opaque())),
            "egress": opt(ListOf(Opaque())),
        },
    ),
    "configMaps": resource(
        "ConfigMap",
        {
            "data": opt(STRING_MAP),
            "fromConfigMap": opt(Str()),
            "fromNamespace": opt(Str()),
            "toNamespaces": opt(STRINGS),
        },
    ),
    "secrets": resource(
        "Secret",
        {
            "type": opt(Str()),
            "data": opt(STRING_MAP),
            "fromSecret": opt(Str()),
            "fromNamespace": opt(Str()),
            "toNamespaces": opt(STRINGS),
            "once": opt(Bool(), "Create once; never re-render (required with random notes)."),
            "rotateAfter": opt(Duration(), "Recreate a once-secret after this age."),
            "tls": opt(
                Obj(
                    fields={
                        "commonName": opt(Str()),
                        "dnsNames": opt(STRINGS),
                        "validFor": opt(Duration()),
                    },
                    name="tls",
                )
            ),
        },
    ),
    "namespaces": resource("Namespace", {}),
    "persistentVolumeClaims": resource(
        "PersistentVolumeClaim",
        {
            "storageClass": opt(Str()),
            "storageSize": opt(Str()),
            "accessModes": opt(STRINGS),
            "volumeMode": opt(Str(enum=("Filesystem", "Block"))),
        },
    ),
    "persistentVolumes": resource(
        "PersistentVolume",
        {
            "storageClass": opt(Str()),
            "storageSize": opt(Str()),
            "accessModes": opt(STRINGS),
            "hostPath": opt(Str()),
            "reclaimPolicy": opt(Str(enum=("Retain", "Delete", "Recycle"))),
        },
    ),
    "serviceAccounts": resource(
        "ServiceAccount",
        {
            "automountServiceAccountToken": opt(Bool()),
            "imagePullSecrets": opt(ListOf(Either((is_str, Str()), (is_map, NAME_REF)))),
        },
    ),
    "roles": resource("Role", {"rules": opt(ListOf(RBAC_RULE))}),
    "clusterRoles": resource("ClusterRole", {"rules": opt(ListOf(RBAC_RULE))}),
    "roleBindings": resource(
        "RoleBinding", {"roleRef": req(ROLE_REF), "subjects": opt(ListOf(SUBJECT))}
    ),
    "clusterRoleBindings": resource(
        "ClusterRoleBinding", {"roleRef": req(ROLE_REF), "subjects": opt(ListOf(SUBJECT))}
    ),
    "hpa": resource(
        "HorizontalPodAutoscaler",
        {
            "scaleTargetRef": opt(
                Obj(
                    fields={"kind": opt(Str()), "name": opt(Str()), "apiVersion": opt(Str())},
                    name="scaleTargetRef",
                )
            ),
            "minReplicas": opt(Int(minimum=1, strings=True)),
            "maxReplicas": opt(Int(minimum=1, strings=True)),
            "targetCPUUtilizationPercentage": opt(Int(minimum=1, strings=True)),
            "targetMemoryUtilizationPercentage": opt(Int(minimum=1, strings=True)),
            "behavior": opt(PROFILE_OR_SPEC),
        },
    ),
    "pdb": resource(
        "PodDisruptionBudget",
        {
            "minAvailable": opt(Int(strings=True, percent=True)),
            "maxUnavailable": opt(Int(strings=True, percent=True)),
            "selector": opt(STRING_MAP),
            "behavior": opt(PROFILE_OR_SPEC),
        },
    ),
    "resourceQuotas": resource("ResourceQuota", {"profile": opt(Str()), "hard": opt(STRING_MAP)}),
    "limitRanges": resource("LimitRange", {"profile": opt(Str()), "limits": opt(ListOf(Opaque()))}),
    "custom": resource(
        "custom resource",
        {
            "apiVersion": req(Str()),
            "kind": req(Str()),
            "metadata": opt(
                Obj(
                    fields={
                        "name": opt(Str()),
                        "namespace": opt(Str()),
                        "labels": opt(LABELS),
                        "annotations": opt(STRING_MAP),
                        "namespaced": opt(Bool()),
                    },
                    name="metadata",
                )
            ),
            "spec": opt(AnyValue()),
            "status": opt(AnyValue()),
            "data": opt(AnyValue()),
            "hasStatus": opt(Either((is_bool, Bool()), (lambda v: v is None, AnyValue()))),
        },
    ),
}

RESOURCE_KEY_ALIASES = {
    "configmaps": "configMaps",
    "cronjobs": "cronJobs",
    "statefulsets": "statefulSets",
    "serviceaccounts": "serviceAccounts",
    "rolebindings": "roleBindings",
    "clusterroles": "clusterRoles",
    "clusterrolebindings": "clusterRoleBindings",
    "replicasets": "replicaSets",
    "networkpolicies": "networkPolicies",
    "persistentvolumeclaims": "persistentVolumeClaims",
    "pvcs": "persistentVolumeClaims",
    "persistentvolumes": "persistentVolumes",
    "pdbs": "pdb",
    "hpas": "hpa",
    "resourcequotas": "resourceQuotas",
    "limitranges": "limitRanges",
}
_RESERVED_KINDS = (
    "daemonSets",
    "podTemplates",
    "storageClasses",
    "storageLocations",
    "storagePools",
    "storageBackups",
    "storageSnapshots",
    "storageVolumes",
    "serviceMonitors",
    "priorityClasses",
    "priorityLevelConfigurations",
    "runtimeClasses",
    "podSecurityPolicies",
)
IGNORED_RESOURCE_KEYS = dict.fromkeys(
    _RESERVED_KINDS,
    "the original Orkestra reserves this kind but never creates it; use custom: instead",
)


HOOK_TEMPLATES = named(
    Obj(
        fields={kind: opt(ListOf(schema)) for kind, schema in RESOURCE_KINDS.items()},
        description="Resources to create, keyed by kind.",
        aliases=dict(RESOURCE_KEY_ALIASES),
        ignored=IGNORED_RESOURCE_KEYS,
        name="resource templates",
    ),
    "ResourceTemplates",
)

# -- status, admission ------------------------------------------------------------------------

STATUS_TYPES = ("string", "str", "", "int", "integer", "float", "bool", "boolean", "auto")
STATUS_FIELD = Obj(
    fields={
        "path": req(Str(templates=False), "Path under .status (db.host -> status.db.host)."),
        "value": opt(Scalar(), "Template for the value."),
        "type": opt(Str(enum=STATUS_TYPES, templates=False)),
        **GATE_FIELDS,
        "clearOnFalse": opt(Bool(), 'Write "" when the conditions fail.'),
    },
    aliases=dict(GATE_ALIASES),
    name="status field",
)
STATUS_FIELDS = {
    "conditions": opt(Bool(), "Maintain the Ready condition (default true)."),
    "fields": opt(ListOf(STATUS_FIELD)),
}
STATUS = named(
    Obj(
        fields={
            **STATUS_FIELDS,
            "include": opt(
                Str(templates=False),
                "File with a top-level fields: list; its fields go before the inline ones.",
            ),
        },
        description="Status written to the CR after each reconcile.",
        name="status",
    ),
    "Status",
)
MOTIF_STATUS = named(
    Obj(
        fields=dict(STATUS_FIELDS),
        description="Status fields added to the importing CRD.",
        name="motif status",
    ),
    "MotifStatus",
)

VALIDATION_RULE = Obj(
    fields={
        **_CONDITION_FIELDS,
        "message": opt(Str(), "Shown when the rule fails (templated)."),
        "action": opt(Str(enum=("deny", "warn"), templates=False)),
        **GATE_FIELDS,
        "fires": opt(
            Obj(fields={"reconcile": opt(Bool()), "admission": opt(Bool())}, name="fires")
        ),
    },
    aliases={**GATE_ALIASES},
    name="validation rule",
)
VALIDATION = named(
    Obj(
        fields={
            "include": opt(Str(), "File with a top-level rules: list; its rules go first."),
            "external": opt(ListOf(EXTERNAL)),
            "rules": opt(ListOf(VALIDATION_RULE)),
        },
        name="validation",
    ),
    "Validation",
)
MUTATION_RULE = Obj(
    fields={
        "field": req(Str()),
        "default": opt(Scalar()),
        "override": opt(Scalar()),
        "valueType": opt(Str(enum=VALUE_TYPES)),
        **GATE_FIELDS,
        "fires": opt(
            Obj(fields={"reconcile": opt(Bool()), "admission": opt(Bool())}, name="fires")
        ),
    },
    aliases=dict(GATE_ALIASES),
    name="mutation rule",
)
MUTATION = named(
    Obj(
        fields={
            "mutateFirst": opt(Bool(), "At reconcile, run mutation before validation."),
            "include": opt(Str()),
            "external": opt(ListOf(EXTERNAL)),
            "rules": opt(ListOf(MUTATION_RULE)),
        },
        name="mutation",
    ),
    "Mutation",
)

# -- reconciler and operatorBox ------------------------------------------------------------------

MOTIF_IMPORT = named(
    Obj(
        fields={
            "motif": req(
                Str(templates=False), "Local path, oci:// reference, Git URL or name@version."
            ),
            "oci": opt(Bool()),
            "version": opt(Str()),
            "auth": opt(AUTH),
            "with": opt(MapOf(Scalar()), "Input bindings (templates allowed)."),
        },
        description="A motif to import.",
        name="motif import",
    ),
    "MotifImport",
)

CODE_REF_FIELDS = {
    "module": opt(Str(), "Python import path of the hook module."),
    "location": opt(Str(), "Go-era spelling of module (accepted as a module path)."),
    "function": req(Str()),
    "alias": opt(Str()),
    "version": opt(Str()),
    "fetch": opt(Bool()),
    "resources": opt(
        ListOf(
            Obj(
                fields={"kind": req(Str()), "apiVersion": opt(Str()), "group": opt(Str())},
                name="managed resource",
            )
        )
    ),
    "args": opt(MapOf(AnyValue())),
}
HOOKS = named(
    Obj(
        fields={**CODE_REF_FIELDS, "runHooksFirst": opt(Bool()), "external": opt(ListOf(EXTERNAL))},
        description="Python hooks run with (or instead of) the declarative templates.",
        aliases={"managedResources": "resources"},
        name="hooks",
    ),
    "Hooks",
)
CONSTRUCTOR = named(
    Obj(
        fields=dict(CODE_REF_FIELDS),
        description="A custom reconciler (reconciler.default: false).",
        aliases={"managedResources": "resources"},
        name="constructor",
    ),
    "Constructor",
)


def _queue(queue: JsonDict, path: YamlPath, ctx: Context) -> None:
    behaviour = queue.get("behaviour")
    if not isinstance(behaviour, dict) or not behaviour:
        return
    depth = queue.get("maxDepth")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth <= 0:
        ctx.error(
            path + ("behaviour",),
            "queue.behaviour needs maxDepth > 0 in the same queue",
            key=True,
            hint="without maxDepth (or with 0) the queue is unlimited and "
            "has no limit to act on; set maxDepth: 500, for example",
        )
    on_limit = behaviour.get("onLimit")
    if isinstance(on_limit, dict) and on_limit.get("drop") is not True:
        ctx.warn(
            path + ("behaviour", "onLimit"),
            "onLimit without drop: true does nothing",
            key=True,
            hint="drop is its only action: add drop: true, or remove onLimit",
        )
    threshold = behaviour.get("onThreshold")
    if isinstance(threshold, dict):
        if threshold.get("drop") is False:
            ctx.warn(
                path + ("behaviour", "onThreshold", "drop"),
                "onThreshold always drops: drop: false is ignored",
                key=True,
                hint="remove drop: false",
            )
        threshold["drop"] = True


QUEUE_BEHAVIOUR = named(
    Obj(
        fields={
            "onLimit": opt(
                Either(
                    (is_str, Shorthand({"drop": {"drop": True}})),
                    (
                        is_map,
                        Obj(
                            fields={
                                "drop": opt(Bool(), "Drop the new item (the only action)."),
                                **GATE_FIELDS,
                            },
                            aliases=dict(GATE_ALIASES),
                            name="onLimit",
                        ),
                    ),
                    description="At maxDepth: {drop: true} "
                    '("drop" for short), optionally only when conditions pass.',
                ),
                "When the queue holds maxDepth items.",
            ),
            "onThreshold": opt(
                Obj(
                    fields={
                        "value": req(Int(minimum=1, maximum=100), "Percent of maxDepth (1-100)."),
                        "drop": opt(Bool(), "Always true: onThreshold drops."),
                        **GATE_FIELDS,
                    },
                    aliases=dict(GATE_ALIASES),
                    name="onThreshold",
                ),
                "When the queue holds value% of maxDepth: drop.",
            ),
        },
        description="What the queue does when it fills up.",
        name="behaviour",
    ),
    "QueueBehaviour",
)
QUEUE = named(
    Obj(
        fields={
            "shared": opt(Bool()),
            "maxDepth": opt(Int(minimum=0), "The limit; 0 or absent: unlimited."),
            "failureThreshold": opt(Int(minimum=1)),
            "retryBackoff": opt(Duration()),
            "behaviour": opt(QUEUE_BEHAVIOUR),
        },
        name="queue",
        finish=_queue,
    ),
    "Queue",
)
WORKERS = Int("Concurrent reconcile workers (1-50).", minimum=1, maximum=50)

RECONCILER_FIELDS = {
    "default": opt(Bool(), "true: the declarative reconciler (default)."),
    "hooks": opt(HOOKS),
    "constructor": opt(CONSTRUCTOR),
    "profile": opt(Str()),
    "workers": opt(WORKERS),
    "resync": opt(Duration()),
    "queue": opt(QUEUE),
    "requeue": opt(
        Obj(fields={"after": opt(Str()), **GATE_FIELDS}, aliases=dict(GATE_ALIASES), name="requeue")
    ),
    "include": opt(Str(), "File merged underneath the inline fields."),
}
RECONCILER = named(Obj(fields=dict(RECONCILER_FIELDS), name="reconciler"), "Reconciler")
RECONCILE = named(
    Obj(
        fields={
            **RECONCILER_FIELDS,
            "imports": opt(
                ListOf(MOTIF_IMPORT),
                "Motifs expanded into this CRD at load time, after the CRD-level imports.",
            ),
            "onCreate": opt(HOOK_TEMPLATES, "Created once, on the first reconcile."),
            "onReconcile": opt(HOOK_TEMPLATES, "Applied every reconcile."),
            "onDelete": opt(HOOK_TEMPLATES, "Run before the finalizer is removed."),
            "remote": opt(
                Obj(
                    fields={"url": req(Str()), "timeout": opt(Duration()), "auth": opt(AUTH)},
                    name="remote",
                )
            ),
        },
        description="How the CR is reconciled (G2).",
        name="reconcile",
    ),
    "Reconcile",
)

AUTOSCALE = named(
    Obj(
        fields={
            "interval": opt(Duration()),
            "cooldown": opt(Duration()),
            "conditions": opt(GATE),
            "do": opt(
                Obj(
                    fields={
                        "workers": opt(WORKERS),
                        "queueDepth": opt(Int(minimum=1)),
                        "resync": opt(Duration()),
                    },
                    name="do",
                )
            ),
        },
        name="autoscale",
    ),
    "Autoscale",
)
ROLLBACK = Obj(
    fields={"trigger": opt(AnyValue()), "onRollback": opt(HOOK_TEMPLATES)}, name="rollback"
)

# -- preReconcile gates and observe ------------------------------------------------------------

SENTINELS = (
    "generationChanged",
    "labelsChanged",
    "annotationsChanged",
    "deletionStarted",
    "finalizersChanged",
    "nameChanged",
    "namespaceChanged",
    "generateNameChanged",
    "uidChanged",
    "resourceVersionChanged",
    "creationTimestampChanged",
    "deletionGracePeriodSecondsChanged",
    "ownerReferenceChanged",
    "managedFieldsChanged",
)
SENTINEL_LIST = ListOf(Str(enum=SENTINELS, templates=False))
GATE_CONDITION_FIELDS = {
    "external": opt(ListOf(EXTERNAL), "HTTP calls made before the conditions (.external.<name>)."),
    "sentinels": opt(
        SENTINEL_LIST,
        "Passes when any of these sentinels is true; each must "
        "be declared in preReconcile.sentinels.",
    ),
    "failPolicy": opt(
        Str(enum=("open", "closed"), templates=False),
        "When the gate cannot be evaluated: open (default) passes, closed holds the item.",
    ),
    **GATE_FIELDS,
}


def _enqueue_gate(gate: JsonDict, path: YamlPath, ctx: Context) -> None:
    if gate.get("eventAware") is True:
        ctx.error(
            path + ("eventAware",),
            "eventAware is only valid on reconcileGate",
            key=True,
            hint="move it to preReconcile.reconcileGate: the enqueue gate "
            "already runs once per event",
        )


ENQUEUE_GATE = named(
    Obj(
        fields={
            **GATE_CONDITION_FIELDS,
            "eventAware": opt(
                Bool(), "Only false is valid here (eventAware is a reconcileGate setting)."
            ),
        },
        description="Decides whether an event enters the work queue.",
        aliases=dict(GATE_ALIASES),
        name="enqueueGate",
        finish=_enqueue_gate,
    ),
    "EnqueueGate",
)
RECONCILE_GATE = named(
    Obj(
        fields={
            **GATE_CONDITION_FIELDS,
            "eventAware": opt(
                Bool(),
                "true: each admitted event stays its own queue item and the gate "
                "sees that event's sentinels (no coalescing).",
            ),
        },
        description="Decides whether a dequeued item reaches the reconciler.",
        aliases=dict(GATE_ALIASES),
        name="reconcileGate",
    ),
    "ReconcileGate",
)
PRE_RECONCILE = named(
    Obj(
        fields={
            "external": opt(ListOf(EXTERNAL)),
            "sentinels": opt(
                SENTINEL_LIST, "Event-time values the informer computes for the gates."
            ),
            "enqueueGate": opt(ENQUEUE_GATE),
            "reconcileGate": opt(RECONCILE_GATE),
            **GATE_FIELDS,
        },
        aliases=dict(GATE_ALIASES),
        name="preReconcile",
    ),
    "PreReconcile",
)

WATCH_EVENTS = ("create", "update", "delete")


def _watch_entry(entry: JsonDict, path: YamlPath, ctx: Context) -> None:
    if not entry.get("on"):
        entry["on"] = list(WATCH_EVENTS)  # none listed: every event, as upstream


def _key_from(key_from: JsonDict, path: YamlPath, ctx: Context) -> None:
    given = [k for k in ("label", "name") if k in key_from]
    if len(given) != 1:
        ctx.error(
            path,
            "keyFrom takes exactly one of label or name",
            expected="{label: <label on the watched object>} or "
            "{name: <primary CR>, namespace: <its namespace>}",
        )
    elif given == ["label"] and "namespace" in key_from:
        ctx.error(
            path + ("namespace",),
            "namespace goes with keyFrom.name, not label",
            key=True,
            hint="the label's value carries the key: namespace/name or name",
        )


WATCH_ENTRY = named(
    Obj(
        fields={
            "apiVersion": req(
                Str(templates=False, nonempty=True),
                "apiVersion of the watched kind (v1, apps/v1 ...).",
            ),
            "kind": req(
                Str(
                    pattern=r"[A-Z][A-Za-z0-9]*",
                    templates=False,
                    pattern_hint="a CamelCase kind such as ConfigMap",
                )
            ),
            "namespace": opt(Str(templates=False), "Only this namespace (default: all)."),
            "name": opt(Str(templates=False), "Only this object."),
            "on": opt(
                ListOf(Str(enum=WATCH_EVENTS, templates=False)),
                "Event types that enqueue (default: create, update, delete).",
            ),
            "keyFrom": opt(
                Obj(
                    fields={
                        "label": opt(Str(templates=False, nonempty=True)),
                        "name": opt(Str(templates=False, nonempty=True)),
                        "namespace": opt(Str(templates=False)),
                    },
                    description=(
                        "Which primary CR an event enqueues (default: the owner, else all)."
                    ),
                    name="keyFrom",
                    finish=_key_from,
                )
            ),
            "enqueueGate": opt(ENQUEUE_GATE),
            "index": opt(
                ListOf(
                    Obj(
                        fields={
                            "name": req(Str(templates=False)),
                            "field": req(Str(templates=False)),
                        },
                        name="index",
                    )
                ),
                "Field indexers registered on this watch's informer.",
            ),
        },
        description="Another kind whose events enqueue the CR.",
        name="watch entry",
        finish=_watch_entry,
    ),
    "WatchEntry",
)
WATCH_INCLUDE = Obj(
    fields={
        "include": req(
            Str(templates=False), "A file whose top-level watch: list replaces this entry."
        )
    },
    name="watch include",
)
WATCH_LIST = ListOf(
    Either(
        (lambda v: isinstance(v, dict) and "include" in v, WATCH_INCLUDE),
        (is_map, WATCH_ENTRY),
        description="A watch entry, or {include: FILE}.",
    )
)

CROSS_PROTOCOLS = ("cr", "info", "metrics", "health", "events")
CROSS_CACHE_FOR = "30s"


def _cross_source(source: JsonDict, path: YamlPath, ctx: Context) -> None:
    if not source.get("host") and not source.get("endpoint"):
        ctx.error(
            path,
            "a cross source needs host or endpoint",
            expected="host: <base URL of the other Orkestra runtime> (with protocol), "
            "or endpoint: <full URL>",
        )
    if source.get("host") and not source.get("endpoint"):
        source.setdefault("protocol", "cr")
    source.setdefault("cacheFor", CROSS_CACHE_FOR)


def _cross_auth(auth: JsonDict, path: YamlPath, ctx: Context) -> None:
    if ("token" in auth) == ("secretRef" in auth):
        ctx.error(
            path,
            "cross auth takes exactly one of token or secretRef",
            expected="token: $ENV_VAR, or secretRef: {name, namespace, key}",
        )


def _cross_entry(entry: JsonDict, path: YamlPath, ctx: Context) -> None:
    if "crd" in entry and "labelSelector" in entry:
        ctx.error(
            path + ("labelSelector",),
            "crd and labelSelector cannot both be set",
            key=True,
            hint="name the target CRD, or find it by its CRD-entry labels",
        )
    elif "crd" not in entry and "labelSelector" not in entry:
        ctx.error(
            path,
            "a cross entry needs crd or labelSelector",
            expected="crd: <the target's spec.crds key>, or labelSelector: {...}",
        )
    if "as" not in entry:
        if isinstance(entry.get("crd"), str):
            entry["as"] = entry["crd"]
        elif "labelSelector" in entry:
            ctx.error(
                path,
                'a cross entry found by labelSelector needs "as"',
                expected="the key under .cross its result is read from",
            )
    entry.setdefault("strategy", "first")
    selector = entry.get("selector")
    selector = selector if isinstance(selector, dict) else {}
    if (
        "crd" in entry
        and "source" not in entry
        and not (selector.get("name") or selector.get("matchLabels"))
    ):
        ctx.warn(
            path,
            "the cross entry has no selector: it never finds a CR",
            hint='add selector: {name: "{{ .metadata.name }}"} (or matchLabels)',
        )


CROSS_AS = Str(pattern=r"[A-Za-z_][A-Za-z0-9_-]*", templates=False, pattern_hint="a key such as db")
CROSS_ENTRY = named(
    Obj(
        fields={
            "crd": opt(
                Str(
                    pattern=DNS_LABEL,
                    templates=False,
                    pattern_hint="the spec.crds key of the target, such as database",
                ),
                "The target CRD (its spec.crds key, here or in the other runtime).",
            ),
            "labelSelector": opt(STRING_MAP, "Find the target CRD by its CRD-entry labelSelector."),
            "selector": opt(
                Obj(
                    fields={
                        "name": opt(Str(), "The CR's name (template)."),
                        "namespace": opt(
                            Str(), "The CR's namespace (template; default: this CR's)."
                        ),
                        "matchLabels": opt(
                            STRING_MAP, "Select by labels instead (templates); wins over name."
                        ),
                    },
                    name="cross selector",
                )
            ),
            "as": opt(CROSS_AS, "Read as .cross.<as> (default: crd)."),
            "strategy": opt(
                Str(enum=("first", "all"), templates=False),
                "Several matches: the first (default), or all as a list.",
            ),
            "source": opt(
                Obj(
                    fields={
                        "host": opt(Str(), "Base URL of the other Orkestra runtime."),
                        "endpoint": opt(Str(), "A full URL (template) used as is instead of host."),
                        "protocol": opt(
                            Str(enum=CROSS_PROTOCOLS, templates=False),
                            "What host serves: cr (default), info, metrics, health, events.",
                        ),
                        "namespace": opt(Str(), "Namespace used in the URL built from host."),
                        "cacheFor": opt(
                            Duration(),
                            f"Reuse a fetched result this long (default {CROSS_CACHE_FOR}).",
                        ),
                        "auth": opt(
                            Obj(
                                fields={
                                    "token": opt(
                                        Str(templates=False),
                                        "Bearer token; $VAR reads the environment.",
                                    ),
                                    "secretRef": opt(
                                        Obj(
                                            fields={
                                                "name": req(Str()),
                                                "namespace": opt(Str()),
                                                "key": req(Str()),
                                            },
                                            name="secretRef",
                                        )
                                    ),
                                },
                                name="cross auth",
                                finish=_cross_auth,
                            )
                        ),
                    },
                    description="Fetch over HTTP when the target is not run by this runtime.",
                    aliases={"type": "protocol"},
                    name="cross source",
                    finish=_cross_source,
                )
            ),
        },
        description="Read another operator's CR (or its health, metrics) as .cross.<as>.",
        name="cross entry",
        finish=_cross_entry,
    ),
    "CrossEntry",
)
OBSERVE = named(
    Obj(
        fields={
            "watch": opt(WATCH_LIST),
            "events": opt(Opaque()),
            "cross": opt(ListOf(CROSS_ENTRY)),
        },
        name="observe",
    ),
    "Observe",
)
RUNTIME = named(
    Obj(
        fields={
            "autoscale": opt(AUTOSCALE),
            "finalizers": opt(STRINGS),
            "removeFinalizers": opt(Bool()),
            "cleanup": opt(Opaque()),
            "rollBackOnError": opt(Bool()),
            "rollback": opt(ROLLBACK),
        },
        name="runtime",
    ),
    "Runtime",
)
EVENT = Obj(
    fields={
        "name": req(Str()),
        "reason": opt(Str()),
        "message": opt(Str()),
        "type": opt(Str(enum=("Normal", "Warning"))),
        **GATE_FIELDS,
    },
    aliases=dict(GATE_ALIASES),
    name="event",
)
EMIT = named(Obj(fields={"status": opt(STATUS), "events": opt(ListOf(EVENT))}, name="emit"), "Emit")

G1_BOX_KEYS = (
    "reconciler",
    "onCreate",
    "onReconcile",
    "onDelete",
    "status",
    "finalizers",
    "rollBackOnError",
    "rollback",
    "autoscale",
    "default",
    "hooks",
)

OPERATOR_BOX = named(
    Obj(
        fields={
            # G2
            "reconcile": opt(RECONCILE),
            "emit": opt(EMIT),
            "runtime": opt(RUNTIME),
            "observe": opt(OBSERVE),
            "preReconcile": opt(PRE_RECONCILE),
            # G1 (converted to G2 on load)
            "reconciler": opt(RECONCILER, "G1: reconciler settings (now reconcile)."),
            "onCreate": opt(HOOK_TEMPLATES, "G1: created once (now reconcile.onCreate)."),
            "onReconcile": opt(HOOK_TEMPLATES, "G1: applied every reconcile."),
            "onDelete": opt(HOOK_TEMPLATES, "G1: run before the finalizer is removed."),
            "status": opt(STATUS, "G1: status (now emit.status)."),
            "finalizers": opt(STRINGS),
            "rollBackOnError": opt(Bool()),
            "rollback": opt(ROLLBACK),
            "autoscale": opt(AUTOSCALE),
            "default": opt(Bool(), "G0/G1: reconciler.default."),
            "hooks": opt(HOOKS, "G0/G1: reconciler.hooks."),
            "watch": opt(WATCH_LIST, "G1: now observe.watch."),
            "cross": opt(ListOf(CROSS_ENTRY), "G1: now observe.cross."),
        },
        description="What the operator does for each CR.",
        name="operatorBox",
    ),
    "OperatorBox",
)

# -- CRD entry ---------------------------------------------------------------------------------

API_TYPES = named(
    Obj(
        fields={
            "group": opt(
                Str(
                    pattern=DNS_SUBDOMAIN,
                    templates=False,
                    pattern_hint="a DNS subdomain such as rkguide.demo (empty for core kinds)",
                )
            ),
            "version": opt(
                Str(
                    pattern=r"v[0-9]+((alpha|beta)[0-9]+)?",
                    templates=False,
                    pattern_hint="a Kubernetes API version such as v1 or v1alpha1",
                )
            ),
            "kind": req(
                Str(
                    pattern=r"[A-Z][A-Za-z0-9]*",
                    templates=False,
                    pattern_hint="a CamelCase kind such as WebApp",
                )
            ),
            "plural": opt(
                Str(
                    pattern=DNS_LABEL,
                    templates=False,
                    pattern_hint="a lowercase plural such as webapps",
                )
            ),
            "location": opt(Str(), "Typed mode: Python import path of the CR model."),
            "object": opt(Str()),
            "objectList": opt(Str()),
            "alias": opt(Str()),
            "apiPath": opt(Str(enum=("/apis", "/api"), templates=False)),
        },
        description="The CR type this operator reconciles.",
        name="apiTypes",
    ),
    "APITypes",
)

DEPENDENCY_CONDITION = Str(enum=("started", "healthy"), templates=False)
DEPENDS_ON = named(
    Either(
        (
            is_map,
            MapOf(
                Either(
                    (is_str, DEPENDENCY_CONDITION),
                    (
                        is_map,
                        Obj(fields={"condition": opt(DEPENDENCY_CONDITION)}, name="dependency"),
                    ),
                ),
                key=name_node("CRD name"),
            ),
        ),
        (is_list, ListOf(name_node("CRD name"))),
        description="CRDs that must start first: {db: healthy}, {db: {condition: healthy}} "
        "or [db].",
    ),
    "DependsOn",
)

DELETION_PROTECTION_FIELDS = {
    "enabled": opt(Bool()),
    "failurePolicy": opt(Str(enum=("Fail", "Ignore"))),
    "cleanupOnShutdown": opt(Bool()),
    "strictMode": opt(Bool()),
}

CONVERSION = named(
    Obj(
        fields={
            "storageVersion": opt(Str()),
            "updateCRD": opt(Bool()),
            "participant": opt(Bool()),
            "paths": opt(
                ListOf(
                    Obj(
                        fields={"from": req(Str()), "to": req(Str()), "spec": opt(AnyValue())},
                        name="conversion path",
                    )
                )
            ),
        },
        name="conversion",
    ),
    "Conversion",
)
WEBHOOKS = named(
    Obj(
        fields={
            "validation": opt(Bool()),
            "mutation": opt(Bool()),
            "operations": opt(ListOf(Str(enum=("CREATE", "UPDATE", "DELETE", "CONNECT")))),
        },
        name="webhooks",
    ),
    "Webhooks",
)
ADMISSION = named(
    Obj(
        fields={
            "validation": opt(VALIDATION, "Its rules go before the CRD-level validation's."),
            "mutation": opt(MUTATION, "Its rules go before the CRD-level mutation's."),
            "webhooks": opt(WEBHOOKS),
            "conversion": opt(CONVERSION),
        },
        description=(
            "Admission of the CR: the newer home of validation, mutation, webhooks and conversion."
        ),
        name="admission",
    ),
    "Admission",
)


def cr_metadata(what: str) -> MapOf:
    return MapOf(
        Scalar(),
        key=Str(
            pattern=METADATA_KEY,
            templates=False,
            pattern_hint=f"a static Kubernetes {what} key: [prefix/]name "
            "such as team or example.io/team",
        ),
    )


CRD_FIELDS: dict[str, F] = {
    "enabled": opt(Bool(), "false skips the CRD (default true)."),
    "description": opt(Str()),
    "mode": opt(Str(enum=("typed", "dynamic"), templates=False)),
    "apiTypes": opt(API_TYPES),
    "crdFile": opt(Str(), "The CRD manifest (path or https URL)."),
    "crFiles": opt(STRINGS),
    "setup": opt(
        Either(
            (is_list, STRINGS),
            (
                is_map,
                Obj(fields={"apply": opt(STRINGS), "wait": opt(ListOf(Opaque()))}, name="setup"),
            ),
        )
    ),
    "namespaced": opt(Bool(), "false for a cluster-scoped CRD (default true)."),
    "namespace": opt(Str(), "Watch only this namespace."),
    "dependsOn": opt(DEPENDS_ON),
    "enrich": opt(STRINGS),
    "enrichAll": opt(Bool()),
    "labelSelector": opt(STRING_MAP),
    "fieldSelector": opt(STRING_MAP),
    "labels": opt(
        cr_metadata("label"),
        "Set on the CR itself on every reconcile; values are templates rendered against the CR.",
    ),
    "annotations": opt(
        cr_metadata("annotation"), "Set on the CR itself on every reconcile; values are templates."
    ),
    "endpoints": opt(
        Obj(
            fields={"enabled": opt(Bool()), "health": opt(Bool()), "info": opt(Bool())},
            name="endpoints",
        )
    ),
    "restrictedNamespaces": opt(STRINGS),
    "allowedNamespaces": opt(STRINGS),
    "conversion": opt(CONVERSION),
    "validation": opt(VALIDATION),
    "mutation": opt(MUTATION),
    "webhooks": opt(WEBHOOKS),
    "admission": opt(ADMISSION),
    "normalize": opt(Obj(fields={"spec": opt(MapOf(Scalar()))}, name="normalize")),
    "deletionProtection": opt(
        Either(
            (is_bool, Bool()),
            (is_map, Obj(fields=dict(DELETION_PROTECTION_FIELDS), name="deletionProtection")),
        )
    ),
    "imports": opt(ListOf(MOTIF_IMPORT)),
    "operatorBox": opt(OPERATOR_BOX),
    "crossAccess": opt(Bool()),
    "ignoreStatusPatch": opt(Bool()),
    "ignoreObservedGeneration": opt(Bool()),
    "removeFinalizers": opt(Bool()),
    "serve": opt(Opaque()),
    "idp": opt(Opaque()),
    "workers": opt(WORKERS, "G0/G1: now operatorBox.reconcile.workers."),
    "resync": opt(Duration(), "G0/G1: now operatorBox.reconcile.resync."),
    "queue": opt(QUEUE, "G0/G1: now operatorBox.reconcile.queue."),
    "reconciler": opt(
        Obj(
            fields={**RECONCILER_FIELDS, "status": opt(STATUS), "onCreate": opt(HOOK_TEMPLATES)},
            name="reconciler",
        ),
        "G0: reconciler block on the CRD entry.",
    ),
    "katalogName": opt(Str(), "Set by composition: the katalog this CRD came from."),
    "katalogVersion": opt(Str()),
    "katalogDescription": opt(Str()),
}
CRD_ENTRY = named(
    Obj(
        fields=dict(CRD_FIELDS),
        description="One operator: a CR type and what to do for it.",
        name="CRD entry",
    ),
    "CRDEntry",
)
LEGACY_CRD_ENTRY = Obj(
    fields={"name": req(name_node("CRD name")), **CRD_FIELDS},
    description="G0 list entry of spec.crds.",
    name="CRD entry",
)
CRDS = Either(
    (is_map, MapOf(CRD_ENTRY, key=name_node("CRD name"))),
    (is_list, ListOf(LEGACY_CRD_ENTRY)),
    description="CRD entries keyed by name (G0: a list with name:).",
)

# -- top level ---------------------------------------------------------------------------------

DEPRECATION = named(
    Obj(
        fields={
            "message": req(Str(nonempty=True)),
            "migratedTo": opt(Str()),
            "timeline": opt(
                Obj(
                    fields={
                        "from": opt(
                            Str(pattern=DATE, templates=False, pattern_hint="a date YYYY-MM-DD")
                        ),
                        "to": opt(
                            Str(pattern=DATE, templates=False, pattern_hint="a date YYYY-MM-DD")
                        ),
                    },
                    name="timeline",
                )
            ),
            "accept": opt(
                Obj(fields={"beforeEol": opt(Bool()), "eol": opt(Bool())}, name="accept")
            ),
        },
        description="End-of-life notice.",
        name="deprecation",
    ),
    "Deprecation",
)

METADATA = named(
    Obj(
        fields={
            "name": req(
                Str(
                    pattern=DNS_LABEL,
                    templates=False,
                    pattern_hint="a lowercase RFC 1123 name such as webapp-operator",
                )
            ),
            "namespace": opt(Str(), 'Logical tenant in the runtime (default "default").'),
            "clusterName": opt(Str()),
            "version": opt(Str(templates=False), "Semantic version; the registry tag."),
            "description": opt(Str()),
            "author": opt(Str()),
            "license": opt(Str()),
            "tags": opt(STRINGS),
            "createdBy": opt(Str(enum=("operator", "orkdoctor"))),
            "projects": opt(Opaque()),
            "deprecation": opt(DEPRECATION),
        },
        name="metadata",
    ),
    "Metadata",
)

LIFECYCLE = named(
    Obj(
        fields={
            "maturity": opt(Str(enum=("alpha", "beta", "stable", "deprecated"), templates=False)),
            "deprecation": opt(DEPRECATION),
            "compatibility": opt(
                Obj(fields={"kubernetes": opt(Str()), "orkestra": opt(Str())}, name="compatibility")
            ),
            "accept": opt(
                Obj(
                    fields={
                        "patterns": opt(
                            ListOf(
                                Obj(
                                    fields={
                                        "name": req(Str()),
                                        "author": opt(Str()),
                                        "version-range": opt(Str()),
                                        "version": opt(
                                            Str(), "A version or range (same as version-range)."
                                        ),
                                    },
                                    name="accepted pattern",
                                )
                            )
                        )
                    },
                    name="accept",
                )
            ),
        },
        description="Maturity, deprecation and compatibility (tooling only).",
        name="lifecycle",
    ),
    "Lifecycle",
)

NOTES = named(
    Obj(
        fields={
            "functions": opt(
                ListOf(
                    Obj(
                        fields={
                            "name": req(
                                Str(
                                    pattern=GO_IDENTIFIER,
                                    templates=False,
                                    pattern_hint="a Go identifier such as fullImage",
                                )
                            ),
                            "description": opt(Str()),
                            "expression": req(Str(), "Template rendered against the CR."),
                        },
                        name="note",
                    )
                )
            )
        },
        description="User-defined template functions.",
        name="notes",
    ),
    "Notes",
)


def _profile_class(fields: dict[str, F]) -> ListOf:
    return ListOf(Obj(fields={"name": req(Str(templates=False)), **fields}, name="profile"))


PROFILES = named(
    Obj(
        fields={
            "include": opt(Str()),
            "resources": opt(
                _profile_class({"requests": opt(STRING_MAP), "limits": opt(STRING_MAP)})
            ),
            "probes": opt(
                _profile_class({k: v for k, v in PROBE.fields.items() if k != "profile"})
            ),
            "rollingUpdate": opt(
                _profile_class(
                    {
                        "maxSurge": opt(Int(strings=True, percent=True)),
                        "maxUnavailable": opt(Int(strings=True, percent=True)),
                    }
                )
            ),
            "reconciler": opt(
                _profile_class(
                    {"workers": opt(WORKERS), "resync": opt(Duration()), "queue": opt(QUEUE)}
                )
            ),
            **{
                cls: opt(
                    ListOf(
                        Obj(
                            fields={"name": req(Str(templates=False))},
                            extra=AnyValue(),
                            name="profile",
                        )
                    )
                )
                for cls in (
                    "networkPolicies",
                    "resourceQuotas",
                    "limitRanges",
                    "hpa",
                    "pdb",
                    "containerSecurity",
                    "podSecurity",
                )
            },
        },
        description="Named presets referenced by profile: fields.",
        name="profiles",
    ),
    "Profiles",
)

SECURITY = named(
    Obj(
        fields={
            "serviceName": opt(Str()),
            "gatewayEndpoint": opt(Str()),
            "deletionProtection": opt(
                Obj(fields=dict(DELETION_PROTECTION_FIELDS), name="deletionProtection")
            ),
            "namespaceProtection": opt(
                Obj(
                    fields={
                        "enabled": opt(Bool()),
                        "restrictedNamespaces": opt(STRINGS),
                        "allowedNamespaces": opt(STRINGS),
                        "failurePolicy": opt(Str(enum=("Fail", "Ignore"))),
                        "cleanupOnShutdown": opt(Bool()),
                    },
                    name="namespaceProtection",
                )
            ),
            "webhooks": opt(
                Obj(
                    fields={
                        "admission": opt(Obj(fields={"enabled": opt(Bool())}, name="admission")),
                        "failurePolicy": opt(Str(enum=("Fail", "Ignore"))),
                        "serviceName": opt(Str()),
                        "cleanupOnShutdown": opt(Bool()),
                    },
                    name="webhooks",
                )
            ),
            "conversion": opt(
                Obj(
                    fields={"enabled": opt(Bool()), "conversionWindow": opt(Int(minimum=1))},
                    name="conversion",
                )
            ),
        },
        description="Admission webhooks, deletion and namespace protection.",
        name="security",
    ),
    "Security",
)

PROVIDERS = ListOf(
    Obj(
        fields={"name": req(Str()), "required": opt(Bool()), "auth": opt(Opaque())}, name="provider"
    )
)
POLICY = Obj(
    fields={
        "lifecycle": opt(
            Obj(
                fields={"minMaturity": opt(Str(enum=("alpha", "beta", "stable")))}, name="lifecycle"
            )
        ),
        "requireSigned": opt(Bool(), "Imports must carry a gate report signed by a trusted key."),
        "trustedKeys": opt(
            ListOf(Str()),
            "Key ids (ork key show) trusted for imports instead of your own trusted keys.",
        ),
        "requireGates": opt(
            ListOf(Str(enum=("simulate", "e2e"))),
            "Gates each import must have passed, per its signed report.",
        ),
        "requireE2ECluster": opt(
            ListOf(Str(enum=("kind", "existing", "embedded"))),
            "Where an import's passing e2e must have run.",
        ),
    },
    name="policy",
)

ENVELOPE = {
    "apiVersion": req(Str(enum=(API_VERSION, LEGACY_API_VERSION), templates=False)),
    "kind": req(Str(templates=False)),
}
COMMON_TOP = {
    "lifecycle": opt(LIFECYCLE),
    "policy": opt(POLICY),
    "notes": opt(NOTES),
    "profiles": opt(PROFILES),
    "security": opt(SECURITY),
    "gateway": opt(Opaque()),
    "publish": opt(Opaque()),
    "notification": opt(Opaque()),
    "providers": opt(PROVIDERS),
}

KATALOG = Obj(
    fields={
        **ENVELOPE,
        "metadata": req(METADATA),
        **COMMON_TOP,
        "spec": req(
            Obj(
                fields={
                    "imports": opt(
                        ListOf(MOTIF_IMPORT), "Katalog-wide imports: only profiles and notes."
                    ),
                    "finalizers": opt(STRINGS),
                    "crds": req(CRDS),
                },
                name="spec",
            )
        ),
        "crossAccess": opt(Bool()),
        "anchors": opt(AnyValue(), "G0: YAML anchor holder."),
    },
    description="An operator: CRDs and what to do for each.",
    name="Katalog",
)

MOTIF_INPUT = Obj(
    fields={
        "name": req(
            Str(
                pattern=r"[A-Za-z_][A-Za-z0-9_-]*",
                templates=False,
                pattern_hint="a name such as image or replicaCount",
            )
        ),
        "description": opt(Str()),
        "required": opt(Bool()),
        "default": opt(Scalar()),
        "type": opt(
            Str(enum=("string", "int", "integer", "number", "bool", "boolean"), templates=False)
        ),
    },
    name="input",
)

MOTIF_RESOURCES = Obj(
    fields={
        "onCreate": opt(HOOK_TEMPLATES, "Merged into the importing CRD's onCreate."),
        **{kind: opt(ListOf(schema)) for kind, schema in RESOURCE_KINDS.items()},
    },
    description="Resources merged into the importing CRD (onReconcile unless under onCreate).",
    aliases=dict(RESOURCE_KEY_ALIASES),
    ignored=IGNORED_RESOURCE_KEYS,
    name="motif resources",
)

MOTIF = Obj(
    fields={
        **ENVELOPE,
        "metadata": req(
            Obj(
                fields={
                    "name": req(
                        Str(
                            pattern=DNS_LABEL,
                            templates=False,
                            pattern_hint="a lowercase RFC 1123 name such as web-service",
                        )
                    ),
                    "version": opt(Str(templates=False)),
                    "description": opt(Str()),
                    "author": opt(Str()),
                    "license": opt(Str()),
                    "tags": opt(STRINGS),
                    "deprecation": opt(DEPRECATION),
                },
                name="metadata",
            )
        ),
        "lifecycle": opt(LIFECYCLE),
        "inputs": opt(ListOf(MOTIF_INPUT)),
        "resources": opt(MOTIF_RESOURCES),
        "status": opt(MOTIF_STATUS),
        "admission": opt(
            Obj(fields={"validation": opt(VALIDATION), "mutation": opt(MUTATION)}, name="admission")
        ),
        "profiles": opt(PROFILES),
        "notes": opt(NOTES),
    },
    description="A reusable block of resources with inputs.",
    name="Motif",
)

REGISTRY_IMPORT = Either(
    (is_str, Str(templates=False)),
    (
        is_map,
        Obj(
            fields={
                "url": req(Str(templates=False)),
                "oci": opt(Bool()),
                "version": opt(Str()),
                "useKomposer": opt(Bool()),
                "auth": opt(AUTH),
                "katalog": opt(
                    MapOf(
                        Obj(
                            fields={"branch": opt(Str()), "version": opt(Str()), "sha": opt(Str())},
                            name="katalog ref",
                        )
                    )
                ),
            },
            name="registry import",
        ),
    ),
    description="An OCI reference, or {url, version, useKomposer, auth}.",
)
FILE_IMPORT = Either(
    (is_str, Str(templates=False)),
    (is_map, Obj(fields={"url": req(Str(templates=False)), "auth": opt(AUTH)}, name="file import")),
    description="A katalog file path or URL, or {url, auth}.",
)
HELM_IMPORT = Obj(
    fields={
        "repo": req(Str()),
        "chart": req(Str()),
        "version": opt(Str()),
        "path": opt(Str()),
        "valueFiles": opt(STRINGS),
        "values": opt(Opaque()),
        "auth": opt(AUTH),
    },
    name="helm import",
)
KOMPOSER_IMPORTS = Obj(
    fields={
        "registry": opt(ListOf(REGISTRY_IMPORT)),
        "files": opt(ListOf(FILE_IMPORT)),
        "helm": opt(ListOf(HELM_IMPORT)),
    },
    description="Where the composed katalogs come from.",
    name="imports",
)

OVERRIDE_ENTRY = Obj(
    fields=dict(CRD_FIELDS),
    description="Per-CRD override: any CRD entry field, deep-merged.",
    name="CRD override",
)
KOMPOSER = Obj(
    fields={
        **ENVELOPE,
        "metadata": req(METADATA),
        **COMMON_TOP,
        "imports": opt(KOMPOSER_IMPORTS),
        "sources": opt(KOMPOSER_IMPORTS, "G0 spelling of imports."),
        "spec": opt(
            Obj(
                fields={
                    "crds": opt(
                        Either(
                            (is_map, MapOf(OVERRIDE_ENTRY, key=name_node("CRD name"))),
                            (
                                is_list,
                                ListOf(
                                    Obj(
                                        fields={"name": req(name_node("CRD name")), **CRD_FIELDS},
                                        name="CRD override",
                                    )
                                ),
                            ),
                        )
                    )
                },
                name="spec",
            )
        ),
    },
    description="A composition of katalogs with per-CRD overrides.",
    name="Komposer",
)

OP_RULE = named(
    Obj(
        fields={
            "cycle": opt(Int(minimum=1)),
            "verb": opt(
                Str(enum=("create", "update", "delete", "patch", "apply", "get"), templates=False)
            ),
            "resource": opt(Str(templates=False), "Lowercase plural (deployments) or status."),
            "name": opt(Str(templates=False)),
            "count": opt(Int(minimum=0)),
            "include": opt(Str(templates=False), "A file whose ops: list replaces this entry."),
        },
        name="op rule",
    ),
    "OpRule",
)


def _expect(with_crds: bool) -> Obj:
    fields = {
        "steady": opt(Bool(), "The reconciler reaches a steady state within the cycles."),
        "steadyAt": opt(Int(minimum=1), "Steady no later than this cycle."),
        "noErrors": opt(Bool(), "No cycle reports an error."),
        "ops": opt(ListOf(OP_RULE)),
        "absent": opt(ListOf(OP_RULE)),
    }
    if with_crds:
        fields["crds"] = opt(MapOf(_expect(False), key=name_node("CRD name")))
    return Obj(
        fields=fields, description="Assertions: the published behavioural contract.", name="expect"
    )


SIMULATE = Obj(
    fields={
        **ENVELOPE,
        "metadata": opt(
            Obj(fields={"name": opt(Str()), "description": opt(Str())}, name="metadata")
        ),
        "imports": opt(STRINGS, "Aggregator form: other simulate files."),
        "spec": opt(
            Obj(
                fields={
                    "katalog": req(Str(templates=False), "Katalog or komposer file."),
                    "cr": opt(Str(templates=False)),
                    "crFiles": opt(STRINGS),
                    "crd": opt(Str(templates=False)),
                    "crdFiles": opt(STRINGS),
                    "cycles": opt(Int(minimum=1, maximum=MAX_CYCLES)),
                    "skipExternal": opt(Bool()),
                    "target": opt(Str()),
                    "expect": opt(_expect(True)),
                    "cross": opt(
                        MapOf(
                            Opaque(
                                "What the source answers: .cross.<as> (found is added "
                                "when missing)."
                            ),
                            key=CROSS_AS,
                        ),
                        "Stubs of the katalog's cross sources, by their as (simulate makes no "
                        "network call).",
                    ),
                },
                name="spec",
            )
        ),
    },
    description="An in-memory reconcile simulation with assertions.",
    name="Simulate",
)

E2E_RESOURCE_CHECK = Obj(
    fields={
        "kind": req(Str()),
        "name": opt(Str()),
        "namespace": opt(Str()),
        "ready": opt(Bool()),
        "count": opt(Int(minimum=0)),
    },
    name="resource check",
)
E2E = Obj(
    fields={
        **ENVELOPE,
        "metadata": opt(
            Obj(fields={"name": opt(Str()), "description": opt(Str())}, name="metadata")
        ),
        "imports": opt(
            ListOf(
                Either(
                    (is_str, Str(templates=False)),
                    (
                        is_map,
                        Obj(
                            fields={
                                "path": req(Str()),
                                "wait": opt(Duration()),
                                "freshCluster": opt(Bool()),
                            },
                            name="e2e import",
                        ),
                    ),
                )
            )
        ),
        "spec": opt(
            Obj(
                fields={
                    "katalog": opt(Str()),
                    "crd": opt(Str()),
                    "cr": opt(Str()),
                    "customOperator": opt(Bool()),
                    "custom": opt(Obj(fields={"target": opt(Str())}, name="custom")),
                    "init": opt(
                        Obj(fields={"pack": opt(Str()), "example": opt(Str())}, name="init")
                    ),
                    "cluster": opt(
                        Obj(
                            fields={
                                "provider": opt(Str(enum=("kind", "existing", "embedded"))),
                                "name": opt(Str()),
                                "reuse": opt(Bool()),
                            },
                            name="cluster",
                        )
                    ),
                    "setup": opt(
                        Either(
                            (is_list, STRINGS),
                            (
                                is_map,
                                Obj(
                                    fields={
                                        "apply": opt(STRINGS),
                                        "helm": opt(ListOf(Opaque())),
                                        "wait": opt(
                                            ListOf(
                                                Obj(
                                                    fields={
                                                        "kind": req(Str()),
                                                        "name": req(Str()),
                                                        "namespace": opt(Str()),
                                                        "ready": opt(Bool()),
                                                        "timeout": opt(Duration()),
                                                    },
                                                    name="wait",
                                                )
                                            )
                                        ),
                                    },
                                    name="setup",
                                ),
                            ),
                        )
                    ),
                    "valuesFiles": opt(STRINGS),
                    "expect": opt(
                        ListOf(
                            Obj(
                                fields={
                                    "name": req(Str()),
                                    "after": opt(
                                        Str(enum=("cr-applied", "cr-deleted"), templates=False)
                                    ),
                                    "timeout": opt(Duration()),
                                    "resources": opt(ListOf(E2E_RESOURCE_CHECK)),
                                    "commands": opt(
                                        ListOf(
                                            Obj(
                                                fields={
                                                    "run": req(Str()),
                                                    "exitCode": opt(Int()),
                                                    "outputContains": opt(Str()),
                                                },
                                                name="command",
                                            )
                                        )
                                    ),
                                    "kubectl": opt(
                                        Obj(
                                            fields={
                                                "get": opt(
                                                    ListOf(
                                                        Obj(
                                                            fields={
                                                                "kind": req(Str()),
                                                                "name": opt(Str()),
                                                                "namespace": opt(Str()),
                                                                "field": req(Str()),
                                                                "equals": opt(Scalar()),
                                                            },
                                                            name="kubectl get",
                                                        )
                                                    )
                                                )
                                            },
                                            name="kubectl",
                                        )
                                    ),
                                },
                                name="expectation",
                            )
                        )
                    ),
                },
                name="spec",
            )
        ),
    },
    description="A test against a real (or embedded) cluster.",
    name="E2E",
)


def kind_json_schema(kind: str) -> JsonDict:
    """The JSON Schema editors can use to validate files of ``kind``."""
    return export_json_schema(KINDS[kind], f"Orkestra {kind}")


KINDS: dict[str, Obj] = {
    "Katalog": KATALOG,
    "Motif": MOTIF,
    "Komposer": KOMPOSER,
    "Simulate": SIMULATE,
    "E2E": E2E,
}

__all__ = ["API_VERSION", "KINDS", "LEGACY_API_VERSION", "RESOURCE_KINDS"]
