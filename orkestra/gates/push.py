"""The publish pipeline behind ``ork push``: validate → simulate → e2e → push.

:func:`publish` runs the gates a pattern's files call for, records each outcome (``passed``,
``no-assertion`` or ``skipped``, with duration, time and runner) in the manifest
annotations before anything is uploaded, signs the gate report (every file's digest, the
results with their assertion lines, the annotations: :mod:`orkestra.registry.trust`) with
the publisher's key into the artifact's last layer, pushes the artifact (a typed katalog
with its hook sources, its ``typed`` annotations and the Orkestra version its code pins as
``runtime_version``; any other pattern with this CLI's version) and records it in the
registry index. Every push is signed (``ORK_SIGNING_KEY``, else the per-user key made on
first use); a key that cannot be read stops the push before any gate runs. A failing gate raises
:class:`GateFailedError` and nothing is pushed. Progress is reported through ``emit`` as
:class:`Event` values so the CLI can print each step as it happens.

The e2e gate runs ``e2e.yaml`` with :mod:`orkestra.e2e` on the cluster ``e2e_cluster``
names (``ORK_E2E_CLUSTER``; by default the embedded API server, so a push works on a
machine without Docker) and records where it ran next to the result, so nobody mistakes
a run on the embedded server (no kubelet) for one on a real cluster.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from orkestra import __version__
from orkestra import markdown as md
from orkestra.compose import Composed, MotifResolver
from orkestra.compose.load import compose_document
from orkestra.errors import OrkError, UsageError
from orkestra.files import shown, write_atomic
from orkestra.gates.pattern import (
    PatternDir,
    PushBlockedError,
    check_ci_tag,
    check_crd_file,
    code_files,
    detect_pattern,
    local_imports,
    pinned_runtime,
    push_target,
    with_version,
)
from orkestra.gates.republish import (
    Previous,
    behaviour,
    check_content,
    check_gates,
    previous_push,
)
from orkestra.hooks.spec import code_ref, model_ref
from orkestra.kubeobjects import JsonDict
from orkestra.model.deprecation import Deprecation, deprecation_of
from orkestra.model.document import Document
from orkestra.model.errors import Problem
from orkestra.model.loader import load_document
from orkestra.registry.artifact import (
    CLUSTER_LABELS,
    EMBEDDED,
    OPTIONAL_FILES,
    GateRecord,
    Metadata,
    PatternArtifact,
    PatternFile,
    Typed,
    collect_files,
)
from orkestra.registry.client import RegistryClient, Settlement
from orkestra.registry.errors import RegistryError
from orkestra.registry.oci import MANIFEST_MEDIA_TYPE, Descriptor, Manifest
from orkestra.registry.records import PushRecord, claim_time
from orkestra.registry.refs import Reference
from orkestra.registry.sources import RegistrySource
from orkestra.registry.trust.keys import Keyring, SigningKey
from orkestra.registry.trust.statement import GateDetails, sign_artifact
from orkestra.units import format_duration, format_size, format_timestamp

if TYPE_CHECKING:
    # The gates' own machinery is imported where a gate runs: a push that skips them
    # (--force, --no-simulate, no simulate.yaml) does not pay for the simulator's or the
    # e2e runner's imports.
    from orkestra.e2e.result import ExpectationResult, RunResult
    from orkestra.e2e.spec import Suite
    from orkestra.e2e.targets import Cluster
    from orkestra.simulate.gate import Outcome

_RUNNERS = (
    ("GITHUB_ACTIONS", "github-actions"),
    ("GITLAB_CI", "gitlab-ci"),
    ("CIRCLECI", "circleci"),
    ("JENKINS_URL", "jenkins"),
    ("BUILDKITE", "buildkite"),
    ("DRONE", "drone"),
    ("CI", "ci"),
)


@dataclass(frozen=True, kw_only=True)
class PushOptions:
    force: bool = False
    update_meta: bool = False
    no_simulate: bool = False
    no_e2e: bool = False
    e2e_file: str | None = None
    e2e_cluster: str | None = None
    overwrite: bool = False
    #: Run the gates and build the artifact, upload nothing.
    dry_run: bool = False


@dataclass(frozen=True)
class Event:
    """Something ``ork push`` reports while it works."""


@dataclass(frozen=True)
class Started(Event):
    shown_ref: str
    kind: str
    registry: str
    ref: Reference


@dataclass(frozen=True)
class Warned(Event):
    text: str


@dataclass(frozen=True)
class FileChecked(Event):
    name: str
    note: str


@dataclass(frozen=True)
class Deprecated(Event):
    notice: Deprecation


@dataclass(frozen=True)
class GateSkipped(Event):
    gate: str


@dataclass(frozen=True)
class NoAssertions(Event):
    file: str


@dataclass(frozen=True)
class GateRunning(Event):
    gate: str
    file: str


@dataclass(frozen=True)
class GatePassed(Event):
    gate: str
    duration: str
    where: str = ""


@dataclass(frozen=True)
class GateRecorded(Event):
    """What a gate recorded (passed, no-assertion or skipped), before the next one runs."""

    gate: str
    record: GateRecord


@dataclass(frozen=True)
class Uploading(Event):
    name: str
    size: int


@dataclass(frozen=True)
class MetaUpdated(Event):
    file: str
    version: str


@dataclass(frozen=True)
class Replacing(Event):
    """The version existed: the push replaced the artifact its tag named."""

    previous: str
    draft: bool
    ref: Reference


@dataclass(frozen=True)
class AlsoPushingMotif(Event):
    registry: str


Emit = Callable[[Event], None]


class GateFailedError(OrkError):
    """A gate failed: nothing was pushed. ``problems``: the failures that have a place in a
    file (CI annotates them)."""

    def __init__(
        self, gate: str, details: list[str], problems: list[Problem] | None = None
    ) -> None:
        self.gate = gate
        self.details = details
        self.problems = problems or []
        command = "ork simulate" if gate == "Simulate" else "ork e2e"
        lines = [
            f"✗ {gate} gate failed — push blocked",
            f"  Run '{command}' to see the failures",
            "  Use --force to override (recorded in the artifact)",
        ]
        super().__init__("\n".join(lines + ([""] + details if details else [])))


@dataclass(kw_only=True)
class Published:
    """What a push produced, or under ``dry_run`` would have: nothing was uploaded."""

    ref: Reference
    kind: str
    #: The manifest's digest and size (a dry run's: the manifest it built).
    digest: str
    size: int
    #: The manifest: its config, layers (media type, size, digest) and annotations.
    manifest: Manifest
    files: list[tuple[str, int]]
    simulate: GateRecord | None
    e2e: GateRecord | None
    warnings: list[str] = field(default_factory=list)
    motif: Published | None = None
    #: The id of the key that signed the gate report.
    signed_by: str = ""
    #: The digest the tag named before this push (empty for a new version).
    replaced: str = ""
    dry_run: bool = False


def detect_runner(env: Mapping[str, str] | None = None) -> str:
    """Where the gates ran, from the CI environment variables."""
    env = os.environ if env is None else env
    for variable, name in _RUNNERS:
        value = env.get(variable, "")
        if (variable == "JENKINS_URL" and value) or value.lower() == "true":
            return name
    return "local"


def publish(
    directory: Path,
    ref_text: str | None,
    options: PushOptions,
    emit: Emit,
    client: RegistryClient | None = None,
    *,
    kind: str | None = None,
) -> Published:
    """Gate and push the pattern in ``directory`` (``kind``: the one to push when the
    directory holds both); raises when a gate or the push fails. Under
    ``options.dry_run`` the gates run and the artifact is built, but nothing is uploaded
    and the pattern file is left as it is."""
    client = client or RegistryClient()
    prepared = _prepare(directory, ref_text, options, emit, client, kind)
    manifest = prepared.artifact.manifest()
    if options.dry_run:
        result = _published(
            prepared, manifest, Descriptor.of(manifest.to_bytes(), MANIFEST_MEDIA_TYPE)
        )
    else:
        result = _upload(prepared, manifest, emit, client)
    if prepared.pattern.kind == "Katalog" and (directory / "motif.yaml").is_file():
        result.motif = _also_push_motif(
            directory, prepared.version, prepared.name, options, emit, client, result
        )
    return result


@dataclass(frozen=True, kw_only=True)
class _Prepared:
    """A gated and signed artifact, and what its upload needs."""

    pattern: PatternDir
    name: str
    ref: Reference
    version: str
    artifact: PatternArtifact
    previous: Previous | None
    #: The primary file with the tag as its version (``--update-meta``), else None.
    rewritten: bytes | None
    signed_by: str
    dry_run: bool
    warnings: list[str]


def _prepare(
    directory: Path,
    ref_text: str | None,
    options: PushOptions,
    emit: Emit,
    client: RegistryClient,
    kind: str | None,
) -> _Prepared:
    """Validate, run the gates and sign the artifact: everything but the upload."""
    emit = checked = _Checked(emit)
    pattern = detect_pattern(directory, kind)
    resolver = MotifResolver(registry=RegistrySource(client=client))
    doc = load_document(pattern.primary, kinds=(pattern.kind,), display=shown(pattern.primary))
    check_ci_tag(doc)
    target = push_target(ref_text, doc, pattern.kind, client, update_meta=options.update_meta)
    ref = target.ref
    key = Keyring(client.home, client.env).signing_key()
    emit(Started(ref_text or ref.short_name, pattern.kind, ref.location, ref))
    composed = _validate(pattern, doc, resolver, emit)
    notice = deprecation_of(doc.data)
    if notice is not None:
        emit(Deprecated(notice))
    _check_files(pattern, emit)
    warnings: list[str] = []
    code = _code_files(pattern, composed, emit, warnings)
    typed = _typed(composed)
    runtime = (pinned_runtime(directory) if typed.any else None) or f"v{__version__}"
    primary = pattern.primary.read_bytes()
    rewritten = None
    if options.update_meta and target.version != doc.version:
        primary = rewritten = with_version(primary.decode("utf-8"), target.version).encode("utf-8")
    files = collect_files(directory, pattern.kind, primary) + code
    previous = _previous(client, ref, files, pattern.kind, notice is not None, options)
    simulate = _recorded("Simulate", _simulate_gate(pattern, options, resolver, emit), emit)
    e2e = _recorded("E2E", _e2e_gate(pattern, options, emit), emit)
    if previous is not None and not options.overwrite:
        check_gates(
            ref,
            previous,
            simulate.record.status if simulate else "",
            e2e.record.status if e2e else "",
        )
    artifact = _signed(
        PatternArtifact(
            metadata=_metadata(doc, pattern.kind, target.version, notice),
            files=files,
            simulate=simulate.record if simulate else None,
            e2e=e2e.record if e2e else None,
            typed=typed,
            runtime_version=runtime,
        ),
        checked.files,
        simulate,
        e2e,
        key,
    )
    return _Prepared(
        pattern=pattern,
        name=doc.name,
        ref=ref,
        version=target.version,
        artifact=artifact,
        previous=previous,
        rewritten=rewritten,
        signed_by=key.public.id,
        dry_run=options.dry_run,
        warnings=warnings,
    )


_Gate = TypeVar("_Gate", "SimulateResult", "E2EResult")


def _recorded(gate: str, result: _Gate | None, emit: Emit) -> _Gate | None:
    if result is not None:
        emit(GateRecorded(gate, result.record))
    return result


def _upload(
    prepared: _Prepared, manifest: Manifest, emit: Emit, client: RegistryClient
) -> Published:
    """Upload the artifact, take its tag, refresh the index (and write the rewritten
    pattern file)."""
    ref, previous = prepared.ref, prepared.previous
    data = client.upload_blobs(
        prepared.artifact, ref, lambda name, size: emit(Uploading(name, size))
    )
    pushed = Descriptor.of(data, MANIFEST_MEDIA_TYPE)
    settled = client.settle(ref, _record(prepared.artifact, pushed, previous), data)
    prepared.warnings.extend(_refresh_index(client, ref, emit, settled))
    if not settled.won:
        raise SupersededError(ref, pushed.digest, settled)
    if previous is not None:
        emit(Replacing(previous.digest, previous.draft, ref))
    if prepared.rewritten is not None:
        write_atomic(prepared.pattern.primary, prepared.rewritten)
        emit(MetaUpdated(prepared.pattern.primary.name, prepared.version))
    return _published(prepared, manifest, pushed)


def _published(prepared: _Prepared, manifest: Manifest, pushed: Descriptor) -> Published:
    artifact = prepared.artifact
    return Published(
        ref=prepared.ref,
        kind=prepared.pattern.kind,
        digest=pushed.digest,
        size=pushed.size,
        manifest=manifest,
        files=[(f.name, len(f.data)) for f in artifact.files],
        simulate=artifact.simulate,
        e2e=artifact.e2e,
        warnings=prepared.warnings,
        signed_by=prepared.signed_by,
        replaced=prepared.previous.digest if prepared.previous else "",
        dry_run=prepared.dry_run,
    )


def _previous(
    client: RegistryClient,
    ref: Reference,
    files: tuple[PatternFile, ...],
    kind: str,
    deprecated: bool,
    options: PushOptions,
) -> Previous | None:
    """What the tag names before this push, checked against the re-push rules (before
    any gate runs: no gate result could make a refused re-push acceptable)."""
    previous = previous_push(client, ref)
    if previous is not None and not options.overwrite:
        check_content(
            ref, previous, behaviour({f.name: f.data for f in files}, kind, client), deprecated
        )
    return previous


def _validate(
    pattern: PatternDir, doc: Document, resolver: MotifResolver, emit: Emit
) -> Composed | None:
    composed = None
    if pattern.kind == "Katalog":
        blocked = local_imports(doc, resolver.registry.client)
        if blocked:
            raise PushBlockedError(pattern.primary.name, blocked)
        composed = compose_document(doc, resolver)
    emit(FileChecked(pattern.primary.name, "valid"))
    return composed


def _check_files(pattern: PatternDir, emit: Emit) -> None:
    """Check and list the optional files that travel, in the artifact's order."""
    for name in OPTIONAL_FILES[pattern.kind]:
        path = pattern.directory / name
        if not path.is_file():
            continue
        if name == "crd.yaml":
            check_crd_file(path)
            emit(FileChecked(path.name, "valid"))
            continue
        if path.name in ("simulate.yaml", "e2e.yaml"):
            load_document(
                path,
                kinds=("Simulate",) if path.name == "simulate.yaml" else ("E2E",),
                display=shown(path),
            )
        emit(FileChecked(path.name, f"({format_size(path.stat().st_size)})"))


