"""Hooks inside the reconcile: ownership, status, Events, order, failures, deadlines,
deletion, constructors (over the in-memory cluster simulate uses)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orkestra.engine.hooks import FINALIZER
from tests.hooks.patterns import TypedHarness, write_pattern

SERVICE = """
from orkestra.hooks import HookContext, HookSet

def hooks():
    return HookSet(on_create=created, on_reconcile=reconcile)

def created(cr, ctx: HookContext):
    ctx.events.normal("Provisioning", "creating " + cr["metadata"]["name"])

def reconcile(cr, ctx: HookContext):
    name = cr["metadata"]["name"]
    ctx.client.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                      "spec": {"selector": {"app": name}, "ports": [{"port": 5432}]}})
    ctx.status["endpoint"] = f"{name}.{ctx.namespace}.svc:5432"
    ctx.status["replicas"] = ctx.args.get_int("replicas")
    ctx.status["region"] = ctx.args.get_str("region")
"""
ARGS = {
    "args": {"replicas": 2, "region": '{{ default "us-east-1" .spec.region }}'},
    "resources": [{"kind": "Service"}],
}


def test_hooks_create_owned_objects_write_status_and_ask_for_events(tmp_path: Path) -> None:
    h = TypedHarness(write_pattern(tmp_path, SERVICE, hooks=ARGS), {"region": "eu-west-1"})
    result, writes = h.cycle()
    assert result.error is None
    assert ("create", "services", "orders") in writes
    service = h.find("v1", "Service", "orders")
    assert service is not None
    meta = service["metadata"]
    assert meta["ownerReferences"][0]["kind"] == "Db"
    assert meta["labels"]["managed-by"] == "orkestra"
    assert meta["labels"]["orkestra-owner"] == "orders"
    assert meta["annotations"]["orkestra.orkspace.io/declaration"] == "hooks/hooks"
    status = h.cr()["status"]
    assert status["endpoint"] == "orders.default.svc:5432"
    assert status["replicas"] == 2
    assert status["region"] == "eu-west-1"  # the string arg rendered against the CR
    assert status["observedGeneration"] == 1
    assert [(e.type, e.reason) for e in result.events] == [("Normal", "Provisioning")]


def test_a_steady_cr_is_not_rewritten_and_on_create_runs_once(tmp_path: Path) -> None:
    h = TypedHarness(write_pattern(tmp_path, SERVICE, hooks=ARGS))
    h.cycle()
    h.cycle()
    result, writes = h.cycle()
    assert writes == []
    assert result.events == []  # on_create ran on the first cycle only
    assert h.cr()["status"]["region"] == "us-east-1"  # the template's default


def test_hooks_run_first_make_children_the_templates_see(tmp_path: Path) -> None:
    h = TypedHarness(
        write_pattern(
            tmp_path,
            SERVICE,
            hooks={**ARGS, "runHooksFirst": True},
            box={
                "onReconcile": {
                    "configMaps": [
                        {
                            "name": "orders-seen",
                            "data": {"services": "{{ len .children.services }}"},
                        }
                    ]
                },
            },
        )
    )
    assert h.cycle()[0].error is None
    config = h.find("v1", "ConfigMap", "orders-seen")
    assert config is not None and config["data"]["services"] == "1"


ORDER = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=reconcile)

def reconcile(cr, ctx):
    ctx.status["sawConfig"] = bool(ctx.client.owned("v1", "ConfigMap"))
"""


@pytest.mark.parametrize(("first", "saw"), [(False, True), (True, False)])
def test_hooks_run_after_the_templates_unless_run_hooks_first(
    tmp_path: Path, first: bool, saw: bool
) -> None:
    box = {"onReconcile": {"configMaps": [{"name": "orders-config", "data": {"a": "b"}}]}}
    h = TypedHarness(write_pattern(tmp_path, ORDER, hooks={"runHooksFirst": first}, box=box))
    h.cycle()
    assert h.cr()["status"]["sawConfig"] is saw


FAILING = """
from orkestra.hooks import HookSet

calls = []

def hooks():
    return HookSet(on_create=created)

def created(cr, ctx):
    calls.append(1)
    if len(calls) == 1:
        raise RuntimeError("the database is not reachable")
"""


