"""The OpenAPI documents the embedded API server publishes: ``/openapi/v3`` and ``/openapi/v2``.

This module owns what clients learn about the served API from OpenAPI: the ``/openapi/v3``
index (one entry per served group-version, with a content hash in its URL), each
group-version's OpenAPI 3.0 document, and the Swagger 2.0 document of everything. Schemas
of built-in kinds come from ``orkestra.cluster.kubeschema`` (only the definitions reachable
from a group-version's kinds, plus the meta types its paths use; a minimal open schema when
a definition is missing); custom resources get their CRD's ``openAPIV3Schema`` with
``x-kubernetes-group-version-kind`` and a reference to ObjectMeta. Paths carry the
``x-kubernetes-action`` and ``x-kubernetes-group-version-kind`` extensions, the request
content types a PATCH accepts and the ``fieldValidation`` parameter kubectl looks for before
it lets the server validate (``kubectl apply``) — and ``kubectl explain`` reads the schemas.
Documents are cached by the content of the type list, so calling these per request is cheap.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from orkestra.cluster.resources import BUILTIN_TYPES, ResourceType
from orkestra.kubeobjects import Json, JsonDict, JsonObject

REF_V3 = "#/components/schemas/"
REF_V2 = "#/definitions/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META, LIST_META = META + "ObjectMeta", META + "ListMeta"
STATUS, DELETE_OPTIONS, PATCH = META + "Status", META + "DeleteOptions", META + "Patch"
RESOURCE_LIST = META + "APIResourceList"
FALLBACK_VERSION = "v1.32.0"
_JSON_YAML = ("application/json", "application/yaml")
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
_SCALABLE = {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "ReplicaSet")}
_BUILTIN_GVK = {(t.group, t.version, t.kind) for t in BUILTIN_TYPES}

# ---------------------------------------------------------------------------------------
# Where built-in schemas come from


@dataclass(frozen=True)
class SchemaSource:
    """Vendored Kubernetes definitions: name -> OpenAPI v3 schema, and GVK -> name."""

    definitions: Mapping[str, JsonObject]
    name_of: Callable[[str, str, str], str | None]
    kubernetes_version: str


def _no_name(group: str, version: str, kind: str) -> str | None:
    return None


def builtin_schemas() -> SchemaSource:
    """``orkestra.cluster.kubeschema`` when present; otherwise no definitions (built-in kinds
    then get a minimal open schema)."""
    global _SOURCE
    with _LOCK:
        if _SOURCE is None:
            _SOURCE = _load_source()
        return _SOURCE


def _load_source() -> SchemaSource:
    try:
        from orkestra.cluster import kubeschema  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return SchemaSource({}, _no_name, FALLBACK_VERSION)
    defs: Mapping[str, JsonObject] = kubeschema.definitions()
    name_of: Callable[[str, str, str], str | None] = kubeschema.definition_name
    return SchemaSource(
        defs, name_of, str(getattr(kubeschema, "KUBERNETES_VERSION", FALLBACK_VERSION))
    )


_LOCK = threading.RLock()
_SOURCE: SchemaSource | None = None

# ---------------------------------------------------------------------------------------
# Names and small helpers


def group_version_path(group: str, version: str) -> str:
    """``api/v1`` for the core group, ``apis/<group>/<version>`` otherwise."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _gvk(group: str, version: str, kind: str) -> JsonDict:
    return {"group": group, "version": version, "kind": kind}


def is_builtin(rt: ResourceType) -> bool:
    return (rt.group, rt.version, rt.kind) in _BUILTIN_GVK


def custom_definition_name(group: str, version: str, kind: str) -> str:
    """How the API server names a custom resource's schema: ``com.example.v1.Widget`` for
    group ``example.com``."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _ref(name: str) -> JsonDict:
    return {"$ref": REF_V3 + name}


def _refs(node: Json) -> Iterator[str]:
    """Names of every schema ``node`` refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_V3):
            yield ref[len(REF_V3) :]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _camel(text: str) -> str:
    return "".join(
        part[:1].upper() + part[1:] for part in text.replace("-", ".").split(".") if part
    )