def _code_files(
    pattern: PatternDir, composed: Composed | None, emit: Emit, warnings: list[str]
) -> tuple[PatternFile, ...]:
    """The hook sources of the modules the katalog's CRDs name (hooks, constructor, CR
    model), listed like the other files; a module not beside the katalog is warned about:
    it can only come from the runtime image."""
    if composed is None:
        return ()
    refs = [r for e in composed.crds.values() for r in (code_ref(e), model_ref(e)) if r is not None]
    if not refs:
        return ()
    code = code_files(pattern.directory, [r.module for r in refs])
    for module in code.missing:
        warnings.append(
            f'Python module "{module}" is not beside {pattern.primary.name}: '
            "not published (the runtime image must install it)"
        )
        emit(Warned(warnings[-1]))
    for file in code.files:
        emit(FileChecked(file.name, f"({format_size(len(file.data))})"))
    return code.files


@dataclass(frozen=True)
class SimulateResult:
    record: GateRecord
    outcome: Outcome | None = None


def _simulate_gate(
    pattern: PatternDir, options: PushOptions, resolver: MotifResolver, emit: Emit
) -> SimulateResult | None:
    path = pattern.directory / "simulate.yaml"
    if pattern.kind != "Katalog" or not path.is_file():
        return None
    if options.force or options.no_simulate:
        emit(GateSkipped("Simulate"))
        return SimulateResult(GateRecord(status="skipped"))
    from orkestra.simulate.gate import run_specs
    from orkestra.simulate.spec import load_specs

    specs = load_specs(path, shown(path))
    if all(spec.expect is None for spec in specs):
        emit(NoAssertions(path.name))
        return SimulateResult(GateRecord(status="no-assertion"))
    emit(GateRunning("Simulate", path.name))
    tested_at = _now()
    outcome = run_specs(specs, shown(path), resolver=resolver)
    if not outcome.passed:
        raise GateFailedError(
            "Simulate",
            _failures(outcome),
            [p for report in outcome.reports for p in report.problems],
        )
    duration = format_duration(outcome.seconds)
    emit(GatePassed("Simulate", duration))
    return SimulateResult(
        GateRecord(
            status="passed", duration=duration, tested_at=tested_at, assertions=outcome.assertions
        ),
        outcome,
    )