def test_an_exception_fails_the_cycle_and_on_create_is_retried(tmp_path: Path) -> None:
    h = TypedHarness(write_pattern(tmp_path, FAILING))
    result, _ = h.cycle()
    assert result.error is not None
    assert "on_create failed: RuntimeError: the database is not reachable" in result.error
    assert "myhooks/ops.py:11)" in result.error  # where in the hook it happened
    status = h.cr()["status"]
    ready = status["conditions"][0]
    assert (ready["status"], ready["reason"]) == ("False", "ReconcileError")
    assert "observedGeneration" not in status  # so the next cycle runs on_create again
    result, _ = h.cycle()
    assert result.error is None
    assert h.cr()["status"]["observedGeneration"] == 1


HANGING = """
import threading
from orkestra.hooks import HookSet

release = threading.Event()
answered = threading.Event()
refusals = []

def hooks():
    return HookSet(on_reconcile=reconcile, timeout=0.3)

def reconcile(cr, ctx):
    release.wait(5)
    try:
        ctx.client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}})
    except Exception as exc:
        refusals.append(str(exc))
    answered.set()
"""


def test_a_hook_past_its_deadline_fails_the_cycle_and_can_no_longer_write(tmp_path: Path) -> None:
    h = TypedHarness(write_pattern(tmp_path, HANGING))
    started = time.monotonic()
    result, _ = h.cycle()
    assert time.monotonic() - started < 3
    assert result.error is not None and "did not finish within 0.3s" in result.error
    import myhooks.ops  # type: ignore[import-not-found]

    myhooks.ops.release.set()
    assert myhooks.ops.answered.wait(2)  # the late call is refused at once, not left hanging
    assert myhooks.ops.refusals == [
        "the cycle of this hook is over (it passed its deadline): no more cluster calls"
    ]
    assert h.find("v1", "ConfigMap", "late") is None


ASYNC = """
import asyncio
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=reconcile, timeout=0.3)

async def reconcile(cr, ctx):
    if cr["spec"].get("hang"):
        await asyncio.sleep(10)
    await asyncio.sleep(0)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-async"},
            "data": {"ok": "yes"}}
"""


def test_async_hooks_run_and_are_cancelled_at_their_deadline(tmp_path: Path) -> None:
    path = write_pattern(tmp_path, ASYNC)
    h = TypedHarness(path)
    result, _ = h.cycle()
    assert result.error is None
    assert h.find("v1", "ConfigMap", "from-async") is not None
    hung = TypedHarness(path, {"hang": True})
    result, _ = hung.cycle()
    assert result.error is not None and "did not finish within 0.3s" in result.error


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (
            '{"kind": "ConfigMap", "metadata": {}}',
            "malformed object (ConfigMap): apiVersion must be a non-empty string; metadata.name "
            "must be a non-empty string",
        ),
        ('"a string"', "on_reconcile returned str; expected None, an object or a list"),
        (
            '[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 7}}]',
            "metadata.name must be a non-empty string",
        ),
    ],
)
def test_a_malformed_object_is_a_clear_error(tmp_path: Path, returned: str, message: str) -> None:
    code = f"""
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=lambda cr, ctx: {returned})
"""
    h = TypedHarness(write_pattern(tmp_path, code))
    result, _ = h.cycle()
    assert result.error is not None and message in result.error


def test_reserved_status_fields_are_refused(tmp_path: Path) -> None:
    code = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=lambda cr, ctx: ctx.status.update(conditions=[]))
"""
    result, _ = TypedHarness(write_pattern(tmp_path, code)).cycle()
    assert result.error is not None and "status.conditions" in result.error


def test_a_missing_arg_names_the_arg(tmp_path: Path) -> None:
    code = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=lambda cr, ctx: ctx.args.get_int("replicas"))
"""
    result, _ = TypedHarness(write_pattern(tmp_path, code, hooks={"args": {"x": "1"}})).cycle()
    assert result.error is not None
    assert 'hook arg "replicas" is not set (args given: x)' in result.error


DELETE = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=reconcile, on_delete=delete)

