"""Label selectors (``app=web,tier in (a,b),!legacy`` or matchLabels/matchExpressions)
and field selectors (``metadata.name=x,status.phase!=Running``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from orkestra.cluster.errors import BadRequestError

# A predicate over a label map (``metadata.labels``) or, for field selectors, a whole object.
Matcher = Callable[[Mapping[str, object]], bool]
_SET = re.compile(r"^\s*(!?)([\w./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)\s*$")


def _split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    if current.strip():
        parts.append(current)
    return parts


Requirement = tuple[str, str, frozenset[str]]  # operator, key, values


def _holds(requirement: Requirement, labels: Mapping[str, object]) -> bool:
    op, key, values = requirement
    if op == "=":
        return labels.get(key) in values
    if op == "!=":
        return labels.get(key) not in values
    if op == "in":
        return key in labels and labels[key] in values
    if op == "notin":
        return labels.get(key) not in values
    if op == "exists":
        return key in labels
    return key not in labels  # "!": does not exist


def _requirement(term: str) -> Requirement:
    eq = _EQ.match(term)
    if eq:
        key, op, value = eq.groups()
        return ("!=" if op == "!=" else "=", key, frozenset({value}))
    match = _SET.match(term)
    if match is None:
        raise BadRequestError(f"unable to parse requirement: {term.strip()!r}")
    negate, key, op, values = match.groups()
    if op:
        return (op, key, frozenset(v.strip() for v in values.split(",")))
    return ("!" if negate else "exists", key, frozenset())


def label_matcher(selector: str | Mapping[str, object] | None) -> Matcher:
    """A predicate over label maps."""
    if not selector:
        return lambda labels: True
    if not isinstance(selector, str):
        return _structured(selector)
    requirements = [_requirement(term) for term in _split(selector)]
    return lambda labels: all(_holds(r, labels) for r in requirements)


def _structured(selector: Mapping[str, object]) -> Matcher:
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        raise BadRequestError(f"invalid label selector: {selector!r}")

    def matches(labels: Mapping[str, object]) -> bool:
        if any(labels.get(k) != v for k, v in match_labels.items()):
            return False
        for expr in expressions:
            key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
            if op == "In" and labels.get(key) not in values:
                return False
            if op == "NotIn" and labels.get(key) in values:
                return False
            if op == "Exists" and key not in labels:
                return False
            if op == "DoesNotExist" and key in labels:
                return False
        return True

    return matches


def _field(obj: Mapping[str, object], path: str) -> str:
    node: object = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return "" if node is None else str(node)


def field_matcher(selector: str | None) -> Matcher:
    """A predicate over whole objects."""
    if not selector:
        return lambda obj: True
    terms = []
    for term in _split(selector):
        match = _EQ.match(term)
        if match is None:
            raise BadRequestError(f"invalid field selector: {term.strip()!r}")
        terms.append(match.groups())

    def matches(obj: Mapping[str, object]) -> bool:
        for path, op, value in terms:
            equal = _field(obj, path) == value
            if equal == (op == "!="):
                return False
        return True

    return matches


def selector_text(selector: Mapping[str, object]) -> str:
    """A structured selector (matchLabels/matchExpressions) in string form."""
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        raise BadRequestError(f"invalid label selector: {selector!r}")
    terms = [f"{k}={v}" for k, v in sorted(match_labels.items())]
    for expr in expressions:
        key, op = expr.get("key"), expr.get("operator")
        values = ",".join(sorted(expr.get("values") or []))
        if op in ("In", "NotIn"):
            terms.append(f"{key} {op.lower()} ({values})")
        elif op == "Exists":
            terms.append(str(key))
        elif op == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)