def _op_prefix(group: str, version: str) -> str:
    """``CoreV1``, ``AppsV1``, ``RbacAuthorizationV1``, ``ExampleComV1``."""
    base = group.removesuffix(".k8s.io") if group.endswith(".k8s.io") else group
    return f"{_camel(base) if group else 'Core'}{_camel(version)}"


# ---------------------------------------------------------------------------------------
# Schemas


_MINIMAL_META: dict[str, JsonDict] = {
    OBJECT_META: {
        "description": "Standard object metadata.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    },
    LIST_META: {
        "description": "Standard list metadata.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    },
    STATUS: {
        "description": "The result of an operation that returns no object.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "x-kubernetes-group-version-kind": [_gvk("", "v1", "Status")],
    },
    DELETE_OPTIONS: {
        "description": "Options for a deletion.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    },
    PATCH: {"description": "The body of a patch request.", "type": "object"},
    RESOURCE_LIST: {
        "description": "The resources of a group-version.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    },
}
_API_VERSION_DOC = (
    "The versioned schema of this representation of an object; servers "
    "convert recognised schemas to the latest internal value."
)
_KIND_DOC = (
    "The REST resource this object represents, in CamelCase; servers infer it from "
    "the endpoint the client submits requests to."
)
_METADATA_DOC = "Standard object's metadata."
_LIST_METADATA_DOC = "Standard list metadata."


def _minimal_builtin(rt: ResourceType) -> JsonDict:
    return {
        "description": f"{rt.kind} ({rt.api_version}); its full schema is not available.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": _envelope(OBJECT_META, _METADATA_DOC),
        "x-kubernetes-group-version-kind": [_gvk(rt.group, rt.version, rt.kind)],
    }


def _minimal_list(rt: ResourceType, item: str) -> JsonDict:
    props = _envelope(LIST_META, _LIST_METADATA_DOC)
    props["items"] = {
        "description": f"List of {rt.plural}.",
        "type": "array",
        "items": {"allOf": [_ref(item)], "default": {}},
    }
    return {
        "description": f"A list of {rt.kind} objects.",
        "type": "object",
        "required": ["items"],
        "properties": props,
        "x-kubernetes-group-version-kind": [_gvk(rt.group, rt.version, rt.list_kind)],
    }


def _envelope(meta: str, meta_doc: str) -> JsonDict:
    return {
        "apiVersion": {"description": _API_VERSION_DOC, "type": "string"},
        "kind": {"description": _KIND_DOC, "type": "string"},
        "metadata": {"description": meta_doc, "default": {}, "allOf": [_ref(meta)]},
    }


def custom_resource_schema(rt: ResourceType) -> JsonDict:
    """A custom resource's published schema: its CRD's ``openAPIV3Schema`` with apiVersion,
    kind, metadata (a reference to ObjectMeta) and ``x-kubernetes-group-version-kind``."""
    schema: JsonObject = (
        copy.deepcopy(rt.schema)
        if rt.schema
        else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    )
    props = schema.get("properties")
    declared: JsonObject = props if isinstance(props, dict) else {}
    return {
        **schema,
        "type": "object",
        "properties": {
            **_envelope(OBJECT_META, _METADATA_DOC),
            **{k: v for k, v in declared.items() if k not in ("apiVersion", "kind", "metadata")},
        },
        "x-kubernetes-group-version-kind": [_gvk(rt.group, rt.version, rt.kind)],
    }


@dataclass(frozen=True)
class _Kind:
    """One served resource: its type and the schema names of its kind and list kind."""

    rt: ResourceType
    name: str
    list_name: str
    scale_name: str | None


class _Schemas:
    """Collects the schemas one document needs, following references."""

    def __init__(self, source: SchemaSource) -> None:
        self.source = source
        self.schemas: dict[str, JsonObject] = {}

    def add(self, name: str, schema: JsonObject) -> None:
        if name not in self.schemas:
            self.schemas[name] = schema
            self._follow(schema)

    def add_builtin(self, name: str) -> bool:
        schema = self.source.definitions.get(name) or _MINIMAL_META.get(name)
        if schema is None:
            return False
        self.add(name, schema)
        return True

    def _follow(self, schema: JsonObject) -> None:
        for name in set(_refs(schema)):
            if name not in self.schemas and not self.add_builtin(name):
                self.add(name, {"type": "object", "x-kubernetes-preserve-unknown-fields": True})

    def kind(self, rt: ResourceType) -> _Kind:
        if is_builtin(rt):
            return self._builtin_kind(rt)
        name = custom_definition_name(rt.group, rt.version, rt.kind)
        list_name = custom_definition_name(rt.group, rt.version, rt.list_kind)
        self.add(name, custom_resource_schema(rt))
        self.add(list_name, _minimal_list(rt, name))
        return _Kind(rt, name, list_name, self._scale() if rt.scale else None)

    def _builtin_kind(self, rt: ResourceType) -> _Kind:
        name_of = self.source.name_of
        name = name_of(rt.group, rt.version, rt.kind) or (
            f"io.k8s.api.{rt.group or 'core'}.{rt.version}.{rt.kind}"
        )
        list_name = name_of(rt.group, rt.version, rt.list_kind) or f"{name}List"
        if not self.add_builtin(name):
            self.add(name, _minimal_builtin(rt))
        if not self.add_builtin(list_name):
            self.add(list_name, _minimal_list(rt, name))
        scalable = (rt.group, rt.kind) in _SCALABLE
        return _Kind(rt, name, list_name, self._scale() if scalable else None)

    def _scale(self) -> str:
        name = (
            self.source.name_of("autoscaling", "v1", "Scale") or "io.k8s.api.autoscaling.v1.Scale"
        )
        if not self.add_builtin(name):
            self.add(
                name,
                {
                    "description": "Scale of a resource.",
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "x-kubernetes-group-version-kind": [_gvk("autoscaling", "v1", "Scale")],
                },
            )
        return name


# ---------------------------------------------------------------------------------------
# Paths: one neutral model, rendered as OpenAPI 3 or Swagger 2


# Positional: each _PARAMS row is one short call (name, where, type, description) read as a table.
@dataclass(frozen=True)
class _Param:
    name: str
    where: str
    type: str
    description: str
    required: bool = False


_PARAMS = {
    p.name: p
    for p in (
        _Param("name", "path", "string", "name of the object", True),
        _Param(
            "namespace",
            "path",
            "string",
            "object name and auth scope, such as for teams and projects",
            True,
        ),
        _Param("pretty", "query", "string", "If 'true', then the output is pretty printed."),
        _Param(
            "dryRun",
            "query",
            "string",
            "When present, modifications are not persisted. Valid value: All.",
        ),
        _Param("fieldManager", "query", "string", "A name for the actor making these changes."),
        _Param(
            "fieldValidation",
            "query",
            "string",
            "How the server treats unknown or duplicate "
            "fields in the request body: Ignore, Warn or Strict.",
        ),
        _Param(
            "force",
            "query",
            "boolean",
            "Force Apply requests to take ownership of conflicting fields.",
        ),
        _Param("gracePeriodSeconds", "query", "integer", "Seconds before the object is deleted."),
        _Param("orphanDependents", "query", "boolean", "Deprecated: use propagationPolicy."),
        _Param(
            "propagationPolicy",
            "query",
            "string",
            "Whether and how garbage collection is performed: Orphan, Background or Foreground.",
        ),
        _Param("allowWatchBookmarks", "query", "boolean", "Request watch events of type BOOKMARK."),
        _Param("continue", "query", "string", "The continue token of a previous list call."),
        _Param(
            "fieldSelector", "query", "string", "Restrict the returned objects by their fields."
        ),
        _Param(
            "labelSelector", "query", "string", "Restrict the returned objects by their labels."
        ),
        _Param("limit", "query", "integer", "Maximum number of objects to return."),
        _Param(
            "resourceVersion",
            "query",
            "string",
            "Which resource versions the request may be served from.",
        ),
        _Param(
            "resourceVersionMatch",
            "query",
            "string",
            "How resourceVersion is applied to list calls.",
        ),
        _Param(
            "sendInitialEvents",
            "query",
            "boolean",
            "Begin a watch with synthetic events for the current state.",
        ),
        _Param("timeoutSeconds", "query", "integer", "Timeout for the list or watch call."),
        _Param("watch", "query", "boolean", "Watch for changes and return them as a stream."),
    )
}
_LIST_Q = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
_WRITE_Q = ("dryRun", "fieldManager", "fieldValidation")
_DELETE_Q = ("dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy")


@dataclass(frozen=True, kw_only=True)
class _Op:
    method: str
    op_id: str
    action: str | None
    description: str
    gvk: JsonDict | None
    responses: tuple[tuple[str, str | None], ...]
    query: tuple[str, ...] = ()
    body: str | None = None
    body_types: tuple[str, ...] = ("*/*",)
    tag: str = ""


@dataclass
class _Path:
    url: str
    params: tuple[str, ...]
    ops: list[_Op] = field(default_factory=list)


def _item_ops(kind: _Kind, ident: str, subresource: str, tag: str) -> list[_Op]:
    """get / put / patch (/ delete) on an object or one of its subresources."""
    rt = kind.rt
    schema = kind.scale_name if subresource == "Scale" and kind.scale_name else kind.name
    gvk = (
        _gvk("autoscaling", "v1", "Scale")
        if subresource == "Scale"
        else _gvk(rt.group, rt.version, rt.kind)
    )
    what = (
        f"{subresource.lower()} of the specified {rt.kind}"
        if subresource
        else f"the specified {rt.kind}"
    )
    patch_types = _PATCH_TYPES if is_builtin(rt) else _PATCH_TYPES[:3]
    ops = [
        _Op(
            method="get",
            op_id=f"read{ident}{subresource}",
            action="get",
            description=f"read {what}",
            gvk=gvk,
            responses=(("200", schema),),
            tag=tag,
        ),
        _Op(
            method="put",
            op_id=f"replace{ident}{subresource}",
            action="put",
            description=f"replace {what}",
            gvk=gvk,
            responses=(("200", schema), ("201", schema)),
            query=_WRITE_Q,
            body=schema,
            tag=tag,
        ),
        _Op(
            method="patch",
            op_id=f"patch{ident}{subresource}",
            action="patch",
            description=f"partially update {what}",
            gvk=gvk,
            responses=(("200", schema), ("201", schema)),
            query=(*_WRITE_Q, "force"),
            body=PATCH,
            body_types=patch_types,
            tag=tag,
        ),
    ]
    if not subresource:
        ops.append(
            _Op(
                method="delete",
                op_id=f"delete{ident}",
                action="delete",
                description=f"delete {what}",
                gvk=gvk,
                responses=(("200", STATUS), ("202", STATUS)),
                query=_DELETE_Q,
                body=DELETE_OPTIONS,
                tag=tag,
            )
        )
    return ops


def _resource_paths(kind: _Kind) -> list[_Path]:
    rt = kind.rt
    prefix = "/" + group_version_path(rt.group, rt.version)
    tag = _op_prefix(rt.group, rt.version)
    scope = "Namespaced" if rt.namespaced else ""
    ident = f"{tag}{scope}{rt.kind}"
    gvk = _gvk(rt.group, rt.version, rt.kind)
    base = (
        f"{prefix}/namespaces/{{namespace}}/{rt.plural}"
        if rt.namespaced
        else f"{prefix}/{rt.plural}"
    )
    ns = ("namespace",) if rt.namespaced else ()
    collection = _Path(
        base,
        (*ns, "pretty"),
        [
            _Op(
                method="get",
                op_id=f"list{ident}",
                action="list",
                description=f"list or watch objects of kind {rt.kind}",
                gvk=gvk,
                responses=(("200", kind.list_name),),
                query=_LIST_Q,
                tag=tag,
            ),
            _Op(
                method="post",
                op_id=f"create{ident}",
                action="post",
                description=f"create a {rt.kind}",
                gvk=gvk,
                responses=(("200", kind.name), ("201", kind.name), ("202", kind.name)),
                query=_WRITE_Q,
                body=kind.name,
                tag=tag,
            ),
            _Op(
                method="delete",
                op_id=f"delete{tag}Collection{scope}{rt.kind}",
                action="deletecollection",
                description=f"delete collection of {rt.kind}",
                gvk=gvk,
                responses=(("200", STATUS),),
                query=(*_DELETE_Q, *_LIST_Q),
                body=DELETE_OPTIONS,
                tag=tag,
            ),
        ],
    )
    paths = [
        collection,
        _Path(f"{base}/{{name}}", ("name", *ns, "pretty"), _item_ops(kind, ident, "", tag)),
    ]
    if rt.has_status:
        paths.append(
            _Path(
                f"{base}/{{name}}/status",
                ("name", *ns, "pretty"),
                _item_ops(kind, ident, "Status", tag),
            )
        )
    if kind.scale_name:
        paths.append(
            _Path(
                f"{base}/{{name}}/scale",
                ("name", *ns, "pretty"),
                _item_ops(kind, ident, "Scale", tag),
            )
        )
    if rt.namespaced:
        paths.append(
            _Path(
                f"{prefix}/{rt.plural}",
                ("pretty",),
                [
                    _Op(
                        method="get",
                        op_id=f"list{tag}{rt.kind}ForAllNamespaces",
                        action="list",
                        description=f"list or watch objects of kind {rt.kind}",
                        gvk=gvk,
                        responses=(("200", kind.list_name),),
                        query=_LIST_Q,
                        tag=tag,
                    )
                ],
            )
        )
    return paths


def _resources_path(group: str, version: str) -> _Path:
    tag = _op_prefix(group, version)
    return _Path(
        "/" + group_version_path(group, version) + "/",
        (),
        [
            _Op(
                method="get",
                op_id=f"get{tag}APIResources",
                action=None,
                description="get available resources",
                gvk=None,
                responses=(("200", RESOURCE_LIST),),
                tag=tag,
            )
        ],
    )


def _v3_param(name: str) -> JsonDict:
    p = _PARAMS[name]
    out: JsonDict = {
        "name": p.name,
        "in": p.where,
        "description": p.description,
        "schema": {"type": p.type, "uniqueItems": True},
    }
    if p.required:
        out["required"] = True
    return out


def _v3_op(op: _Op) -> JsonDict:
    out: JsonDict = {"tags": [op.tag], "description": op.description, "operationId": op.op_id}
    if op.query:
        out["parameters"] = [_v3_param(q) for q in op.query]
    if op.body:
        out["requestBody"] = {
            "content": {t: {"schema": _ref(op.body)} for t in op.body_types},
            "required": op.body != DELETE_OPTIONS,
        }
    responses: JsonDict = {
        code: {
            "description": _DESCRIPTION.get(code, "OK"),
            "content": {t: {"schema": _ref(s)} for t in _JSON_YAML},
        }
        for code, s in op.responses
        if s
    }
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.gvk:
        out["x-kubernetes-group-version-kind"] = op.gvk
    return out


_DESCRIPTION = {"200": "OK", "201": "Created", "202": "Accepted"}


def _v3_paths(paths: Iterable[_Path]) -> JsonDict:
    out: JsonDict = {}
    for path in paths:
        item: JsonDict = {op.method: _v3_op(op) for op in path.ops}
        if path.params:
            item["parameters"] = [_v3_param(p) for p in path.params]
        out[path.url] = item
    return out


def _v2_param(name: str) -> JsonDict:
    p = _PARAMS[name]
    out: JsonDict = {
        "uniqueItems": True,
        "type": p.type,
        "description": p.description,
        "name": p.name,
        "in": p.where,
    }
    if p.required:
        out["required"] = True
    return out


def _v2_op(op: _Op) -> JsonDict:
    out: JsonDict = {
        "description": op.description,
        "consumes": list(op.body_types),
        "produces": list(_JSON_YAML),
        "schemes": ["https"],
        "tags": [op.tag],
        "operationId": op.op_id,
    }
    params: list[Json] = []
    if op.body:
        params.append(
            {
                "name": "body",
                "in": "body",
                "required": op.body != DELETE_OPTIONS,
                "schema": {"$ref": REF_V2 + op.body},
            }
        )
    params.extend(_v2_param(q) for q in op.query)
    if params:
        out["parameters"] = params
    responses: JsonDict = {
        code: {"description": _DESCRIPTION.get(code, "OK"), "schema": {"$ref": REF_V2 + s}}
        for code, s in op.responses
        if s
    }
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.gvk:
        out["x-kubernetes-group-version-kind"] = op.gvk
    return out


def _v2_paths(paths: Iterable[_Path]) -> JsonDict:
    out: JsonDict = {}
    for path in paths:
        item: JsonDict = {op.method: _v2_op(op) for op in path.ops}
        if path.params:
            item["parameters"] = [_v2_param(p) for p in path.params]
        out[path.url] = item
    return out


# ---------------------------------------------------------------------------------------
# Swagger 2 schemas from OpenAPI 3 ones

_V3_ONLY = ("nullable", "anyOf", "oneOf", "not")


def to_v2_schema(schema: Json) -> Json:
    """An OpenAPI 3 schema as Swagger 2 accepts it: references to ``#/definitions/``,
    ``allOf: [ref]`` wrappers unwrapped, and v3-only keywords (nullable, anyOf, oneOf, not)
    dropped."""
    if not isinstance(schema, dict):
        return schema
    out: JsonDict = {}
    for key, value in schema.items():
        if key in _V3_ONLY:
            continue
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace(REF_V3, REF_V2, 1)
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: to_v2_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = to_v2_schema(value)
        elif key == "allOf" and isinstance(value, list):
            _unwrap_all_of(out, [to_v2_schema(v) for v in value])
        else:
            out[key] = value
    return out


def _unwrap_all_of(out: JsonDict, parts: list[Json]) -> None:
    if len(parts) == 1 and isinstance(parts[0], dict) and set(parts[0]) == {"$ref"}:
        out["$ref"] = parts[0]["$ref"]
    else:
        out["allOf"] = parts


# ---------------------------------------------------------------------------------------
# Documents and their cache


def _canonical(doc: JsonDict) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _fingerprint(types: Iterable[ResourceType]) -> str:
    rows = sorted(
        [
            t.group,
            t.version,
            t.kind,
            t.plural,
            t.namespaced,
            t.has_status,
            t.singular,
            list(t.short_names),
            t.schema,
            t.scale,
        ]
        for t in types
    )
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


class _Spec:
    """Every document for one set of types; each built on first use."""

    def __init__(self, types: list[ResourceType]) -> None:
        self.types = types
        self.groups: dict[str, list[ResourceType]] = {}
        for rt in sorted(types, key=lambda t: (t.group, t.version, t.plural)):
            self.groups.setdefault(group_version_path(rt.group, rt.version), []).append(rt)
        self.v3: dict[str, tuple[JsonDict, bytes, str]] = {}
        self.v2: tuple[JsonDict, bytes] | None = None
        self.lock = threading.Lock()

    def document(self, gv: str) -> tuple[JsonDict, bytes, str] | None:
        if gv not in self.groups:
            return None
        with self.lock:
            if gv not in self.v3:
                doc = _build_v3(self.groups[gv])
                data = _canonical(doc)
                self.v3[gv] = (doc, data, hashlib.sha512(data).hexdigest().upper())
            return self.v3[gv]

    def index(self) -> JsonDict:
        paths = {}
        for gv in sorted(self.groups):
            built = self.document(gv)
            assert built is not None
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={built[2]}"}
        return {"paths": paths}

    def swagger(self) -> tuple[JsonDict, bytes]:
        with self.lock:
            if self.v2 is None:
                doc = _build_v2(self.types)
                self.v2 = (doc, _canonical(doc))
            return self.v2


def _info(source: SchemaSource) -> JsonDict:
    return {"title": "Kubernetes", "version": source.kubernetes_version}


def _build_v3(types: list[ResourceType]) -> JsonDict:
    source = builtin_schemas()
    schemas = _Schemas(source)
    for name in (STATUS, DELETE_OPTIONS, PATCH, RESOURCE_LIST, OBJECT_META, LIST_META):
        schemas.add_builtin(name)
    kinds = [schemas.kind(rt) for rt in types]
    paths = [_resources_path(types[0].group, types[0].version)]
    for kind in kinds:
        paths.extend(_resource_paths(kind))
    return {
        "openapi": "3.0.0",
        "info": _info(source),
        "paths": _v3_paths(paths),
        "components": {
            "schemas": dict(sorted(schemas.schemas.items())),
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer token authentication",
                    "name": "authorization",
                    "in": "header",
                }
            },
        },
    }


def _build_v2(types: list[ResourceType]) -> JsonDict:
    source = builtin_schemas()
    schemas = _Schemas(source)
    for name in (STATUS, DELETE_OPTIONS, PATCH, RESOURCE_LIST, OBJECT_META, LIST_META):
        schemas.add_builtin(name)
    ordered = sorted(types, key=lambda t: (t.group, t.version, t.plural))
    paths: list[_Path] = []
    seen: set[str] = set()
    for rt in ordered:
        gv = group_version_path(rt.group, rt.version)
        if gv not in seen:
            seen.add(gv)
            paths.append(_resources_path(rt.group, rt.version))
        paths.extend(_resource_paths(schemas.kind(rt)))
    return {
        "swagger": "2.0",
        "info": _info(source),
        "paths": _v2_paths(paths),
        "definitions": {name: to_v2_schema(s) for name, s in sorted(schemas.schemas.items())},
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer token authentication",
                "type": "apiKey",
                "name": "authorization",
                "in": "header",
            }
        },
        "security": [{"BearerToken": []}],
    }


