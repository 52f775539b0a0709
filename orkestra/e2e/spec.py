"""What to test: an ``e2e.yaml`` made concrete (files resolved, durations in seconds).

The file's shape is checked by :mod:`orkestra.model` (the ``E2E`` format: unknown keys,
types, durations, did-you-mean); this module adds what needs the file system (every file
named must exist) and the defaults of the reference format: an empty ``namespace`` means
``default``, an unset ``count`` means "at least one", ``count: 0`` means "must not
exist", ``setup`` as a plain list means ``apply``, and the CRD falls back to the
katalog's ``crdFile`` entries. The data files (CR, CRD, setup manifests, Helm values) must
be regular files inside the e2e file's directory or the katalog's (``..`` and symbolic
links resolved; ``ORK_ALLOWED_ROOTS`` adds directories), within ``ORK_MAX_YAML_BYTES``; the
katalog and imported e2e files are patterns of their own and may live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Required, TypedDict, cast

from orkestra.kubeobjects import Json, JsonDict, JsonObject
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath
from orkestra.model.loader import load_document
from orkestra.model.shapes import E2EImport, Scalar
from orkestra.model.source import reference_problem
from orkestra.units import DurationError, parse_duration

DEFAULT_TIMEOUT = 60.0
DEFAULT_WAIT_TIMEOUT = 30.0
CR_APPLIED, CR_DELETED = "cr-applied", "cr-deleted"


# -- the ``spec`` of an e2e.yaml, as the E2E format checked it ---------------------------


class ResourceCheckSpec(TypedDict, total=False):
    kind: Required[str]
    name: str
    namespace: str
    ready: bool
    count: int


class CommandSpec(TypedDict, total=False):
    run: Required[str]
    exitCode: int
    outputContains: str


class KubectlGetSpec(TypedDict, total=False):
    kind: Required[str]
    name: str
    namespace: str
    field: Required[str]
    equals: Scalar


class KubectlSpec(TypedDict, total=False):
    get: list[KubectlGetSpec]


class ExpectationSpec(TypedDict, total=False):
    name: Required[str]
    after: str
    timeout: str
    resources: list[ResourceCheckSpec]
    commands: list[CommandSpec]
    kubectl: KubectlSpec


class ClusterBlock(TypedDict, total=False):
    provider: str
    name: str
    reuse: bool


class WaitSpec(TypedDict, total=False):
    kind: Required[str]
    name: Required[str]
    namespace: str
    ready: bool
    timeout: str


class SetupSpec(TypedDict, total=False):
    apply: list[str]
    helm: list[Json]  # free-form in the format: :func:`_helm` checks each entry
    wait: list[WaitSpec]


class CustomBlock(TypedDict, total=False):
    target: str


class SuiteSpec(TypedDict, total=False):
    katalog: str
    crd: str
    cr: str
    customOperator: bool
    custom: CustomBlock
    init: JsonObject
    cluster: ClusterBlock
    setup: list[str] | SetupSpec
    valuesFiles: list[str]
    expect: list[ExpectationSpec]


@dataclass(frozen=True, kw_only=True)
class ResourceCheck:
    """Objects of ``kind`` (named, or any) in ``namespace``: how many, and ready."""

    kind: str
    name: str = ""
    namespace: str = "default"
    ready: bool = False
    count: int | None = None

    @property
    def label(self) -> str:
        what = f"{self.kind} {self.name}" if self.name else f"{self.kind} (any)"
        if self.count == 0:
            return f"{what} gone"
        return f"{what} ready" if self.ready else f"{what} exists"


@dataclass(frozen=True)
class CommandCheck:
    """A shell command, its expected exit code and a text its output must contain."""

    run: str
    exit_code: int = 0
    output_contains: str = ""


@dataclass(frozen=True, kw_only=True)
class FieldCheck:
    """``kubectl get`` of one object's field (a JSONPath such as ``.spec.replicas``)."""

    kind: str
    name: str
    namespace: str
    field: str
    equals: str | None = None


@dataclass(frozen=True, kw_only=True)
class Expectation:
    name: str
    after: str = CR_APPLIED
    timeout: float = DEFAULT_TIMEOUT
    resources: tuple[ResourceCheck, ...] = ()
    commands: tuple[CommandCheck, ...] = ()
    fields: tuple[FieldCheck, ...] = ()

    @property
    def checks(self) -> int:
        return len(self.resources) + len(self.commands) + len(self.fields)


@dataclass(frozen=True)
class WaitCheck:
    """``setup.wait``: an object that must be ready before the CR is applied."""

    kind: str
    name: str
    namespace: str = "default"
    timeout: float = DEFAULT_WAIT_TIMEOUT