def reconcile(cr, ctx):
    ctx.client.apply({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": "tenant-" + cr["metadata"]["name"]}})

def delete(cr, ctx):
    ctx.events.normal("Deprovisioned", "dropped the tenant")
    assert ctx.client.delete("v1", "Namespace", "tenant-" + cr["metadata"]["name"])
"""


def test_on_delete_runs_under_a_finalizer_before_the_cr_goes(tmp_path: Path) -> None:
    h = TypedHarness(write_pattern(tmp_path, DELETE))
    h.cycle()
    assert FINALIZER in h.cr()["metadata"]["finalizers"]
    tenant = h.find("v1", "Namespace", "tenant-orders")
    assert tenant is not None and "ownerReferences" not in tenant["metadata"]
    h.cluster.delete("test.io/v1", "Db", "orders", "default")
    result, _ = h.cycle()
    assert result.error is None
    assert [e.reason for e in result.events] == ["Deprovisioned"]
    assert h.cluster.find("v1", "Namespace", "tenant-orders") is None
    assert h.cluster.find("test.io/v1", "Db", "orders", "default") is None


def test_hooks_delete_only_what_their_cr_owns(tmp_path: Path) -> None:
    code = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=lambda cr, ctx: ctx.client.delete("v1", "ConfigMap", "other"))
"""
    h = TypedHarness(write_pattern(tmp_path, code))
    h.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "other", "namespace": "default"},
        },
        record=False,
    )
    result, _ = h.cycle()
    assert result.error is not None and "not owned by Db orders" in result.error
    assert h.find("v1", "ConfigMap", "other") is not None


def test_a_constructor_replaces_the_templates(tmp_path: Path) -> None:
    code = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=lambda cr, ctx: {"apiVersion": "v1", "kind": "ConfigMap",
                                                 "metadata": {"name": "built"},
                                                 "data": {"raw": ctx.args["raw"]}})
"""
    path = write_pattern(
        tmp_path,
        code,
        block="constructor",
        hooks={"args": {"raw": "{{ .spec.x }}"}},
        box={"onReconcile": {"configMaps": [{"name": "templated", "data": {"a": "b"}}]}},
    )
    h = TypedHarness(path)
    result, _ = h.cycle()
    assert result.error is None
    assert h.find("v1", "ConfigMap", "templated") is None
    built = h.find("v1", "ConfigMap", "built")
    assert built is not None and built["data"]["raw"] == "{{ .spec.x }}"  # not rendered


MODEL = """
from pydantic import BaseModel, ConfigDict

class Spec(BaseModel):
    size: int = 1

class Meta(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str

class Db(BaseModel):
    model_config = ConfigDict(extra="allow")
    metadata: Meta
    spec: Spec
"""
TYPED = """
from orkestra.hooks import HookSet
from dbapi.v1 import Db

def hooks():
    return HookSet(on_reconcile=reconcile)

def reconcile(db: Db, ctx):
    ctx.status["size"] = db.spec.size * 2
"""


def test_the_cr_model_types_the_cr_and_a_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    path = write_pattern(
        tmp_path,
        TYPED,
        api={"location": "dbapi.v1", "object": "Db"},
        files={"dbapi/__init__.py": "", "dbapi/v1.py": MODEL},
    )
    good = TypedHarness(path, {"size": 3})
    assert good.cycle()[0].error is None
    assert good.cr()["status"]["size"] == 6
    bad = TypedHarness(path, {"size": "three"})
    result, _ = bad.cycle()
    assert result.error is not None
    assert "the CR does not fit the model dbapi.v1.Db: 1 validation error" in result.error
    assert "spec.size" in result.error


def test_create_only_keeps_a_generated_secret_and_string_data_is_stored_as_data(
    tmp_path: Path,
) -> None:
    code = """
import secrets
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=reconcile)

def reconcile(cr, ctx):
    ctx.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pw"},
                      "stringData": {"password": secrets.token_hex(8)}}, create_only=True)
"""
    h = TypedHarness(write_pattern(tmp_path, code))
    h.cycle()
    first = h.find("v1", "Secret", "pw")
    assert first is not None and "stringData" not in first and first["type"] == "Opaque"
    assert set(first["data"]) == {"password"}
    h.cycle()
    _, writes = h.cycle()
    assert writes == []
    again = h.find("v1", "Secret", "pw")
    assert again is not None and again["data"] == first["data"]