_CACHE: OrderedDict[str, _Spec] = OrderedDict()
_CACHE_SIZE = 8


def _spec(types: Iterable[ResourceType]) -> _Spec:
    listed = list(types)
    key = _fingerprint(listed)
    with _LOCK:
        spec = _CACHE.get(key)
        if spec is None:
            spec = _CACHE[key] = _Spec(listed)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        _CACHE.move_to_end(key)
        return spec


def clear_cache() -> None:
    """Forget every built document (and reload the vendored schemas on next use)."""
    global _SOURCE
    with _LOCK:
        _CACHE.clear()
        _SOURCE = None


def group_versions(types: Iterable[ResourceType]) -> list[str]:
    """The served group-version paths (``api/v1``, ``apis/apps/v1``...), sorted."""
    return sorted(_spec(types).groups)


def v3_index(types: Iterable[ResourceType]) -> JsonDict:
    """The ``/openapi/v3`` discovery document."""
    return _spec(types).index()


def v3_document(group_version: str, types: Iterable[ResourceType]) -> JsonDict | None:
    """The OpenAPI 3.0 document of ``api/v1`` or ``apis/<group>/<version>`` (None when that
    group-version is not served). Shared and cached: do not mutate it."""
    built = _spec(types).document(group_version.strip("/"))
    return built[0] if built else None


def v3_document_json(group_version: str, types: Iterable[ResourceType]) -> tuple[bytes, str] | None:
    """The same document serialized (compact JSON) and its hash, as in the index's URL."""
    built = _spec(types).document(group_version.strip("/"))
    return (built[1], built[2]) if built else None


def v2_document(types: Iterable[ResourceType]) -> JsonDict:
    """The Swagger 2.0 document (``/openapi/v2``) of every served type. Do not mutate it."""
    return _spec(types).swagger()[0]


def v2_document_json(types: Iterable[ResourceType]) -> bytes:
    return _spec(types).swagger()[1]
