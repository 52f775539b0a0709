"""``include:`` files: shared validation rules, mutation rules, status fields, profiles,
reconciler settings and watch entries kept in their own YAML file and pulled into a katalog
at load time.

Included rules, status fields and profile entries go before the inline ones; inline
reconciler fields win over included ones; a ``{include: FILE}`` item of ``observe.watch`` is
replaced, in place, by the file's ``watch:`` list. An included file is checked against the
schema of the block it fills.
It must be a regular file inside the including document's directory (``..`` and symbolic
links resolved; ``ORK_ALLOWED_ROOTS`` adds directories), within the YAML and template-action
bounds of :mod:`orkestra.limits`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping

from orkestra.kubeobjects import Json, JsonDict
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath
from orkestra.model.formats import (
    MUTATION_RULE,
    PROFILES,
    RECONCILER,
    STATUS_FIELD,
    VALIDATION_RULE,
    WATCH_ENTRY,
)
from orkestra.model.loader import check_template_actions
from orkestra.model.origins import Origins
from orkestra.model.schema import Context, F, ListOf, Obj
from orkestra.model.shapes import CrdEntry, WatchEntry
from orkestra.model.source import SourceDoc, load_documents, reference_problem

RULES_FILES = {
    "validation": Obj(
        fields={"rules": F(ListOf(VALIDATION_RULE), True)}, name="validation include"
    ),
    "mutation": Obj(fields={"rules": F(ListOf(MUTATION_RULE), True)}, name="mutation include"),
}
# section -> (the list an include file fills, ahead of the inline items; the file's schema)
_LIST_FILES = {
    **{section: ("rules", schema) for section, schema in RULES_FILES.items()},
    "status": (
        "fields",
        Obj(fields={"fields": F(ListOf(STATUS_FIELD), True)}, name="status include"),
    ),
}
_SECTIONS = ("validation", "mutation", "reconcile", "profiles")
_WATCH_FILE = Obj(fields={"watch": F(ListOf(WATCH_ENTRY), True)}, name="watch include")


def load_include(
    owner: Document, ref: str, path: YamlPath, schema: Obj
) -> tuple[JsonDict, Origins]:
    """The checked content of the file ``ref`` names, and where each part of it is."""
    file = owner.resolve_path(ref)
    refused = reference_problem(file, [owner.directory])
    if refused is not None:
        raise PatternError(
            [owner.problem(path, f'cannot include "{ref}": {refused[0]}', hint=refused[1])]
        )
    try:
        sources = load_documents(file, display=ref)
    except PatternError as exc:
        raise PatternError(
            [owner.problem(path, f'cannot include "{ref}"'), *exc.problems]
        ) from None
    if len(sources) != 1:
        raise PatternError([owner.problem(path, f'"{ref}" must hold exactly one YAML document')])
    check_template_actions(sources[0])
    ctx = Context(sources[0])
    data = schema.check(copy.deepcopy(sources[0].data), (), ctx)
    errors = [p for p in ctx.problems if p.severity == "error"]
    if errors:
        raise PatternError(errors)
    assert isinstance(data, dict)  # what an Obj passes without an error is a mapping
    return data, Origins(sources[0])


def resolve_includes(
    owner: Document, tree: object, base: YamlPath, origins: Origins
) -> list[Problem]:
    """Expand every ``include:`` under ``tree`` (validation, mutation, reconciler, profiles,
    an operatorBox's emit.status)."""
    problems: list[Problem] = []
    for path, block, section, ref in list(_include_sites(tree, base)):
        try:
            _apply(owner, block, ref, path, section, origins)
        except PatternError as exc:
            problems.extend(exc.problems)
    return problems


def _include_sites(node: object, path: YamlPath) -> Iterator[tuple[YamlPath, JsonDict, str, str]]:
    """(path, block, section, the file it includes) of each block with an ``include:``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "admission":
                continue  # its includes go between its rules and the CRD-level ones: admission.py
            section = key in _SECTIONS or (key == "status" and path[-2:] == ("operatorBox", "emit"))
            ref = value.get("include") if isinstance(value, dict) else None
            if section and isinstance(ref, str):
                yield path + (key,), value, key, ref
            yield from _include_sites(value, path + (key,))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _include_sites(item, path + (i,))


def _listed(value: Json) -> list[Json]:
    """A list the schema checked, or [] for one left out."""
    return value if isinstance(value, list) else []


def _apply(
    owner: Document, block: JsonDict, ref: str, path: YamlPath, section: str, origins: Origins
) -> None:
    del block["include"]
    if section in _LIST_FILES:
        items, schema = _LIST_FILES[section]
        data, inc = load_include(owner, ref, path + ("include",), schema)
        included, inline = _listed(data[items]), _listed(block.get(items))
        origins.relist(
            path + (items,),
            [(inc.doc, (items, i)) for i in range(len(included))]
            + [origins.resolve(path + (items, i)) for i in range(len(inline))],
        )
        block[items] = included + inline
    elif section == "reconcile":
        data, inc = load_include(owner, ref, path + ("include",), RECONCILER)
        for key, value in data.items():
            if key not in block:
                block[key] = value
                origins.add(path + (key,), inc.doc, (key,))
    else:
        data, inc = load_include(owner, ref, path + ("include",), PROFILES)
        merge_profiles(block, data, path, origins)


def merge_profiles(
    into: JsonDict, extra: Mapping[str, Json], path: YamlPath, origins: Origins
) -> None:
    """Put ``extra``'s profile entries before ``into``'s; a repeated name is an error."""
    problems = []
    for cls, entries in extra.items():
        if not isinstance(entries, list):
            continue
        existing = _listed(into.get(cls))
        names = {e["name"] for e in existing if isinstance(e, dict)}
        for entry in entries:
            if entry["name"] in names:
                problems.append(
                    origins.problem(
                        path + (cls,),
                        f'profile "{entry["name"]}" is defined twice in {cls}',
                        hint="profile names must be unique within a class",
                    )
                )
        into[cls] = list(entries) + list(existing)
    if problems:
        raise PatternError(problems)


def expand_watch_includes(
    owner: Document, entry: CrdEntry, crd_path: YamlPath, origins: Origins
) -> list[Problem]:
    """Replace each ``{include: FILE}`` of the CRD's ``observe.watch`` by the file's list;
    the expanded list may not watch the same (apiVersion, kind, namespace) twice."""
    observe = (entry.get("operatorBox") or {}).get("observe") or {}
    watch = observe.get("watch")
    if not watch:
        return []
    path = crd_path + ("operatorBox", "observe", "watch")
    items: list[WatchEntry] = []
    places: list[tuple[SourceDoc, YamlPath]] = []
    problems: list[Problem] = []
    for i, item in enumerate(watch):
        if "include" not in item:
            items.append(item)
            places.append(origins.resolve(path + (i,)))
            continue
        try:
            data, inc = load_include(owner, item["include"], path + (i, "include"), _WATCH_FILE)
        except PatternError as exc:
            problems.extend(exc.problems)
            continue
        included = data["watch"]
        if isinstance(included, list):  # the file's schema requires the list
            items.extend(included)
            places.extend((inc.doc, ("watch", j)) for j in range(len(included)))
    observe["watch"] = items
    origins.relist(path, places)
    return problems + _repeated_watches(items, path, origins)


def _repeated_watches(items: list[WatchEntry], path: YamlPath, origins: Origins) -> list[Problem]:
    seen: dict[tuple[str, str, str], int] = {}
    problems = []
    for i, item in enumerate(items):
        key = (item["apiVersion"], item["kind"], item.get("namespace", ""))
        if key in seen:
            first = origins.resolve(path + (seen[key],))
            problems.append(
                origins.problem(
                    path + (i,),
                    f"{key[1]} ({key[0]}"
                    + (f", namespace {key[2]}" if key[2] else ", all namespaces")
                    + f") is already watched at {first[0].path}:{first[0].mark(first[1]).line}",
                    hint="one informer serves each kind and namespace: merge the two entries",
                )
            )
        seen.setdefault(key, i)
    return problems
