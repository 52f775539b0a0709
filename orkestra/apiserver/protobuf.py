"""Kubernetes protobuf request bodies, decoded into the dicts the JSON path produces.

client-go's typed clients send ``application/vnd.kubernetes.protobuf`` for the built-in
types: Helm 4 writes its release records (Secrets) and deletes them that way, and ``kubectl
create namespace|configmap|secret|serviceaccount|deployment...`` too. A body is the 4-byte
magic ``k8s\\x00`` and a ``runtime.Unknown`` message (``typeMeta{apiVersion=1, kind=2}=1,
raw=2, contentEncoding=3, contentType=4``) whose ``raw`` is the object's own message,
without its type. This module unwraps the envelope and decodes the object's message through
a table of its fields into the same plain dict its JSON would decode to: ``apiVersion`` and
``kind`` from the envelope, the fields under their JSON names, ``bytes`` (Secret ``data``,
ConfigMap ``binaryData``) as base64 strings, ``metav1.Time`` (``{seconds=1, nanos=2}``) as
RFC 3339 ``...Z`` strings to the second (``MicroTime`` to the microsecond), the zero time as
``null``, ``FieldsV1`` as the JSON object it carries. gogo-protobuf writes every non-pointer
scalar even when it is empty, where JSON's ``omitempty`` leaves it out: the tables say which
fields are ``omitempty`` (dropped when empty) and which are pointers or always written in
JSON (kept as they come, so ``gracePeriodSeconds: 0`` and ``immutable: false`` survive).

Decoded: core/v1 Secret, ConfigMap, Namespace, ServiceAccount and Event (with ObjectMeta,
OwnerReference, ManagedFieldsEntry, ObjectReference and what else they contain), and
meta/v1 DeleteOptions (under whichever group version the client names it; its newest field,
``ignoreStoreReadErrorWithClusterBreakingPotential``, is skipped like any unknown one). Field
numbers are those of Kubernetes' ``generated.proto`` files (k8s.io/api/core/v1,
k8s.io/apimachinery/pkg/apis/meta/v1, k8s.io/apimachinery/pkg/runtime). Unknown fields are
skipped, as protobuf requires; an envelope naming another kind raises
:class:`UnsupportedKindError` (the REST layer's 415, listing the kinds decoded here); a body
that is not well-formed protobuf raises :class:`ProtobufError` (400), never anything else.

Why hand-written: the wire format needed here is a handful of rules (tags, varints,
length-delimited fields, two fixed widths) and fifty lines, while the PyPI ``protobuf``
package would add a compiled dependency and still need every descriptor built by hand from
the same ``.proto`` files (Kubernetes publishes no Python bindings), plus the same
JSON-shaping (omitempty, base64, times) on top; nothing else in the project uses protobuf.
Responses stay JSON: client-go decodes a response by its Content-Type, and sends JSON in its
Accept list (``application/vnd.kubernetes.protobuf,application/json``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orkestra.errors import OrkError
from orkestra.kubeobjects import Json, JsonDict

WireValue = int | bytes
Scalar = Callable[[WireValue], Json]

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# wire types (3 and 4, groups, are never used by Kubernetes: a body with them is refused)
VARINT, I64, LEN, I32 = 0, 1, 2, 5


class ProtobufError(OrkError):
    """The body is not a well-formed Kubernetes protobuf message (a 400)."""


class UnsupportedKindError(OrkError):
    """A well-formed envelope for a kind (or encoding) this module does not decode (a 415;
    not a :class:`ProtobufError`, so the two are told apart in any order)."""

    def __init__(self, message: str) -> None:
        super().__init__(
            f"{message}; the embedded API server decodes protobuf bodies of "
            f"{supported_kinds()} only: send other kinds as JSON "
            "(kubectl apply -f, create -f)"
        )


# -- the wire format ------------------------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift >= 64:
            raise ProtobufError("varint longer than 10 bytes")


def _take(buf: bytes, pos: int, size: int) -> tuple[bytes, int]:
    end = pos + size
    if end > len(buf):
        raise ProtobufError(
            f"truncated field: {size} bytes wanted at offset {pos}, {len(buf) - pos} left"
        )
    return buf[pos:end], end


def fields(buf: bytes) -> Iterator[tuple[int, int, WireValue]]:
    """``(field number, wire type, value)`` of each field of a message: varints and fixed
    widths as unsigned ints, length-delimited fields as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        value: WireValue
        if wire == VARINT:
            value, pos = _varint(buf, pos)
        elif wire == LEN:
            size, pos = _varint(buf, pos)
            value, pos = _take(buf, pos, size)
        elif wire in (I64, I32):
            raw, pos = _take(buf, pos, 8 if wire == I64 else 4)
            value = int.from_bytes(raw, "little")
        else:
            raise ProtobufError(f"field {number}: unsupported wire type {wire}")
        yield number, wire, value