def _failures(outcome: Outcome) -> list[str]:
    lines = []
    for report in outcome.reports:
        for check in report.checks or []:
            if not check.passed:
                lines.append(f"  {check.line}")
        passed, total = report.counted
        lines.append(
            f"  {passed}/{total} assertions passed, {total - passed} failed"
            if passed < total
            else f"  {report.run.crd}: cycle errors"
        )
    return lines


@dataclass(frozen=True)
class E2EResult:
    record: GateRecord
    result: RunResult | None = None


def _e2e_gate(pattern: PatternDir, options: PushOptions, emit: Emit) -> E2EResult | None:
    if pattern.kind != "Katalog":
        return None
    name = options.e2e_file or "e2e.yaml"
    path = Path(name) if Path(name).is_absolute() else pattern.directory / name
    if options.force or options.no_e2e:
        emit(GateSkipped("E2E"))
        return E2EResult(GateRecord(status="skipped", runner=detect_runner()))
    if not path.is_file():
        if options.e2e_file:
            raise OrkError(f"e2e file {options.e2e_file} not found in {pattern.directory}")
        return None
    from orkestra.e2e.spec import load_suite

    suite = load_suite(path, name)
    cluster = options.e2e_cluster or os.environ.get("ORK_E2E_CLUSTER") or EMBEDDED
    if cluster not in CLUSTER_LABELS:
        raise UsageError(
            f"unknown e2e cluster {cluster!r}",
            hint=f"one of {', '.join(CLUSTER_LABELS)} (--e2e-cluster or ORK_E2E_CLUSTER)",
        )
    # Imported here: the runner brings the runtime and its HTTP stack, which a push
    # without an e2e.yaml should not pay for.
    from orkestra.e2e.runner import Options as E2EOptions
    from orkestra.e2e.runner import run as run_e2e

    emit(GateRunning("E2E", name))
    tested_at = _now()
    result = run_e2e(suite, E2EOptions(cluster_kind=cluster), _QuietProgress())
    if not result.passed:
        raise GateFailedError("E2E", _e2e_failures(result))
    duration = format_duration(result.seconds)
    where = result.suites[0].cluster if result.suites else cluster
    emit(GatePassed("E2E", duration, CLUSTER_LABELS[where]))
    return E2EResult(
        GateRecord(
            status="passed",
            duration=duration,
            tested_at=tested_at,
            assertions=result.total,
            runner=detect_runner(),
            cluster=where,
        ),
        result,
    )


