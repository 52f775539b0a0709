"""What the reconciler asks of typed hooks, without knowing that they are Python modules.

A CRD entry with ``reconcile.hooks`` reconciles with code besides (or before, with
``runHooksFirst``) its declarative templates (PRODUCT.md D10). :mod:`orkestra.hooks` loads
that code and implements :class:`Hooks`; the reconciler only decides which callbacks a
cycle runs (:func:`phases_for`), hands them the CR and a way to apply objects, and folds the
outcome (status fields, Events, an error) into the cycle. Keeping the import and the call
of user code out of the engine keeps the engine free of I/O and lets simulate, plan, e2e
and the runtime share one reconcile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from orkestra.engine.api import ClusterAPI
from orkestra.engine.build.base import Owner
from orkestra.kubeobjects import JsonDict, KubeObject
from orkestra.template import Renderer

ON_CREATE, ON_UPDATE, ON_RECONCILE, ON_DELETE = (
    "on_create",
    "on_update",
    "on_reconcile",
    "on_delete",
)
PHASES = (ON_CREATE, ON_UPDATE, ON_RECONCILE, ON_DELETE)
FINALIZER = "orkestra.io/hooks"


@dataclass(frozen=True)
class EventNote:
    """An Event a hook asked for (``Normal`` or ``Warning``)."""

    type: str
    reason: str
    message: str


@dataclass
class HookOutcome:
    """What running a cycle's hooks gave: status fields to merge, Events, an error."""

    status: JsonDict = field(default_factory=dict)
    events: list[EventNote] = field(default_factory=list)
    error: str | None = None


@dataclass(kw_only=True)
class HookCall:
    """One cycle's call into the hooks of a CR."""

    phases: tuple[str, ...]
    cr: KubeObject
    owner: Owner
    data: Mapping[str, object]  # the template context (string args render against it)
    cluster: ClusterAPI
    renderer: Renderer
    apply: Callable[[KubeObject, bool], KubeObject]  # the reconciler's apply(object, create_only)


class Hooks(Protocol):
    """The typed hooks of one CRD entry."""

    @property
    def run_first(self) -> bool: ...

    @property
    def replaces_templates(self) -> bool:
        """A constructor (``default: false``): the templates do not run."""
        ...

    @property
    def needs_finalizer(self) -> bool:
        """The hooks act on deletion: the CR keeps :data:`FINALIZER` until they did."""
        ...

    def kinds(self) -> list[tuple[str, str]]:
        """(apiVersion, kind) of the resources the hooks manage (watched, granted)."""
        ...

    def run(self, call: HookCall) -> HookOutcome: ...


def phases_for(cr: KubeObject, *, deleting: bool = False) -> tuple[str, ...]:
    """The callbacks a cycle runs, in order: ``on_create`` until a cycle succeeded once (no
    ``observedGeneration`` yet), ``on_update`` when the spec changed since the last
    successful cycle, ``on_reconcile`` every time; ``on_delete`` alone while deleting."""
    if deleting:
        return (ON_DELETE,)
    observed = (cr.get("status") or {}).get("observedGeneration")
    if observed is None:
        return (ON_CREATE, ON_RECONCILE)
    if observed != cr["metadata"].get("generation"):
        return (ON_UPDATE, ON_RECONCILE)
    return (ON_RECONCILE,)
