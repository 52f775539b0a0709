# ruff: noqa: N815 - the keys are the documents' own camelCase names
"""The shapes of checked and normalized (G2) pattern documents.

:mod:`orkestra.model.formats` declares what each key accepts; these TypedDicts describe the
same documents for the code that reads them, after the schema check and the normalizer
(``dependsOn`` and label lists are maps by then). Keys are optional unless the schema
requires them; ``tests/model/test_shapes.py`` keeps keys and value types equal to the
schema's at every depth. Values a user writes free-form (a custom resource's ``spec``, hook
``args``, a ``forEach`` item) are :data:`~orkestra.kubeobjects.Json`.
"""

# No ``from __future__ import annotations`` here: a TypedDict compiles every string
# annotation into a ForwardRef when its class is made, which doubles this module's import
# time (measured); every command that loads patterns imports it.

from typing import Literal, Required, TypeAlias, TypedDict

from orkestra.kubeobjects import Json, JsonDict, JsonObject, PolicyRule, RoleRef, Subject

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


class NameRef(TypedDict):
    name: str


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
    imagePullSecrets: list[str | NameRef]
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
    data: Json  # a string map, except on a custom object
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
    hasStatus: bool | None


# resource key (``deployments``, ``custom`` ...) -> its declarations
ResourceTemplates: TypeAlias = dict[str, list[Declaration]]
# a motif's ``resources``: the same, plus ``onCreate`` holding resource templates
MotifResources: TypeAlias = dict[str, list[Declaration] | ResourceTemplates]


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


class MotifStatus(TypedDict, total=False):
    conditions: bool
    fields: list[StatusField]


class StatusBlock(MotifStatus, total=False):
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
    matchLabels: dict[str, Scalar]


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


class KeyFrom(TypedDict, total=False):
    label: str
    name: str
    namespace: str


class WatchIndex(TypedDict):
    name: str
    field: str


class QueueGate(Gate, total=False):
    """``preReconcile.enqueueGate``/``reconcileGate`` (and a watch entry's enqueueGate)."""

    external: list[ExternalCall]
    sentinels: list[str]
    failPolicy: str
    eventAware: bool


class WatchEntry(TypedDict, total=False):
    """An item of ``observe.watch``; ``{include: FILE}`` items are replaced by the file's
    entries when the katalog is composed."""

    apiVersion: str
    kind: str
    namespace: str
    name: str
    on: list[str]
    keyFrom: KeyFrom
    enqueueGate: QueueGate
    index: list[WatchIndex]
    include: str


class ObserveBlock(TypedDict, total=False):
    watch: list[WatchEntry]
    events: Json
    cross: list[CrossEntry]


class PreReconcile(Gate, total=False):
    external: list[ExternalCall]
    sentinels: list[str]
    enqueueGate: QueueGate
    reconcileGate: QueueGate


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
    setup: list[str] | JsonObject
    namespaced: bool
    namespace: str
    dependsOn: dict[str, dict[str, str]]
    enrich: Json
    enrichAll: bool
    labelSelector: dict[str, str]
    fieldSelector: dict[str, Scalar]
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
    deletionProtection: bool | DeletionProtection
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


DeprecationTimeline = TypedDict("DeprecationTimeline", {"from": str, "to": str}, total=False)


class AcceptDeprecated(TypedDict, total=False):
    beforeEol: bool
    eol: bool


class DeprecationNotice(TypedDict, total=False):
    message: Required[str]
    migratedTo: str
    timeline: DeprecationTimeline
    accept: AcceptDeprecated


AcceptedPattern = TypedDict(
    "AcceptedPattern",
    {"name": Required[str], "author": str, "version-range": str, "version": str},
    total=False,
)


class AcceptPatterns(TypedDict, total=False):
    patterns: list[AcceptedPattern]


class Lifecycle(TypedDict, total=False):
    maturity: str
    deprecation: DeprecationNotice
    compatibility: dict[str, str]
    accept: AcceptPatterns