class _QuietProgress:
    """The push prints the gate's outcome, not its steps."""

    def step(self, text: str) -> None:
        pass

    def done(self, text: str) -> None:
        pass

    def expectation(self, result: ExpectationResult) -> None:
        pass

    def suite(self, suite: Suite, cluster: Cluster) -> None:
        pass


def _e2e_failures(result: RunResult) -> list[str]:
    from orkestra.e2e.report import expectation_line

    lines = []
    for suite in result.suites:
        where = CLUSTER_LABELS.get(suite.cluster, suite.cluster)
        failed = [e for e in suite.expectations if not e.passed]
        for expectation in failed:
            lines += [f"  {line}" for line in expectation_line(expectation, 0)]
        if suite.error:
            lines.append(f"  ✗ {suite.error}")
        if suite.leftovers:
            lines.append(f"  ✗ left behind: {', '.join(suite.leftovers)}")
        lines.append(
            f"  {len(suite.expectations) - len(failed)}/{suite.total} expectations "
            f"passed on the {where}"
        )
    return lines


def _metadata(doc: Document, kind: str, version: str, notice: Deprecation | None) -> Metadata:
    meta = doc.metadata
    default_description = f"{'Motif' if kind == 'Motif' else 'Pattern'} {doc.name}"
    return Metadata(
        kind=kind,
        name=doc.name,
        version=version,
        description=str(meta.get("description") or default_description),
        author=str(meta.get("author") or ""),
        license=str(meta.get("license") or ""),
        tags=tuple(str(t) for t in meta.get("tags") or ()),
        deprecation=notice,
    )


