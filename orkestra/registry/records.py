"""Push records: one small artifact per push, the registry index's source of truth.

An OCI Distribution registry cannot refuse a stale manifest write, so no read-modify-write
of one shared index can be made safe. Instead every push adds its own record to the index
repository (``<parent>/index``): an artifact of type :data:`RECORD_ARTIFACT_TYPE` tagged
``<name>_<version>_<12 hex digits of the pushed digest>``, unique per push and never
rewritten. The record holds what the index shows about the push (kind, description, gate
statuses, deprecation), the pushed manifest's digest, and the digest the push meant to
replace (``replaces``: what the tag named when the publisher checked, empty for a new
version). ``index:latest`` is then a cache rebuilt from the records
(:func:`orkestra.registry.index.rebuild`), so a writer that lost a race heals on the next
push or ``ork patterns``.

The same records settle pushes of one version racing for its tag (there is no
compare-and-set in the distribution API): pushes that meant to replace the same digest are
rivals, and the first to write the tag wins. A rival that finds another rival in the tag
yields and writes its record again, marked ``supersededBy``; the winner, while it still sees
rivals, waits and checks that the tag stays its own, so a rival that read the tag just
before the winner wrote it (and so writes it too) is seen and settled; see
:meth:`orkestra.registry.client.RegistryClient.settle`. The chain of winners
(:func:`current`) is the version's history; every superseded push stays pullable by digest.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from orkestra.kubeobjects import JsonDict
from orkestra.registry.errors import IntegrityError
from orkestra.registry.oci import EMPTY_JSON, EMPTY_MEDIA_TYPE, Descriptor, Manifest

RECORD_ARTIFACT_TYPE = "application/vnd.orkestra.index.record.v1+json"
RECORD_ANNOTATION = "io.orkestra.index.record"
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_TAG = 128


@dataclass(frozen=True, kw_only=True)
class PushRecord:
    """One push of one pattern version, as the index repository keeps it."""

    name: str
    version: str
    kind: str
    digest: str
    claimedAt: str  # noqa: N815 - the JSON key
    replaces: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    author: str = ""
    simulateStatus: str = ""  # noqa: N815
    e2eStatus: str = ""  # noqa: N815
    deprecated: bool = False
    supersededBy: str = ""  # noqa: N815
    """Set on the second record of a push that lost the tag to a rival: the rival."""

    @property
    def tag(self) -> str:
        """The record's tag in the index repository."""
        tag = version_prefix(self.name, self.version) + self.digest.split(":")[-1][:12]
        return tag + "-superseded" if self.supersededBy else tag

    @property
    def order(self) -> tuple[str, str]:
        """Rivals are ranked by claim time, then digest: every writer agrees on it."""
        return self.claimedAt, self.digest

    def to_json(self) -> JsonDict:
        out = asdict(self)
        out["tags"] = list(self.tags)
        return out

    @classmethod
    def from_json(cls, value: Any, where: str) -> PushRecord:
        if not isinstance(value, dict):
            raise IntegrityError(f"{where}: a push record must be a JSON object")
        texts = {
            key: value.get(key, "")
            for key in (
                "name",
                "version",
                "kind",
                "digest",
                "claimedAt",
                "replaces",
                "description",
                "author",
                "simulateStatus",
                "e2eStatus",
                "supersededBy",
            )
        }
        tags = value.get("tags") or []
        if not all(isinstance(v, str) for v in texts.values()) or not isinstance(tags, list):
            raise IntegrityError(f"{where}: a push record field has the wrong type")
        if not (texts["name"] and texts["version"] and texts["digest"].startswith("sha256:")):
            raise IntegrityError(
                f"{where}: a push record needs a name, a version and a sha256 digest"
            )
        return cls(
            **texts, tags=tuple(str(t) for t in tags), deprecated=value.get("deprecated") is True
        )

    def manifest(self) -> Manifest:
        """The record as an OCI artifact: empty config and layer, the record annotated."""
        empty = Descriptor.of(EMPTY_JSON, EMPTY_MEDIA_TYPE)
        text = json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)
        return Manifest(
            config=empty,
            layers=(empty,),
            annotations={RECORD_ANNOTATION: text},
            artifact_type=RECORD_ARTIFACT_TYPE,
        )

    @classmethod
    def read(cls, manifest: Manifest, where: str) -> PushRecord:
        if manifest.artifact_type != RECORD_ARTIFACT_TYPE:
            raise IntegrityError(f"{where} is not a push record")
        try:
            value = json.loads(manifest.annotations.get(RECORD_ANNOTATION, ""))
        except ValueError:
            raise IntegrityError(f"{where}: the push record is not JSON") from None
        return cls.from_json(value, where)


def claim_time() -> str:
    """Now, to the microsecond (the history is ordered by it; ``SOURCE_DATE_EPOCH`` does
    not apply: it would make every claim a tie)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_prefix(name: str, version: str) -> str:
    """The tag prefix shared by every record of ``name`` at ``version``."""
    prefix = f"{_TAG_UNSAFE.sub('-', name)}_{_TAG_UNSAFE.sub('-', version)}_"
    if len(prefix) + 12 > _MAX_TAG or not prefix[0].isalnum():
        prefix = "r_" + hashlib.sha256(f"{name}\0{version}".encode()).hexdigest()[:32] + "_"
    return prefix


def is_record_tag(tag: str) -> bool:
    return tag.count("_") >= 2


def pushes(records: Iterable[PushRecord]) -> list[PushRecord]:
    """One record per pushed digest: the ``supersededBy`` one for a push that lost."""
    found: dict[str, PushRecord] = {}
    for record in records:
        if record.digest not in found or record.supersededBy:
            found[record.digest] = record
    return list(found.values())


def rivals(records: Iterable[PushRecord], claim: PushRecord) -> list[PushRecord]:
    """The pushes still racing ``claim`` for its version's tag: same version, same base,
    not yielded."""
    return [
        r
        for r in pushes(records)
        if (r.name, r.version, r.replaces) == (claim.name, claim.version, claim.replaces)
        and not r.supersededBy
    ]


def successors(records: Iterable[PushRecord], claim: PushRecord) -> list[PushRecord]:
    """The pushes of ``claim``'s version checked against it (they found it in the tag)."""
    return [
        r
        for r in pushes(records)
        if (r.name, r.version, r.replaces) == (claim.name, claim.version, claim.digest)
    ]


def winner(contenders: Iterable[PushRecord]) -> PushRecord:
    """The rival that won: the one that did not yield (the earliest claim, should a
    rival have stopped before it could tell)."""
    return min(contenders, key=lambda r: r.order)


def current(records: Iterable[PushRecord]) -> PushRecord | None:
    """The record a version's tag settles on: from the first generation (the rivals whose
    base no record produced), follow each generation's winner to the pushes that replaced
    it, until nothing replaced it."""
    by_base: dict[str, list[PushRecord]] = {}
    for record in pushes(records):
        if not record.supersededBy:
            by_base.setdefault(record.replaces, []).append(record)
    produced = {r.digest for group in by_base.values() for r in group}
    firsts = [group for base, group in by_base.items() if base not in produced]
    if not firsts:
        return None
    chosen, seen = winner(r for group in firsts for r in group), set()
    while chosen.digest in by_base and chosen.digest not in seen:
        seen.add(chosen.digest)
        chosen = winner(by_base[chosen.digest])
    return chosen
