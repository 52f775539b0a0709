"""Convert the accepted layouts (G0, G1, G2) into the one internal model, G2.

G1 ``operatorBox.reconciler``/``onCreate``/``status``/``finalizers`` move to
``operatorBox.reconcile``/``reconcile.onCreate``/``emit.status``/``runtime.finalizers``;
G0 list-form ``spec.crds`` becomes a map and a CRD-level ``reconciler:`` block becomes the
operatorBox; CRD-level ``workers``/``resync``/``queue`` move under ``reconcile``. Spelling
variants are unified (``eq`` is ``equals``, label lists become maps, ``dependsOn`` becomes
``{name: {condition}}``). The same thing written twice in two layouts is an error.
"""

from __future__ import annotations

from orkestra.kubeobjects import Json, JsonDict
from orkestra.model.errors import Problem, YamlPath
from orkestra.model.origins import Origins

# G1 operatorBox key -> (G2 section, key in section)
_BOX_MOVES = {
    "reconciler": ("reconcile", None),
    "default": ("reconcile", "default"),
    "hooks": ("reconcile", "hooks"),
    "onCreate": ("reconcile", "onCreate"),
    "onReconcile": ("reconcile", "onReconcile"),
    "onDelete": ("reconcile", "onDelete"),
    "status": ("emit", "status"),
    "finalizers": ("runtime", "finalizers"),
    "rollBackOnError": ("runtime", "rollBackOnError"),
    "rollback": ("runtime", "rollback"),
    "autoscale": ("runtime", "autoscale"),
    "watch": ("observe", "watch"),
    "cross": ("observe", "cross"),
}
_OPERATOR_SPELLINGS = {"eq": "equals", "neq": "notEquals"}


class Normalizer:
    def __init__(self, origins: Origins) -> None:
        self.origins = origins
        self.problems: list[Problem] = []

    def conflict(self, path: YamlPath, other: YamlPath) -> None:
        self.problems.append(
            self.origins.problem(
                path,
                "set twice in two layouts",
                key=True,
                hint=f"the same setting is also given at {'.'.join(map(str, other))}; keep one",
            )
        )

    def place(
        self, value: Json, src_path: YamlPath, parent: JsonDict, key: str, dst_path: YamlPath
    ) -> None:
        """Put a moved value at ``parent[key]``; dicts merge key by key."""
        existing = parent.get(key)
        if existing is None:
            parent[key] = value
            self.origins.moved(dst_path, src_path)
            return
        if isinstance(existing, dict) and isinstance(value, dict):
            for sub, item in value.items():
                self.place(item, src_path + (sub,), existing, sub, dst_path + (sub,))
            return
        self.conflict(src_path, dst_path)

    # -- katalog ----------------------------------------------------------------------
    def katalog(self, data: JsonDict) -> JsonDict:
        spec = data.get("spec")
        if isinstance(spec, dict) and "crds" in spec:
            spec["crds"] = self.crds(spec["crds"], ("spec", "crds"))
        unify_spellings(data)
        return data

    def crds(self, crds: Json, path: YamlPath) -> JsonDict:
        if isinstance(crds, list):
            by_name: JsonDict = {}
            for i, entry in enumerate(crds):
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    continue
                name = entry.pop("name")
                if name in by_name:
                    self.problems.append(
                        self.origins.problem(
                            path + (i, "name"),
                            f'duplicate CRD name "{name}"',
                            hint="each CRD entry needs its own name",
                        )
                    )
                    continue
                by_name[name] = entry
                self.origins.moved(path + (name,), path + (i,))
            crds = by_name
        if not isinstance(crds, dict):
            return {}
        for name, entry in crds.items():
            if isinstance(entry, dict):
                self.crd_entry(entry, path + (name,))
        return crds

    def crd_entry(self, entry: JsonDict, path: YamlPath) -> None:
        box = _section(entry, "operatorBox")
        box_path = path + ("operatorBox",)
        legacy = entry.pop("reconciler", None)
        if isinstance(legacy, dict):
            for key in list(legacy):
                target = key if key in ("status", "onCreate") else None
                if target is not None:
                    self.place(
                        legacy.pop(key),
                        path + ("reconciler", key),
                        box,
                        target,
                        box_path + (target,),
                    )
            self.place(
                legacy, path + ("reconciler",), box, "reconciler", box_path + ("reconciler",)
            )
        for key in ("workers", "resync", "queue"):
            if key in entry:
                reconcile = _section(box, "reconcile")
                self.place(
                    entry.pop(key), path + (key,), reconcile, key, box_path + ("reconcile", key)
                )
        self.operator_box(box, box_path)
        if not box:
            del entry["operatorBox"]
        if "dependsOn" in entry:
            entry["dependsOn"] = depends_on_map(entry["dependsOn"])
        for block in ("labels", "annotations", "labelSelector"):
            _values_as_text(entry, block)
        observe = box.get("observe")
        cross = observe.get("cross") if isinstance(observe, dict) else None
        for cross_entry in cross if isinstance(cross, list) else ():
            if isinstance(cross_entry, dict):
                _values_as_text(cross_entry, "labelSelector")

    def operator_box(self, box: JsonDict, path: YamlPath) -> None:
        for key, (section, sub) in _BOX_MOVES.items():
            if key not in box:
                continue
            value = box.pop(key)
            target = _section(box, section)
            if sub is None:
                self.place(value, path + (key,), box, section, path + (section,))
            else:
                self.place(value, path + (key,), target, sub, path + (section, sub))
        for section in ("reconcile", "emit", "runtime", "observe"):
            if box.get(section) == {}:
                del box[section]

    # -- komposer ---------------------------------------------------------------------
    def komposer(self, data: JsonDict) -> JsonDict:
        if "sources" in data:
            sources = data.pop("sources")
            if "imports" in data:
                self.conflict(("sources",), ("imports",))
            else:
                data["imports"] = sources
                self.origins.moved(("imports",), ("sources",))
        spec = data.get("spec")
        if isinstance(spec, dict) and "crds" in spec:
            crds = spec["crds"] = self.crds(spec["crds"], ("spec", "crds"))
            for entry in crds.values():
                if isinstance(entry, dict) and entry.get("operatorBox") == {}:
                    del entry["operatorBox"]
        unify_spellings(data)
        return data