def _typed(composed: Composed | None) -> Typed:
    """Which code the CRDs run: hooks, or a constructor (with ``default: false``)."""
    if composed is None:
        return Typed()
    blocks = {ref.block for ref in map(code_ref, composed.crds.values()) if ref is not None}
    return Typed("hooks" in blocks, "constructor" in blocks)


def _record(artifact: PatternArtifact, pushed: Descriptor, previous: Previous | None) -> PushRecord:
    meta = artifact.metadata
    return PushRecord(
        name=meta.name,
        version=meta.version,
        kind=meta.kind,
        digest=pushed.digest,
        claimedAt=claim_time(),
        replaces=previous.digest if previous is not None else "",
        description=meta.description,
        tags=meta.tags,
        author=meta.author,
        simulateStatus=artifact.simulate.status if artifact.simulate else "",
        e2eStatus=artifact.e2e.status if artifact.e2e else "",
        deprecated=meta.deprecation is not None,
    )


def _refresh_index(
    client: RegistryClient, ref: Reference, emit: Emit, settled: Settlement
) -> list[str]:
    """Rebuild the index cache (the records settling read are not fetched again); a
    failure here warns: the push record is written, and the next push or ``ork patterns``
    rebuilds it."""
    try:
        client.refresh_index(ref, settled)
    except RegistryError as exc:
        emit(
            Warned(
                f"index update failed: {exc.message} (the next push or 'ork patterns' catches up)"
            )
        )
        return [f"index update failed: {exc.message}"]
    return []


