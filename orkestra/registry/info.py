"""Reading a pushed pattern back from its manifest: metadata, gate record, files.

This is what ``ork inspect`` shows and what ``ork pull`` and the lock file rely on. It needs
only the manifest (no layer is downloaded), which is the point: a consumer sees the proof
before fetching anything. The gate records read here are the annotations' claims; whether
a signed report backs them is :mod:`orkestra.registry.trust.verify`'s to say (it needs the
report layer, ``signed_report``, which is also among ``files``: every layer is pulled).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orkestra.registry.artifact import (
    CONTENT,
    CREATED,
    E2E,
    KIND_OF_CONFIG,
    SIGNED_REPORT_TYPE,
    SIMULATE,
    GateRecord,
    K,
    Metadata,
    P,
    Typed,
    check_titles,
    deprecation_from_annotations,
)
from orkestra.registry.errors import IntegrityError
from orkestra.registry.oci import Descriptor, Manifest
from orkestra.registry.refs import Reference
from orkestra.units import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from orkestra.kubeobjects import JsonDict


@dataclass(frozen=True, kw_only=True)
class PatternInfo:
    """One pushed pattern as its manifest describes it."""

    ref: Reference
    digest: str
    manifest_size: int
    metadata: Metadata
    created: datetime.datetime | None
    simulate: GateRecord | None
    e2e: GateRecord | None
    typed: Typed
    runtime_version: str
    files: tuple[Descriptor, ...]
    content: str
    manifest: Manifest
    signed_report: Descriptor | None = None

    @property
    def kind(self) -> str:
        return self.metadata.kind

    @classmethod
    def read(cls, ref: Reference, manifest: Manifest, descriptor: Descriptor) -> PatternInfo:
        notes = manifest.annotations
        kind = notes.get(P + "kind") or KIND_OF_CONFIG.get(manifest.config.media_type, "")
        if kind not in ("Katalog", "Motif"):
            raise IntegrityError(
                f"{ref} is not an Orkestra pattern (config media type "
                f"{manifest.config.media_type})",
                hint="ork reads artifacts pushed by ork push",
            )
        check_titles([layer.title for layer in manifest.layers], str(ref))
        metadata = Metadata(
            kind=kind,
            name=notes.get(P + "name") or ref.name,
            version=notes.get(P + "version") or notes.get("org.opencontainers.image.version", ""),
            description=notes.get("org.opencontainers.image.description", ""),
            author=notes.get(P + "author", ""),
            license=notes.get(P + "license", ""),
            tags=tuple(t for t in notes.get(P + "tags", "").split(",") if t),
            deprecation=deprecation_from_annotations(notes),
        )
        return cls(
            ref=ref,
            digest=descriptor.digest,
            manifest_size=descriptor.size,
            metadata=metadata,
            created=parse_timestamp(notes.get(CREATED, "")),
            simulate=GateRecord.read(notes, SIMULATE),
            e2e=GateRecord.read(notes, E2E),
            typed=Typed(
                notes.get(K + "has_hooks") == "true", notes.get(K + "has_constructor") == "true"
            ),
            runtime_version=notes.get(K + "runtime_version", ""),
            files=manifest.layers,
            content=notes.get(CONTENT, ""),
            manifest=manifest,
            signed_report=next(
                (la for la in manifest.layers if la.media_type == SIGNED_REPORT_TYPE), None
            ),
        )

    def to_json(self) -> JsonDict:
        meta = self.metadata
        out: JsonDict = {
            "ref": str(self.ref),
            "digest": self.digest,
            "size": self.manifest_size,
            "kind": meta.kind,
            "name": meta.name,
            "version": meta.version,
            "description": meta.description,
            "author": meta.author,
            "license": meta.license,
            "tags": list(meta.tags),
            "pushed": format_timestamp(self.created) if self.created else None,
            "content": self.content,
            "simulate": self.simulate.to_json() if self.simulate else None,
            "e2e": self.e2e.to_json() if self.e2e else None,
            "typed": {"hooks": self.typed.hooks, "constructor": self.typed.constructor},
            "runtimeVersion": self.runtime_version,
            "files": [
                {"name": f.title, "size": f.size, "mediaType": f.media_type, "digest": f.digest}
                for f in self.files
            ],
            "signedReport": None
            if self.signed_report is None
            else {
                "name": self.signed_report.title,
                "size": self.signed_report.size,
                "digest": self.signed_report.digest,
            },
        }
        notice = meta.deprecation
        out["deprecation"] = (
            None
            if notice is None
            else {
                "message": notice.message,
                "migratedTo": notice.migrated_to,
                "from": str(notice.starts or ""),
                "to": str(notice.end_of_life or ""),
            }
        )
        return out
