"""Checking a pushed artifact against its signed gate report.

:func:`verify` takes a manifest and a way to fetch its signed report layer and answers:

* ``verified``, ``trusted`` or not: every signature holds for the key it carries and that
  key's id is the one claimed; every file layer is a subject of the statement with the same
  digest, and no subject is missing; the config names the signed kind; the content digest
  annotation matches the layers; the annotations' gate records (status, assertions,
  duration, tested-at, runner, cluster) and every other annotation equal the signed ones.
  ``trusted`` when a signer's key is the consumer's own or in ``trusted-keys/``.
* ``unsigned``: no signed report (an artifact from before signing, or one stripped of it).
* ``tampered``: anything above fails; the reasons say what disagrees.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, cast

from orkestra.kubeobjects import Json, JsonDict
from orkestra.registry.artifact import (
    CONTENT,
    E2E,
    KIND_OF_CONFIG,
    SIGNED_REPORT_FILE,
    SIGNED_REPORT_TYPE,
    SIMULATE,
    GateRecord,
    content_digest,
)
from orkestra.registry.errors import ArtifactNotFoundError, IntegrityError
from orkestra.registry.oci import Descriptor, Manifest
from orkestra.registry.trust.dsse import IN_TOTO_PAYLOAD, BadEnvelopeError, open_envelope
from orkestra.registry.trust.keys import Keyring
from orkestra.registry.trust.statement import PREDICATE_TYPE, STATEMENT_TYPE

if TYPE_CHECKING:
    from orkestra.registry.client import RegistryClient
    from orkestra.registry.refs import Reference

VERIFIED, UNSIGNED, TAMPERED = "verified", "unsigned", "tampered"
GATES = (("simulate", SIMULATE), ("e2e", E2E))
#: GateRecord fields as the statement names them, and as the annotations do.
_FIELDS = (
    ("status", "status"),
    ("assertions", "assertions"),
    ("duration", "duration"),
    ("testedAt", "tested_at"),
    ("runner", "runner"),
    ("cluster", "cluster"),
)
_GATE_KEYS = {
    prefix + suffix
    for _, prefix in GATES
    for suffix in ("status", "assertions", "duration", "tested_at", "runner", "cluster")
}

Fetch = Callable[[Descriptor], bytes]


class SignedStatement(TypedDict):
    """A signed statement as :func:`verify` reads it: its types and the shape of
    ``subject`` and ``predicate`` checked, every value inside still untrusted JSON."""

    _type: str
    predicateType: str
    subject: list[Json]
    predicate: JsonDict


@dataclass(frozen=True, kw_only=True)
class Verification:
    """What checking an artifact's signed report found."""

    state: str
    trusted: bool = False
    key_id: str = ""
    public_key: str = ""
    reasons: tuple[str, ...] = ()
    statement: SignedStatement | None = None

    @property
    def proven(self) -> bool:
        """Signed, unchanged, and by a key the consumer trusts: only then ``✓ Verified``."""
        return self.state == VERIFIED and self.trusted

    @property
    def label(self) -> str:
        if self.state == VERIFIED:
            return "verified (trusted)" if self.trusted else "verified (key not trusted)"
        return self.state

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def about(self, gate: str) -> str:
        """Why one gate's line (``simulate``, ``e2e``) cannot be believed: the reasons about
        that gate, else the first about the whole artifact (a file, the signature)."""
        own = [r for r in self.reasons if r.startswith(gate + " ")]
        general = [r for r in self.reasons if not r.startswith(tuple(f"{g} " for g, _ in GATES))]
        if own or general:
            return "; ".join(own or general[:1])
        return "another gate's record disagrees with the signed report"

    def to_json(self) -> JsonDict:
        return {
            "status": self.state,
            "trusted": self.trusted,
            "keyId": self.key_id or None,
            "publicKey": self.public_key or None,
            "reasons": list(self.reasons),
        }


def verify(manifest: Manifest, fetch: Fetch, trusted: Collection[str]) -> Verification:
    """Check ``manifest`` against its signed report (fetched with ``fetch``)."""
    reports = [layer for layer in manifest.layers if layer.media_type == SIGNED_REPORT_TYPE]
    if not reports:
        return Verification(state=UNSIGNED, reasons=("no signed gate report in the artifact",))
    if len(reports) > 1:
        return _tampered("the artifact holds more than one signed report")
    if reports[0].title != SIGNED_REPORT_FILE:
        return _tampered(
            f"the signed report is titled {reports[0].title!r}, not {SIGNED_REPORT_FILE}"
        )
    try:
        signed = open_envelope(fetch(reports[0]))
    except ArtifactNotFoundError:
        return _tampered("the signed report is missing from the registry")
    except IntegrityError as exc:  # BadEnvelopeError, or a blob not matching its digest
        return _tampered(exc.message)
    signer = next((k for k in signed.signers if k.id in trusted), signed.signers[0])
    found = Verification(
        state=VERIFIED, trusted=signer.id in trusted, key_id=signer.id, public_key=signer.pem()
    )
    if signed.payload_type != IN_TOTO_PAYLOAD:
        return _tampered(
            f"the signed payload is {signed.payload_type}, not an in-toto statement", found
        )
    try:
        doc = _statement(signed.body)
    except BadEnvelopeError as exc:
        return _tampered(exc.message, found)
    files = tuple(layer for layer in manifest.layers if layer is not reports[0])
    reasons = check_statement(doc, manifest, files)
    if reasons:
        return _tampered(reasons, found, doc)
    return Verification(
        state=VERIFIED,
        trusted=found.trusted,
        key_id=found.key_id,
        public_key=found.public_key,
        reasons=(),
        statement=doc,
    )


