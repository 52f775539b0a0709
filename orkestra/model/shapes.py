# ruff: noqa: N815 - the keys are the documents' own camelCase names
"""The shapes of checked and normalized (G2) pattern documents.

:mod:`orkestra.model.formats` declares what each key accepts; these TypedDicts describe the
same documents for the code that reads them, after the schema check and the normalizer
(``dependsOn`` and label lists are maps by then). Keys are optional unless the schema
requires them; ``tests/model/test_shapes.py`` keeps the key sets equal to the schema's.
Values a user writes free-form (a custom resource's ``spec``, hook ``args``, a ``forEach``
item) are :data:`~orkestra.kubeobjects.Json`.
"""

from __future__ import annotations

from typing import Required, TypeAlias, TypedDict

from orkestra.kubeobjects import Json, JsonObject, PolicyRule, RoleRef, Subject

# A value the user may write as a literal or as a ``{{ template }}`` string.
Scalar: TypeAlias = str | int | float | bool


# -- conditions ------------------------------------------------------------------------


class TimeWindow(TypedDict, total=False):
    after: str
    before: str


DayOfWeek = TypedDict(
    "DayOfWeek",
    {"weekday": bool, "weekend": bool, "in": list[str], "notIn": list[str]},
    total=False,
)


_ConditionBase = TypedDict(
    "_ConditionBase",
    {
        "field": str,
        "operator": str,
        "value": Scalar,
        "valueType": str,
        "negate": bool,
        "equals": Scalar,
        "notEquals": Scalar,
        "contains": Scalar,
        "notContains": Scalar,
        "prefix": Scalar,
        "notPrefix": Scalar,
        "suffix": Scalar,
        "notSuffix": Scalar,
        "regex": Scalar,
        "exists": Scalar,
        "notExists": Scalar,
        "greaterThan": Scalar,
        "lessThan": Scalar,
        "min": Scalar,
        "greaterThanOrEqual": Scalar,
        "max": Scalar,
        "lessThanOrEqual": Scalar,
        "between": Scalar,
        "notBetween": Scalar,
        "in": Scalar,
        "notIn": Scalar,
        "time": TimeWindow,
        "dayOfWeek": DayOfWeek,
        "cron": str,
        "duration": str,
    },
    total=False,
)


class ConditionSpec(_ConditionBase, total=False):
    """One item of a ``when``/``or`` list: ``field`` + operator, or a time window."""


Gate = TypedDict("Gate", {"when": list[ConditionSpec], "or": list[ConditionSpec]}, total=False)


class Fires(TypedDict, total=False):
    reconcile: bool
    admission: bool


class Auth(TypedDict, total=False):
    type: str
    fromEnv: str
    usernameFromEnv: str
    passwordFromEnv: str


class ExternalCall(Gate, total=False):
    name: Required[str]
    url: Required[str]
    method: str
    headers: dict[str, Scalar]
    body: Json
    expectedStatus: int
    timeout: str
    continueOnError: bool
    fires: Fires
    auth: Auth


class ValidationRule(_ConditionBase, Gate, total=False):
    message: str
    action: str
    fires: Fires


class MutationRule(Gate, total=False):
    field: Required[str]
    default: Scalar
    override: Scalar
    valueType: str
    fires: Fires


# -- resources ------------------------------------------------------------------------


ForEach = TypedDict("ForEach", {"field": Required[str], "as": str}, total=False)


class Declaration(Gate, total=False):
    """One item of a resource list (``deployments``, ``services`` ...): the keys every kind
    shares, then the keys of the kinds that have them (the schema decides which kind
    accepts which). Values are literals or templates, rendered by the engine's builders."""

    name: str
    namespace: str
    labels: dict[str, Scalar]
    annotations: dict[str, Scalar]
    forEach: ForEach
    reconcile: bool
    sleep: str
    version: str
    profile: str
    # workloads
    image: str
    imagePullSecrets: list[str]
    command: list[str]
    args: list[str]
    env: list[JsonObject]
    envFrom: JsonObject
    resources: Json
    securityContext: Json
    podSecurity: Json
    volumes: list[JsonObject]
    volumeMounts: list[JsonObject]
    workingDirectory: str
    serviceAccountName: str
    nodeSelector: dict[str, Scalar]
    replicas: Scalar
    port: Scalar
    protocol: str
    probes: JsonObject
    rollingUpdate: Json
    autoscale: JsonObject
    tag: str
    serviceName: str
    volumeClaimTemplates: list[JsonObject]
    restartPolicy: str
    backoffLimit: Scalar
    schedule: str
    suspend: Scalar
    successfulJobsHistoryLimit: Scalar
    failedJobsHistoryLimit: Scalar
    concurrencyPolicy: str
    startingDeadlineSeconds: Scalar
    # services, ingresses, network policies
    type: str
    headless: bool
    targetPort: Scalar
    nodePort: Scalar
    selector: dict[str, Scalar]
    externalName: str
    host: str
    servicePort: Scalar
    path: str
    pathType: str
    className: str
    tls: Json
    podSelector: dict[str, Scalar]
    policyTypes: list[str]
    ingress: list[JsonObject]
    egress: list[JsonObject]
    # config maps and secrets
    data: dict[str, Scalar]
    fromConfigMap: str
    fromSecret: str
    fromNamespace: str
    toNamespaces: list[str]
    once: bool
    rotateAfter: str
    # storage
    storageClass: str
    storageSize: str
    accessModes: list[str]
    volumeMode: str
    hostPath: str
    reclaimPolicy: str
    # access
    automountServiceAccountToken: Scalar
    rules: list[PolicyRule]
    roleRef: RoleRef
    subjects: list[Subject]
    # scaling and quotas
    scaleTargetRef: JsonObject
    minReplicas: Scalar
    maxReplicas: Scalar
    targetCPUUtilizationPercentage: Scalar
    targetMemoryUtilizationPercentage: Scalar
    behavior: Json
    minAvailable: Scalar
    maxUnavailable: Scalar
    hard: dict[str, Scalar]
    limits: list[JsonObject]
    # custom objects
    apiVersion: str
    kind: str
    metadata: JsonObject
    spec: Json
    status: Json
    hasStatus: bool


