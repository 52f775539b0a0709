"""OCI content: digests, descriptors, image manifests and indexes.

Manifests are built and parsed here as plain JSON with a fixed key order, so that the same
content always serializes to the same bytes (and so the same digest). Parsing is strict:
what a registry serves is untrusted input, and a malformed manifest, a digest that does not
match, a size over the limits or a layer title that would escape the target directory is
rejected before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Required, TypedDict

from orkestra.registry.errors import IntegrityError, TooLargeError

if TYPE_CHECKING:
    from orkestra.kubeobjects import Json, JsonDict

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_JSON = b"{}"
TITLE = "org.opencontainers.image.title"
REF_NAME = "org.opencontainers.image.ref.name"

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""The OCI distribution spec's recommended manifest limit; larger ones are refused."""
MAX_BLOB_BYTES = 64 * 1024 * 1024
"""Pattern files are text; a layer this large is refused rather than downloaded."""

_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


class DescriptorJson(TypedDict, total=False):
    """A descriptor as a manifest or an index writes it."""

    mediaType: Required[str]
    digest: Required[str]
    size: Required[int]
    artifactType: str
    annotations: dict[str, str]


class ManifestJson(TypedDict, total=False):
    """An image manifest as :meth:`Manifest.to_bytes` writes it (``config`` and ``layers``
    always, but after ``artifactType``: the key order makes the digest)."""

    schemaVersion: Required[int]
    mediaType: Required[str]
    artifactType: str
    config: DescriptorJson
    layers: list[DescriptorJson]
    subject: DescriptorJson
    annotations: dict[str, str]


class IndexJson(TypedDict):
    """An image index as :func:`index_bytes` writes it."""

    schemaVersion: int
    mediaType: str
    manifests: list[DescriptorJson]


def is_digest(text: str) -> bool:
    """Whether ``text`` is a sha256 digest (``sha256:`` and 64 lowercase hex digits)."""
    return _DIGEST.match(text) is not None


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify(data: bytes, digest: str, size: int | None, what: str) -> None:
    """Fail unless ``data`` has the announced digest (and size, when announced)."""
    if size is not None and len(data) != size:
        raise IntegrityError(
            f"{what}: received {len(data)} bytes, the manifest says {size}",
            hint="the registry served different content; nothing was written",
        )
    actual = digest_of(data)
    if actual != digest:
        raise IntegrityError(
            f"{what}: content digest {actual} does not match {digest}",
            hint="the registry served different content than it announced; nothing was written",
        )


@dataclass(frozen=True, kw_only=True)
class Descriptor:
    """A reference to content by media type, digest and size."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str = ""

    @classmethod
    def of(
        cls,
        data: bytes,
        media_type: str,
        annotations: dict[str, str] | None = None,
        artifact_type: str = "",
    ) -> Descriptor:
        return cls(
            media_type=media_type,
            digest=digest_of(data),
            size=len(data),
            annotations=dict(annotations or {}),
            artifact_type=artifact_type,
        )

    @property
    def title(self) -> str:
        return self.annotations.get(TITLE, "")

    def to_json(self) -> DescriptorJson:
        out: DescriptorJson = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = dict(sorted(self.annotations.items()))
        return out

    @classmethod
    def from_json(cls, value: Json, where: str) -> Descriptor:
        if not isinstance(value, dict):
            raise _malformed(where, "a descriptor must be an object")
        media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
        if not isinstance(media_type, str) or not media_type:
            raise _malformed(where, "mediaType is missing")
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            raise _malformed(where, f"digest {digest!r} is not a sha256 digest")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _malformed(where, f"size {size!r} is not a non-negative integer")
        annotations = value.get("annotations") or {}
        if not isinstance(annotations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
        ):
            raise _malformed(where, "annotations must map strings to strings")
        artifact_type = value.get("artifactType", "")
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            annotations=annotations,
            artifact_type=artifact_type if isinstance(artifact_type, str) else "",
        )


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """An OCI image manifest."""

    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str = ""
    subject: Descriptor | None = None

    def to_bytes(self) -> bytes:
        out: ManifestJson = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        out["config"] = self.config.to_json()
        out["layers"] = [layer.to_json() for layer in self.layers]
        if self.subject is not None:
            out["subject"] = self.subject.to_json()
        if self.annotations:
            out["annotations"] = dict(sorted(self.annotations.items()))
        return json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def parse(cls, data: bytes, where: str) -> Manifest:
        doc = _json_object(data, where)
        if doc.get("schemaVersion") != 2:
            raise _malformed(where, "schemaVersion must be 2")
        media_type = doc.get("mediaType", MANIFEST_MEDIA_TYPE)
        if media_type not in (MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE):
            raise _malformed(
                where,
                f"{media_type} is not an image manifest",
                hint="an Orkestra pattern is an OCI image manifest; nothing was written",
            )
        layers = doc.get("layers")
        if not isinstance(layers, list):
            raise _malformed(where, "layers must be a list")
        annotations = doc.get("annotations") or {}
        if not isinstance(annotations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
        ):
            raise _malformed(where, "annotations must map strings to strings")
        subject = doc.get("subject")
        artifact_type = doc.get("artifactType", "")
        return cls(
            config=Descriptor.from_json(doc.get("config"), f"{where}: config"),
            layers=tuple(
                Descriptor.from_json(layer, f"{where}: layer {i}") for i, layer in enumerate(layers)
            ),
            annotations=annotations,
            artifact_type=artifact_type if isinstance(artifact_type, str) else "",
            subject=Descriptor.from_json(subject, f"{where}: subject") if subject else None,
        )

    @property
    def kind_type(self) -> str:
        """What the artifact is: its artifactType, else its config media type."""
        return self.artifact_type or self.config.media_type

    def layer(self, title: str) -> Descriptor | None:
        return next((layer for layer in self.layers if layer.title == title), None)


def index_bytes(manifests: list[Descriptor]) -> bytes:
    doc: IndexJson = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [m.to_json() for m in manifests],
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def parse_index(data: bytes, where: str) -> list[Descriptor]:
    doc = _json_object(data, where)
    manifests = doc.get("manifests")
    if not isinstance(manifests, list):
        raise _malformed(where, "manifests must be a list")
    return [Descriptor.from_json(m, f"{where}: manifests[{i}]") for i, m in enumerate(manifests)]


def check_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise TooLargeError(
            f"{what} is {size} bytes, over the {limit}-byte limit",
            hint="this is not an Orkestra pattern, or the registry is "
            "misbehaving; nothing was written",
        )


def _json_object(data: bytes, where: str) -> JsonDict:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _malformed(where, f"not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _malformed(where, "not a JSON object")
    return doc


def _malformed(where: str, why: str, hint: str = "") -> IntegrityError:
    return IntegrityError(
        f"{where}: malformed manifest: {why}",
        hint=hint
        or "the registry served something that is not an OCI manifest; nothing was written",
    )