# -- scalar conversions ---------------------------------------------------------------------


def _bytes_of(value: WireValue) -> bytes:
    if not isinstance(value, bytes):
        raise ProtobufError("a length-delimited field was expected")
    return value


def _int_of(value: WireValue) -> int:
    if not isinstance(value, int):
        raise ProtobufError("a varint field was expected")
    return value


def string(value: WireValue) -> str:
    try:
        return _bytes_of(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtobufError(f"a string is not UTF-8: {exc}") from None


def base64_bytes(value: WireValue) -> str:
    """``bytes`` as JSON has them: base64."""
    return base64.b64encode(_bytes_of(value)).decode("ascii")


def boolean(value: WireValue) -> bool:
    return _int_of(value) != 0


def int64(value: WireValue) -> int:
    number = _int_of(value) & 0xFFFFFFFFFFFFFFFF
    return number - (1 << 64) if number >= 1 << 63 else number


def int32(value: WireValue) -> int:
    number = _int_of(value) & 0xFFFFFFFF
    return number - (1 << 32) if number >= 1 << 31 else number


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO_TIME_SECONDS = -62135596800  # Go's zero time.Time, 0001-01-01T00:00:00Z


def _instant(value: WireValue) -> tuple[int, int] | None:
    """``{seconds=1, nanos=2}`` of a ``metav1.Time``/``MicroTime`` (None: the zero time,
    which gogo writes as an empty message and JSON as null)."""
    buf = _bytes_of(value)
    seconds = nanos = 0
    for number, _, field in fields(buf):
        if number == 1:
            seconds = int64(field)
        elif number == 2:
            nanos = int32(field)
    if not buf or (seconds == _ZERO_TIME_SECONDS and nanos == 0):
        return None
    if not 0 <= nanos < 1_000_000_000:
        raise ProtobufError(f"nanos out of range: {nanos}")
    return seconds, nanos


def _moment(seconds: int) -> datetime:
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise ProtobufError(f"a time out of range: {seconds} seconds") from None


def time(value: WireValue) -> str | None:
    """``metav1.Time``: RFC 3339 in UTC, to the second, as its JSON is."""
    instant = _instant(value)
    if instant is None:
        return None
    return _moment(instant[0]).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(value: WireValue) -> str | None:
    """``metav1.MicroTime``: RFC 3339 in UTC with six fractional digits."""
    instant = _instant(value)
    if instant is None:
        return None
    seconds, nanos = instant
    return _moment(seconds).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"


def fields_v1(value: WireValue) -> Json:
    """``FieldsV1{Raw=1}``: the JSON object its raw bytes hold."""
    raw = b""
    for number, _, field in fields(_bytes_of(value)):
        if number == 1:
            raw = _bytes_of(field)
    try:
        held: Json = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise ProtobufError(f"FieldsV1 does not hold JSON: {exc}") from None
    return held


# -- messages as field tables ---------------------------------------------------------------


@dataclass(frozen=True)
class MapOf:
    """``map<string, V>``: repeated entries ``{key=1, value=2}``."""

    value: Scalar


Message = Mapping[int, "Field"]
Kind = Scalar | MapOf | Message


@dataclass(frozen=True)
class Field:
    """One field of a message: its JSON name, how its value decodes, whether it repeats,
    and whether JSON's ``omitempty`` drops it when empty (False for pointers, whose
    presence is what counts, and for fields JSON always writes)."""

    name: str
    kind: Kind
    repeated: bool = False
    omit_empty: bool = True


def decode_message(table: Message, buf: bytes) -> JsonDict:
    """The dict of a message, by its field table (unknown fields skipped)."""
    out: JsonDict = {}
    for number, _, value in fields(buf):
        field = table.get(number)
        if field is None:
            continue
        try:
            _store(out, field, value)
        except ProtobufError as exc:
            raise ProtobufError(f"{field.name}: {exc}") from None
    return out


def _store(out: JsonDict, field: Field, value: WireValue) -> None:
    kind = field.kind
    if isinstance(kind, MapOf):
        key, item = _map_entry(kind, value)
        entries = out.get(field.name)
        if not isinstance(entries, dict):  # the field's first entry
            entries = out[field.name] = {}
        entries[key] = item
        return
    decoded = decode_message(kind, _bytes_of(value)) if isinstance(kind, Mapping) else kind(value)
    if field.repeated:
        items = out.get(field.name)
        if not isinstance(items, list):  # the field's first item
            items = out[field.name] = []
        items.append(decoded)
    elif field.omit_empty and decoded in ("", 0):  # False == 0 too
        out.pop(field.name, None)  # the last occurrence wins, empty or not
    else:
        out[field.name] = decoded


def _map_entry(kind: MapOf, value: WireValue) -> tuple[str, Json]:
    key, item = "", kind.value(b"")
    for number, _, field in fields(_bytes_of(value)):
        if number == 1:
            key = string(field)
        elif number == 2:
            item = kind.value(field)
    return key, item


def _table(*entries: tuple[int, Field]) -> Message:
    return dict(entries)


# k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
OWNER_REFERENCE = _table(
    (5, Field("apiVersion", string, omit_empty=False)),
    (1, Field("kind", string, omit_empty=False)),
    (3, Field("name", string, omit_empty=False)),
    (4, Field("uid", string, omit_empty=False)),
    (6, Field("controller", boolean, omit_empty=False)),  # *bool
    (7, Field("blockOwnerDeletion", boolean, omit_empty=False)),  # *bool
)
MANAGED_FIELDS_ENTRY = _table(
    (1, Field("manager", string)),
    (2, Field("operation", string)),
    (3, Field("apiVersion", string)),
    (4, Field("time", time)),  # *Time
    (6, Field("fieldsType", string)),
    (7, Field("fieldsV1", fields_v1)),  # *FieldsV1
    (8, Field("subresource", string)),
)
OBJECT_META = _table(
    (1, Field("name", string)),
    (2, Field("generateName", string)),
    (3, Field("namespace", string)),
    (4, Field("selfLink", string)),
    (5, Field("uid", string)),
    (6, Field("resourceVersion", string)),
    (7, Field("generation", int64)),
    (8, Field("creationTimestamp", time)),  # Time: null when zero
    (9, Field("deletionTimestamp", time)),  # *Time
    (10, Field("deletionGracePeriodSeconds", int64, omit_empty=False)),  # *int64
    (11, Field("labels", MapOf(string))),
    (12, Field("annotations", MapOf(string))),
    (13, Field("ownerReferences", OWNER_REFERENCE, repeated=True)),
    (14, Field("finalizers", string, repeated=True)),
    (17, Field("managedFields", MANAGED_FIELDS_ENTRY, repeated=True)),
)
PRECONDITIONS = _table(
    (1, Field("uid", string, omit_empty=False)),  # *UID
    (2, Field("resourceVersion", string, omit_empty=False)),  # *string
)
DELETE_OPTIONS = _table(
    (1, Field("gracePeriodSeconds", int64, omit_empty=False)),  # *int64
    (2, Field("preconditions", PRECONDITIONS)),  # *Preconditions
    (3, Field("orphanDependents", boolean, omit_empty=False)),  # *bool
    (4, Field("propagationPolicy", string, omit_empty=False)),  # *DeletionPropagation
    (5, Field("dryRun", string, repeated=True)),
)

# k8s.io/api/core/v1/generated.proto
SECRET = _table(
    (1, Field("metadata", OBJECT_META)),
    (5, Field("immutable", boolean, omit_empty=False)),  # *bool
    (2, Field("data", MapOf(base64_bytes))),
    (4, Field("stringData", MapOf(string))),
    (3, Field("type", string)),
)
CONFIG_MAP = _table(
    (1, Field("metadata", OBJECT_META)),
    (4, Field("immutable", boolean, omit_empty=False)),  # *bool
    (2, Field("data", MapOf(string))),
    (3, Field("binaryData", MapOf(base64_bytes))),
)
NAMESPACE_CONDITION = _table(
    (1, Field("type", string, omit_empty=False)),
    (2, Field("status", string, omit_empty=False)),
    (4, Field("lastTransitionTime", time)),
    (5, Field("reason", string)),
    (6, Field("message", string)),
)
NAMESPACE = _table(
    (1, Field("metadata", OBJECT_META)),
    (2, Field("spec", _table((1, Field("finalizers", string, repeated=True))))),
    (
        3,
        Field(
            "status",
            _table(
                (1, Field("phase", string)),
                (2, Field("conditions", NAMESPACE_CONDITION, repeated=True)),
            ),
        ),
    ),
)
OBJECT_REFERENCE = _table(
    (1, Field("kind", string)),
    (2, Field("namespace", string)),
    (3, Field("name", string)),
    (4, Field("uid", string)),
    (5, Field("apiVersion", string)),
    (6, Field("resourceVersion", string)),
    (7, Field("fieldPath", string)),
)
SERVICE_ACCOUNT = _table(
    (1, Field("metadata", OBJECT_META)),
    (2, Field("secrets", OBJECT_REFERENCE, repeated=True)),
    (3, Field("imagePullSecrets", _table((1, Field("name", string))), repeated=True)),
    (4, Field("automountServiceAccountToken", boolean, omit_empty=False)),  # *bool
)
EVENT = _table(
    (1, Field("metadata", OBJECT_META)),
    (2, Field("involvedObject", OBJECT_REFERENCE)),
    (3, Field("reason", string)),
    (4, Field("message", string)),
    (5, Field("source", _table((1, Field("component", string)), (2, Field("host", string))))),
    (6, Field("firstTimestamp", time)),
    (7, Field("lastTimestamp", time)),
    (8, Field("count", int32)),
    (9, Field("type", string)),
    (10, Field("eventTime", micro_time)),
    (
        11,
        Field(
            "series", _table((1, Field("count", int32)), (2, Field("lastObservedTime", micro_time)))
        ),
    ),
    (12, Field("action", string)),
    (13, Field("related", OBJECT_REFERENCE)),
    (14, Field("reportingComponent", string, omit_empty=False)),
    (15, Field("reportingInstance", string, omit_empty=False)),
)

#: the objects decoded, by (apiVersion, kind); DeleteOptions goes by kind alone
KINDS: dict[tuple[str, str], Message] = {
    ("v1", "Secret"): SECRET,
    ("v1", "ConfigMap"): CONFIG_MAP,
    ("v1", "Namespace"): NAMESPACE,
    ("v1", "ServiceAccount"): SERVICE_ACCOUNT,
    ("v1", "Event"): EVENT,
}


def supported_kinds() -> str:
    listed = ", ".join(f"{kind} ({version})" for version, kind in sorted(KINDS))
    return f"{listed} and DeleteOptions"


# -- the envelope ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Unknown:
    """``runtime.Unknown``: the envelope of every protobuf body."""

    api_version: str
    kind: str
    raw: bytes
    content_encoding: str = ""
    content_type: str = ""


_TYPE_META = _table((1, Field("apiVersion", string)), (2, Field("kind", string)))


def unwrap(body: bytes) -> Unknown:
    """The envelope of a body: the magic prefix, then ``runtime.Unknown``."""
    if not body:
        raise ProtobufError("the body is empty")
    if not body.startswith(MAGIC):
        raise ProtobufError(
            "the body does not start with the Kubernetes protobuf magic number k8s\\x00"
        )
    type_meta: JsonDict = {}
    parts: dict[int, WireValue] = {}
    for number, _, value in fields(body[len(MAGIC) :]):
        if number == 1:
            type_meta = decode_message(_TYPE_META, _bytes_of(value))
        elif number in (2, 3, 4):
            parts[number] = value
    return Unknown(
        api_version=str(type_meta.get("apiVersion", "")),
        kind=str(type_meta.get("kind", "")),
        raw=_bytes_of(parts.get(2, b"")),
        content_encoding=string(parts.get(3, b"")),
        content_type=string(parts.get(4, b"")),
    )


def decode_object(api_version: str, kind: str, raw: bytes) -> JsonDict:
    """The dict of an object's message, under the type its envelope names."""
    table = DELETE_OPTIONS if kind == "DeleteOptions" else KINDS.get((api_version, kind))
    if table is None:
        named = f"{kind} ({api_version})" if kind else "an object without a kind"
        raise UnsupportedKindError(f"{named} in protobuf is not supported")
    decoded = decode_message(table, raw)
    return {"apiVersion": api_version, "kind": kind, **decoded}


def decode_body(content_type: str, body: bytes) -> JsonDict:
    """A request body in ``application/vnd.kubernetes.protobuf``, as the dict its JSON
    would decode to. Raises :class:`UnsupportedKindError` (415) for a kind, encoding or
    media type not decoded here, :class:`ProtobufError` (400) for a malformed body."""
    media = content_type.split(";")[0].strip().lower()
    if media != MEDIA_TYPE:
        raise UnsupportedKindError(f"the media type {media or '(none)'} is not protobuf")
    envelope = unwrap(body)
    if envelope.content_encoding:
        raise UnsupportedKindError(
            f"the content encoding {envelope.content_encoding!r} is not supported"
        )
    if envelope.content_type not in ("", MEDIA_TYPE):
        raise UnsupportedKindError(
            f"the raw content type {envelope.content_type!r} is not supported"
        )
    return decode_object(envelope.api_version, envelope.kind, envelope.raw)
