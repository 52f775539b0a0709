"""The pattern artifact format: which files travel, their media types, the annotations.

A pattern is an OCI image manifest whose config media type names the kind and whose layers
are the pattern's files, one file per layer, raw bytes, titled with the file's path relative
to the pattern directory. A fixed list of top-level files is published (the primary file
first, then the optional files that exist, in a fixed order), then, for a typed katalog,
its hook sources (``pyproject.toml`` / ``requirements.txt`` and the ``*.py`` files of the
packages its hooks and CR model live in, titled like ``dbhooks/database.py``: see
:func:`orkestra.gates.pattern.code_files`); everything else in the directory stays behind.
A title is only ever a relative path inside the pattern (:func:`safe_path`), so a pulled
artifact cannot write outside its cache entry.

The manifest annotations carry the metadata and the gate record (``io.orkestra.simulate.*``,
``io.orkestra.e2e.*``), written before upload and therefore covered by the digest. The last
layer, ``gate-report.dsse.json`` (media type ``application/vnd.dsse.envelope.v1+json``), is
the signed gate report (:mod:`orkestra.registry.trust`): an in-toto statement naming every
other layer by title and digest and holding the gate results and every annotation, so a
consumer can tell a signed, unchanged record from an edited one.

Reproducibility: the same files give the same layer and config digests, and the
``io.orkestra.pattern.content`` annotation (a digest over the file layers' descriptors, the
signed report left out) is equal for equal content. The manifest digest itself also covers
the push time (``org.opencontainers.image.created``, pinned by ``SOURCE_DATE_EPOCH`` when
set) and the gates' ``tested_at`` and ``duration``, and so does the signed report — those
are kept in on purpose: they are the record.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from orkestra.registry.errors import IntegrityError
from orkestra.registry.oci import EMPTY_JSON, TITLE, Descriptor, Manifest, digest_of
from orkestra.units import format_timestamp

if TYPE_CHECKING:
    from orkestra.kubeobjects import JsonDict
    from orkestra.model.deprecation import Deprecation

KATALOG_CONFIG = "application/vnd.orkestra.pattern.v1+tar+gzip"
MOTIF_CONFIG = "application/vnd.orkestra.motif.v1+tar+gzip"
CONFIG_TYPES = {"Katalog": KATALOG_CONFIG, "Motif": MOTIF_CONFIG}
KIND_OF_CONFIG = {v: k for k, v in CONFIG_TYPES.items()}

PRIMARY_FILES = {"Katalog": "katalog.yaml", "Motif": "motif.yaml"}
OPTIONAL_FILES = {
    "Katalog": (
        "komposer.yaml",
        "crd.yaml",
        "README.md",
        "cr.yaml",
        "e2e.yaml",
        "simulate.yaml",
        "go.mod",
        "go.sum",
        "Makefile",
    ),
    "Motif": ("README.md",),
}
LAYER_TYPES = {
    "katalog.yaml": "application/vnd.orkestra.katalog.v1+yaml",
    "crd.yaml": "application/vnd.kubernetes.crd.v1+yaml",
    "cr.yaml": "application/vnd.kubernetes.cr.v1+yaml",
    "README.md": "text/markdown",
    "motif.yaml": "application/vnd.orkestra.motif.v1+yaml",
    "e2e.yaml": "application/vnd.orkestra.e2e.v1+yaml",
    "simulate.yaml": "application/vnd.orkestra.simulate.v1+yaml",
    "go.mod": "text/plain",
    "go.sum": "text/plain",
    "Makefile": "text/x-makefile",
    "pyproject.toml": "application/toml",
    "requirements.txt": "text/plain",
}
#: The files beside a typed katalog that say what its hook code needs, published with it.
CODE_REQUIREMENTS = ("pyproject.toml", "requirements.txt")
PYTHON_LAYER_TYPE = "text/x-python"
DEFAULT_LAYER_TYPE = "application/octet-stream"

REPORT_TYPE = "application/vnd.orkestra.gate-report.v1+json"
"""The artifact type of the unsigned gate report earlier versions attached as a referrer."""
SIGNED_REPORT_TYPE = "application/vnd.dsse.envelope.v1+json"
"""The media type of the signed gate report layer (a DSSE envelope)."""
SIGNED_REPORT_FILE = "gate-report.dsse.json"

# Annotation keys (the original tool's, so its artifacts and ours read the same).
CREATED = "org.opencontainers.image.created"
OCI_TITLE = "org.opencontainers.image.title"
OCI_VERSION = "org.opencontainers.image.version"
OCI_DESCRIPTION = "org.opencontainers.image.description"
OCI_AUTHORS = "org.opencontainers.image.authors"
P = "io.orkestra.pattern."
CONTENT = P + "content"
SIMULATE = "io.orkestra.simulate."
E2E = "io.orkestra.e2e."
K = "io.orkestra.katalog."
DEPRECATED = K + "deprecated"


@dataclass(frozen=True)
class PatternFile:
    name: str
    data: bytes

    @property
    def media_type(self) -> str:
        if self.name in LAYER_TYPES:
            return LAYER_TYPES[self.name]
        return PYTHON_LAYER_TYPE if self.name.endswith(".py") else DEFAULT_LAYER_TYPE


#: Where an e2e gate ran (``io.orkestra.e2e.cluster``), and how each is named wherever it
#: is shown: e2e on the embedded server is a weaker proof than a real cluster and must
#: never be mistaken for one.
EMBEDDED, KIND, EXISTING = "embedded", "kind", "existing"
CLUSTER_LABELS = {
    KIND: "kind",
    EXISTING: "existing cluster",
    EMBEDDED: "embedded API server (no kubelet)",
}


@dataclass(frozen=True, kw_only=True)
class GateRecord:
    """What one gate did before the push, as written to the annotations."""

    status: str
    duration: str = ""
    tested_at: str = ""
    assertions: int = 0
    runner: str = ""
    cluster: str = ""

    def annotations(self, prefix: str) -> dict[str, str]:
        out = {prefix + "status": self.status}
        for key, value in (
            ("duration", self.duration),
            ("tested_at", self.tested_at),
            ("runner", self.runner),
            ("cluster", self.cluster),
        ):
            if value:
                out[prefix + key] = value
        if self.assertions > 0:
            out[prefix + "assertions"] = str(self.assertions)
        return out

    def to_json(self) -> JsonDict:
        out: JsonDict = {
            "status": self.status,
            "assertions": self.assertions,
            "duration": self.duration,
            "testedAt": self.tested_at,
            "runner": self.runner,
            "cluster": self.cluster,
        }
        if self.cluster:
            out["clusterLabel"] = CLUSTER_LABELS.get(self.cluster, self.cluster)
        return out

    @classmethod
    def read(cls, annotations: dict[str, str], prefix: str) -> GateRecord | None:
        status = annotations.get(prefix + "status")
        if not status:
            return None
        count = annotations.get(prefix + "assertions", "0")
        return cls(
            status=status,
            duration=annotations.get(prefix + "duration", ""),
            tested_at=annotations.get(prefix + "tested_at", ""),
            assertions=int(count) if count.isdigit() else 0,
            runner=annotations.get(prefix + "runner", ""),
            cluster=annotations.get(prefix + "cluster", ""),
        )


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """What a pattern says about itself (``metadata:`` of its primary file)."""

    kind: str
    name: str
    version: str
    description: str = ""
    author: str = ""
    license: str = ""
    tags: tuple[str, ...] = ()
    deprecation: Deprecation | None = None


@dataclass(frozen=True)
class Typed:
    hooks: bool = False
    constructor: bool = False

    @property
    def any(self) -> bool:
        return self.hooks or self.constructor


@dataclass(frozen=True, kw_only=True)
class PatternArtifact:
    """Everything that goes into one push."""

    metadata: Metadata
    files: tuple[PatternFile, ...]
    simulate: GateRecord | None = None
    e2e: GateRecord | None = None
    typed: Typed = field(default_factory=Typed)
    runtime_version: str = ""
    #: The push time (``org.opencontainers.image.created``); empty: when the manifest is made.
    created: str = ""
    #: The signed gate report (a DSSE envelope), uploaded as the last layer.
    signed_report: bytes | None = None

    def file_layers(self) -> list[tuple[Descriptor, bytes]]:
        return [(Descriptor.of(f.data, f.media_type, {TITLE: f.name}), f.data) for f in self.files]

    def layers(self) -> list[tuple[Descriptor, bytes]]:
        """The files, then the signed report when there is one."""
        layers = self.file_layers()
        if self.signed_report is not None:
            layers.append(
                (
                    Descriptor.of(
                        self.signed_report, SIGNED_REPORT_TYPE, {TITLE: SIGNED_REPORT_FILE}
                    ),
                    self.signed_report,
                )
            )
        return layers

    def config(self) -> tuple[Descriptor, bytes]:
        return Descriptor.of(EMPTY_JSON, CONFIG_TYPES[self.metadata.kind]), EMPTY_JSON

    def manifest(self) -> Manifest:
        config, _ = self.config()
        files = tuple(d for d, _ in self.file_layers())
        return Manifest(
            config=config,
            layers=tuple(d for d, _ in self.layers()),
            annotations=self.annotations(files, self.created or created_now()),
        )

    def annotations(self, layers: tuple[Descriptor, ...], created: str) -> dict[str, str]:
        """The manifest annotations; ``layers``: the file layers (the content digest)."""
        meta = self.metadata
        out = {
            CREATED: created,
            OCI_TITLE: meta.name,
            OCI_VERSION: meta.version,
            OCI_DESCRIPTION: meta.description,
            P + "kind": meta.kind,
            P + "name": meta.name,
            P + "version": meta.version,
            P + "author": meta.author,
            P + "license": meta.license,
            P + "tags": ",".join(meta.tags),
            CONTENT: content_digest(layers),
        }
        if meta.author:
            out[OCI_AUTHORS] = meta.author
        if self.simulate is not None:
            out.update(self.simulate.annotations(SIMULATE))
        if self.e2e is not None:
            out.update(self.e2e.annotations(E2E))
        if self.typed.hooks:
            out[K + "has_hooks"] = "true"
        if self.typed.constructor:
            out[K + "has_constructor"] = "true"
        if self.typed.any:
            out[K + "typed"] = "true"
        if self.runtime_version:
            out[K + "runtime_version"] = self.runtime_version
        out.update(deprecation_annotations(meta.deprecation))
        return out


def safe_path(title: str, where: str) -> str:
    """A layer title that is a file name or a relative path below the pattern directory
    (``dbhooks/database.py``); anything that could escape is refused."""
    if not all(_plain(part) for part in title.split("/")):
        raise IntegrityError(
            f"{where}: layer title {title!r} is not a plain file name or a "
            "relative path inside the pattern",
            hint="a pattern layer must be titled with a file name such as "
            "katalog.yaml or a path such as dbhooks/database.py; "
            "nothing was written",
        )
    return title


def _plain(name: str) -> bool:
    return (
        bool(name)
        and name not in (".", "..")
        and not name.startswith("~")
        and not any(c in name for c in "\\\0")
    )


def check_titles(titles: list[str], where: str) -> None:
    """Every title safe, none twice, and none both a file and the directory of another."""
    seen: set[str] = set()
    for title in titles:
        safe_path(title, where)
        if title in seen:
            raise IntegrityError(
                f"{where}: two layers are titled {title!r}",
                hint="the artifact is malformed; nothing was written",
            )
        seen.add(title)
    directories = {
        "/".join(parts[:i])
        for parts in (t.split("/") for t in titles)
        for i in range(1, len(parts))
    }
    clash = sorted(seen & directories)
    if clash:
        raise IntegrityError(
            f"{where}: layer {clash[0]!r} is a file, but other layers need it to be a directory",
            hint="the artifact is malformed; nothing was written",
        )


def content_digest(layers: tuple[Descriptor, ...]) -> str:
    """A digest of the files alone (titles, media types, digests), stable across pushes."""
    listing = [[d.title, d.media_type, d.digest] for d in layers]
    return digest_of(json.dumps(listing, separators=(",", ":")).encode())


def deprecation_annotations(notice: Deprecation | None) -> dict[str, str]:
    if notice is None:
        return {}
    out = {DEPRECATED: "true"}
    for key, value in (
        ("migrated_to", notice.migrated_to),
        ("message", notice.message),
        ("timeline_from", notice.starts),
        ("timeline_to", notice.end_of_life),
    ):
        if value:
            out[f"{DEPRECATED}.{key}"] = str(value)
    return out


def deprecation_from_annotations(annotations: dict[str, str]) -> Deprecation | None:
    if annotations.get(DEPRECATED) != "true":
        return None
    from orkestra.model.deprecation import Deprecation  # only for a deprecated pattern

    return Deprecation(
        message=annotations.get(DEPRECATED + ".message", ""),
        migrated_to=annotations.get(DEPRECATED + ".migrated_to", ""),
        starts=_date(annotations.get(DEPRECATED + ".timeline_from")),
        end_of_life=_date(annotations.get(DEPRECATED + ".timeline_to")),
    )


def _date(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def created_now() -> str:
    """RFC 3339 UTC, or the time ``SOURCE_DATE_EPOCH`` names (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    moment = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        if epoch.isdigit()
        else datetime.datetime.now(datetime.UTC)
    )
    return format_timestamp(moment)


def collect_files(
    directory: Path, kind: str, primary: bytes | None = None
) -> tuple[PatternFile, ...]:
    """The files that travel, primary first (``primary`` replaces its bytes when given)."""
    name = PRIMARY_FILES[kind]
    files = [PatternFile(name, primary if primary is not None else (directory / name).read_bytes())]
    files += [
        PatternFile(n, (directory / n).read_bytes())
        for n in OPTIONAL_FILES[kind]
        if (directory / n).is_file()
    ]
    return tuple(files)
