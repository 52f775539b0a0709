"""The status a reconcile writes: declared fields, ``observedGeneration`` and the ``Ready``
condition.

Fields are processed in order and the last passing entry for a path wins (declarative state
machines). Fields with conditions are evaluated even when the reconcile failed; fields
without conditions only on success. ``clearOnFalse`` writes ``""`` when the conditions fail
and no other entry set the path. The status is only written when it changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from orkestra.cluster.data import clone
from orkestra.engine.conditions import Evaluation, gate, lookup, text_of
from orkestra.engine.context import set_path
from orkestra.engine.fields import coerce_text
from orkestra.errors import OrkError
from orkestra.kubeobjects import Condition, Json, JsonDict, KubeObject, as_json
from orkestra.model.shapes import StatusBlock
from orkestra.template.notes.kube import replicas_ready
from orkestra.template.notes.types import parse_bool
from orkestra.units import format_timestamp

WORKLOADS = ("deployments", "statefulsets", "replicasets")


class StatusError(OrkError):
    """A status value does not convert to its declared type."""


def cast_status(value: str, kind: str, path: str) -> Json:
    try:
        if kind in ("int", "integer"):
            return int(float(value)) if value.strip() else 0
        if kind == "float":
            return float(value) if value.strip() else 0.0
        if kind in ("bool", "boolean"):
            return parse_bool(value.strip()) if value.strip() else False
        if kind == "auto":
            return coerce_text(value)
    except (ValueError, OverflowError):  # OverflowError: int() of an infinity
        raise StatusError(f'status.{path}: "{value}" is not a valid {kind}') from None
    return value


def unready_children(children: Mapping[str, object]) -> list[str]:
    """Workloads whose pods are not all ready yet (``deployments/web``); ``children`` is
    the template context's ``.children``."""
    waiting = []
    for plural in WORKLOADS:
        found = children.get(plural)
        for obj in found if isinstance(found, list) else []:
            if not replicas_ready(obj):
                waiting.append(f"{plural}/{text_of(lookup(obj, 'metadata.name'))}")
    return waiting


def _ready_condition(error: str | None, denied: bool, waiting: list[str]) -> Condition:
    if error is not None:
        return {
            "type": "Ready",
            "status": "False",
            "reason": "ValidationFailed" if denied else "ReconcileError",
            "message": error,
        }
    if waiting:
        return {
            "type": "Ready",
            "status": "False",
            "reason": "Progressing",
            "message": "waiting for " + ", ".join(waiting),
        }
    return {"type": "Ready", "status": "True", "reason": "Reconciled", "message": ""}


def _value_text(raw: Json, ev: Evaluation) -> str:
    if isinstance(raw, str):
        return ev.renderer.render(raw, ev.data)
    if isinstance(raw, dict | list):
        return json.dumps(raw)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def desired_status(
    cr: KubeObject,
    spec: StatusBlock,
    ev: Evaluation,
    error: str | None,
    denied: bool,
    *,
    extra: JsonDict | None = None,
    hooks: bool = False,
) -> JsonDict:
    """The status the CR should have after this reconcile. ``extra``: fields the hooks set
    (after the declared ones). ``hooks``: the CRD has typed hooks, so a failed cycle leaves
    ``observedGeneration`` where it was and the next cycle runs ``on_create``/``on_update``
    again (whatever failed, the hooks may not have run, or not to the end)."""
    status = clone(cr.get("status") or {})
    passed: set[str] = set()
    cleared: set[str] = set()
    for entry in spec.get("fields") or []:
        path = entry["path"]
        conditional = bool(entry.get("when") or entry.get("or"))
        if error is not None and not conditional:
            continue
        if gate(entry, ev):
            text = _value_text(entry.get("value", ""), ev)
            set_path(status, path, cast_status(text, str(entry.get("type", "string")), path))
            passed.add(path)
        elif entry.get("clearOnFalse"):
            cleared.add(path)
    for path in cleared - passed:
        set_path(status, path, "")
    if extra:
        status.update(clone(extra))
    generation = cr["metadata"].get("generation", 1)
    if error is None or not hooks:
        status["observedGeneration"] = generation
    if spec.get("conditions", True) is not False:
        children = ev.data.get("children")
        waiting = unready_children(children if isinstance(children, Mapping) else {})
        ready = _ready_condition(error, denied, waiting)
        ready["observedGeneration"] = generation
        _merge_condition(status, ready, ev)
    return status


def _merge_condition(status: JsonDict, condition: Condition, ev: Evaluation) -> None:
    existing = status.get("conditions")
    listed = existing if isinstance(existing, list) else []
    conditions = [c for c in listed if isinstance(c, dict)]
    previous = next((c for c in conditions if c.get("type") == condition["type"]), None)
    entry = as_json(condition)  # the previous time is copied as it is, even absent
    if previous is not None and previous.get("status") == condition["status"]:
        entry["lastTransitionTime"] = previous.get("lastTransitionTime")
    else:
        entry["lastTransitionTime"] = format_timestamp(ev.now)
    others = [c for c in conditions if c.get("type") != condition["type"]]
    status["conditions"] = [*others, entry]