@dataclass(frozen=True, kw_only=True)
class HelmRelease:
    chart: str
    release: str
    namespace: str = "default"
    repo: str = ""
    version: str = ""
    value_files: tuple[Path, ...] = ()
    values: JsonDict = field(default_factory=dict)
    create_namespace: bool = False


@dataclass(frozen=True)
class ClusterSpec:
    provider: str = "kind"
    name: str = "ork-e2e"
    reuse: bool = False


@dataclass(kw_only=True)
class Suite:
    """One e2e test: the pattern, the CR, the setup and the expectations, in order."""

    name: str
    file: Path
    display: str
    description: str = ""
    katalog: Path | None = None
    crds: list[Path] = field(default_factory=list)
    cr: Path | None = None
    custom: bool = False
    cluster: ClusterSpec = field(default_factory=ClusterSpec)
    apply: list[Path] = field(default_factory=list)
    helm: list[HelmRelease] = field(default_factory=list)
    wait: list[WaitCheck] = field(default_factory=list)
    values_files: list[Path] = field(default_factory=list)
    expect: list[Expectation] = field(default_factory=list)
    imports: list[SuiteImport] = field(default_factory=list)


@dataclass
class SuiteImport:
    suite: Suite
    wait: float = 0.0
    fresh_cluster: bool = False


def load_suite(
    file: Path, display: str | None = None, *, seen: frozenset[Path] = frozenset()
) -> Suite:
    """The suite ``file`` describes; raises :class:`PatternError` naming file and line."""
    shown = display or str(file)
    doc = load_document(file, kinds=("E2E",), display=shown)
    if file.resolve() in seen:
        raise PatternError(
            [Problem(file=shown, line=0, column=0, path=(), message="e2e imports form a cycle")]
        )
    files = _Files(doc)
    data = doc.e2e
    # (cast: the E2E format checked the spec's shape, which the model keeps loosely typed)
    spec = cast(SuiteSpec, data.get("spec") or {})
    suite = Suite(
        name=doc.name or file.parent.name,
        file=file,
        display=shown,
        description=str(doc.metadata.get("description") or ""),
    )
    if spec:
        _fill(suite, spec, files)
    files.raise_problems()
    suite.imports = [
        _import(doc, i, item, seen | {file.resolve()})
        for i, item in enumerate(data.get("imports") or [])
    ]
    return suite


