"""The resource endpoints: get, list, watch, create, replace, patch, delete, deletecollection
and the ``status`` and ``scale`` subresources, for every type the store serves.

Handlers translate HTTP (paths, query parameters, content types, status codes) into store
calls and back; object semantics stay in :mod:`orkestra.cluster`. Writes pass the admission
webhooks on their way to the store (:mod:`orkestra.apiserver.admission`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypedDict, cast

from orkestra.apiserver import codec, podlogs, protobuf, tables
from orkestra.apiserver.admission import WebhookAdmission, Write
from orkestra.apiserver.discovery import scale_paths
from orkestra.apiserver.paths import Target, parse
from orkestra.apiserver.watch import WatchHub
from orkestra.cluster import MemoryCluster, warning
from orkestra.cluster.data import as_object
from orkestra.cluster.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    MethodNotAllowedError,
    NotFoundError,
    StatusDetails,
    UnsupportedMediaTypeError,
)
from orkestra.cluster.kubeschema import SchemaNode, crd_node, kind_node
from orkestra.cluster.patch import json_patch, merge_patch
from orkestra.cluster.resources import ResourceType, ScaleSubresource
from orkestra.cluster.scale import scale_of, scaled
from orkestra.cluster.store import Preconditions
from orkestra.cluster.strict import unknown_fields
from orkestra.httpserver import AnyResponse, Request, Response
from orkestra.kubeobjects import Json, JsonDict, KubeList, KubeObject, ListMeta, as_json

Handler = Callable[[Request, ResourceType, Target], Awaitable[AnyResponse]]


class DeleteOptions(TypedDict, total=False):
    """meta/v1 DeleteOptions: the fields the server reads."""

    gracePeriodSeconds: int
    preconditions: Preconditions
    orphanDependents: bool
    propagationPolicy: str
    dryRun: list[str]


def _delete_fields(options: JsonDict) -> DeleteOptions:
    """The fields of a request's DeleteOptions, as the server reads them (the body as sent
    is what admission webhooks are shown); their types are not checked."""
    return cast(DeleteOptions, options)


def _schema_node(rt: ResourceType) -> SchemaNode | None:
    if rt.schema is not None:
        return crd_node(rt.schema)
    return kind_node(rt.group, rt.version, rt.kind)


def check_fields(request: Request, rt: ResourceType, data: Json) -> None:
    """``fieldValidation``: Strict rejects unknown fields, Warn (the default) answers with
    warnings, Ignore says nothing."""
    mode = request.query.get("fieldValidation", "Warn")
    if mode not in ("Strict", "Warn", "Ignore"):
        raise BadRequestError(
            f'fieldValidation: Unsupported value: "{mode}": supported '
            'values: "Ignore", "Strict", "Warn"'
        )
    if mode == "Ignore" or not isinstance(data, dict):
        return
    node = _schema_node(rt)
    if node is None:
        return
    unknown = [f for f in unknown_fields(data, node) if "$" not in f]
    if unknown and mode == "Strict":
        fields = ", ".join(f'unknown field "{f}"' for f in unknown)
        raise BadRequestError(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a '
            f"{rt.kind}: strict decoding error: {fields}"
        )
    for field in unknown:
        warning.add(f'unknown field "{field}"')


def field_manager(request: Request) -> str:
    """The request's field manager: ``fieldManager``, else the client's name from its
    User-Agent (``kubectl/v1.32.4 (linux/amd64) …`` → ``kubectl``), as the API server does."""
    named = request.query.get("fieldManager", "")
    if named:
        if len(named) > 128:
            raise BadRequestError("fieldManager: Too long: may not be longer than 128")
        return named
    agent = request.headers.get("User-Agent", "")
    return agent.split("/")[0].strip()[:128] or "unknown"


def _dry_run(request: Request, options: DeleteOptions | None = None) -> bool:
    wanted = request.query.getall("dryRun", []) + list((options or {}).get("dryRun") or [])
    return "All" in wanted


class Resources:
    """Handlers for everything under ``/api/v1`` and ``/apis/<group>/<version>``."""

    def __init__(
        self,
        cluster: MemoryCluster,
        hub: WatchHub,
        admission: WebhookAdmission,
        logs: podlogs.LogSource | None = None,
    ) -> None:
        self.cluster = cluster
        self.hub = hub
        self.admission = admission
        self.logs = logs  # the output of locally run Pods (pods/log)
        self._subresources: dict[str, dict[str, Handler]] = {
            "status": {"GET": self.get, "PUT": self.replace, "PATCH": self.patch},
            "scale": {"GET": self.get_scale, "PUT": self.replace_scale, "PATCH": self.patch_scale},
            "finalize": {"PUT": self.replace},
        }
        self._collection: dict[str, Handler] = {
            "GET": self.list_or_watch,
            "POST": self.create,
            "DELETE": self.delete_collection,
        }
        self._item: dict[str, Handler] = {
            "GET": self.get,
            "PUT": self.replace,
            "PATCH": self.patch,
            "DELETE": self.delete,
        }

    async def core(self, request: Request) -> AnyResponse:
        return await self.dispatch(request, "", "v1", request.match_info["rest"])

    async def grouped(self, request: Request) -> AnyResponse:
        info = request.match_info
        return await self.dispatch(request, info["group"], info["version"], info["rest"])

    async def dispatch(self, request: Request, group: str, version: str, rest: str) -> AnyResponse:
        target = parse(group, version, rest)
        details: StatusDetails = {"name": target.name, "group": group, "kind": target.plural}
        with warning.recording() as warnings:
            try:
                rt = self.cluster.resolve(group, version, target.plural)
                if target.namespace is not None and not rt.namespaced:
                    raise NotFoundError("the server could not find the requested resource")
                response = await self._route(request, rt, target)(request, rt, target)
            except ApiError as exc:
                response = codec.status_response(exc, details)
        if warnings:  # only writes warn, and their responses are not sent yet
            response.headers["Warning"] = codec.warning_header(warnings)
        return response

    def _route(self, request: Request, rt: ResourceType, target: Target) -> Handler:
        method = request.method
        if target.subresource == "log" and rt.key == ("", "pods"):
            if method != "GET":
                raise MethodNotAllowedError(
                    f"the server does not allow this method on the requested resource ({method})"
                )
            return self.pod_log
        if target.subresource:
            table = self._subresources.get(target.subresource)
            if (
                table is None
                or (target.subresource == "scale" and scale_paths(rt) is None)
                or (target.subresource == "status" and not rt.has_status)
            ):
                raise NotFoundError("the server could not find the requested resource")
        else:
            table = self._collection if target.collection else self._item
        handler = table.get(method)
        if handler is None:
            raise MethodNotAllowedError(
                f"the server does not allow this method on the requested resource ({method})"
            )
        return handler

    # -- reads ------------------------------------------------------------------------
    def _render(
        self,
        request: Request,
        rt: ResourceType,
        items: list[KubeObject],
        body: KubeObject | KubeList,
    ) -> Response:
        try:
            wanted = tables.table_request(
                request.headers.get("Accept"), request.query.get("includeObject")
            )
        except ValueError as exc:
            raise BadRequestError(str(exc)) from None
        if wanted is None:
            return codec.respond(body)
        return codec.respond(
            tables.to_table(
                rt,
                items,
                now=datetime.now(UTC),
                include_object=wanted.include_object,
                list_metadata=body.get("metadata") if "items" in body else None,
                version=wanted.version,
            )
        )

    async def get(self, request: Request, rt: ResourceType, target: Target) -> AnyResponse:
        obj = self.cluster.read(rt, target.namespace, target.name)
        if target.subresource:
            return codec.respond(obj)
        return self._render(request, rt, [obj], obj)

    async def pod_log(self, request: Request, rt: ResourceType, target: Target) -> AnyResponse:
        return await podlogs.serve(
            request, self.cluster, self.logs, target.namespace or "", target.name
        )

    async def list_or_watch(
        self, request: Request, rt: ResourceType, target: Target
    ) -> AnyResponse:
        if request.query.get("watch") in ("true", "1"):
            return await self.hub.serve(request, rt, target)
        query = request.query
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            raise BadRequestError("limit must be an integer") from None
        page = self.cluster.page(
            rt,
            target.namespace,
            label_selector=query.get("labelSelector") or None,
            field_selector=query.get("fieldSelector") or None,
            limit=max(limit, 0),
            continue_token=query.get("continue", ""),
        )
        meta: ListMeta = {"resourceVersion": str(page.resource_version)}
        if page.continue_token:
            meta["continue"] = page.continue_token
            meta["remainingItemCount"] = page.remaining
        body: KubeList = {
            "kind": rt.list_kind,
            "apiVersion": rt.api_version,
            "metadata": meta,
            "items": page.items,
        }
        return self._render(request, rt, page.items, body)

    # -- writes -----------------------------------------------------------------------
    def _incoming(self, rt: ResourceType, target: Target, data: Json) -> KubeObject:
        obj = as_object(codec.an_object(data))  # checked below to be of the type written
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != rt.api_version:
            raise BadRequestError(
                f"the API version in the data ({api_version}) does not "
                f"match the expected API version ({rt.api_version})"
            )
        if kind and kind != rt.kind:
            raise BadRequestError(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        namespace = (obj.get("metadata") or {}).get("namespace")
        if rt.namespaced and namespace and target.namespace and namespace != target.namespace:
            raise BadRequestError(
                "the namespace of the provided object does not match the "
                "namespace sent on the request"
            )
        return obj

    async def create(self, request: Request, rt: ResourceType, target: Target) -> AnyResponse:
        obj = self._incoming(rt, target, codec.body(request))
        check_fields(request, rt, as_json(obj))
        write = Write(
            rt=rt,
            subresource="",
            dry_run=_dry_run(request),
            manager=field_manager(request),
            operations=("CREATE",),
        )
        made = await self.admission.write(
            write,
            obj,
            lambda body, mutate, dry_run: self.cluster.create_in(
                rt, target.namespace, body, dry_run=dry_run, manager=write.manager, mutate=mutate
            ),
        )
        return codec.respond_stored(made, 201)

    async def replace(self, request: Request, rt: ResourceType, target: Target) -> AnyResponse:
        obj = self._incoming(rt, target, codec.body(request))
        check_fields(request, rt, as_json(obj))
        subresource = "" if target.subresource == "finalize" else target.subresource
        write = Write(
            rt=rt,
            subresource=subresource,
            dry_run=_dry_run(request),
            manager=field_manager(request),
            operations=("UPDATE",),
        )
        updated = await self.admission.write(
            write,
            obj,
            lambda body, mutate, dry_run: self.cluster.replace_in(
                rt,
                target.namespace,
                target.name,
                body,
                subresource=subresource,
                dry_run=dry_run,
                manager=write.manager,
                mutate=mutate,
            ),
        )
        return codec.respond_stored(updated)

    async def patch(self, request: Request, rt: ResourceType, target: Target) -> AnyResponse:
        kind = codec.patch_type(request)
        if kind == "strategic" and rt.schema is not None:
            raise UnsupportedMediaTypeError(
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml"
            )
        data = codec.body(request, yaml_allowed=kind == "apply")
        if kind != "json":
            check_fields(request, rt, data)
        existed = (
            kind != "apply"
            or self.cluster.bucket(rt).get((self.cluster.scope(rt, target.namespace), target.name))
            is not None
        )
        force = request.query.get("force") == "true"
        write = Write(
            rt=rt,
            subresource=target.subresource,
            dry_run=_dry_run(request),
            manager=field_manager(request),
            operations=("CREATE", "UPDATE") if kind == "apply" else ("UPDATE",),
        )
        patched = await self.admission.write(
            write,
            data,
            lambda body, mutate, dry_run: self.cluster.patch_in(
                rt,
                target.namespace,
                target.name,
                body,
                kind,
                subresource=target.subresource,
                manager=write.manager,
                force=force,
                dry_run=dry_run,
                mutate=mutate,
            ),
        )
        return codec.respond_stored(patched, 200 if existed else 201)

    async def delete(self, request: Request, rt: ResourceType, target: Target) -> AnyResponse:
        options = _delete_options(request)
        obj = await self._delete(request, rt, target.namespace, target.name, options)
        meta = obj["metadata"]
        still_there = (
            self.cluster.bucket(rt).get((str(meta.get("namespace", "")), str(meta["name"])))
            is not None
        )
        if still_there or rt.schema is not None:
            return codec.respond(obj)
        return codec.success(
            {"name": meta["name"], "group": rt.group, "kind": rt.plural, "uid": meta.get("uid", "")}
        )

    async def delete_collection(
        self, request: Request, rt: ResourceType, target: Target
    ) -> AnyResponse:
        options = _delete_options(request)
        query = request.query
        chosen = self.cluster.select(
            rt,
            target.namespace,
            label_selector=query.get("labelSelector") or None,
            field_selector=query.get("fieldSelector") or None,
        )
        deleted: list[KubeObject] = []
        for obj in chosen:
            meta = obj["metadata"]
            try:
                deleted.append(
                    await self._delete(
                        request, rt, meta.get("namespace"), meta["name"], options, collection=True
                    )
                )
            except NotFoundError:
                continue
        return codec.respond(
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.cluster.resource_version)},
                "items": deleted,
            }
        )

    async def _delete(
        self,
        request: Request,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        options: JsonDict,
        *,
        collection: bool = False,
    ) -> KubeObject:
        """One object's delete, past the admission webhooks (a collection's items are
        deleted without the request's preconditions)."""
        fields = _delete_fields(options)
        propagation = _propagation(request, fields)
        given = None if collection else fields.get("preconditions")
        write = Write(
            rt=rt,
            subresource="",
            dry_run=_dry_run(request, fields),
            manager="",
            operations=("DELETE",),
        )
        review_options = {k: v for k, v in options.items() if k not in ("apiVersion", "kind")}
        if propagation:
            review_options["propagationPolicy"] = propagation

        def call(version: str | None, dry_run: bool) -> KubeObject:
            preconditions = given
            if version is not None and not (given or {}).get("resourceVersion"):
                preconditions = {**(given or {}), "resourceVersion": version}
            return self.cluster.delete_in(
                rt,
                namespace,
                name,
                propagation=propagation,
                preconditions=preconditions,
                dry_run=dry_run,
            )

        return await self.admission.delete(write, namespace, name, review_options, call)

    # -- scale ------------------------------------------------------------------------
    async def get_scale(self, request: Request, rt: ResourceType, target: Target) -> AnyResponse:
        obj = self.cluster.read(rt, target.namespace, target.name)
        return codec.respond(scale_of(obj, _scale_paths(rt)))

    async def replace_scale(
        self, request: Request, rt: ResourceType, target: Target
    ) -> AnyResponse:
        scale = codec.an_object(codec.body(request))
        return self._scale_to(request, rt, target, scale)

    async def patch_scale(self, request: Request, rt: ResourceType, target: Target) -> AnyResponse:
        kind = codec.patch_type(request)
        if kind not in ("merge", "json", "strategic"):
            raise UnsupportedMediaTypeError(f"{kind} patches of scale are not supported")
        current = scale_of(self.cluster.read(rt, target.namespace, target.name), _scale_paths(rt))
        patch = codec.body(request)
        fields = as_json(current)
        wanted = json_patch(fields, patch) if kind == "json" else merge_patch(fields, patch)
        return self._scale_to(request, rt, target, codec.an_object(wanted))

    def _scale_to(
        self, request: Request, rt: ResourceType, target: Target, requested: JsonDict
    ) -> Response:
        scale = as_object(requested)  # a Scale: scaled() reads only its spec.replicas
        paths = _scale_paths(rt)
        obj = self.cluster.read(rt, target.namespace, target.name)
        wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != obj["metadata"]["resourceVersion"]:
            raise ConflictError(
                f"Operation cannot be fulfilled on {rt.qualified} "
                f'"{target.name}": the object has been modified; please '
                "apply your changes to the latest version and try again"
            )
        updated = self.cluster.replace_in(
            rt,
            target.namespace,
            target.name,
            scaled(obj, scale, paths),
            dry_run=_dry_run(request),
            manager=field_manager(request),
        )
        return codec.respond(scale_of(updated, paths))


def _scale_paths(rt: ResourceType) -> ScaleSubresource:
    """The scale subresource of a type whose scale route was found (the router answers
    404 for the others)."""
    paths = scale_paths(rt)
    if paths is None:
        raise NotFoundError(f"{rt.qualified} has no scale subresource")
    return paths


def _delete_options(request: Request) -> JsonDict:
    raw = request.body
    if not raw.strip():
        return {}
    if codec.media_type(request) == protobuf.MEDIA_TYPE:  # client-go's typed clients
        return codec.protobuf_body(raw)
    try:
        data = codec.loads(raw)
    except ValueError as exc:
        raise BadRequestError(f"invalid DeleteOptions: {exc}") from None
    return codec.an_object(data, "DeleteOptions")


def _propagation(request: Request, options: DeleteOptions) -> str | None:
    policy = request.query.get("propagationPolicy") or options.get("propagationPolicy")
    if options.get("orphanDependents") is True or request.query.get("orphanDependents") == "true":
        policy = policy or "Orphan"
    if policy not in (None, "Background", "Foreground", "Orphan"):
        raise BadRequestError(
            f'propagationPolicy: Unsupported value: "{policy}": supported '
            'values: "Foreground", "Background", "Orphan"'
        )
    return policy
