"""What decides whether an event enters a controller's queue and whether a queued item reaches
the reconciler: ``preReconcile`` gates, their event-time sentinels, and ``queue.behaviour``.

**Sentinels** are computed when an update arrives, by comparing the object before and after
(:func:`sentinel_values`): ``labelsChanged`` is true when the labels differ, and so on for the
14 names the model accepts; ``deletionStarted`` when ``deletionTimestamp`` went from unset to
set. Only the names a pattern declares are computed (``preReconcile.sentinels`` for the CR's
own events, a watch entry's ``enqueueGate.sentinels`` for the watched object's). Creates,
deletions, child events and resyncs carry no values, so every sentinel reads as false for
them, as upstream. The caches drop ``managedFields``, so ``managedFieldsChanged`` is never true.

**A gate** (:class:`Gate`, upstream's ``GateConditions``) is evaluated in upstream's order:
an ``external`` call is one this runtime cannot make, so it counts as a failed evaluation
(``preReconcile.external``: the gate passes, as upstream fails open there; the gate's own
``external``: ``failPolicy`` decides); then a gate listing ``sentinels`` passes when any of
them is true, and its ``when``/``or`` are not evaluated (upstream's sentinel shorthand takes
precedence); otherwise ``when``/``or`` are evaluated against the object (the CR, or the
watched object for a watch entry's gate) with the pattern's notes. A condition that cannot
be evaluated (a value that does not cast, a template error) fails open, or closed with
``failPolicy: closed``.

**Queue behaviour** (:class:`QueueBehaviour`): with ``maxDepth`` set, ``onThreshold`` drops
a new key once the queue holds ``value`` percent of ``maxDepth`` and ``onLimit`` (with
``drop: true``) once it holds ``maxDepth``; a rule with ``when``/``or`` drops only when its
conditions pass, evaluated like a gate's against the event's object and sentinels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict, cast

from orkestra.engine.conditions import ConditionError, Evaluation, passes
from orkestra.engine.context import template_context
from orkestra.kubeobjects import KubeObject
from orkestra.model import shapes
from orkestra.model.shapes import ConditionSpec, CrdEntry, QueueGate, QueueSpec
from orkestra.template import Renderer
from orkestra.template.errors import TemplateError

Sentinels = Mapping[str, bool]
NO_VALUES: Sentinels = {}
# Compares one object's metadata before and after an update.
MetaCompare = Callable[[Mapping[str, object], Mapping[str, object]], bool]


class DropSpec(shapes.Gate, total=False):
    """``queue.behaviour.onLimit`` or ``onThreshold``."""

    value: int  # onThreshold: percent of maxDepth
    drop: bool


class QueueBehaviourSpec(TypedDict, total=False):
    onLimit: DropSpec
    onThreshold: DropSpec


def _changed(field: str) -> MetaCompare:
    """Whether a metadata field differs (absent, null and empty count as the same)."""

    def compare(old: Mapping[str, object], new: Mapping[str, object]) -> bool:
        return bool(_present(old.get(field)) != _present(new.get(field)))

    return compare


def _present(value: object) -> object:
    return None if value is None or value == {} or value == [] else value


def _deletion_started(old: Mapping[str, object], new: Mapping[str, object]) -> bool:
    return not old.get("deletionTimestamp") and bool(new.get("deletionTimestamp"))


_FIELDS = {
    "generationChanged": "generation",
    "labelsChanged": "labels",
    "annotationsChanged": "annotations",
    "finalizersChanged": "finalizers",
    "nameChanged": "name",
    "namespaceChanged": "namespace",
    "generateNameChanged": "generateName",
    "uidChanged": "uid",
    "resourceVersionChanged": "resourceVersion",
    "creationTimestampChanged": "creationTimestamp",
    "deletionGracePeriodSecondsChanged": "deletionGracePeriodSeconds",
    "ownerReferenceChanged": "ownerReferences",
    "managedFieldsChanged": "managedFields",
}
SENTINELS: dict[str, MetaCompare] = {
    **{name: _changed(field) for name, field in _FIELDS.items()},
    "deletionStarted": _deletion_started,
}


def sentinel_values(
    declared: Sequence[str], old: KubeObject | None, new: KubeObject
) -> Sentinels | None:
    """The declared sentinels of an update from ``old`` to ``new``; None when nothing is
    declared or the event is not an update (``old`` is None)."""
    if not declared or old is None:
        return None
    before, after = old.get("metadata") or {}, new.get("metadata") or {}
    return {name: SENTINELS[name](before, after) for name in declared}


def merged(first: Sentinels, second: Sentinels) -> Sentinels:
    """The sentinels of two events taken as one: a change either made."""
    return {name: bool(first.get(name) or second.get(name)) for name in {*first, *second}}


@dataclass(frozen=True, kw_only=True)
class Gate:
    """One ``enqueueGate`` or ``reconcileGate``."""

    name: str
    sentinels: tuple[str, ...] = ()
    when: tuple[ConditionSpec, ...] = ()
    any_of: tuple[ConditionSpec, ...] = ()
    closed: bool = False
    external: bool = False
    shared_external: bool = False
    event_aware: bool = False

    @classmethod
    def of(cls, name: str, spec: QueueGate | None, *, shared_external: bool = False) -> Gate | None:
        """The gate ``spec`` declares; None when it has nothing to evaluate (and, for a
        reconcile gate, is not event-aware), as upstream's ``HasGate``."""
        spec = spec or {}
        gate = cls(
            name=name,
            sentinels=tuple(spec.get("sentinels") or ()),
            when=tuple(spec.get("when") or ()),
            any_of=tuple(spec.get("or") or ()),
            closed=spec.get("failPolicy") == "closed",
            external=bool(spec.get("external")),
            shared_external=shared_external,
            event_aware=bool(spec.get("eventAware")),
        )
        evaluates = gate.sentinels or gate.when or gate.any_of or gate.external
        return gate if evaluates or shared_external or gate.event_aware else None

    def admits(self, obj: KubeObject, values: Sentinels | None, renderer: Renderer) -> bool:
        """Whether the event (or queued item) with these sentinel values passes."""
        if self.shared_external:
            return True
        if self.external:
            return not self.closed
        if self.sentinels:
            found = values or NO_VALUES
            return any(found.get(name) for name in self.sentinels)
        return conditions_pass(self.when, self.any_of, obj, renderer, failed=not self.closed)

    def warnings(self) -> list[str]:
        """What this gate declares that the runtime does not act on as written."""
        found = []
        if self.external or self.shared_external:
            found.append(
                f"{self.name}: external calls are not made by this runtime, so the "
                "gate "
                + (
                    "passes every event (preReconcile.external fails open)"
                    if self.shared_external
                    else "holds back every event (failPolicy: closed)"
                    if self.closed
                    else "passes every event (failPolicy: open)"
                )
            )
        elif self.sentinels and (self.when or self.any_of):
            found.append(
                f"{self.name}: with sentinels listed, when/or are not evaluated "
                "(the sentinel shorthand decides, as upstream)"
            )
        return found