class NoteFunction(TypedDict, total=False):
    name: Required[str]
    description: str
    expression: Required[str]


class Notes(TypedDict, total=False):
    functions: list[NoteFunction]


class Provider(TypedDict, total=False):
    name: Required[str]
    required: bool
    auth: JsonObject


class OperatorBlocks(TypedDict, total=False):
    """The top-level blocks a katalog and a komposer share. ``profiles`` maps a class
    (``resources``, ``probes`` ...) to its named presets; compositions merge into it."""

    lifecycle: Lifecycle
    policy: JsonObject
    notes: Notes
    profiles: JsonDict
    security: JsonObject
    gateway: JsonObject
    publish: JsonObject
    notification: JsonObject
    providers: list[Provider]


class TopLevel(OperatorBlocks, total=False):
    """A katalog's top-level blocks besides the envelope and ``spec``: what a composition
    keeps as ``Composed.top``."""

    crossAccess: bool
    anchors: Json


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
    projects: JsonObject
    deprecation: DeprecationNotice


class KatalogSpec(TypedDict, total=False):
    imports: list[MotifImportSpec]
    finalizers: list[str]
    crds: dict[str, CrdEntry]


class _PatternDocument(TypedDict, total=False):
    """The envelope; each kind adds its ``kind`` literal, which tells the kinds apart."""

    apiVersion: str
    metadata: Metadata


class Katalog(_PatternDocument, TopLevel, total=False):
    kind: Required[Literal["Katalog"]]
    spec: KatalogSpec


class KomposerSpec(TypedDict, total=False):
    crds: dict[str, CrdEntry]


class RegistryImport(TypedDict, total=False):
    url: Required[str]
    oci: bool
    version: str
    useKomposer: bool
    auth: Auth
    katalog: dict[str, dict[str, str]]


class FileImport(TypedDict, total=False):
    url: Required[str]
    auth: Auth


class KomposerImports(TypedDict, total=False):
    """Each import is a reference (a string) or a mapping with its ``url``."""

    registry: list[str | RegistryImport]
    files: list[str | FileImport]
    helm: list[JsonObject]


class Komposer(_PatternDocument, OperatorBlocks, total=False):
    kind: Required[Literal["Komposer"]]
    imports: KomposerImports
    spec: KomposerSpec


class MotifAdmission(TypedDict, total=False):
    validation: Validation
    mutation: Mutation


class MotifInput(TypedDict, total=False):
    name: Required[str]
    description: str
    required: bool
    default: Scalar
    type: str


class Motif(_PatternDocument, total=False):
    kind: Required[Literal["Motif"]]
    lifecycle: Lifecycle
    inputs: list[MotifInput]
    resources: MotifResources
    status: MotifStatus
    admission: MotifAdmission
    profiles: JsonDict
    notes: Notes


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
    kind: Required[Literal["Simulate"]]
    imports: list[str]
    spec: SimulateSpec


class E2EImport(TypedDict, total=False):
    path: Required[str]
    wait: str
    freshCluster: bool


class E2EExpectation(TypedDict, total=False):
    name: Required[str]
    after: str
    timeout: str
    resources: list[JsonObject]
    commands: list[JsonObject]
    kubectl: JsonObject


class E2ESpec(TypedDict, total=False):
    katalog: str
    crd: str
    cr: str
    customOperator: bool
    custom: JsonObject
    init: JsonObject
    cluster: JsonObject
    setup: list[str] | JsonObject
    valuesFiles: list[str]
    expect: list[E2EExpectation]


class E2EFile(_PatternDocument, total=False):
    kind: Required[Literal["E2E"]]
    imports: list[str | E2EImport]
    spec: E2ESpec


# Any checked document; its ``kind`` tells which (and narrows the union).
PatternData: TypeAlias = Katalog | Komposer | Motif | SimulateFile | E2EFile
