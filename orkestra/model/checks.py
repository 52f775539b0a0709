"""Semantic checks on one normalized document, beyond what the schema can say.

Cross-field rules (``default: false`` needs a ``constructor``; ``rotateAfter`` needs
``once``), references (``dependsOn`` names, cycles among them), condition shapes, motif
input declarations, and that every template parses with the functions it will have.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping

from orkestra.kubeobjects import Json, JsonDict
from orkestra.model.document import Document
from orkestra.model.errors import Collector, Problem, YamlPath, did_you_mean
from orkestra.model.formats import OPERATORS, SHORTHANDS
from orkestra.model.shapes import (
    CrdEntry,
    CrdExpectations,
    CrossEntry,
    Declaration,
    E2EFile,
    Katalog,
    Komposer,
    Motif,
    OperatorBox,
    PreReconcile,
    ResourceTemplates,
    SimulateFile,
)
from orkestra.template import BUILTIN_TABLE, LIBRARY, Renderer, TemplateSyntaxError, UserNote

BUILTIN_KINDS = frozenset(
    {
        "Pod",
        "Service",
        "ConfigMap",
        "Secret",
        "Namespace",
        "ServiceAccount",
        "Node",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Endpoints",
        "Event",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "Ingress",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ResourceQuota",
        "LimitRange",
        "StorageClass",
    }
)
_NO_VALUE_OPERATORS = {
    "exists",
    "notExists",
    "unique",
    "typeOf",
    "typeMap",
    "typeList",
    "typeString",
    "typeNumber",
    "typeBool",
    "typeNull",
}
_RESERVED_CONTEXT = {
    "metadata",
    "spec",
    "status",
    "children",
    "item",
    "index",
    "value",
    "external",
    "cross",
    "metrics",
    "health",
    "previous",
    "inputs",
    "git",
    "docker",
    "events",
    "apiVersion",
    "kind",
}
_INPUT_REF = re.compile(r"\.inputs\.([A-Za-z_][A-Za-z0-9_-]*)|index\s+\.inputs\s+\"([^\"]+)\"")
_FREE_TEXT_KEYS = {"description", "expression"}
_DAY_PREFIXES = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
_BARE_INPUT = re.compile(r"\{\{ inputs\.")
_LABEL_VALUE = re.compile(r"(?=.{0,63}$)([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+")
# what a reconcile's context holds besides the forEach item (engine.context.template_context)
CONTEXT_ROOTS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "spec",
        "status",
        "children",
        "external",
        "cross",
        "metrics",
        "health",
        "previous",
    }
)


def check_document(doc: Document) -> list[Problem]:
    checker = _Checker(doc)
    checker.run()
    return checker.problems


def walk_strings(
    node: object, path: YamlPath = (), containing: str = ""
) -> list[tuple[YamlPath, str]]:
    """Every string value in a tree that holds ``containing``, with its path, in document
    order (description texts excluded)."""
    found: list[tuple[YamlPath, str]] = []
    if isinstance(node, str):
        if containing in node:
            found.append((path, node))
    elif isinstance(node, (dict, list)):
        _strings(node, path, containing, found)
    return found


def _strings(
    node: JsonDict | list[Json], path: YamlPath, containing: str, found: list[tuple[YamlPath, str]]
) -> None:
    """:func:`walk_strings` under a collection: a path is made only for what is kept or
    entered (most values are neither)."""
    pairs = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in pairs:
        if isinstance(value, str):
            if containing in value and key not in _FREE_TEXT_KEYS:
                found.append((path + (key,), value))
        elif isinstance(value, (dict, list)) and key not in _FREE_TEXT_KEYS:
            _strings(value, path + (key,), containing, found)


def walk_conditions(
    node: object, path: YamlPath = ()
) -> list[tuple[YamlPath, Mapping[str, object]]]:
    """Every condition in a tree, in document order: items of ``when``/``or`` lists and
    validation rules (each followed by the conditions inside it)."""
    found: list[tuple[YamlPath, Mapping[str, object]]] = []
    if isinstance(node, (dict, list)):
        _conditions(node, path, found)
    return found


def _conditions(
    node: JsonDict | list[Json], path: YamlPath, found: list[tuple[YamlPath, Mapping[str, object]]]
) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, (dict, list)):
                _conditions(item, path + (i,), found)
        return
    for key, value in node.items():
        if not isinstance(value, list):
            if isinstance(value, dict):
                _conditions(value, path + (key,), found)
            continue
        if key in ("when", "or"):
            found.extend((path + (key, i), c) for i, c in enumerate(value) if isinstance(c, dict))
        elif key == "rules" and path[-1:] == ("validation",):
            for i, rule in enumerate(value):
                if isinstance(rule, dict):
                    found.append((path + (key, i), rule))
                    _conditions(rule, path + (key, i), found)
            continue
        _conditions(value, path + (key,), found)


class _Checker(Collector):
    doc: Document

    def run(self) -> None:
        data = self.doc.data
        if data["kind"] == "Simulate":
            self.simulate(data)
            return
        if data["kind"] == "E2E":
            self.e2e(data)
            return
        if data["kind"] != "Motif":
            self.deprecation(data)
            self.notes(data)
        if data["kind"] == "Katalog":
            self.katalog(data)
        elif data["kind"] == "Motif":
            self.motif(data)
        for path, cond in walk_conditions(data):
            self.condition(cond, path)
        self.mutation_rules(data)
        self.templates(data)

    # -- katalog ----------------------------------------------------------------------
    def katalog(self, data: Katalog) -> None:
        crds = data["spec"]["crds"]
        if not crds:
            self.error(
                ("spec", "crds"),
                "declares no CRDs",
                expected="at least one CRD entry under spec.crds",
            )
        for name, entry in crds.items():
            self.crd_entry(name, entry, ("spec", "crds", name))
        self.dependency_cycles(crds)

    def crd_entry(self, name: str, entry: CrdEntry, path: YamlPath) -> None:
        api = entry.get("apiTypes")
        if api is None and "crdFile" not in entry:
            self.error(
                path,
                f'CRD "{name}" has neither apiTypes nor crdFile',
                expected="apiTypes: {group, version, kind, plural} or crdFile",
                hint="give apiTypes, or point crdFile at the CRD manifest",
            )
        elif api is not None and api.get("kind") not in BUILTIN_KINDS and "crdFile" not in entry:
            for field in ("group", "version", "plural"):
                if field not in api:
                    self.error(
                        path + ("apiTypes",),
                        f'missing "{field}" for custom kind {api.get("kind")}',
                        hint="only built-in Kubernetes kinds may omit group, version "
                        "and plural (or give crdFile to infer them)",
                    )
        if entry.get("mode") == "typed" and not (api or {}).get("location"):
            self.error(
                path + ("mode",),
                "typed mode needs apiTypes.location",
                hint="set apiTypes.location to the Python import path of the CR model",
            )
        for a, b in (("restrictedNamespaces", "allowedNamespaces"), ("enrich", "enrichAll")):
            if a in entry and b in entry:
                self.error(path + (b,), f"{a} and {b} cannot both be set", key=True)
        for dep in entry.get("dependsOn", {}):
            if dep == name:
                self.error(path + ("dependsOn", dep), "a CRD cannot depend on itself", key=True)
        for block, values in (
            ("labels", entry.get("labels")),
            ("annotations", entry.get("annotations")),
        ):
            for key, value in (values or {}).items():
                self.cr_metadata(block, key, value, path + (block, key))
        self.operator_box(entry.get("operatorBox", {}), path + ("operatorBox",))

    def cr_metadata(self, block: str, key: str, value: str, path: YamlPath) -> None:
        """What the API server would refuse on the CR's labels or annotations."""
        prefix, _, name = key.rpartition("/")
        if len(name) > 63 or len(prefix) > 253:
            self.error(
                path,
                f'{block[:-1]} key "{key}" is too long',
                key=True,
                expected="a name of at most 63 characters, after an optional prefix of at most 253",
            )
        elif block == "labels" and "{{" not in value and not _LABEL_VALUE.fullmatch(value):
            self.error(
                path,
                f'"{value}" is not a valid label value',
                expected="at most 63 letters, digits, '-', '_' or '.', starting and "
                "ending with a letter or digit (or empty)",
                hint="an annotation takes any text",
            )

    def operator_box(self, box: OperatorBox, path: YamlPath) -> None:
        reconcile = box.get("reconcile", {})
        if reconcile.get("default") is False and "constructor" not in reconcile:
            self.error(
                path + ("reconcile", "default"),
                "default: false needs a constructor (the custom reconciler to run)",
            )
        for block in ("hooks", "constructor"):
            ref = reconcile.get(block)
            if isinstance(ref, dict) and not (ref.get("module") or ref.get("location")):
                self.error(
                    path + ("reconcile", block),
                    f"{block} needs module (or location)",
                    expected="a Python import path such as myorg.hooks.database",
                )
        for phase in ("onCreate", "onReconcile", "onDelete"):
            templates = reconcile.get(phase)
            if isinstance(templates, dict):
                self.resource_templates(templates, path + ("reconcile", phase))
        self.gate_sentinels(box.get("preReconcile") or {}, path + ("preReconcile",))
        self.cross_keys((box.get("observe") or {}).get("cross") or [], path + ("observe", "cross"))

    def cross_keys(self, cross: list[CrossEntry], path: YamlPath) -> None:
        seen: dict[str, int] = {}
        for i, entry in enumerate(cross):
            name = entry.get("as")
            if isinstance(name, str) and name in seen:
                self.error(
                    path + (i,),
                    f".cross.{name} is already read by cross[{seen[name]}]",
                    hint='give one of them another "as"',
                )
            elif isinstance(name, str):
                seen[name] = i

    def gate_sentinels(self, pre: PreReconcile, path: YamlPath) -> None:
        """A gate may only test the sentinels the informer is told to compute."""
        declared = pre.get("sentinels") or []
        gates = (
            ("enqueueGate", pre.get("enqueueGate")),
            ("reconcileGate", pre.get("reconcileGate")),
        )
        for gate, block in gates:
            for i, name in enumerate((block or {}).get("sentinels") or []):
                if name not in declared:
                    self.error(
                        path + (gate, "sentinels", i),
                        f'sentinel "{name}" is not declared in preReconcile.sentinels',
                        expected=f"one of {', '.join(declared) or '(none declared)'}",
                        hint=f"add {name} to preReconcile.sentinels: the informer "
                        "computes only the sentinels declared there",
                    )

    def resource_templates(self, templates: ResourceTemplates, path: YamlPath) -> None:
        seen: dict[tuple[str, str], int] = {}
        for kind, items in templates.items():
            for i, item in enumerate(items or []):
                here = path + (kind, i)
                self.resource(kind, item, here)
                name = (
                    item.get("name")
                    if kind != "custom"
                    else (item.get("metadata") or {}).get("name", item.get("name"))
                )
                if (
                    isinstance(name, str)
                    and "forEach" not in item
                    and not item.get("when")
                    and not item.get("or")
                ):
                    key = (kind if kind != "custom" else str(item.get("kind")), name)
                    if key in seen:
                        self.error(
                            here + ("name",),
                            f'{kind} name "{name}" is declared twice',
                            hint=f"the same name is already used by {kind}[{seen[key]}]",
                        )
                    seen[key] = i

    def resource(self, kind: str, item: Declaration, path: YamlPath) -> None:
        if kind == "secrets" and "rotateAfter" in item and not item.get("once"):
            self.error(
                path + ("rotateAfter",),
                "rotateAfter needs once: true",
                hint="rotation applies to secrets generated once",
            )
        if (
            kind == "services"
            and item.get("headless")
            and item.get("type") not in (None, "ClusterIP")
        ):
            self.error(path + ("type",), "a headless service must be of type ClusterIP")
        if kind in ("deployments", "statefulSets", "replicaSets", "pods") and not item.get("image"):
            self.error(path, f'{kind[:-1]} needs "image"', expected="a container image")
        for_each = item.get("forEach")
        alias = for_each.get("as") if for_each else None
        if isinstance(alias, str) and alias in _RESERVED_CONTEXT - {"item"}:
            self.error(
                path + ("forEach", "as"),
                f'"{alias}" is a reserved context key',
                hint="pick another name, such as region or shard",
            )

    def dependency_cycles(self, crds: dict[str, CrdEntry]) -> None:
        graph = {name: list(entry.get("dependsOn") or {}) for name, entry in crds.items()}
        for name, deps in graph.items():
            for dep in deps:
                if dep not in graph:
                    self.error(
                        ("spec", "crds", name, "dependsOn", dep),
                        f'depends on unknown CRD "{dep}"',
                        key=True,
                        expected=f"one of {', '.join(sorted(graph))}",
                        hint=did_you_mean(dep, graph),
                    )
        state: dict[str, int] = {}

        def visit(node: str, trail: list[str]) -> None:
            state[node] = 1
            for dep in graph.get(node, []):
                if dep not in graph or dep == node:
                    continue
                if state.get(dep) == 1:
                    cycle = trail[trail.index(dep) :] + [dep]
                    self.error(
                        ("spec", "crds", node, "dependsOn", dep),
                        "dependency cycle: " + " -> ".join(cycle),
                        key=True,
                        hint="CRDs start in dependency order; remove one edge",
                    )
                elif dep not in state:
                    visit(dep, [*trail, dep])
            state[node] = 2

        for name in graph:
            if name not in state:
                visit(name, [name])

    # -- shared -----------------------------------------------------------------------
    def deprecation(self, data: Katalog | Komposer) -> None:
        blocks = (
            (("metadata", "deprecation"), data.get("metadata", {}).get("deprecation")),
            (("lifecycle", "deprecation"), data.get("lifecycle", {}).get("deprecation")),
        )
        for path, block in blocks:
            timeline = (block.get("timeline") if block else None) or {}
            dates = {}
            for key, text in (("from", timeline.get("from")), ("to", timeline.get("to"))):
                if text is None:
                    continue
                try:
                    dates[key] = datetime.date.fromisoformat(text)
                except ValueError:
                    self.error(
                        path + ("timeline", key),
                        f'"{text}" is not a valid date',
                        expected="a calendar date YYYY-MM-DD",
                    )
            if "from" in dates and "to" in dates and dates["from"] >= dates["to"]:
                self.error(path + ("timeline",), "timeline.from must be before timeline.to")

    def notes(self, data: Katalog | Komposer) -> None:
        seen: set[str] = set()
        for i, note in enumerate((data.get("notes") or {}).get("functions") or []):
            name = note["name"]
            here = ("notes", "functions", i, "name")
            if name in BUILTIN_TABLE or name in ("true", "false", "nil"):
                self.error(
                    here,
                    f'"{name}" is a built-in template function',
                    hint="pick another name for the note",
                )
            elif name in seen:
                self.error(here, f'note "{name}" is defined twice')
            elif name in LIBRARY:
                self.warn(here, f'note "{name}" replaces the library function of that name')
            seen.add(name)

    def condition(self, cond: Mapping[str, object], path: YamlPath) -> None:
        ops: list[str] = [k for k in SHORTHANDS if k in cond]
        if "operator" in cond:
            ops.append("operator")
        windows: list[str] = [k for k in ("time", "dayOfWeek", "cron") if k in cond]
        if len(ops) + len(windows) == 0:
            if "default" in cond or "override" in cond:
                return  # a mutation rule, checked separately
            self.error(
                path,
                "the condition has no operator",
                expected="operator + value, a shorthand such as equals:/exists:, or "
                "time:/dayOfWeek:/cron:",
            )
            return
        if len(ops) + len(windows) > 1:
            self.error(
                path,
                f"the condition has several operators ({', '.join(ops + windows)})",
                hint="split it into separate conditions",
            )
            return
        if ops and "field" not in cond:
            self.error(
                path, 'missing "field"', expected="a path such as spec.replicas or a {{ template }}"
            )
        op = str(cond["operator"]) if "operator" in cond else ops[0] if ops else ""
        if "operator" in cond and op not in _NO_VALUE_OPERATORS and "value" not in cond:
            self.error(path, f'operator {op} needs "value"')
        if op not in OPERATORS and op not in SHORTHANDS and op:
            return
        raw = cond.get("value") if "operator" in cond else cond.get(op)
        self.condition_value(op, raw, path + (("value" if "operator" in cond else op),))
        day = cond.get("dayOfWeek")
        if isinstance(day, dict) and len(day) != 1:
            self.error(
                path + ("dayOfWeek",), "dayOfWeek takes exactly one of weekday, weekend, in, notIn"
            )
        if isinstance(day, dict):
            key = "in" if "in" in day else "notIn"
            for i, name in enumerate(day.get(key) or []):
                if str(name).strip().lower()[:3] not in _DAY_PREFIXES:
                    self.error(
                        path + ("dayOfWeek", key, i),
                        f'"{name}" is not a day of the week',
                        expected="monday ... sunday (or mon ... sun)",
                    )
        schedule = cond.get("cron")
        if isinstance(schedule, str) and "{{" not in schedule:
            from orkestra.cron import CronError, Schedule  # cron and RE2: only when used

            try:
                Schedule.parse(schedule)
            except CronError as exc:
                self.error(
                    path + ("cron",),
                    f"invalid cron schedule: {exc}",
                    expected="5 fields: minute hour day-of-month month day-of-week",
                )

    def condition_value(self, op: str, raw: object, path: YamlPath) -> None:
        if not isinstance(raw, str) or "{{" in raw:
            return
        if op == "regex":
            from orkestra.regex import RegexError, compile_regex

            try:
                compile_regex(raw)  # RE2, as the engine and Go match it
            except RegexError as exc:
                self.error(path, exc.message, hint=exc.hint)
        elif op in ("between", "notBetween") and raw.count(",") != 1:
            self.error(path, f'"{raw}" is not a range', expected='"low,high" such as "1,10"')

    def mutation_rules(self, data: object, path: YamlPath = ()) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                if key == "mutation" and isinstance(value, dict):
                    for i, rule in enumerate(value.get("rules") or []):
                        count = ("default" in rule) + ("override" in rule)
                        if count != 1:
                            self.error(
                                path + (key, "rules", i),
                                "a mutation rule needs exactly one of default or override",
                            )
                else:
                    self.mutation_rules(value, path + (key,))

    def templates(self, data: Katalog | Komposer | Motif) -> None:
        notes = [
            UserNote(n["name"], n["expression"])
            for n in (data.get("notes") or {}).get("functions") or []
        ]
        renderer = Renderer(notes)
        for path, text in walk_strings(data, containing="{{"):
            if self.doc.kind == "Motif":
                # `{{ inputs.X }}` is substituted before any template engine sees it
                text = _BARE_INPUT.sub("{{ .inputs.", text)
            self.template(renderer, text, path)
        for i, note in enumerate((data.get("notes") or {}).get("functions") or []):
            self.template(renderer, note["expression"], ("notes", "functions", i, "expression"))

    def template(self, renderer: Renderer, text: str, path: YamlPath) -> None:
        try:
            renderer.compile(text)
        except TemplateSyntaxError as exc:
            where = (
                f"template line {exc.line}, column {exc.column(text)}"
                if exc.line > 1
                else f"template column {exc.column(text)}"
            )
            self.error(
                path,
                f"template does not parse: {exc.message} ({where})",
                hint=_template_hint(exc.message, renderer),
            )

    # -- motif ------------------------------------------------------------------------
    def motif(self, data: Motif) -> None:
        declared: dict[str, int] = {}
        for i, spec in enumerate(data.get("inputs") or []):
            name = spec["name"]
            if name in declared:
                self.error(("inputs", i, "name"), f'input "{name}" is declared twice')
            declared[name] = i
            if spec.get("required") and "default" in spec:
                self.warn(
                    ("inputs", i, "default"),
                    "a required input never uses its default",
                    hint="drop required: true or the default",
                )
        for section in ("resources", "status", "admission"):
            for path, text in walk_strings(data.get(section), (section,)):
                for match in _INPUT_REF.finditer(text):
                    used = match.group(1) or match.group(2)
                    if used not in declared:
                        self.error(
                            path,
                            f'uses input "{used}", which the motif does not declare',
                            expected=f"one of {', '.join(declared) or '(none)'}",
                            hint=did_you_mean(used, declared)
                            or f"add {{name: {used}}} under inputs",
                        )
        resources = data.get("resources") or {}
        for kind, items in resources.items():
            if isinstance(items, dict):  # onCreate: resource templates
                self.resource_templates(items, ("resources", "onCreate"))
                placed: list[tuple[YamlPath, Declaration]] = [
                    (("resources", "onCreate", k, i), item)
                    for k, lst in items.items()
                    for i, item in enumerate(lst or [])
                ]
            else:
                for i, item in enumerate(items or []):
                    self.resource(kind, item, ("resources", kind, i))
                placed = [(("resources", kind, i), item) for i, item in enumerate(items or [])]
            for path, item in placed:
                self.motif_conditions(item, path)

    def motif_conditions(self, item: Declaration, path: YamlPath) -> None:
        """Warn about a motif resource condition whose field may be meant as a path but is
        compared as literal text when the katalog loads."""
        for key, conditions in (("when", item.get("when")), ("or", item.get("or"))):
            for i, cond in enumerate(conditions or []):
                field = cond.get("field")
                if not isinstance(field, str) or bare_path(field, item) != "text":
                    continue
                if field.startswith("inputs."):
                    self.warn(
                        path + (key, i, "field"),
                        f'"{field}" has no {{{{ }}}}: it is '
                        "compared as that literal text when the katalog loads",
                        hint=f'write field: "{{{{ .{field} }}}}" to compare the input\'s value',
                    )
                else:
                    self.warn(
                        path + (key, i, "field"),
                        f'"{field}" is not a path into the CR '
                        f"({', '.join(sorted(CONTEXT_ROOTS))}): it is compared as "
                        "literal text when the katalog loads",
                        hint="start it with one of those to test the CR at reconcile time",
                    )

    # -- simulate / e2e ---------------------------------------------------------------
    def simulate(self, data: SimulateFile) -> None:
        spec = data.get("spec")
        if spec is None and not data.get("imports"):
            self.error(
                (),
                'missing "spec"',
                expected="spec: {katalog, cr, expect} (or imports: for an aggregator)",
            )
            return
        if spec is not None and data.get("imports"):
            self.error(("imports",), "an aggregator (imports) cannot also have a spec", key=True)
        if spec is None:
            return
        if "cr" not in spec and "crFiles" not in spec:
            self.error(
                ("spec",),
                "spec.cr or spec.crFiles is required",
                hint="point cr at the CR manifest to reconcile",
            )
        expect = spec.get("expect") or {}
        self.expectations(expect, ("spec", "expect"))
        for crd, block in (expect.get("crds") or {}).items():
            self.expectations(block, ("spec", "expect", "crds", crd))

    def expectations(self, expect: CrdExpectations, path: YamlPath) -> None:
        for i, rule in enumerate(expect.get("ops") or []):
            here = path + ("ops", i)
            if "include" in rule:
                if len(rule) > 1:
                    self.error(here, "an include entry cannot have other fields")
                continue
            if "cycle" not in rule:
                self.error(
                    here,
                    'missing "cycle"',
                    expected="the cycle number the op happens in (1 for the first reconcile)",
                )
            if "resource" not in rule:
                self.error(
                    here,
                    'missing "resource"',
                    expected="a plural resource such as deployments, or status",
                )
        for i, rule in enumerate(expect.get("absent") or []):
            if "include" in rule:
                self.error(
                    path + ("absent", i, "include"), "include is only allowed in ops", key=True
                )
            elif "resource" not in rule:
                self.error(path + ("absent", i), 'missing "resource"')

    def e2e(self, data: E2EFile) -> None:
        spec = data.get("spec")
        if spec is None and not data.get("imports"):
            self.error((), 'missing "spec"', expected="spec: {katalog, crd, cr, expect}")
            return
        names: dict[str, int] = {}
        for i, exp in enumerate((spec or {}).get("expect") or []):
            if exp["name"] in names:
                self.error(
                    ("spec", "expect", i, "name"), f'expectation "{exp["name"]}" is named twice'
                )
            names[exp["name"]] = i


def bare_path(field: object, item: Declaration) -> str:
    """How a motif resource's condition field without a template is read: "cr" for a path
    into the reconcile context (``status.phase``, or the item's ``forEach`` alias), resolved
    at reconcile time; "text" for a dotted word that is compared literally at load time, as
    upstream compares every such field, although it may be meant as a path; "" otherwise."""
    if not isinstance(field, str) or "{{" in field or not _DOTTED.fullmatch(field):
        return ""
    for_each = item.get("forEach")
    alias = (for_each.get("as") or "item") if isinstance(for_each, dict) else None
    root = field.split(".", 1)[0]
    return "cr" if root in CONTEXT_ROOTS or root == alias else "text"


def _template_hint(message: str, renderer: Renderer) -> str:
    match = re.search(r'function "([^"]+)" not defined', message)
    if match:
        suggestion = did_you_mean(match.group(1), renderer.funcs)
        return suggestion or "see `ork validate --notes` for the available functions"
    if "unexpected EOF" in message or "unclosed action" in message:
        return "an {{ if }}, {{ range }} or {{ with }} is missing its {{ end }}, or }} is missing"
    return ""
