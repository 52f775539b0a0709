"""One reconcile of one CR: the logic the simulator and the runtime share.

The cycle: normalize the in-memory spec, run mutation and validation (``mutateFirst``
decides the order; a ``deny`` stops the cycle), create ``onCreate`` resources that are
missing, apply ``onReconcile`` resources (forEach expanded, at most
``ORK_MAX_FOREACH_ITEMS`` copies; ``when``/``or`` gated; objects a declaration no longer
wants are deleted), run the typed hooks (:mod:`orkestra.engine.hooks`; before the templates
with ``runHooksFirst``, instead of them for a constructor), then write the status if it
changed, the hooks' fields included. Before the templates, ``observe.cross`` is read
into ``.cross`` (:mod:`orkestra.engine.cross`) and the CRD entry's ``labels`` and
``annotations`` are merged into the CR's metadata (:mod:`orkestra.engine.crmeta`). Nothing
is written when nothing changed. A CR being deleted runs ``onDelete`` and the hooks'
``on_delete``, removes what cannot be garbage-collected, and releases its finalizers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from orkestra import limits
from orkestra.cluster.data import clone
from orkestra.cluster.errors import ApiError
from orkestra.engine import admission, crmeta
from orkestra.engine.api import ClusterAPI
from orkestra.engine.build import (
    DECLARATION_ANNOTATION,
    Build,
    Owner,
    build_objects,
    default_name,
    kind_type,
)
from orkestra.engine.build.base import (
    GENERATED_AT_ANNOTATION,
    KINDS,
    SkippedDeclaration,
)
from orkestra.engine.conditions import ConditionError, Evaluation, gate, lookup, text_of
from orkestra.engine.context import OwnedObjects, owned, template_context
from orkestra.engine.cross import CrossReads
from orkestra.engine.fields import FieldError, Fields
from orkestra.engine.hooks import FINALIZER, EventNote, HookCall, Hooks, phases_for
from orkestra.engine.profiles import ProfileError, Profiles
from orkestra.engine.status import StatusError, desired_status
from orkestra.engine.statusreads import reads_own_status
from orkestra.kubeobjects import JsonDict, KubeObject
from orkestra.model.shapes import CrdEntry, Declaration, ReconcileBlock, StatusBlock
from orkestra.template import Renderer, TemplateError
from orkestra.units import DurationError, parse_duration

Phase = Literal["onCreate", "onReconcile", "onDelete"]
BUILD_PHASES: tuple[Phase, ...] = ("onCreate", "onReconcile")  # what a live CR applies
# A templated duration (rotateAfter, a certificate's valid, cacheFor) fails as DurationError.
CYCLE_ERRORS = (
    FieldError,
    ConditionError,
    ApiError,
    TemplateError,
    ProfileError,
    StatusError,
    DurationError,
)
WORKLOAD_KEYS = ("deployments", "statefulSets")


def cr_type(entry: CrdEntry) -> tuple[str, str]:
    """(apiVersion, kind) of the CRs of a composed CRD entry, from its ``apiTypes``."""
    api = entry.get("apiTypes") or {}
    version = str(api.get("version", "v1"))
    return (f"{api['group']}/{version}" if api.get("group") else version), str(api.get("kind", ""))


@dataclass(kw_only=True)
class CycleResult:
    """What one reconcile did: an error (the cycle failed), warnings, and whether the CR
    still exists."""

    error: str | None = None
    denied: bool = False
    warnings: list[str] = field(default_factory=list)
    found: bool = True
    events: list[EventNote] = field(default_factory=list)  # the hooks' Events
    hook_status: JsonDict = field(default_factory=dict)


# Fields that name a list item (a container, a port, a volume mount ...).
_ITEM_KEYS = ("name", "containerPort", "port", "mountPath", "devicePath", "key", "ip")


def _same_item(existing: object, desired: object) -> bool:
    if not isinstance(existing, dict) or not isinstance(desired, dict):
        return False
    return all(existing.get(k) == desired[k] for k in _ITEM_KEYS if k in desired)


def _items_align(existing: list[object], desired: list[object]) -> bool:
    """The lists hold the same items in the same order: they merge item by item."""
    return len(existing) == len(desired) and all(map(_same_item, existing, desired))


def overlay(existing: object, desired: object) -> object:
    """``existing`` with ``desired`` laid over it: maps merge, and so do the items of a list
    that holds the same items in the same order; anything else is replaced. Fields only the
    server sets (uid, clusterIP, status, a port's defaulted protocol ...) survive, so an
    object the API server completed does not look changed on the next reconcile."""
    if isinstance(existing, dict) and isinstance(desired, dict):
        merged = dict(existing)
        for key, value in desired.items():
            merged[key] = overlay(existing.get(key), value)
        return merged
    if isinstance(existing, list) and isinstance(desired, list) and _items_align(existing, desired):
        return [overlay(e, d) for e, d in zip(existing, desired, strict=True)]
    return clone(desired)


def overlay_changes(existing: object, desired: object) -> bool:
    """Whether ``overlay(existing, desired) != existing``, decided without building the
    merge: most applies change nothing, and copying the whole object to find that out was
    most of a no-op reconcile."""
    if isinstance(existing, dict) and isinstance(desired, dict):
        for key, value in desired.items():
            if key not in existing:
                return True  # the merge adds it, whatever its value
            current = existing[key]
            # Laying a value over an equal one changes nothing (and equality is cheap to
            # refute); containers that differ may still merge to what exists.
            if value is current or value == current:
                continue
            if not isinstance(value, dict | list) or overlay_changes(current, value):
                return True
        return False
    if isinstance(existing, list) and isinstance(desired, list) and _items_align(existing, desired):
        for item, wanted in zip(existing, desired, strict=True):
            if not (wanted is item or wanted == item) and overlay_changes(item, wanted):
                return True
        return False
    # The merge holds a copy of ``desired`` here, compared as containers compare their
    # items (an object equals itself).
    return not (desired is existing or desired == existing)


class Reconciler:
    """Reconciles CRs of one CRD entry of a composed katalog."""

    def __init__(
        self,
        crd: str,
        entry: CrdEntry,
        *,
        cluster: ClusterAPI,
        renderer: Renderer,
        profiles: Profiles,
        clock: Callable[[], datetime] | None = None,
        finalizers: list[str] | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.crd = crd
        self.hooks = hooks
        self.entry = entry
        self.cluster = cluster
        self.renderer = renderer
        self.profiles = profiles
        self.clock = clock or (lambda: datetime.now(UTC))
        self.api_version, self.kind = cr_type(entry)
        box = entry.get("operatorBox") or {}
        self.plan: ReconcileBlock = box.get("reconcile") or {}
        self.status_spec: StatusBlock = (box.get("emit") or {}).get("status") or {}
        self.finalizers = list(
            dict.fromkeys(
                [
                    *(finalizers or []),
                    *((box.get("runtime") or {}).get("finalizers") or []),
                    *([FINALIZER] if hooks is not None and hooks.needs_finalizer else []),
                ]
            )
        )
        self.templates = hooks is None or not hooks.replaces_templates
        # What depends on the katalog only, worked out once.
        self._kinds = self._declared()
        self.owned = OwnedObjects(cluster, *self._kinds)
        self._workload = self._workload_declaration()
        self.cross = CrossReads(
            list((box.get("observe") or {}).get("cross") or []), cluster, renderer
        )
        self.cr_metadata = crmeta.declared(entry)
        # Whether a re-run after a write of only the CR's status could differ from this run.
        self.reads_own_status = hooks is not None or reads_own_status(entry, profiles.classes)
        normalize = (entry.get("normalize") or {}).get("spec")
        # Admission writes into the template context; without it the context may share
        # the CR's maps instead of copying them.
        self._admission_writes = bool(normalize) or bool((entry.get("mutation") or {}).get("rules"))

    # -- entry point ------------------------------------------------------------------
    def reconcile(self, name: str, namespace: str | None = None) -> CycleResult:
        cr = self.cluster.find(self.api_version, self.kind, name, namespace)
        if cr is None:
            return CycleResult(found=False)
        owner = Owner.of(cr, self.crd)
        self.owned.begin(owner)
        if cr["metadata"].get("deletionTimestamp"):
            return self.finalize(cr, owner)
        cr = self.ensure_finalizers(cr)
        data = template_context(cr, private=self._admission_writes)
        ev = Evaluation(data, self.renderer, unique=self.unique_check(cr), clock=self.clock)
        result = CycleResult()
        try:
            self.read_cross(ev, owner, result)
            cr = self.label(cr, ev)
            self.admit(ev, result)
            if result.error is None:
                data["children"] = self.owned.children()
                self.run_cycle(cr, owner, ev, result)
        except CYCLE_ERRORS as exc:
            result.error = str(exc)
        data["children"] = self.owned.children()
        try:
            self.write_status(cr, ev, result)
        except CYCLE_ERRORS as exc:
            result.error = result.error or str(exc)
        return result

    def run_cycle(self, cr: KubeObject, owner: Owner, ev: Evaluation, result: CycleResult) -> None:
        """The templates and the hooks, in the katalog's order; stops at a hook failure."""
        hooks_first = self.hooks is not None and self.hooks.run_first
        if hooks_first:
            self.run_hooks(phases_for(cr), cr, owner, ev, result)
            ev.data["children"] = self.owned.children()  # the templates see what they made
        if self.templates and result.error is None:
            # Neither phase changes what the first workload renders from.
            workload = self.first_workload(ev)
            self.apply_phase("onCreate", ev, owner, workload)
            self.apply_phase("onReconcile", ev, owner, workload)
        if not hooks_first and result.error is None:
            self.run_hooks(phases_for(cr), cr, owner, ev, result)

    def run_hooks(
        self,
        phases: tuple[str, ...],
        cr: KubeObject,
        owner: Owner,
        ev: Evaluation,
        result: CycleResult,
    ) -> None:
        if self.hooks is None:
            return
        outcome = self.hooks.run(
            HookCall(
                phases=phases,
                cr=cr,
                owner=owner,
                data=ev.data,
                cluster=self.cluster,
                renderer=self.renderer,
                apply=self.apply_owned,
            )
        )
        self.owned.forget()  # the hooks may have written through the cluster
        result.events.extend(outcome.events)
        result.hook_status = outcome.status
        if outcome.error is not None:
            result.error = outcome.error

    def apply_owned(self, desired: KubeObject, create_only: bool) -> KubeObject:
        """Create or update an object the hooks manage (never written when unchanged)."""
        return self.apply(desired, create_only=create_only)

    def unique_check(self, cr: KubeObject) -> Callable[[str, str], bool]:
        """``operator: unique``: no other CR of this kind holds the same value."""

        def unique(path: str, value: str) -> bool:
            for other in self.cluster.list(self.api_version, self.kind, None):
                if other["metadata"].get("uid") == cr["metadata"].get("uid"):
                    continue
                if text_of(lookup(other, path)) == value:
                    return False
            return True

        return unique

    # -- steps ------------------------------------------------------------------------
    def read_cross(self, ev: Evaluation, owner: Owner, result: CycleResult) -> None:
        if self.cross.entries:
            read = self.cross.read(ev.data, owner.namespace)
            ev.data["cross"] = read.values
            result.warnings.extend(read.warnings)

    def label(self, cr: KubeObject, ev: Evaluation) -> KubeObject:
        """The CR with the entry's labels and annotations (written when they change)."""
        if not self.cr_metadata:
            return cr
        wanted = crmeta.labelled(cr, self.cr_metadata, self.renderer, ev.data)
        if wanted is None:
            return cr
        updated = self._update(wanted, verb="patch")
        ev.data["metadata"] = (
            clone(updated["metadata"]) if self._admission_writes else updated["metadata"]
        )
        return updated

    def ensure_finalizers(self, cr: KubeObject) -> KubeObject:
        present = cr["metadata"].get("finalizers") or []
        missing = [f for f in self.finalizers if f not in present]
        if not missing:
            return cr
        updated = clone(cr)
        updated["metadata"]["finalizers"] = [*present, *missing]
        return self._update(updated)

    def admit(self, ev: Evaluation, result: CycleResult) -> None:
        verdict = admission.admit(self.entry, ev).verdict  # what the gateway runs, too
        result.warnings.extend(f"validation warning: {w}" for w in verdict.warnings)
        if verdict.denied is not None:
            result.error = f"validation denied: {verdict.denied}"
            result.denied = True

    def declared_kinds(self) -> tuple[list[str], list[tuple[str, str]]]:
        """Resource-template keys of onCreate and onReconcile, and custom (apiVersion,
        kind) pairs."""
        keys, custom = self._kinds
        return list(keys), list(custom)

    def _declared(self) -> tuple[list[str], list[tuple[str, str]]]:
        keys: list[str] = []
        custom: list[tuple[str, str]] = []
        for phase in BUILD_PHASES:
            for key, items in (self.plan.get(phase) or {}).items():
                if key == "custom":
                    custom.extend((str(i["apiVersion"]), str(i["kind"])) for i in items or [])
                elif key not in keys:
                    keys.append(key)
        by_type = {kind_type(k)[:2]: k for k in KINDS}
        for api_version, kind in self.hooks.kinds() if self.hooks is not None else ():
            known = by_type.get((api_version, kind))
            if known is None:
                custom.append((api_version, kind))
            elif known not in keys:
                keys.append(known)
        return keys, list(dict.fromkeys(custom))

    def _workload_declaration(self) -> tuple[Phase, str, Declaration] | None:
        """Phase, key and declaration of the CRD's first Deployment or StatefulSet."""
        for phase in BUILD_PHASES:
            templates = self.plan.get(phase) or {}
            for key in WORKLOAD_KEYS:
                for item in templates.get(key) or []:
                    if not item.get("forEach"):
                        return phase, key, item
        return None

    def first_workload(self, ev: Evaluation) -> tuple[str, dict[str, str]] | None:
        """Name and pod labels of the CRD's first Deployment or StatefulSet (the default
        target of Services, PDBs and HPAs)."""
        if self._workload is None:
            return None
        phase, key, item = self._workload
        fields = Fields(self.renderer, ev.data, f"{phase}.{key}")
        name = fields.text(item.get("name"), "name") or default_name(
            key, text_of(lookup(ev.data, "metadata.name"))
        )
        labels = fields.string_map(item.get("labels"), "labels")
        return name, {"app": labels.get("app", name)}

    def apply_phase(
        self,
        phase: Phase,
        ev: Evaluation,
        owner: Owner,
        workload: tuple[str, dict[str, str]] | None = None,
    ) -> None:
        """Apply one phase's declarations; ``workload`` is :meth:`first_workload`'s answer
        when the caller has it already."""
        if workload is None:
            workload = self.first_workload(ev)
        for key, items in (self.plan.get(phase) or {}).items():
            for index, item in enumerate(items or []):
                declaration = f"{phase}/{key}/{index}"
                wanted: set[tuple[str, str, str]] = set()
                for extra in self.expansions(item, ev):
                    # Builders only read the context: without forEach it need not be copied.
                    scoped = ev.scoped({**ev.data, **extra}) if extra else ev
                    if not gate(item, scoped):
                        continue
                    where = f"{phase}.{key}[{index}]"
                    build = Build(
                        key=key,
                        item=item,
                        fields=Fields(self.renderer, scoped.data, where),
                        owner=owner,
                        declaration=declaration,
                        profiles=self.profiles,
                        cluster=self.cluster,
                        clock=self.clock,
                        workload=workload,
                    )
                    try:
                        wanted.update(_identity(o) for o in self.objects_for(build, phase))
                    except SkippedDeclaration:
                        continue
                if phase == "onReconcile":
                    self.prune(owner, key, items[index], declaration, wanted)

    def expansions(self, item: Declaration, ev: Evaluation) -> list[dict[str, object]]:
        """The extra context of each forEach copy (one empty copy without forEach)."""
        spec = item.get("forEach")
        if not spec:
            return [{}]
        source = lookup(ev.data, str(spec["field"]))
        alias = spec.get("as") or "item"
        limit = limits.FOREACH_ITEMS
        if isinstance(source, dict | list) and len(source) > limit.value:
            raise FieldError(
                f"forEach: {spec['field']} has {len(source)} items, more than "
                f"{limit.value} ({limit.variable} raises the limit)"
            )
        if isinstance(source, dict):
            return [
                {"item": k, alias: k, "value": source[k], "index": i}
                for i, k in enumerate(sorted(source))
            ]
        if isinstance(source, list):
            return [{"item": v, alias: v, "index": i} for i, v in enumerate(source)]
        return []

    def objects_for(self, build: Build, phase: Phase) -> list[KubeObject]:
        """Build and apply one declaration; returns the objects it stands for."""
        item = build.item
        once = build.key == "secrets" and (item.get("once") or item.get("tls") is not None)
        create_only = (
            build.key == "jobs" or once or (phase == "onCreate" and not item.get("reconcile"))
        )
        if once:
            existing = self._existing_once(build)
            if existing is not None:
                return [existing]
        objects = build_objects(build)
        for obj in objects:
            stamped = GENERATED_AT_ANNOTATION in obj["metadata"].get("annotations", {})
            self.apply(obj, create_only=create_only or stamped)
        return objects

    def _existing_once(self, build: Build) -> KubeObject | None:
        """A once-secret that exists and is not due for rotation (it is not re-rendered)."""
        name = build.fields.text(build.item.get("name"), "name") or (
            "orkestra-tls" if build.item.get("tls") is not None else f"{build.owner.name}-secret"
        )
        existing = self.cluster.find("v1", "Secret", name, build.namespace())
        if existing is None:
            return None
        rotate = build.item.get("rotateAfter")
        if rotate and self._due(existing, build.fields.text(rotate, "rotateAfter")):
            self._delete("v1", "Secret", name, build.namespace())
            return None
        return existing

    def _due(self, secret: KubeObject, rotate_after: str) -> bool:
        stamp = (secret["metadata"].get("annotations") or {}).get(GENERATED_AT_ANNOTATION)
        if not stamp:
            return True
        made = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        return self.clock() >= made + timedelta(seconds=parse_duration(rotate_after))

    def apply(self, desired: KubeObject, *, create_only: bool) -> KubeObject:
        """Create ``desired`` or lay it over what exists; returns what the cluster holds."""
        meta = desired["metadata"]
        existing = self.cluster.find(
            desired["apiVersion"], desired["kind"], meta["name"], meta.get("namespace")
        )
        if existing is None:
            return self._create(desired)
        if not create_only and overlay_changes(existing, desired):
            # The merge of two objects of the same kind is an object of that kind.
            return self._update(cast(KubeObject, overlay(existing, desired)))
        return existing

    def prune(
        self,
        owner: Owner,
        key: str,
        item: Declaration,
        declaration: str,
        wanted: set[tuple[str, str, str]],
    ) -> None:
        """Delete objects this declaration made that it no longer wants (forEach items that
        went away, a ``when`` that turned false)."""
        if key == "custom":
            api_version, kind = str(item["apiVersion"]), str(item["kind"])
        else:
            api_version, kind, _ = kind_type(key)
        for obj in self.owned.labelled(api_version, kind):
            meta = obj["metadata"]
            if (meta.get("annotations") or {}).get(DECLARATION_ANNOTATION) != declaration:
                continue
            if owned(obj, owner) and _identity(obj) not in wanted:
                self._delete(api_version, kind, meta["name"], meta.get("namespace"))

    def write_status(self, cr: KubeObject, ev: Evaluation, result: CycleResult) -> None:
        status = desired_status(
            cr,
            self.status_spec,
            ev,
            result.error,
            result.denied,
            extra=result.hook_status,
            hooks=self.hooks is not None,
        )
        if status == (cr.get("status") or {}):
            return
        self._update_status({**cr, "status": status})

    # -- deletion ---------------------------------------------------------------------
    def finalize(self, cr: KubeObject, owner: Owner) -> CycleResult:
        result = CycleResult()
        data = template_context(cr)
        ev = Evaluation(data, self.renderer, clock=self.clock)
        try:
            self.read_cross(ev, owner, result)
            data["children"] = self.owned.children()
            if self.templates:
                self.apply_phase("onDelete", ev, owner)
            self.run_hooks(phases_for(cr, deleting=True), cr, owner, ev, result)
            if result.error is not None:
                return result
            self.release_cluster_scoped(owner)
        except CYCLE_ERRORS as exc:
            result.error = str(exc)
            return result
        remaining = [f for f in cr["metadata"].get("finalizers") or [] if f not in self.finalizers]
        if remaining != (cr["metadata"].get("finalizers") or []):
            updated = clone(cr)
            updated["metadata"]["finalizers"] = remaining
            self._update(updated)
        return result

    def release_cluster_scoped(self, owner: Owner) -> None:
        """Delete children that garbage collection cannot reach (owner-labelled ones)."""
        keys, _ = self._kinds
        for key in keys:
            api_version, kind, cluster_scoped = kind_type(key)
            for obj in self.owned.labelled(api_version, kind):
                meta = obj["metadata"]
                labelled = not meta.get("ownerReferences")
                if (
                    labelled
                    and owned(obj, owner)
                    and (cluster_scoped or meta.get("namespace") != owner.namespace)
                ):
                    self._delete(api_version, kind, meta["name"], meta.get("namespace"))

    # -- writes: each one forgets what was read of the owner's objects ----------------
    def _create(self, obj: KubeObject) -> KubeObject:
        self.owned.forget()
        return self.cluster.create(obj)

    def _update(self, obj: KubeObject, *, verb: str = "update") -> KubeObject:
        self.owned.forget()
        return self.cluster.update(obj, verb=verb)

    def _update_status(self, obj: KubeObject) -> None:
        self.owned.forget()
        self.cluster.update_status(obj)

    def _delete(self, api_version: str, kind: str, name: str, namespace: str | None) -> None:
        self.owned.forget()
        self.cluster.delete(api_version, kind, name, namespace)


def _identity(obj: KubeObject) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return (obj["kind"], meta.get("namespace", ""), meta["name"])
