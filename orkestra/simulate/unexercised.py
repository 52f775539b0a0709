"""What a CRD declares that simulate loads and checks but cannot exercise, said in
``ork simulate -v`` (PRODUCT.md D1: nothing is ignored silently).

Simulate has no informers, no event stream and no work queue: cycle N is one reconcile
of the CR under test, as a resync would run it, and a cycle after a fixed point would do
what that one did. So:

- ``observe.watch`` entries never fire; every cycle reconciles the CR anyway, and a change
  to any object during a cycle (a watched one included) makes the next cycle run for real.
- ``preReconcile`` gates (``enqueueGate``, ``reconcileGate``) filter events, of which
  simulate has none: every cycle reconciles. ``reconcileGate.eventAware`` keeps
  concurrent events of one CR apart in the queue; one reconcile per cycle has none to
  keep apart.
- ``reconcile.queue.behaviour`` drops keys when the queue is full; simulate's queue holds
  the CR under test and nothing else, so neither ``onLimit`` nor ``onThreshold`` is
  reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from orkestra.cluster.data import maps
from orkestra.kubeobjects import JsonObject
from orkestra.model.shapes import CrdEntry, ReconcileBlock, WatchEntry

_GATES: tuple[Literal["enqueueGate", "reconcileGate"], ...] = ("enqueueGate", "reconcileGate")
_GATE_KEYS: tuple[Literal["sentinels", "external", "when", "or"], ...] = (
    "sentinels",
    "external",
    "when",
    "or",
)


def unexercised(entry: CrdEntry, profiles: JsonObject | None = None) -> list[str]:
    """One line per key of ``entry`` (a composed CRD entry) simulate does not exercise."""
    box = entry.get("operatorBox") or {}
    lines = [_watch(w) for w in (box.get("observe") or {}).get("watch") or []]
    pre = box.get("preReconcile") or {}
    for name in _GATES:
        gate = pre.get(name) or {}
        if any(gate.get(k) for k in _GATE_KEYS):
            lines.append(
                f"preReconcile.{name}: not exercised in simulate (gates filter "
                "events; every cycle reconciles the CR)"
            )
    if (pre.get("reconcileGate") or {}).get("eventAware"):
        lines.append(
            "preReconcile.reconcileGate.eventAware: not exercised in simulate (one "
            "reconcile per cycle: no concurrent events to keep apart)"
        )
    queue = _queue(box.get("reconcile") or {}, profiles or {})
    behaviour = queue.get("behaviour")
    for rule in ("onLimit", "onThreshold"):
        if isinstance(behaviour, Mapping) and rule in behaviour:
            lines.append(
                f"reconcile.queue.behaviour.{rule}: not exercised in simulate (the "
                f"queue holds only the CR under test; maxDepth {queue['maxDepth']})"
            )
    return lines


def _watch(entry: WatchEntry) -> str:
    where = "/".join(part for part in (entry.get("namespace"), entry.get("name")) if part)
    subject = f"{entry['apiVersion']} {entry['kind']}" + (f" {where}" if where else "")
    return (
        f"observe.watch {subject}: not exercised in simulate (no events; every cycle "
        "reconciles the CR, and a changed object makes the next cycle run)"
    )


def _queue(plan: ReconcileBlock, profiles: JsonObject) -> Mapping[str, object]:
    """The CRD's queue: its own, else that of the reconciler profile it names."""
    if plan.get("queue"):
        return plan["queue"]
    name = plan.get("profile")
    for profile in maps(profiles.get("reconciler")) if name else []:
        if profile.get("name") == name:
            queue = profile.get("queue")
            return queue if isinstance(queue, Mapping) else {}
    return {}
