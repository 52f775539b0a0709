"""``dict[str, Any]`` stays out of the package: Kubernetes objects are ``KubeObject``, pattern
documents the TypedDicts of ``orkestra.model.shapes``, generic JSON ``Json``/``JsonDict``.

The scan reads the syntax tree, so an alias (``Obj = dict[str, Any]``) counts wherever the
alias is defined, and docstrings do not count. The pack's sample hook code is user code and is
not scanned.
"""

from __future__ import annotations

import ast
import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orkestra

PACKAGE = Path(orkestra.__file__).parent
_MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping"}

# What hook authors type-check their code against: ``HookClient`` hands back plain dicts so
# that ``(obj.get("status") or {}).get("readyReplicas")`` keeps type-checking in their code.
ALLOWED = {"hooks/client.py": 4}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_loose(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Subscript) and _name(node.value) in _MAPPINGS):
        return False
    key_value = node.slice
    return (
        isinstance(key_value, ast.Tuple)
        and len(key_value.elts) == 2
        and [_name(e) for e in key_value.elts] == ["str", "Any"]
    )


def _expressions(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node, and the parsed form of every string that is a type expression (a quoted
    annotation, a ``cast("...", x)``); prose strings do not parse and are skipped."""
    for node in ast.walk(tree):
        yield node
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            with contextlib.suppress(SyntaxError):
                yield from ast.walk(ast.parse(node.value, mode="eval"))


def loose_dicts(source: str) -> int:
    return sum(1 for node in _expressions(ast.parse(source)) if _is_loose(node))


def _package_counts() -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("packs/"):
            continue
        if found := loose_dicts(path.read_text(encoding="utf-8")):
            counts[relative] = found
    return counts


def test_no_loose_dicts_outside_the_documented_places() -> None:
    assert dict(_package_counts()) == ALLOWED


def test_the_scan_sees_annotations_aliases_and_string_annotations() -> None:
    source = (
        "from typing import Any, Mapping\n"
        "Obj = dict[str, Any]\n"
        "def f(a: Mapping[str, Any], b: 'dict[str, Any] | None') -> typing.Dict[str, Any]:\n"
        '    """Returns dict[str, Any]."""\n'
        "    c: list[dict[str, Any]] = []\n"
        "    return cast('dict[str, Any]', a)\n"
    )
    assert loose_dicts(source) == 6


def test_the_scan_leaves_typed_mappings_alone() -> None:
    source = (
        "def f(a: dict[str, object], b: Mapping[str, Json]) -> dict[str, KubeObject]:\n"
        "    return {}\n"
    )
    assert loose_dicts(source) == 0