class SupersededError(OrkError):
    """Another push of the same version won its tag."""

    def __init__(self, ref: Reference, digest: str, settled: Settlement) -> None:
        how = (
            "a later push replaced it"
            if settled.moved_on
            else "a push of the same version that started first won the tag"
        )
        super().__init__(
            f"✗ Superseded: {ref.short_name} now names {settled.digest} ({how}); this "
            f"artifact ({digest}) was uploaded but is not tagged",
            hint=f"it stays pullable as {ref.name}@{digest} and is listed in the index "
            f"history; see what won with 'ork inspect {ref.short_name}'",
        )


# -- the signed gate report ------------------------------------------------------------------
class _Checked:
    """Passes events on, noting the files the validate gate checked."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.files: list[str] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, FileChecked):
            self.files.append(event.name)
        self.emit(event)


def _signed(
    artifact: PatternArtifact,
    checked: list[str],
    simulate: SimulateResult | None,
    e2e: E2EResult | None,
    key: SigningKey,
) -> PatternArtifact:
    """The artifact with its gate report signed in: what each gate checked, line by line."""
    details = GateDetails(
        validated=tuple(checked),
        simulate=_simulate_details(simulate.outcome) if simulate and simulate.outcome else {},
        e2e=_e2e_details(e2e.result) if e2e and e2e.result else {},
        runner=detect_runner(),
        tool_version=__version__,
    )
    return sign_artifact(artifact, details, key)


def _simulate_details(outcome: Outcome) -> JsonDict:
    from orkestra.simulate.report import run_json

    counted = [report.counted for report in outcome.reports]
    return {
        "counts": {"passed": sum(p for p, _ in counted), "total": sum(t for _, t in counted)},
        "checks": [c.line for report in outcome.reports for c in report.checks or []],
        "runs": [run_json(report) for report in outcome.reports],
    }


def _e2e_details(result: RunResult) -> JsonDict:
    from orkestra.e2e.report import expectation_line

    expectations = [e for suite in result.suites for e in suite.expectations]
    return {
        "counts": {"passed": sum(e.passed for e in expectations), "total": result.total},
        "checks": [line for e in expectations for line in expectation_line(e, 0)[:1]],
        "suites": [
            {
                "name": suite.name,
                "cluster": suite.cluster,
                "expectations": [
                    {
                        "name": e.name,
                        "passed": e.passed,
                        "checks": [{"label": c.label, "passed": c.passed} for c in e.checks],
                    }
                    for e in suite.expectations
                ],
            }
            for suite in result.suites
        ],
    }


def _also_push_motif(
    directory: Path,
    version: str,
    name: str,
    options: PushOptions,
    emit: Emit,
    client: RegistryClient,
    katalog: Published,
) -> Published | None:
    motif_ref = client.resolve(f"{name}:{version}", "Motif")
    emit(AlsoPushingMotif(motif_ref.location))
    try:
        return publish(directory, f"{name}:{version}", options, emit, client, kind="Motif")
    except OrkError as exc:
        katalog.warnings.append(f"motif push failed: {exc.message}")
        emit(Warned(katalog.warnings[-1]))
        return None


def _now() -> str:
    return format_timestamp(datetime.datetime.now(datetime.UTC))


# -- Markdown for CI job summaries ------------------------------------------------------------
_GATE_WORDS = {"passed": "✓ passed", "skipped": "⊘ skipped", "no-assertion": "⚠ no assertions"}


def markdown(result: Published) -> str:
    """A push as Markdown: the reference, the digest and what each gate recorded."""
    done = "dry run (nothing uploaded) of" if result.dry_run else "pushed"
    lines = [
        f"## ork push: {done} {md.text(str(result.ref))}",
        "",
        f"Digest: `{result.digest}`",
        "",
    ]
    if result.signed_by:
        lines[-1:-1] = ["", f"Gate report signed by `{result.signed_by}`"]
    if result.kind == "Katalog":
        rows = [
            [
                gate,
                _GATE_WORDS.get(r.status, r.status) if r else "not run",
                str(r.assertions or "") if r else "",
                r.duration if r else "",
                CLUSTER_LABELS.get(r.cluster, r.cluster) if r and r.cluster else where,
            ]
            for gate, r, where in (
                ("Simulate", result.simulate, "in memory"),
                ("E2E", result.e2e, ""),
            )
        ]
        lines += [*md.table(["Gate", "Result", "Assertions", "Duration", "Ran on"], rows), ""]
    lines += [f"- ⚠ {md.text(w)}" for w in result.warnings]
    if result.motif is not None:
        lines += ["", markdown(result.motif)]
    return "\n".join(lines)


def markdown_blocked(directory: Path, error: OrkError) -> str:
    """A push that did not happen: why, as the command said it (the pattern named by its
    directory, ``.`` included)."""
    name = directory.resolve().name or shown(directory)
    return "\n".join(
        [f"## ork push: blocked ({md.text(name)})", "", *md.fenced(error.render()), ""]
    )
