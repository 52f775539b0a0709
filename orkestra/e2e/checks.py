"""One poll of an expectation's checks, and the runtime's account of a CR it refused.

Semantics of the reference format: commands run first (through ``sh -c``, stdout and
stderr together matched by ``outputContains``), then resource checks, then ``kubectl
get`` field checks. A resource check with no ``count`` wants at least one object, ``count:
0`` wants none (an error listing them counts as none), any other count exactly that many.
``ready`` asks more than the reference's "available replicas > 0": every desired replica
of a Deployment, StatefulSet or ReplicaSet ready (what ``kubectl rollout status`` waits
for), a Job complete, a DaemonSet's scheduled pods ready, and for other kinds a
``Ready`` condition that is ``True`` where the object has conditions.
"""

from __future__ import annotations

from collections.abc import Mapping

from orkestra.cluster.data import maps
from orkestra.e2e.commands import Commands
from orkestra.e2e.kubectl import Kubectl
from orkestra.e2e.result import CheckResult
from orkestra.e2e.spec import CommandCheck, Expectation, FieldCheck, ResourceCheck
from orkestra.kubeobjects import JsonDict, KubeObject


def poll(
    expectation: Expectation, kubectl: Kubectl, shell: Commands, remaining: float
) -> list[CheckResult]:
    """Every check of ``expectation``, once; a command gets at most ``remaining`` seconds."""
    results = [command(c, shell, remaining) for c in expectation.commands]
    results += [resource(r, kubectl) for r in expectation.resources]
    results += [field(f, kubectl) for f in expectation.fields]
    return results


def command(check: CommandCheck, shell: Commands, timeout: float) -> CheckResult:
    label = f"$ {check.run}"
    done = shell.shell(check.run, timeout=max(timeout, 1.0))
    if done.timed_out:
        return CheckResult(label, False, f"killed after {timeout:.0f}s (the expectation's timeout)")
    if done.returncode != check.exit_code:
        return CheckResult(
            label,
            False,
            f"exit code {done.returncode}, expected {check.exit_code}{_tail(done.output)}",
        )
    if check.output_contains and check.output_contains not in done.output:
        return CheckResult(
            label, False, f"output does not contain {check.output_contains!r}{_tail(done.output)}"
        )
    return CheckResult(label, True)


def resource(check: ResourceCheck, kubectl: Kubectl) -> CheckResult:
    found, error = kubectl.get(check.kind, check.name, check.namespace)
    what = f"{check.kind} {check.name}" if check.name else check.kind
    if check.count == 0:
        if found:
            return CheckResult(check.label, False, f"{what} still exists in {check.namespace}")
        return CheckResult(check.label, True)
    if error:
        return CheckResult(check.label, False, error)
    if not found:
        return CheckResult(check.label, False, f"{what} not found in {check.namespace}")
    if check.count is not None and len(found) != check.count:
        return CheckResult(
            check.label,
            False,
            f"{len(found)} {check.kind} in {check.namespace}, expected {check.count}",
        )
    if check.ready:
        for obj in found:
            why = not_ready(obj)
            if why:
                return CheckResult(
                    check.label, False, f"{check.kind} {obj['metadata']['name']}: {why}"
                )
    return CheckResult(check.label, True)


def field(check: FieldCheck, kubectl: Kubectl) -> CheckResult:
    label = f"{check.kind} {check.name} {check.field}" + (
        f' == "{check.equals}"' if check.equals is not None else ""
    )
    value, error = kubectl.field(check.kind, check.name, check.namespace, check.field)
    if value is None:
        return CheckResult(label, False, error)
    if check.equals is None:
        return CheckResult(label, bool(value), "" if value else f"{check.field} is empty")
    if value != check.equals:
        return CheckResult(label, False, f'{check.field} is "{value}", expected "{check.equals}"')
    return CheckResult(label, True)


def _count(node: Mapping[str, object], key: str, default: int = 0) -> int:
    """A replica or pod count of a workload's spec or status (the API server's integers)."""
    value = node.get(key, default)
    return value if isinstance(value, int) else default


def not_ready(obj: KubeObject) -> str:
    """Why ``obj`` is not ready, or ""."""
    kind = obj.get("kind", "")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        wanted = _count(spec, "replicas", 1)
        ready = _count(status, "readyReplicas")
        if kind == "Deployment":
            ready = min(
                ready, _count(status, "availableReplicas"), _count(status, "updatedReplicas")
            )
        return "" if ready >= wanted else f"{ready}/{wanted} replicas ready"
    if kind == "DaemonSet":
        wanted = _count(status, "desiredNumberScheduled")
        ready = _count(status, "numberReady")
        return "" if ready >= wanted else f"{ready}/{wanted} pods ready"
    conditions = {c.get("type"): c for c in maps(status.get("conditions"))}
    if kind == "Job":
        return "" if _true(conditions.get("Complete")) else "not complete"
    ready_condition = conditions.get("Ready")
    if ready_condition is None or _true(ready_condition):
        return ""
    message = ready_condition.get("message") or ready_condition.get("reason") or ""
    return "Ready is " + str(ready_condition.get("status")) + (f": {message}" if message else "")


def denial(kubectl: Kubectl, cr: KubeObject) -> str:
    """What the runtime said about ``cr``: a False condition's message, else its latest
    Warning event."""
    meta = cr.get("metadata") or {}
    name, namespace = meta.get("name", ""), meta.get("namespace") or "default"
    found, _ = kubectl.get(cr.get("kind", ""), name, namespace)
    for obj in found:
        for condition in maps((obj.get("status") or {}).get("conditions")):
            if condition.get("status") == "False" and condition.get("message"):
                return f"{condition.get('reason') or condition.get('type')}: {condition['message']}"
    events, _ = kubectl.get("events", "", namespace)
    warnings = [e for e in events if e.get("type") == "Warning" and _about(e, name)]
    if warnings:
        latest = warnings[-1]
        return f"{latest.get('reason', '')}: {latest.get('message', '')}"
    return ""


def _about(event: Mapping[str, object], name: str) -> bool:
    """Whether an Event's ``involvedObject`` is the object ``name``."""
    involved = event.get("involvedObject")
    return isinstance(involved, dict) and involved.get("name") == name


def _true(condition: JsonDict | None) -> bool:
    return bool(condition) and (condition or {}).get("status") == "True"


def _tail(output: str, lines: int = 3) -> str:
    text = "\n".join(output.strip().splitlines()[-lines:])
    return f": {text}" if text else ""