# resource key (``deployments``, ``custom`` ...) -> its declarations
ResourceTemplates: TypeAlias = dict[str, list[Declaration]]


# -- the operator box ------------------------------------------------------------------


class CodeRef(TypedDict, total=False):
    module: str
    location: str
    function: Required[str]
    alias: str
    version: str
    fetch: bool
    resources: list[dict[str, str]]
    args: dict[str, Json]


class HooksRef(CodeRef, total=False):
    runHooksFirst: bool
    external: list[ExternalCall]


class QueueSpec(TypedDict, total=False):
    shared: bool
    maxDepth: int
    failureThreshold: int
    retryBackoff: str
    behaviour: JsonObject


class Requeue(Gate, total=False):
    after: str


# ``with``: the motif's input bindings
MotifImportSpec = TypedDict(
    "MotifImportSpec",
    {
        "motif": Required[str],
        "oci": bool,
        "version": str,
        "auth": Auth,
        "with": dict[str, Scalar],
    },
    total=False,
)


class RemoteReconcile(TypedDict, total=False):
    url: Required[str]
    timeout: str
    auth: Auth


class ReconcileBlock(TypedDict, total=False):
    default: bool
    hooks: HooksRef
    constructor: CodeRef
    profile: str
    workers: int
    resync: str
    queue: QueueSpec
    requeue: Requeue
    include: str
    imports: list[MotifImportSpec]
    onCreate: ResourceTemplates
    onReconcile: ResourceTemplates
    onDelete: ResourceTemplates
    remote: RemoteReconcile


class StatusField(Gate, total=False):
    path: Required[str]
    value: Scalar
    type: str
    clearOnFalse: bool


class StatusBlock(TypedDict, total=False):
    conditions: bool
    fields: list[StatusField]
    include: str


class EventSpec(Gate, total=False):
    name: str
    reason: str
    message: str
    type: str


class EmitBlock(TypedDict, total=False):
    status: StatusBlock
    events: list[EventSpec]


class Rollback(TypedDict, total=False):
    trigger: Json
    onRollback: ResourceTemplates


class RuntimeBlock(TypedDict, total=False):
    autoscale: JsonObject
    finalizers: list[str]
    removeFinalizers: bool
    cleanup: Json
    rollBackOnError: bool
    rollback: Rollback


class CrossSelector(TypedDict, total=False):
    name: str
    namespace: str
    matchLabels: dict[str, str]


class CrossSource(TypedDict, total=False):
    host: str
    endpoint: str
    protocol: str
    namespace: str
    cacheFor: str
    auth: JsonObject


CrossEntry = TypedDict(
    "CrossEntry",
    {
        "crd": str,
        "labelSelector": dict[str, str],
        "selector": CrossSelector,
        "as": Required[str],
        "strategy": str,
        "source": CrossSource,
    },
    total=False,
)


class ObserveBlock(TypedDict, total=False):
    watch: JsonObject
    events: Json
    cross: list[CrossEntry]


class PreReconcile(Gate, total=False):
    external: list[ExternalCall]
    sentinels: list[str]
    enqueueGate: JsonObject
    reconcileGate: JsonObject


class OperatorBox(TypedDict, total=False):
    reconcile: ReconcileBlock
    emit: EmitBlock
    runtime: RuntimeBlock
    observe: ObserveBlock
    preReconcile: PreReconcile


# -- the CRD entry ---------------------------------------------------------------------


