"""Admission webhooks around the store's writes, in kube-apiserver's order: mutating webhooks,
then the server's own validation and the ValidatingAdmissionPolicies, then validating
webhooks.

The store is synchronous and does no network I/O; webhooks are HTTP calls the server's event
loop awaits. So a write some webhook's rules match is run against the store in steps, each a
whole store call:

1. a dry run that stops where mutating admission runs (the object defaulted, not yet
   validated), capturing the object and the stored object it replaces, which tell what the
   request is (CREATE or UPDATE, name, namespace);
2. the mutating webhooks that select it, one after the other in order, each seeing the
   patches of those before it (reinvocationPolicy IfNeeded is not honoured: each is called
   once);
3. when validating webhooks may be called, a dry run with the mutated object, in which the
   server validates it and the ValidatingAdmissionPolicies judge it; the object as it would be
   stored is what the validating webhooks, called in parallel, are sent;
4. the write itself with the mutated object (unless the request is a dry run).

The store calls the same mutating hook in steps 3 and 4; it answers the mutated object only
while the stored object is still the version step 1 saw, and otherwise the steps start over
(as kube-apiserver retries a conflicting update, webhooks included). Server-managed metadata
(uid, resourceVersion, timestamps, generation, managedFields), the namespace, on update the
name, and but for the status subresource the status are kept from the server's object
whatever a webhook patched. A DELETE sends the
object it removes as oldObject and then deletes with that object's resourceVersion as a
precondition. Writes no webhook's rules match (and writes of the admission configuration
kinds) go straight to the store. Not sent to webhooks: the ``scale`` subresource and the
deletions the server does by itself (garbage collection, a namespace's contents).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from orkestra.apiserver.webhooks import WebhookCaller
from orkestra.cluster import MemoryCluster, warning
from orkestra.cluster.admission import Mutate
from orkestra.cluster.data import MetaKey, clone
from orkestra.cluster.errors import ApiError, ConflictError
from orkestra.cluster.matching import Request, Scope
from orkestra.cluster.resources import ResourceType
from orkestra.cluster.webhooks import (
    EXEMPT,
    GROUP,
    KINDS,
    MUTATING,
    VALIDATING,
    CallError,
    Verdict,
    Webhook,
    WebhookDeniedError,
    call_failed,
    configured,
    dry_run_refusal,
    may_select,
    patched,
    review,
    verdict,
)
from orkestra.kubeobjects import JsonDict, JsonObject, KubeObject, as_json

log = logging.getLogger("orkestra.apiserver")
Body = TypeVar("Body")  # an object (create, replace) or a patch
StoreWrite = Callable[[Body, Mutate | None, bool], KubeObject]
"""A write to the store: the request's body (the store's to change), the mutating hook, dry
run or not."""
StoreDelete = Callable[[str | None, bool], KubeObject]
"""A delete from the store: the resourceVersion it must still have (None: any), dry run."""
ATTEMPTS = 5
_SERVER_FIELDS: tuple[MetaKey, ...] = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "namespace",
)
_META = "meta.k8s.io/v1"


@dataclass(frozen=True, kw_only=True)
class Write:
    """What a request writes: the type and subresource, dry run, the field manager and the
    operations it may turn out to be (CREATE for a POST, UPDATE for a PUT or PATCH, either
    for server-side apply, DELETE)."""

    rt: ResourceType
    subresource: str
    dry_run: bool
    manager: str
    operations: tuple[str, ...]


class _CapturedError(Exception):
    """What stops step 1's dry run."""


class _ChangedError(Exception):
    """The stored object changed since step 1."""


class _Capture:
    """Step 1's hook: keeps what the store is about to validate, and stops the store."""

    obj: KubeObject | None = None
    old: KubeObject | None = None

    def __call__(self, obj: KubeObject, old: KubeObject | None) -> KubeObject:
        self.obj, self.old = obj, old
        raise _CapturedError


