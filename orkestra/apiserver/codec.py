"""Request bodies and responses: JSON in and out, Kubernetes ``Status`` for errors.

Bodies are JSON (``kubectl`` and every client library send it), YAML where the API allows
it (server-side apply configurations), and protobuf for the kinds client-go's typed clients
write that way here (Helm's release Secrets, ``kubectl create namespace|configmap|secret|
serviceaccount``, DeleteOptions; :mod:`orkestra.apiserver.protobuf`): another kind in
protobuf, or CBOR, is refused with 415. Responses are JSON, which every client accepts.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import msgspec
import yaml

from orkestra.apiserver import protobuf
from orkestra.cluster.errors import (
    ApiError,
    BadRequestError,
    Status,
    StatusDetails,
    UnsupportedMediaTypeError,
)
from orkestra.httpserver import Request, Response
from orkestra.kubeobjects import Json, JsonDict
from orkestra.model.source import LOADER

PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
JSON = "application/json"


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()


def dumps(data: object) -> bytes:
    """Compact UTF-8 JSON (msgspec: several times faster than the standard library, and
    responses and watch events are most of the server's work)."""
    return _ENCODER.encode(data)


class _Recent:
    """The JSON of the stored objects encoded last, by identity: a write's answer and the
    watch event of the same write are one object, encoded once (a stored object never
    changes; each one is held while cached, so its identity cannot be reused)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[object, bytes]] = OrderedDict()

    def encode(self, obj: Mapping[str, object]) -> bytes:
        hit = self._items.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = _ENCODER.encode(obj)
        self._items[id(obj)] = (obj, data)
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return data


_RECENT = _Recent(64)


def stored_json(obj: Mapping[str, object]) -> bytes:
    """:func:`dumps` of an object the store holds (or answered a write with): never
    mutated, so encoded once for the write's answer and its watch events."""
    return _RECENT.encode(obj)


def loads(raw: bytes) -> Json:
    """Decoded JSON; raises ValueError when it is not JSON."""
    try:
        decoded: Json = _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
    return decoded


def respond(
    data: Mapping[str, object], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(dumps(data), status=status, content_type=JSON, headers=headers)


def respond_stored(obj: Mapping[str, object], status: int = 200) -> Response:
    """:func:`respond` with a stored object (see :func:`stored_json`)."""
    return Response(stored_json(obj), status=status, content_type=JSON)


def status_response(error: ApiError, details: StatusDetails | None = None) -> Response:
    body = error.status()
    if details:
        body["details"] = {**details, **body.get("details", {})}
    return respond(body, error.code)


def warning_header(warnings: list[str]) -> str:
    """A ``Warning`` header (RFC 9111: code 299, no agent, quoted text) for each warning."""
    return ", ".join(
        '299 - "' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in warnings
    )


def success(details: StatusDetails) -> Response:
    status: Status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
    return respond(status)


def media_type(request: Request) -> str:
    return request.headers.get("Content-Type", JSON).split(";")[0].strip().lower()


def patch_type(request: Request) -> str:
    media = media_type(request)
    found = PATCH_TYPES.get(media)
    if found is None:
        raise UnsupportedMediaTypeError(
            f"the body of the request was in an unknown format - accepted media types "
            f"include: {', '.join(PATCH_TYPES)}"
        )
    return found


def body(request: Request, *, yaml_allowed: bool = False) -> Json:
    """The decoded request body."""
    media = media_type(request)
    raw = request.body
    if media == protobuf.MEDIA_TYPE:
        return protobuf_body(raw)
    if "protobuf" in media or "cbor" in media:
        raise UnsupportedMediaTypeError(
            f"the body of the request was in an unknown format - accepted media types "
            f"include: application/json, application/yaml ({media} is not supported by "
            "the embedded API server; use kubectl apply -f or create -f)"
        )
    if not raw:
        raise BadRequestError("the request body is empty")
    if yaml_allowed or "yaml" in media:
        return _yaml(raw)
    try:
        return loads(raw)
    except ValueError as exc:
        raise BadRequestError(f"the request body is not valid JSON: {exc}") from None


def protobuf_body(raw: bytes) -> JsonDict:
    """A protobuf body as the dict its JSON would be: 415 for a kind not decoded, 400 for a
    malformed body."""
    try:
        return protobuf.decode_body(protobuf.MEDIA_TYPE, raw)
    except protobuf.UnsupportedKindError as exc:
        raise UnsupportedMediaTypeError(
            "the body of the request was in an unknown format - accepted media types "
            "include: application/json, application/yaml, application/vnd.kubernetes.protobuf"
            f" ({exc})"
        ) from None
    except protobuf.ProtobufError as exc:
        raise BadRequestError(f"the request body is not valid protobuf: {exc}") from None


def _yaml(raw: bytes) -> Json:
    try:
        return loads(raw)
    except ValueError:
        pass
    try:
        loaded: Json = yaml.load(raw, Loader=LOADER)  # bounded: no alias bombs in a request body
    except yaml.YAMLError as exc:
        raise BadRequestError(f"the request body is not valid YAML: {exc}") from None
    return loaded


def an_object(data: Json, what: str = "object") -> JsonDict:
    if not isinstance(data, dict):
        raise BadRequestError(f"the {what} must be a JSON object")
    return data