class _Files:
    """Resolves the paths a document names, collecting a problem for each missing one."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.roots = [doc.directory]

    def path(self, where: YamlPath, ref: str, *, pattern: bool = False) -> Path:
        """The file ``ref`` names; a data file (not ``pattern``) must also be one the e2e
        file may read."""
        path = self.doc.resolve_path(ref)
        refused = None if pattern else reference_problem(path, self.roots)
        if refused is not None:
            self.problems.append(
                self.doc.problem(where, f'cannot use "{ref}": {refused[0]}', hint=refused[1])
            )
        elif not path.is_file():
            self.problems.append(
                self.doc.problem(
                    where,
                    f'file "{ref}" does not exist',
                    hint=f"paths are relative to {self.doc.display}'s directory",
                )
            )
        return path

    def paths(self, where: YamlPath, refs: list[str]) -> list[Path]:
        return [self.path(where + (i,), ref) for i, ref in enumerate(refs)]

    def raise_problems(self) -> None:
        if self.problems:
            raise PatternError(self.problems)


def _fill(suite: Suite, spec: SuiteSpec, files: _Files) -> None:
    where: YamlPath = ("spec",)
    custom = (
        bool(spec.get("customOperator")) or (spec.get("custom") or {}).get("target") == "kubernetes"
    )
    suite.custom = custom
    if "katalog" in spec:
        suite.katalog = files.path(where + ("katalog",), spec["katalog"], pattern=True)
        files.roots.append(suite.katalog.parent)
    elif not custom:
        files.problems.append(
            files.doc.problem(
                where,
                'missing "katalog"',
                expected="the katalog.yaml to run",
                hint="or set customOperator: true for an operator you deploy yourself",
            )
        )
    if "crd" in spec:
        suite.crds = [files.path(where + ("crd",), spec["crd"])]
    if "cr" in spec:
        suite.cr = files.path(where + ("cr",), spec["cr"])
    cluster = spec.get("cluster") or {}
    suite.cluster = ClusterSpec(
        cluster.get("provider", "kind"), cluster.get("name", "ork-e2e"), bool(cluster.get("reuse"))
    )
    _setup(suite, spec.get("setup"), files)
    suite.values_files = files.paths(where + ("valuesFiles",), spec.get("valuesFiles") or [])
    suite.expect = [
        _expectation(item, files.doc, where + ("expect", i))
        for i, item in enumerate(spec.get("expect") or [])
    ]
    if suite.cr is None and suite.expect:
        files.problems.append(
            files.doc.problem(
                where, 'missing "cr"', expected="the CR file the expectations are about"
            )
        )


def _setup(suite: Suite, setup: list[str] | SetupSpec | None, files: _Files) -> None:
    where: YamlPath = ("spec", "setup")
    if setup is None:
        return
    if isinstance(setup, list):
        suite.apply = files.paths(where, setup)
        return
    suite.apply = files.paths(where + ("apply",), setup.get("apply") or [])
    suite.helm = [
        _helm(item, files, where + ("helm", i)) for i, item in enumerate(setup.get("helm") or [])
    ]
    suite.wait = [
        WaitCheck(
            w["kind"],
            w["name"],
            w.get("namespace") or "default",
            _seconds(
                files.doc, where + ("wait", i, "timeout"), w.get("timeout"), DEFAULT_WAIT_TIMEOUT
            ),
        )
        for i, w in enumerate(setup.get("wait") or [])
    ]


def _helm(item: Json, files: _Files, where: YamlPath) -> HelmRelease:
    if not isinstance(item, dict) or not item.get("chart"):
        files.problems.append(
            files.doc.problem(
                where,
                "a helm entry needs a chart",
                expected="{repo, chart, release, namespace, "
                "version, valueFiles, values, createNamespace}",
            )
        )
        return HelmRelease(chart="", release="")
    chart = str(item["chart"])
    return HelmRelease(
        chart=chart,
        release=str(item.get("release") or chart.rsplit("/", 1)[-1]),
        namespace=str(item.get("namespace") or "default"),
        repo=str(item.get("repo") or ""),
        version=str(item.get("version") or ""),
        value_files=tuple(files.paths(where + ("valueFiles",), item.get("valueFiles") or [])),
        values=dict(item.get("values") or {}),
        create_namespace=bool(item.get("createNamespace")),
    )


def _expectation(item: ExpectationSpec, doc: Document, where: YamlPath) -> Expectation:
    get = (item.get("kubectl") or {}).get("get") or []
    return Expectation(
        name=item["name"],
        after=item.get("after") or CR_APPLIED,
        timeout=_seconds(doc, where + ("timeout",), item.get("timeout"), DEFAULT_TIMEOUT),
        resources=tuple(
            ResourceCheck(
                kind=r["kind"],
                name=r.get("name") or "",
                namespace=r.get("namespace") or "default",
                ready=bool(r.get("ready")),
                count=r.get("count"),
            )
            for r in item.get("resources") or []
        ),
        commands=tuple(
            CommandCheck(c["run"], c.get("exitCode", 0), c.get("outputContains") or "")
            for c in item.get("commands") or []
        ),
        fields=tuple(
            FieldCheck(
                kind=g["kind"],
                name=g.get("name") or "",
                namespace=g.get("namespace") or "default",
                field=g["field"],
                equals=None if g.get("equals") is None else _text(g["equals"]),
            )
            for g in get
        ),
    )


def _import(doc: Document, index: int, item: str | E2EImport, seen: frozenset[Path]) -> SuiteImport:
    ref = item if isinstance(item, str) else item["path"]
    target = doc.resolve_path(ref)
    if not target.is_file():
        raise PatternError([doc.problem(("imports", index), f'"{ref}" does not exist')])
    suite = load_suite(target, str(Path(doc.display).parent / ref), seen=seen)
    if isinstance(item, str):
        return SuiteImport(suite)
    wait = _seconds(doc, ("imports", index, "wait"), item.get("wait"), 0.0)
    return SuiteImport(suite, wait, bool(item.get("freshCluster")))


def _seconds(doc: Document, where: YamlPath, value: object, default: float) -> float:
    """The duration ``value`` found at ``where``, in seconds. The schema lets
    ``{{ templates }}`` through for the pattern kinds that render them; an e2e file renders
    none, so one is an error here, with its position."""
    if value is None:
        return default
    try:
        return parse_duration(str(value))
    except DurationError:
        raise PatternError(
            [
                doc.problem(
                    where,
                    f'"{value}" is not a duration',
                    expected="a duration such as 30s, 5m, 1h30m",
                    hint="templates are not rendered in an e2e file: write the duration itself",
                )
            ]
        ) from None


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