class _Replay:
    """Steps 3 and 4's hook: the mutated object, while the stored one is unchanged."""

    def __init__(self, seen: KubeObject | None, mutated: KubeObject, keep_status: bool) -> None:
        self.version = _version(seen)
        self.mutated = mutated
        self.keep_status = keep_status

    def __call__(self, obj: KubeObject, old: KubeObject | None) -> KubeObject:
        if _version(old) != self.version:
            raise _ChangedError
        result = clone(self.mutated)
        meta = result.get("metadata")
        if not isinstance(meta, dict):
            meta = result["metadata"] = {}
        given = obj.get("metadata") or {}
        names: tuple[MetaKey, ...] = ("name",) if old is not None else ()
        for key in _SERVER_FIELDS + names:
            if key in given:
                meta[key] = given[key]
            else:
                meta.pop(key, None)
        fields = as_json(result)  # what a webhook made of the object: any JSON
        fields["apiVersion"], fields["kind"] = obj.get("apiVersion"), obj.get("kind")
        if self.keep_status:  # only the status subresource writes status
            if "status" in obj:
                result["status"] = obj["status"]
            else:
                result.pop("status", None)
        return result


def _version(obj: KubeObject | None) -> str | None:
    return None if obj is None else str((obj.get("metadata") or {}).get("resourceVersion"))


