"""What ``ork inspect`` learns about a pushed pattern, as data: the manifest's metadata with
its signature check and the artifacts attached to it, the latest version when no tag is
given, every pushed version with its check, and the gate report (signed, or the unsigned one
of an artifact from before signing). Only manifests and the report are read; nothing is
pulled. ``ork inspect`` prints these; other tools can read them the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from orkestra.errors import OrkError, UsageError
from orkestra.kubeobjects import Json
from orkestra.registry.artifact import REPORT_TYPE
from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError
from orkestra.registry.info import PatternInfo
from orkestra.registry.oci import Descriptor
from orkestra.registry.refs import Reference
from orkestra.registry.trust.verify import (
    TAMPERED,
    VERIFIED,
    SignedStatement,
    Verification,
    check,
    trusted_ids,
)
from orkestra.semver import latest_key


@dataclass(frozen=True)
class Inspection:
    """A pushed pattern as its manifest describes it, checked against its signed report."""

    info: PatternInfo
    proof: Verification
    attached: list[Descriptor]  # the referrers: signatures, SBOMs, unsigned reports

    @property
    def unsigned_reports(self) -> list[Descriptor]:
        """Gate reports attached as referrers (artifacts pushed before reports were signed
        into the artifact), oldest first."""
        return sorted(
            (d for d in self.attached if d.artifact_type == REPORT_TYPE),
            key=lambda d: d.annotations.get("org.opencontainers.image.created", ""),
        )

    @property
    def other_referrers(self) -> list[Descriptor]:
        """What else is attached: signatures, SBOMs ..."""
        return [d for d in self.attached if d.artifact_type != REPORT_TYPE]


def inspect(client: RegistryClient, target: Reference) -> Inspection:
    manifest, descriptor, _ = client.manifest(target)
    return Inspection(
        info=PatternInfo.read(target, manifest, descriptor),
        proof=check(client, target, manifest),
        attached=client.referrers(target, descriptor.digest),
    )


@dataclass(frozen=True)
class LatestVersion:
    ref: Reference
    tags: int  # how many tags it was picked from


def latest_version(client: RegistryClient, target: Reference) -> LatestVersion:
    """``target`` at its latest semantic-version tag (:func:`~orkestra.semver.latest_key`:
    stable beats pre-release); push writes no ``latest`` tag to fall back on."""
    tags = [
        t for t in client.backend(target).tags(target.repository) if not t.startswith("sha256-")
    ]
    if not tags:
        raise ArtifactNotFoundError(f"no versions of {target.name} in {target.location}")
    best = max(tags, key=latest_key)
    if latest_key(best)[0] == 0:
        raise UsageError(
            f"{target.name} has no version tag to pick as the latest",
            hint="name one: " + ", ".join(f"{target.name}:{t}" for t in sorted(tags)),
        )
    return LatestVersion(target.with_tag(best), len(tags))


def checked_versions(
    client: RegistryClient, ref: Reference
) -> list[tuple[PatternInfo, Verification]]:
    """The pushed versions of ``ref``'s pattern, newest first, each with its signature check
    against the keys you trust."""
    found = client.versions(ref)
    trusted = trusted_ids(client)
    return [(info, check(client, info.ref, info.manifest, trusted)) for info in found]


def latest_position(found: list[PatternInfo]) -> int:
    """The position of the latest version (the highest release, so a backport pushed last is
    not the latest; the highest pre-release when there is no release); among tags that rank
    alike, the newest push (``found`` is newest first)."""
    return max(range(len(found)), key=lambda n: latest_key(found[n].ref.tag), default=0)


@dataclass(frozen=True)
class GateReport:
    """The signed statement of the gates that ran at push, or, for an artifact from before
    signing, the unsigned report attached to it (which nothing vouches for)."""

    signed: SignedStatement | None = None
    unsigned: Json = None


def gate_report(client: RegistryClient, ref: Reference, inspection: Inspection) -> GateReport:
    proof = inspection.proof
    if proof.state == TAMPERED:
        raise OrkError(
            f"{ref} does not match its signed gate report: {proof.reason}",
            hint="the artifact or its annotations were changed after it was "
            "signed; do not rely on it",
        )
    if proof.state == VERIFIED and proof.statement is not None:
        return GateReport(signed=proof.statement)
    reports = inspection.unsigned_reports
    if not reports:
        raise OrkError(
            f"{ref} has no gate report attached",
            hint="reports are signed into the artifact by ork push; this one was pushed without",
        )
    manifest, _, _ = client.manifest(ref.with_digest(reports[-1].digest))
    unsigned: Json = json.loads(client.blob(ref, manifest.layers[0]))
    return GateReport(unsigned=unsigned)