def _section(parent: JsonDict, key: str) -> JsonDict:
    """``parent[key]``, created empty when missing; the schema made it a mapping."""
    section = parent.setdefault(key, {})
    assert isinstance(section, dict)
    return section


def _values_as_text(parent: JsonDict, key: str) -> None:
    """``parent[key]``'s values as text, when it is a map: labels, annotations and label
    selectors are strings to Kubernetes, so ``tier: 1`` selects the label ``tier: "1"``."""
    values = parent.get(key)
    if isinstance(values, dict):
        parent[key] = {k: _text(v) for k, v in values.items()}


def _text(value: Json) -> str:
    """A label or annotation value as Kubernetes stores it (``true``, not ``True``)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def depends_on_map(value: Json) -> dict[str, dict[str, str]]:
    """``{db: healthy}``, ``{db: {condition: healthy}}`` or ``[db]`` as one map form."""
    if isinstance(value, list):
        return {name: {"condition": "started"} for name in value if isinstance(name, str)}
    out: dict[str, dict[str, str]] = {}
    if isinstance(value, dict):
        for name, cond in value.items():
            if isinstance(cond, str):
                out[name] = {"condition": cond}
            elif isinstance(cond, dict):
                out[name] = {"condition": cond.get("condition", "started")}
    return out


def unify_spellings(node: Json) -> None:
    """``eq``/``neq`` operators and list-form labels, anywhere in the tree."""
    if isinstance(node, dict):
        operator = node.get("operator")
        if isinstance(operator, str) and operator in _OPERATOR_SPELLINGS:
            node["operator"] = _OPERATOR_SPELLINGS[operator]
        labels = node.get("labels")
        if isinstance(labels, list) and all(isinstance(x, dict) for x in labels):
            node["labels"] = {str(x.get("key")): x.get("value") for x in labels}
        for value in node.values():
            unify_spellings(value)
    elif isinstance(node, list):
        for item in node:
            unify_spellings(item)
