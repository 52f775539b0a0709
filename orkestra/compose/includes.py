"""``include:`` files: shared validation rules, mutation rules, profiles and reconciler
settings kept in their own YAML file and pulled into a katalog at load time.

Included rules and profile entries go before the inline ones; inline reconciler fields win
over included ones. An included file is checked against the schema of the block it fills.
It must be a regular file inside the including document's directory (``..`` and symbolic
links resolved; ``ORK_ALLOWED_ROOTS`` adds directories), within the YAML and template-action
bounds of :mod:`orkestra.limits`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath
from orkestra.model.formats import MUTATION_RULE, PROFILES, RECONCILER, VALIDATION_RULE
from orkestra.model.loader import check_template_actions
from orkestra.model.origins import Origins
from orkestra.model.schema import Context, F, ListOf, Obj
from orkestra.model.source import load_documents, reference_problem

_RULES_FILE = {
    "validation": Obj({"rules": F(ListOf(VALIDATION_RULE), True)}, name="validation include"),
    "mutation": Obj({"rules": F(ListOf(MUTATION_RULE), True)}, name="mutation include"),
}


def _load(owner: Document, ref: str, path: YamlPath, schema: Obj) -> tuple[Any, Origins]:
    file = owner.resolve_path(ref)
    refused = reference_problem(file, [owner.directory])
    if refused is not None:
        raise PatternError([owner.problem(path, f'cannot include "{ref}": {refused[0]}',
                                          hint=refused[1])])
    try:
        sources = load_documents(file, display=ref)
    except PatternError as exc:
        raise PatternError([owner.problem(path, f'cannot include "{ref}"'), *exc.problems]
                           ) from None
    if len(sources) != 1:
        raise PatternError([owner.problem(path, f'"{ref}" must hold exactly one YAML document')])
    check_template_actions(sources[0])
    ctx = Context(sources[0])
    data = schema.check(copy.deepcopy(sources[0].data), (), ctx)
    errors = [p for p in ctx.problems if p.severity == "error"]
    if errors:
        raise PatternError(errors)
    return data, Origins(sources[0])


def resolve_includes(owner: Document, tree: Any, base: YamlPath, origins: Origins) -> list[Problem]:
    """Expand every ``include:`` under ``tree`` (validation, mutation, reconciler, profiles)."""
    problems: list[Problem] = []
    for path, block, section in list(_include_sites(tree, base)):
        try:
            _apply(owner, block, path, section, origins)
        except PatternError as exc:
            problems.extend(exc.problems)
    return problems


def _include_sites(node: Any, path: YamlPath
                   ) -> Iterator[tuple[YamlPath, dict[str, Any], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("validation", "mutation", "reconcile", "profiles") and \
                    isinstance(value, dict) and isinstance(value.get("include"), str):
                yield path + (key,), value, key
            yield from _include_sites(value, path + (key,))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _include_sites(item, path + (i,))


def _apply(owner: Document, block: dict[str, Any], path: YamlPath, section: str,
           origins: Origins) -> None:
    ref = block.pop("include")
    if section in _RULES_FILE:
        data, inc = _load(owner, ref, path + ("include",), _RULES_FILE[section])
        inline = block.get("rules") or []
        for i in range(len(inline)):
            origins.moved(path + ("rules", len(data["rules"]) + i), path + ("rules", i))
        for i in range(len(data["rules"])):
            origins.add(path + ("rules", i), inc.doc, ("rules", i))
        block["rules"] = data["rules"] + inline
    elif section == "reconcile":
        data, inc = _load(owner, ref, path + ("include",), RECONCILER)
        for key, value in data.items():
            if key not in block:
                block[key] = value
                origins.add(path + (key,), inc.doc, (key,))
    else:
        data, inc = _load(owner, ref, path + ("include",), PROFILES)
        merge_profiles(block, data, path, origins)


def merge_profiles(into: dict[str, Any], extra: dict[str, Any], path: YamlPath,
                   origins: Origins) -> None:
    """Put ``extra``'s profile entries before ``into``'s; a repeated name is an error."""
    problems = []
    for cls, entries in extra.items():
        if not isinstance(entries, list):
            continue
        existing = into.get(cls) or []
        names = {e["name"] for e in existing}
        for entry in entries:
            if entry["name"] in names:
                problems.append(origins.problem(
                    path + (cls,), f'profile "{entry["name"]}" is defined twice in {cls}',
                    hint="profile names must be unique within a class"))
        into[cls] = list(entries) + list(existing)
    if problems:
        raise PatternError(problems)