def conditions_pass(
    when: Sequence[ConditionSpec],
    any_of: Sequence[ConditionSpec],
    obj: KubeObject,
    renderer: Renderer,
    *,
    failed: bool,
) -> bool:
    """``when``/``or`` against ``obj``; ``failed`` when they cannot be evaluated."""
    try:
        return passes(when, any_of, Evaluation(template_context(obj, private=False), renderer))
    except (ConditionError, TemplateError):
        return failed


@dataclass(frozen=True)
class PreReconcile:
    """A CRD's ``preReconcile``: the sentinels its informer computes and its two gates."""

    sentinels: tuple[str, ...] = ()
    enqueue: Gate | None = None
    reconcile: Gate | None = None

    @classmethod
    def of(cls, entry: CrdEntry) -> PreReconcile:
        spec = (entry.get("operatorBox") or {}).get("preReconcile") or {}
        shared = bool(spec.get("external"))
        return cls(
            tuple(spec.get("sentinels") or ()),
            Gate.of("preReconcile.enqueueGate", spec.get("enqueueGate"), shared_external=shared),
            Gate.of(
                "preReconcile.reconcileGate", spec.get("reconcileGate"), shared_external=shared
            ),
        )

    @property
    def event_aware(self) -> bool:
        return self.reconcile is not None and self.reconcile.event_aware


@dataclass(frozen=True)
class DropRule:
    """``onLimit`` or ``onThreshold``: drop new keys from ``depth`` queued keys on."""

    name: str
    depth: int
    when: tuple[ConditionSpec, ...] = ()
    any_of: tuple[ConditionSpec, ...] = ()

    def fires(self, depth: int, obj: Callable[[], KubeObject | None], renderer: Renderer) -> bool:
        if depth < self.depth:
            return False
        if not self.when and not self.any_of:
            return True
        found = obj()
        return found is not None and conditions_pass(
            self.when, self.any_of, found, renderer, failed=False
        )


@dataclass(frozen=True)
class QueueBehaviour:
    """The drop rules of a CRD's effective ``queue``."""

    rules: tuple[DropRule, ...] = ()

    @classmethod
    def of(cls, queue: QueueSpec) -> QueueBehaviour:
        limit = int(queue.get("maxDepth") or 0)
        # checked by the model against the behaviour schema
        behaviour = cast(QueueBehaviourSpec, queue.get("behaviour") or {})
        if limit <= 0:
            return cls()
        rules = []
        threshold = behaviour.get("onThreshold")
        if isinstance(threshold, dict):
            # value percent of maxDepth, rounded up: depth / maxDepth * 100 >= value
            depth = -(-int(threshold.get("value") or 100) * limit // 100)
            rules.append(_rule("onThreshold", max(depth, 1), threshold))
        on_limit = behaviour.get("onLimit")
        if isinstance(on_limit, dict) and on_limit.get("drop"):
            rules.append(_rule("onLimit", limit, on_limit))
        return cls(tuple(rules))

    def dropping(
        self, depth: int, obj: Callable[[], KubeObject | None], renderer: Renderer
    ) -> str | None:
        """The rule that drops a new key at this queue depth (None: queue it). ``obj`` gives
        the event's object, read only when a rule's conditions need it."""
        for rule in self.rules:
            if rule.fires(depth, obj, renderer):
                return rule.name
        return None


def _rule(name: str, depth: int, spec: DropSpec) -> DropRule:
    return DropRule(name, depth, tuple(spec.get("when") or ()), tuple(spec.get("or") or ()))