def check(
    client: RegistryClient,
    ref: Reference,
    manifest: Manifest,
    trusted: Collection[str] | None = None,
) -> Verification:
    """:func:`verify` a manifest served for ``ref``, trusting the keys of the client's
    ``ORK_HOME`` unless ``trusted`` (key ids) is given."""
    keys = trusted if trusted is not None else trusted_ids(client)
    return verify(manifest, lambda layer: client.blob(ref, layer), keys)


def trusted_ids(client: RegistryClient) -> set[str]:
    return set(Keyring(client.home, client.env).trusted())


def check_statement(
    doc: SignedStatement, manifest: Manifest, files: tuple[Descriptor, ...]
) -> list[str]:
    """Every way the manifest disagrees with a (validly signed) statement."""
    predicate = doc["predicate"]
    notes = manifest.annotations
    reasons = _subjects(doc["subject"], files)
    kind = KIND_OF_CONFIG.get(manifest.config.media_type, manifest.config.media_type)
    pattern = predicate.get("pattern")
    signed_kind = pattern.get("kind") if isinstance(pattern, dict) else None
    if kind != signed_kind:
        reasons.append(f"the artifact is a {kind}, the signed report is about a {signed_kind}")
    if notes.get(CONTENT) != content_digest(files):
        reasons.append("the layers' titles, media types or order differ from the content digest")
    gates = predicate.get("gates")
    reasons += _gates(gates if isinstance(gates, dict) else {}, notes)
    reasons += _annotations(predicate.get("annotations"), notes)
    return reasons


def _statement(body: bytes) -> SignedStatement:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadEnvelopeError("the signed statement is not JSON") from None
    if (
        not isinstance(doc, dict)
        or doc.get("_type") != STATEMENT_TYPE
        or doc.get("predicateType") != PREDICATE_TYPE
    ):
        raise BadEnvelopeError("the signed statement is not an Orkestra gate report")
    if not isinstance(doc.get("subject"), list) or not isinstance(doc.get("predicate"), dict):
        raise BadEnvelopeError("the signed statement has no subject list or predicate")
    return cast(SignedStatement, doc)  # the keys above were just checked


def _subjects(subjects: list[Json], files: tuple[Descriptor, ...]) -> list[str]:
    signed: dict[str, str] = {}
    for subject in subjects:
        fields = subject if isinstance(subject, dict) else {}
        name, digest = fields.get("name"), fields.get("digest")
        if not isinstance(digest, dict) or not isinstance(name, str):
            return ["the signed statement has a malformed subject"]
        signed[name] = f"sha256:{digest.get('sha256', '')}"
    reasons = []
    for layer in files:
        if layer.title not in signed:
            reasons.append(f"{layer.title or 'an untitled layer'} is not in the signed report")
        elif signed[layer.title] != layer.digest:
            reasons.append(
                f"{layer.title} is not the file that was signed (digest "
                f"{layer.digest[:19]}…, signed {signed[layer.title][:19]}…)"
            )
    titles = {layer.title for layer in files}
    reasons += [
        f"{name} was signed but is missing from the artifact"
        for name in signed
        if name not in titles
    ]
    return reasons


def _gates(gates: Mapping[str, object], notes: dict[str, str]) -> list[str]:
    reasons = []
    for name, prefix in GATES:
        recorded = GateRecord.read(notes, prefix)
        signed = gates.get(name)
        if recorded is None and signed is None:
            continue
        if recorded is None:
            reasons.append(f"{name} result was removed from the annotations")
        elif not isinstance(signed, dict):
            reasons.append(
                f"{name} {recorded.status} is in the annotations, not in the signed report"
            )
        else:
            reasons += [
                f"{name} {label}: the annotations say {_shown(getattr(recorded, attr))}"
                f", the signed report says {_shown(signed.get(label, ''))}"
                for label, attr in _FIELDS
                if _shown(getattr(recorded, attr)) != _shown(signed.get(label, ""))
            ]
    return reasons


def _annotations(signed: object, notes: dict[str, str]) -> list[str]:
    if not isinstance(signed, dict):
        return ["the signed report has no annotations"]
    reasons = []
    for key in sorted(set(signed) | set(notes)):
        if key in _GATE_KEYS or signed.get(key) == notes.get(key):
            continue
        short = key.removeprefix("io.orkestra.")
        if key not in signed:
            reasons.append(f"annotation {short} is not in the signed report")
        elif key not in notes:
            reasons.append(f"annotation {short} was removed")
        else:
            reasons.append(
                f"annotation {short}: the manifest says {notes[key]!r}, the signed "
                f"report says {signed[key]!r}"
            )
    return reasons


def _shown(value: object) -> str:
    return str(value) if str(value) not in ("", "0") else "(none)"


def _tampered(
    why: str | list[str],
    found: Verification | None = None,
    statement: SignedStatement | None = None,
) -> Verification:
    reasons = tuple([why] if isinstance(why, str) else why)
    if found is None:
        return Verification(state=TAMPERED, reasons=reasons)
    return Verification(
        state=TAMPERED,
        trusted=found.trusted,
        key_id=found.key_id,
        public_key=found.public_key,
        reasons=reasons,
        statement=statement,
    )
