"""AdmissionReview v1 in and out: the request the API server sends, the response it reads.

:func:`parse` turns a request body into a :class:`Request` or raises :class:`ReviewError`
(the server answers 400 and keeps serving): anything but a JSON ``AdmissionReview`` of
``admission.k8s.io/v1`` with a ``request`` carrying a ``uid``, an ``operation`` and a
``resource`` is refused. :func:`respond` builds the answer: the ``uid`` echoed, ``allowed``,
a ``status`` with code 403 and the message when denied, ``warnings``, and a base64
``JSONPatch`` when a mutation changed the object.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

from orkestra.errors import OrkError
from orkestra.gateway.patch import PatchOperation
from orkestra.kubeobjects import JsonDict, JsonObject

API_VERSION = "admission.k8s.io/v1"
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")
DENIED_CODE = 403


class DeniedStatus(TypedDict):
    code: int
    message: str


class AdmissionResponse(TypedDict):
    """admission.k8s.io/v1 AdmissionResponse: the part of the answer the API server reads."""

    uid: str
    allowed: bool
    status: NotRequired[DeniedStatus]
    warnings: NotRequired[list[str]]
    patchType: NotRequired[str]
    patch: NotRequired[str]  # base64 of the JSONPatch


class ReviewAnswer(TypedDict):
    """The AdmissionReview the gateway answers with."""

    apiVersion: str
    kind: str
    response: AdmissionResponse


class ReviewError(OrkError):
    """The body is not an AdmissionReview this server can answer."""


@dataclass(frozen=True, kw_only=True)
class Request:
    """The parts of ``AdmissionReview.request`` the gateway decides on."""

    uid: str
    operation: str
    group: str
    version: str
    resource: str
    kind: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    # As sent: a mutating webhook runs before the API server checks the schema.
    object: JsonDict | None = None
    old_object: JsonDict | None = None
    dry_run: bool = False

    @property
    def subject(self) -> JsonDict | None:
        """The object the request is about: the new one, or for a DELETE the old one."""
        return self.object if self.object is not None else self.old_object


@dataclass
class Decision:
    """What the gateway answers to one request."""

    allowed: bool = True
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    patch: list[PatchOperation] = field(default_factory=list)


def _text(node: JsonObject, key: str, *, required: bool = False) -> str:
    value = node.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ReviewError(f"request.{key} must be a {'non-empty ' if required else ''}string")
    return value


def _object(node: JsonObject, key: str) -> JsonDict | None:
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ReviewError(f"request.{key} must be an object")
    return value


def parse(body: bytes) -> Request:
    """The request of an AdmissionReview body; :class:`ReviewError` for anything else."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ReviewError(f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ReviewError("the body is not a JSON object")
    if document.get("kind") != "AdmissionReview" or document.get("apiVersion") != API_VERSION:
        raise ReviewError(
            f"expected an AdmissionReview of {API_VERSION}, got kind "
            f"{document.get('kind')!r} of {document.get('apiVersion')!r}"
        )
    request = document.get("request")
    if not isinstance(request, dict):
        raise ReviewError("the AdmissionReview has no request")
    operation = _text(request, "operation", required=True)
    if operation not in OPERATIONS:
        raise ReviewError(f"unknown operation {operation!r}")
    resource = request.get("resource")
    if not isinstance(resource, dict):
        raise ReviewError("request.resource must be an object")
    kind = request.get("kind")
    return Request(
        uid=_text(request, "uid", required=True),
        operation=operation,
        group=_text(resource, "group"),
        version=_text(resource, "version"),
        resource=_text(resource, "resource", required=True),
        kind=_text(kind, "kind") if isinstance(kind, dict) else "",
        subresource=_text(request, "subResource"),
        name=_text(request, "name"),
        namespace=_text(request, "namespace"),
        object=_object(request, "object"),
        old_object=_object(request, "oldObject"),
        dry_run=request.get("dryRun") is True,
    )


def respond(request: Request, decision: Decision) -> ReviewAnswer:
    """The AdmissionReview answering ``request``."""
    response: AdmissionResponse = {"uid": request.uid, "allowed": decision.allowed}
    if not decision.allowed:
        response["status"] = {"code": DENIED_CODE, "message": decision.message}
    if decision.warnings:
        response["warnings"] = list(decision.warnings)
    if decision.allowed and decision.patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(decision.patch).encode()).decode()
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}
