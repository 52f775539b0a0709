"""What the gateway guards, read from composed katalogs and komposers.

A :class:`Target` is one enabled CRD entry with what admission needs: its rules, the
renderer of its composition (the same :class:`~orkestra.compose.engines.Engines` the
reconcilers are built from, so templates and notes render alike), whether the validation
and mutation webhooks serve it (``security.webhooks.admission.enabled`` of its file, the
entry's ``webhooks.validation``/``webhooks.mutation`` not false, and rules to apply), the
operations they see (``webhooks.operations``, default CREATE and UPDATE), and whether it
is protected from deletion: ``security.deletionProtection.enabled`` of its file, unless the
entry's ``deletionProtection`` (a bool or ``{enabled, strictMode}``) turns it off; the
entry may also set its own ``strictMode``. Built-in kinds are never protected (that would
guard every ConfigMap of the cluster). :class:`Settings` merges the files' ``security``:
a webhook is wanted when any file wants it, and the first file to name a failure policy or
a cleanup flag decides it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orkestra.cluster.resources import plural_of
from orkestra.compose import Composed, compose_file
from orkestra.compose.engines import Engines
from orkestra.model.checks import BUILTIN_KINDS
from orkestra.model.shapes import CrdEntry
from orkestra.template import Renderer

DEFAULT_OPERATIONS = ("CREATE", "UPDATE")
FAILURE_POLICIES = ("Fail", "Ignore")


@dataclass(frozen=True, kw_only=True)
class Target:
    """One CRD the gateway admits or protects."""

    name: str
    entry: CrdEntry
    renderer: Renderer
    group: str
    version: str
    kind: str
    plural: str
    validation: bool = False
    mutation: bool = False
    operations: tuple[str, ...] = DEFAULT_OPERATIONS
    protected: bool = False
    strict: bool = False

    @property
    def crd_name(self) -> str:
        """The CustomResourceDefinition's name (``plural.group``)."""
        return f"{self.plural}.{self.group}"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The ``security`` of every file, merged."""

    admission: bool = False
    protection: bool = False
    strict: bool = False
    validation_policy: str = "Fail"
    protection_policy: str = "Fail"
    cleanup_admission: bool = False
    cleanup_protection: bool = False


def _section(security: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = security.get(key)
    return value if isinstance(value, dict) else {}


def _admission_on(security: Mapping[str, object]) -> bool:
    return _section(_section(security, "webhooks"), "admission").get("enabled") is True


def _override(entry: CrdEntry) -> Mapping[str, object]:
    value: object = entry.get("deletionProtection")  # a bool or a map
    if isinstance(value, bool):
        return {"enabled": value}
    return value if isinstance(value, dict) else {}


def target_of(
    name: str, entry: CrdEntry, security: Mapping[str, object], renderer: Renderer
) -> Target:
    """The target of one CRD entry under its file's ``security``."""
    api = entry.get("apiTypes") or {}
    kind = str(api.get("kind", ""))
    hooks = entry.get("webhooks") or {}
    admission = _admission_on(security)
    protection = _section(security, "deletionProtection")
    override = _override(entry)
    protected = (
        protection.get("enabled") is True
        and override.get("enabled") is not False
        and kind not in BUILTIN_KINDS
    )
    strict = override.get("strictMode", protection.get("strictMode")) is True
    return Target(
        name=name,
        entry=entry,
        renderer=renderer,
        group=str(api.get("group", "")),
        version=str(api.get("version", "v1")),
        kind=kind,
        plural=str(api.get("plural") or plural_of(kind)),
        validation=admission
        and hooks.get("validation") is not False
        and bool((entry.get("validation") or {}).get("rules")),
        mutation=admission
        and hooks.get("mutation") is not False
        and bool((entry.get("mutation") or {}).get("rules")),
        operations=tuple(hooks.get("operations") or DEFAULT_OPERATIONS),
        protected=protected,
        strict=protected and strict,
    )


def _first(values: Iterable[object], default: object) -> object:
    return next((v for v in values if v is not None), default)


def settings_of(securities: list[Mapping[str, object]]) -> Settings:
    hooks = [_section(s, "webhooks") for s in securities]
    protections = [_section(s, "deletionProtection") for s in securities]
    return Settings(
        admission=any(_admission_on(s) for s in securities),
        protection=any(p.get("enabled") is True for p in protections),
        strict=any(p.get("enabled") is True and p.get("strictMode") is True for p in protections),
        validation_policy=str(_first((h.get("failurePolicy") for h in hooks), "Fail")),
        protection_policy=str(_first((p.get("failurePolicy") for p in protections), "Fail")),
        cleanup_admission=_first((h.get("cleanupOnShutdown") for h in hooks), False) is True,
        cleanup_protection=_first((p.get("cleanupOnShutdown") for p in protections), False) is True,
    )


class Targets:
    """Every CRD of the composed files, found by the resource a request names."""

    def __init__(
        self, targets: list[Target], settings: Settings, warnings: list[str] | None = None
    ) -> None:
        self.all = targets
        self.settings = settings
        self.warnings = warnings or []  # what composing the files warned about
        self._by_version: dict[tuple[str, str, str], Target] = {}
        self._by_plural: dict[tuple[str, str], Target] = {}
        for target in targets:
            self._by_version.setdefault((target.group, target.version, target.plural), target)
            self._by_plural.setdefault((target.group, target.plural), target)

    @classmethod
    def of(cls, compositions: Iterable[tuple[Composed, Engines]]) -> Targets:
        targets: list[Target] = []
        securities: list[Mapping[str, object]] = []
        warnings: list[str] = []
        for composed, engines in compositions:
            security = composed.top.get("security") or {}
            securities.append(security)
            targets += [
                target_of(name, entry, security, engines.renderer)
                for name, entry in composed.enabled_crds.items()
            ]
            warnings += [p.render() for p in composed.warnings]
        return cls(targets, settings_of(securities), warnings)

    @classmethod
    def load(cls, paths: Iterable[Path]) -> Targets:
        """The targets of katalog and komposer files."""
        composed = [compose_file(p) for p in paths]
        return cls.of((c, Engines(c)) for c in composed)

    def find(self, group: str, version: str, plural: str) -> Target | None:
        """The target serving ``group/version`` ``plural`` (any version of it, since the
        webhooks match equivalent versions)."""
        return self._by_version.get((group, version, plural)) or self._by_plural.get(
            (group, plural)
        )

    @property
    def validated(self) -> list[Target]:
        return [t for t in self.all if t.validation]

    @property
    def mutated(self) -> list[Target]:
        return [t for t in self.all if t.mutation]

    @property
    def protected(self) -> list[Target]:
        return [t for t in self.all if t.protected]
