"""The gate report ``ork push`` signs: an in-toto Statement v1 about the artifact's files.

::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "katalog.yaml", "digest": {"sha256": "…"}}, …],   # every file layer
     "predicateType": "https://orkestra.dev/gate-report/v1",
     "predicate": {
       "pattern": {"kind": "Katalog", "name": "…", "version": "v1.0.0"},
       "tool": {"name": "ork", "version": "…"}, "runner": "local", "created": "<push time>",
       "gates": {
         "validate": {"status": "passed", "files": ["katalog.yaml", "crd.yaml", …]},
         "simulate": {"status", "assertions", "duration", "testedAt", "runner", "cluster",
                      "counts": {"passed", "total"}, "checks": ["✓ create …", …], "runs": […]},
         "e2e": {… the same fields, "checks": the expectations' lines}},
       "annotations": {every manifest annotation, exactly as written}}}

A gate that did not run is absent. The statement is signed into a DSSE envelope
(:mod:`~orkestra.registry.trust.dsse`) that travels as the artifact's last layer; the
manifest digest covers that layer, so the report is bound to this manifest's content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TypedDict

from orkestra.kubeobjects import JsonDict
from orkestra.registry.artifact import CREATED, GateRecord, PatternArtifact, created_now
from orkestra.registry.trust.dsse import sign
from orkestra.registry.trust.keys import SigningKey

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://orkestra.dev/gate-report/v1"


class StatementSubject(TypedDict):
    name: str
    digest: dict[str, str]


class PatternId(TypedDict):
    kind: str
    name: str
    version: str


class Tool(TypedDict):
    name: str
    version: str


class GateReport(TypedDict):
    """The predicate; ``gates``: gate name (``validate``, ``simulate``, ``e2e``) -> what
    it found."""

    pattern: PatternId
    tool: Tool
    runner: str
    created: str
    gates: dict[str, JsonDict]
    annotations: dict[str, str]


class Statement(TypedDict):
    """The statement as :func:`statement` builds it (one read back is untrusted JSON)."""

    _type: str
    subject: list[StatementSubject]
    predicateType: str
    predicate: GateReport


@dataclass(frozen=True, kw_only=True)
class GateDetails:
    """What the gates found beyond the annotations, as plain data (the registry layer
    knows nothing of simulate or e2e): the files validate checked, and per gate the
    assertion lines, their counts and any detail (``runs``) to sign with the record."""

    validated: tuple[str, ...] = ()
    simulate: JsonDict = field(default_factory=dict)
    e2e: JsonDict = field(default_factory=dict)
    runner: str = "local"
    tool_version: str = ""


def statement(artifact: PatternArtifact, details: GateDetails) -> Statement:
    """The statement for ``artifact`` as it will be pushed (its ``created`` must be set)."""
    files = tuple(d for d, _ in artifact.file_layers())
    annotations = artifact.annotations(files, artifact.created)
    meta = artifact.metadata
    gates: dict[str, JsonDict] = {
        "validate": {"status": "passed", "files": list(details.validated)}
    }
    for name, record, extra in (
        ("simulate", artifact.simulate, details.simulate),
        ("e2e", artifact.e2e, details.e2e),
    ):
        if record is not None:
            gates[name] = {**_record(record), **extra}
    predicate: GateReport = {
        "pattern": {"kind": meta.kind, "name": meta.name, "version": meta.version},
        "tool": {"name": "ork", "version": details.tool_version},
        "runner": details.runner,
        "created": annotations[CREATED],
        "gates": gates,
        "annotations": annotations,
    }
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": d.title, "digest": {"sha256": d.digest.removeprefix("sha256:")}} for d in files
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }


def _record(record: GateRecord) -> JsonDict:
    out = record.to_json()
    out.pop("clusterLabel", None)
    return out


def sign_artifact(
    artifact: PatternArtifact, details: GateDetails, key: SigningKey
) -> PatternArtifact:
    """``artifact`` with its push time fixed and the signed report attached."""
    dated = artifact if artifact.created else replace(artifact, created=created_now())
    body = json.dumps(statement(dated, details), indent=2, ensure_ascii=False).encode()
    return replace(dated, signed_report=sign(body, key))