class ApiTypes(TypedDict, total=False):
    group: str
    version: str
    kind: str
    plural: str
    location: str
    object: str
    objectList: str
    alias: str
    apiPath: str


class Validation(TypedDict, total=False):
    include: str
    external: list[ExternalCall]
    rules: list[ValidationRule]


class Mutation(TypedDict, total=False):
    mutateFirst: bool
    include: str
    external: list[ExternalCall]
    rules: list[MutationRule]


class Webhooks(TypedDict, total=False):
    validation: bool
    mutation: bool
    operations: list[str]


class Admission(TypedDict, total=False):
    validation: Validation
    mutation: Mutation
    webhooks: Webhooks
    conversion: JsonObject


class DeletionProtection(TypedDict, total=False):
    enabled: bool
    failurePolicy: str
    cleanupOnShutdown: bool
    strictMode: bool


class CrdEntry(TypedDict, total=False):
    """One entry of ``spec.crds`` (its name is the key)."""

    enabled: bool
    description: str
    mode: str
    apiTypes: ApiTypes
    crdFile: str
    crFiles: list[str]
    setup: JsonObject
    namespaced: bool
    namespace: str
    dependsOn: dict[str, dict[str, str]]
    enrich: Json
    enrichAll: bool
    labelSelector: dict[str, str]
    fieldSelector: str
    labels: dict[str, str]
    annotations: dict[str, str]
    endpoints: JsonObject
    restrictedNamespaces: list[str]
    allowedNamespaces: list[str]
    conversion: JsonObject
    validation: Validation
    mutation: Mutation
    webhooks: Webhooks
    admission: Admission
    normalize: JsonObject
    deletionProtection: DeletionProtection
    imports: list[MotifImportSpec]
    operatorBox: OperatorBox
    crossAccess: bool
    ignoreStatusPatch: bool
    ignoreObservedGeneration: bool
    removeFinalizers: bool
    serve: Json
    idp: Json
    katalogName: str
    katalogVersion: str
    katalogDescription: str


# -- documents -------------------------------------------------------------------------


class Metadata(TypedDict, total=False):
    name: str
    namespace: str
    clusterName: str
    version: str
    description: str
    author: str
    license: str
    tags: list[str]
    createdBy: str
    projects: list[str]
    deprecation: JsonObject


class KatalogSpec(TypedDict, total=False):
    imports: list[MotifImportSpec]
    finalizers: list[str]
    crds: dict[str, CrdEntry]


class _PatternDocument(TypedDict, total=False):
    apiVersion: str
    kind: Required[str]
    metadata: Metadata


class _Operator(_PatternDocument, total=False):
    lifecycle: JsonObject
    policy: JsonObject
    notes: JsonObject
    profiles: JsonObject
    security: JsonObject
    gateway: JsonObject
    publish: JsonObject
    notification: JsonObject
    providers: JsonObject


class Katalog(_Operator, total=False):
    spec: KatalogSpec
    crossAccess: bool
    anchors: Json


class KomposerSpec(TypedDict, total=False):
    crds: dict[str, CrdEntry]


class KomposerImports(TypedDict, total=False):
    registry: list[JsonObject]
    files: list[JsonObject]
    helm: list[JsonObject]


class Komposer(_Operator, total=False):
    imports: KomposerImports
    spec: KomposerSpec


class MotifAdmission(TypedDict, total=False):
    validation: Validation
    mutation: Mutation


class Motif(_PatternDocument, total=False):
    lifecycle: JsonObject
    inputs: JsonObject
    resources: ResourceTemplates
    status: StatusBlock
    admission: MotifAdmission
    profiles: JsonObject
    notes: JsonObject


class OpRule(TypedDict, total=False):
    """An expected (or, under ``absent``, forbidden) operation of a simulation."""

    cycle: int
    verb: str
    resource: str
    name: str
    count: int
    include: str


class CrdExpectations(TypedDict, total=False):
    steady: bool
    steadyAt: int
    noErrors: bool
    ops: list[OpRule]
    absent: list[OpRule]


class Expectations(CrdExpectations, total=False):
    """A simulation's ``expect``: for the katalog's one CRD, or per CRD under ``crds``."""

    crds: dict[str, CrdExpectations]


class SimulateSpec(TypedDict, total=False):
    katalog: str
    cr: str
    crFiles: list[str]
    crd: str
    crdFiles: list[str]
    cycles: int
    skipExternal: bool
    target: str
    expect: Expectations
    cross: dict[str, JsonObject]


class SimulateFile(_PatternDocument, total=False):
    imports: list[str]
    spec: SimulateSpec


class E2EFile(_PatternDocument, total=False):
    imports: list[str]
    spec: JsonObject


# Any checked document; ``Document.kind`` tells which.
PatternData: TypeAlias = Katalog | Komposer | Motif | SimulateFile | E2EFile
