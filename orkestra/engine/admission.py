"""Mutation and validation rules, applied to the CR's in-memory copy at reconcile time
(the admission webhook applies the same rules to API requests).

A validation rule states what must hold (``field: spec.image``, ``prefix: ghcr.io/``); when
its ``when``/``anyOf`` gate passes and the condition fails, ``deny`` stops the reconcile
with the rule's message and ``warn`` records it. A mutation rule sets a ``default`` when the
field is absent or empty, or always ``override``s it. :func:`admit` runs a CRD entry's
``normalize``, mutation and validation in order: the reconcile's order by default, mutation
first at admission (the API server calls mutating webhooks before validating ones), so the
gateway and the reconcile decide with the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from orkestra.engine.conditions import ABSENT, Evaluation, cast, evaluate, gate, lookup, text_of
from orkestra.engine.context import set_path
from orkestra.engine.fields import coerce_text
from orkestra.kubeobjects import Json, JsonObject
from orkestra.model.shapes import CrdEntry, MutationRule, ValidationRule

# When rules run (a rule's ``fires`` may exclude either).
Moment = Literal["reconcile", "admission"]


@dataclass
class Verdict:
    denied: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Admission:
    """What a CRD entry's admission rules made of ``ev.data``: the validation verdict and
    the paths mutation changed."""

    verdict: Verdict
    mutated: list[str] = field(default_factory=list)


def _fires(rule: ValidationRule | MutationRule, moment: Moment) -> bool:
    return (rule.get("fires") or {}).get(moment, True) is not False


def _violation(rule: ValidationRule, ev: Evaluation) -> str:
    target = str(rule.get("field", ""))
    message = rule.get("message")
    text = (
        ev.renderer.render(message, ev.data)
        if isinstance(message, str)
        else "does not satisfy the rule"
    )
    actual = (
        text_of(lookup(ev.data, target))
        if "{{" not in target
        else ev.renderer.render(target, ev.data)
    )
    return f'field "{target}": {text} (got "{actual}")'


def validate(rules: list[ValidationRule], ev: Evaluation, moment: Moment = "reconcile") -> Verdict:
    """Evaluate validation rules in order; the first ``deny`` violation is the verdict."""
    verdict = Verdict()
    for rule in rules:
        if not _fires(rule, moment) or not gate(rule, ev):
            continue
        if evaluate(rule, ev):
            continue
        violation = _violation(rule, ev)
        if rule.get("action", "deny") == "warn":
            verdict.warnings.append(violation)
        elif verdict.denied is None:
            verdict.denied = violation
    return verdict


def mutate(rules: list[MutationRule], ev: Evaluation, moment: Moment = "reconcile") -> list[str]:
    """Apply mutation rules to ``ev.data``; returns the paths that changed."""
    changed = []
    for rule in rules:
        if not _fires(rule, moment) or not gate(rule, ev):
            continue
        path = str(rule["field"])
        current = lookup(ev.data, path)
        if "override" in rule:
            raw = rule["override"]
        elif current is ABSENT or current in (None, "", [], {}):
            raw = rule["default"]
        else:
            continue
        value: Json = ev.renderer.render(raw, ev.data) if isinstance(raw, str) else raw
        typed = cast(value, str(rule.get("valueType", "string"))) if "valueType" in rule else value
        if typed != current:
            set_path(ev.data, path, typed)
            changed.append(path)
    return changed


def normalize(spec_paths: JsonObject, ev: Evaluation) -> None:
    """``normalize.spec``: render each template and store it under ``spec.<path>``."""
    for path, template in spec_paths.items():
        rendered = ev.renderer.render(template, ev.data) if isinstance(template, str) else template
        set_path(
            ev.data,
            f"spec.{path}",
            coerce_text(rendered) if isinstance(rendered, str) else rendered,
        )


def admit(
    entry: CrdEntry,
    ev: Evaluation,
    *,
    moment: Moment = "reconcile",
    mutate_first: bool | None = None,
) -> Admission:
    """``normalize``, then ``mutation`` and ``validation`` of a CRD entry applied to
    ``ev.data``. Mutation runs first when ``mutate_first`` says so, or (when it is None)
    when the entry's ``mutateFirst`` does."""
    spec_paths = (entry.get("normalize") or {}).get("spec")
    if isinstance(spec_paths, Mapping) and spec_paths:
        normalize(spec_paths, ev)
    mutation = entry.get("mutation") or {}
    rules = mutation.get("rules") or []
    first = bool(mutation.get("mutateFirst")) if mutate_first is None else mutate_first
    mutated = mutate(rules, ev, moment) if first else []
    verdict = validate((entry.get("validation") or {}).get("rules") or [], ev, moment)
    if not first:
        mutated = mutate(rules, ev, moment)
    return Admission(verdict, mutated)