class WebhookAdmission:
    """Runs a server's writes past the admission webhooks configured in its store."""

    def __init__(self, cluster: MemoryCluster, caller: WebhookCaller) -> None:
        self.cluster = cluster
        self.caller = caller
        self._kinds = [
            cluster.type_for(f"{GROUP}/v1", KINDS[key]) for key in (MUTATING, VALIDATING)
        ]

    def _webhooks(self, write: Write) -> tuple[list[Webhook], list[Webhook]]:
        """The mutating and the validating webhooks whose rules match the write."""
        if write.rt.key in EXEMPT or not any(self.cluster.bucket(rt) for rt in self._kinds):
            return [], []
        probe = Request(
            operation=write.operations[0],
            rt=write.rt,
            namespace="",
            name="",
            subresource=write.subresource,
        )

        def matching(mutating: bool) -> list[Webhook]:
            return [
                hook
                for hook in configured(self.cluster, mutating=mutating)
                if may_select(hook, probe, write.operations)
            ]

        return matching(True), matching(False)

    # -- create, update, patch --------------------------------------------------------
    async def write(self, write: Write, body: Body, call: StoreWrite[Body]) -> KubeObject:
        """A create, replace or patch: ``call`` is the store's write of ``body``."""
        mutating, validating = self._webhooks(write)
        if not mutating and not validating:
            return call(body, None, write.dry_run)
        for _ in range(ATTEMPTS):
            capture = _Capture()
            with contextlib.suppress(_CapturedError):
                call(clone(body), capture, True)
            if capture.obj is None:  # the store did not get as far as admission
                return call(body, None, write.dry_run)
            request = _request(write, capture.obj, capture.old)
            options = _options(write, request.operation)
            mutated = await self._mutate(mutating, request, options)
            replay = _Replay(
                capture.old,
                capture.obj if mutated is None else mutated,
                write.rt.has_status and not write.subresource,
            )
            try:
                if validating:
                    final = call(clone(body), replay, True)
                    await self._validate(validating, replace(request, obj=final), options)
                    if write.dry_run:
                        return final
                return call(clone(body), replay, write.dry_run)
            except _ChangedError:
                continue
        raise ConflictError(
            f"Operation cannot be fulfilled on {write.rt.qualified}: the "
            "object kept changing while admission webhooks were called; "
            "please try again"
        )

    # -- delete -----------------------------------------------------------------------
    async def delete(
        self,
        write: Write,
        namespace: str | None,
        name: str,
        options: JsonObject,
        call: StoreDelete,
    ) -> KubeObject:
        """A delete: ``call`` is the store's delete, given the resourceVersion the object
        must still have."""
        mutating, validating = self._webhooks(write)
        if not mutating and not validating:
            return call(None, write.dry_run)
        options = {"apiVersion": _META, "kind": "DeleteOptions", **options}
        for _ in range(ATTEMPTS):
            old = self.cluster.read(write.rt, namespace, name)
            version = _version(old)
            request = Request(
                operation="DELETE",
                rt=write.rt,
                namespace=str(old["metadata"].get("namespace", "")),
                name=name,
                old=old,
                dry_run=write.dry_run,
            )
            await self._mutate(mutating, request, options)
            try:
                if validating:
                    call(version, True)  # the policies and preconditions judge first
                    await self._validate(validating, request, options)
                return call(version, write.dry_run)
            except ConflictError:
                current = self.cluster.bucket(write.rt).get((request.namespace, name))
                if _version(current) == version:
                    raise  # the request's own precondition
        raise ConflictError(
            f'Operation cannot be fulfilled on {write.rt.qualified} "{name}": '
            "the object kept changing while admission webhooks were called; "
            "please try again"
        )

    # -- the webhooks -----------------------------------------------------------------
    async def _mutate(
        self, hooks: Sequence[Webhook], request: Request, options: JsonObject
    ) -> KubeObject | None:
        """The object after the mutating webhooks that select it, in order."""
        obj = request.obj
        for hook in hooks:
            current = replace(request, obj=obj)
            if not hook.selects(Scope(current, self.cluster)):
                continue
            answer = await self._ask(hook, current, options)
            if answer is not None:
                _heed(hook, answer)
                obj = patched(hook, obj, answer.patch or [])
        return obj

    async def _validate(
        self, hooks: Sequence[Webhook], request: Request, options: JsonObject
    ) -> None:
        """The validating webhooks that select the request, called together; their warnings
        and the first refusal (in their order) as if called one after the other."""
        scope = Scope(request, self.cluster)
        chosen = [hook for hook in hooks if hook.selects(scope)]
        answers = await asyncio.gather(
            *(self._ask(hook, request, options) for hook in chosen), return_exceptions=True
        )
        refusal: ApiError | None = None
        for hook, answer in zip(chosen, answers, strict=True):
            try:
                if isinstance(answer, BaseException):
                    raise answer
                if answer is not None:
                    _heed(hook, answer)
            except ApiError as exc:
                refusal = refusal or exc
        if refusal is not None:
            raise refusal

    async def _ask(self, hook: Webhook, request: Request, options: JsonObject) -> Verdict | None:
        """A webhook's verdict on a request (None when it failed and failurePolicy is
        Ignore)."""
        if request.dry_run:
            refused = dry_run_refusal(hook)
            if refused is not None:
                raise refused
        uid, body = review(hook, request, options)
        try:
            return verdict(hook, uid, await self.caller.post(hook, body))
        except CallError as exc:
            error = call_failed(hook, exc)
            if error is not None:
                log.warning("Failed calling webhook, failing closed %s: %s", hook.name, exc)
                raise error from None
            log.warning("Failed calling webhook, failing open %s: %s", hook.name, exc)
            return None


def _heed(hook: Webhook, answer: Verdict) -> None:
    """A verdict's warnings for the client, and its refusal."""
    for text in answer.warnings:
        warning.add(text)
    if not answer.allowed:
        raise WebhookDeniedError(hook.name, answer.status)


def _request(write: Write, obj: KubeObject, old: KubeObject | None) -> Request:
    meta = obj.get("metadata") or {}
    return Request(
        operation="CREATE" if old is None else "UPDATE",
        rt=write.rt,
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        obj=obj,
        old=old,
        subresource=write.subresource,
        dry_run=write.dry_run,
    )


def _options(write: Write, operation: str) -> JsonDict:
    """The CreateOptions or UpdateOptions a review carries."""
    options: JsonDict = {
        "apiVersion": _META,
        "kind": "CreateOptions" if operation == "CREATE" else "UpdateOptions",
    }
    if write.manager:
        options["fieldManager"] = write.manager
    if write.dry_run:
        options["dryRun"] = ["All"]
    return options
