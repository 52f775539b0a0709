"""What a CRD entry says about its code: ``reconcile.hooks`` or ``reconcile.constructor``,
and the CR model of ``apiTypes.location``/``object``.

``hooks`` run with the declarative templates (after them unless ``runHooksFirst``), their
string args rendered against the CR first. ``constructor`` (with ``default: false``) is the
same kind of function returning a hook set, run *instead of* the templates, its args given
as written (the Go original leaves rendering to the constructor too): one design for both
forms. The Go-era ``location`` key is read as the module path. ``resources`` name the kinds
the code manages: the runtime watches them (their events enqueue the owner) and the bundle
grants them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orkestra.kubeobjects import Json
from orkestra.model.shapes import CrdEntry

YamlPath = tuple[str | int, ...]


@dataclass(frozen=True, kw_only=True)
class CodeRef:
    """The hook function of one CRD entry."""

    block: str  # "hooks" or "constructor"
    module: str
    function: str
    args: dict[str, Json]
    resources: tuple[tuple[str, str], ...]  # (apiVersion, kind)
    run_first: bool
    go_location: bool  # written with the Go-era key ``location``

    @property
    def path(self) -> YamlPath:
        return ("operatorBox", "reconcile", self.block)

    @property
    def module_path(self) -> YamlPath:
        """Where the module was written (``location`` in the Go-era spelling)."""
        return (*self.path, "location" if self.go_location else "module")

    @property
    def replaces_templates(self) -> bool:
        return self.block == "constructor"

    @property
    def name(self) -> str:
        return f"{self.module}:{self.function}"


@dataclass(frozen=True)
class ModelRef:
    """The CR model of typed mode: ``apiTypes.location`` (module) and ``object`` (class)."""

    module: str
    name: str

    @property
    def path(self) -> YamlPath:
        return ("apiTypes", "location")


def code_ref(entry: CrdEntry) -> CodeRef | None:
    """The entry's hooks or constructor (the constructor when ``default: false``)."""
    reconcile = (entry.get("operatorBox") or {}).get("reconcile") or {}
    block: Literal["constructor", "hooks"] = (
        "constructor" if reconcile.get("default") is False else "hooks"
    )
    ref = reconcile.get(block)
    if not isinstance(ref, dict):
        return None
    module = str(ref.get("module") or ref.get("location") or "")
    return CodeRef(
        block=block,
        module=module,
        function=str(ref.get("function", "")),
        args=dict(ref.get("args") or {}),
        resources=tuple(_resource(r) for r in ref.get("resources") or []),
        run_first=ref.get("runHooksFirst") is True,
        go_location=not ref.get("module") and bool(ref.get("location")),
    )


def _resource(item: dict[str, str]) -> tuple[str, str]:
    kind = str(item["kind"])
    if item.get("apiVersion"):
        return str(item["apiVersion"]), kind
    if item.get("group"):
        return f"{item['group']}/v1", kind
    return _builtin_version(kind), kind


def _builtin_version(kind: str) -> str:
    from orkestra.cluster.resources import BUILTIN_TYPES  # only for code naming resources

    return {t.kind: t.api_version for t in BUILTIN_TYPES}.get(kind, "v1")


def model_ref(entry: CrdEntry) -> ModelRef | None:
    api = entry.get("apiTypes") or {}
    if not api.get("location"):
        return None
    return ModelRef(str(api["location"]), str(api.get("object") or api.get("kind") or ""))


def has_code(entry: CrdEntry) -> bool:
    return code_ref(entry) is not None or model_ref(entry) is not None
