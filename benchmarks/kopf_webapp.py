"""The Kopf reference operator of the runtime benchmark: 02-katalog-api written by hand.

For each ``WebApp`` (rkguide.demo/v1) it creates what the katalog creates for a CR without
``host``: the Deployment ``NAME`` and the Service ``NAME-svc``, with the same labels,
annotation, ownerReferences and spec, and it writes the same kind of status (``phase``,
``ready``, ``endpoint``, ``observedGeneration`` and a ``Ready`` condition that turns True
once the Deployment reports every replica ready). Run it as the benchmark does::

    KUBECONFIG=... kopf run --standalone -A --quiet benchmarks/kopf_webapp.py

How it is written, to give Kopf its best showing without changing what it does:

* handlers are ``async`` and talk to the API server through one shared aiohttp session
  (Kopf's own HTTP library) with plain dicts, so no thread pool or model classes sit in the
  way; credentials come from the same kubeconfig Kopf logs in with;
* readiness is event-driven like the runtime's watch on owned kinds: an ``on.event``
  handler on the Deployments (filtered by label) writes the owner's status, with the owner's
  generation and port remembered by the WebApp handler in a plain dict (read with a GET
  only when unknown, e.g. after a restart). Not a ``@kopf.index``: with an index, Kopf 1.45
  brought none of 10,000 pre-existing WebApps to Ready in ten minutes at 100% CPU (each
  object's "indexed" toggle wakes every waiting worker: quadratic, see RESULTS.md);
* Kopf posts Kubernetes Events for warnings and errors only (``posting.level``), as the
  runtime does, instead of one per successful handler.

Kopf's own bookkeeping (the ``last-handled-configuration`` annotation written after each
handled change) is left as Kopf does it: it is part of what using Kopf costs.
"""

from __future__ import annotations

import base64
import logging
import os
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import kopf
import yaml

Obj = dict[str, Any]
WEBAPPS = ("rkguide.demo", "v1", "webapps")
WEBAPP_PATH = "/apis/rkguide.demo/v1/namespaces/{namespace}/webapps"
MANAGED = {"managed-by": "orkestra"}
DECLARATION = "orkestra.orkspace.io/declaration"
PROBE_PATH = "/healthz"


class Api:
    """The few REST calls the handlers make, over one aiohttp session."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def open(self, kubeconfig: Path) -> None:
        config = yaml.safe_load(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        token = config["users"][0]["user"]["token"]
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
        connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cadata=ca), limit=32)
        self._session = aiohttp.ClientSession(
            cluster["server"],
            connector=connector,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self,
        method: str,
        path: str,
        body: Obj | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Obj]:
        assert self._session is not None, "opened at startup"
        async with self._session.request(
            method, path, json=body, headers={"Content-Type": content_type}
        ) as response:
            data: Obj = await response.json(content_type=None)
            if response.status >= 500:
                raise kopf.TemporaryError(f"{method} {path}: {response.status}", delay=1)
            return response.status, data


API = Api()
OWNERS: dict[tuple[str, str], tuple[int, int]] = {}  # (namespace, name) -> generation, port


def _path(obj: Obj, name: str | None = None) -> str:
    group_version = obj["apiVersion"]
    plural = {"Deployment": "deployments", "Service": "services"}[obj["kind"]]
    base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    path = f"{base}/namespaces/{obj['metadata']['namespace']}/{plural}"
    return f"{path}/{name}" if name else path


def _owner(body: kopf.Body) -> Obj:
    return {
        "apiVersion": body["apiVersion"],
        "kind": body["kind"],
        "name": body.metadata.name,
        "uid": body.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _meta(body: kopf.Body, name: str, labels: dict[str, str], declaration: str) -> Obj:
    owner_name = body.metadata.name
    return {
        "name": name,
        "namespace": body.metadata.namespace,
        "labels": {**labels, **MANAGED, "orkestra-owner": owner_name},
        "annotations": {DECLARATION: declaration},
        "ownerReferences": [_owner(body)],
    }


def deployment(body: kopf.Body) -> Obj:
    name, spec = body.metadata.name, body.spec
    port = int(spec.get("port", 8080))
    pod = {
        "containers": [
            {
                "name": name,
                "image": spec["image"],
                "ports": [{"containerPort": port}],
                "resources": {},
                "readinessProbe": {"httpGet": {"path": PROBE_PATH, "port": port}},
            }
        ]
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(body, name, {"app": name}, "onReconcile/deployments/0"),
        "spec": {
            "replicas": int(spec.get("replicas", 1)),
            "selector": {"matchLabels": {"app": name}},
            "strategy": {},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
        },
    }


def service(body: kopf.Body) -> Obj:
    name, port = body.metadata.name, int(body.spec.get("port", 8080))
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(body, f"{name}-svc", {}, "onReconcile/services/0"),
        "spec": {
            "ports": [{"name": f"{port}-{port}", "port": port, "targetPort": port}],
            "selector": {"app": name},
        },
    }


def contains(stored: Any, desired: Any) -> bool:
    """Whether ``stored`` already holds everything ``desired`` sets (server defaults aside)."""
    if isinstance(desired, dict):
        return isinstance(stored, dict) and all(
            contains(stored.get(k), v) for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(desired)
            and all(contains(s, d) for s, d in zip(stored, desired, strict=True))
        )
    return bool(stored == desired)


async def ensure(child: Obj) -> None:
    """Create the child; if it exists, replace it only when it differs."""
    status, answer = await API.call("POST", _path(child), child)
    if status in (200, 201):
        return
    if status != 409:
        raise kopf.TemporaryError(f"create {child['kind']}: {answer.get('message')}", delay=1)
    name = child["metadata"]["name"]
    _, current = await API.call("GET", _path(child, name))
    wanted = {k: child[k] for k in ("spec",)} | {
        "metadata": {k: child["metadata"][k] for k in ("labels", "annotations", "ownerReferences")}
    }
    if contains(current, wanted):
        return
    replaced = {
        **current,
        "spec": child["spec"],
        "metadata": {**current["metadata"], **wanted["metadata"]},
    }
    status, answer = await API.call("PUT", _path(child, name), replaced)
    if status not in (200, 201):
        raise kopf.TemporaryError(f"replace {child['kind']}: {answer.get('message')}", delay=1)


def replicas_ready(obj: Mapping[str, Any]) -> bool:
    wanted = int((obj.get("spec") or {}).get("replicas", 1))
    return int((obj.get("status") or {}).get("readyReplicas") or 0) >= wanted


def webapp_status(name: str, namespace: str, generation: int, port: int, ready: bool) -> Obj:
    condition = {
        "type": "Ready",
        "status": "True" if ready else "False",
        "reason": "Reconciled" if ready else "Progressing",
        "message": "" if ready else f"waiting for deployments/{name}",
        "observedGeneration": generation,
        "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {
        "phase": "Running" if ready else "Pending",
        "ready": ready,
        "endpoint": f"{name}-svc.{namespace}.svc:{port}",
        "observedGeneration": generation,
        "conditions": [condition],
    }


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 600
    API.open(Path(os.environ["KUBECONFIG"]))


@kopf.on.cleanup()
async def close(**_: Any) -> None:
    await API.close()


@kopf.on.resume(*WEBAPPS)
@kopf.on.create(*WEBAPPS)
@kopf.on.update(*WEBAPPS)
async def reconcile(body: kopf.Body, **_: Any) -> None:
    OWNERS[(body.metadata.namespace or "", body.metadata.name)] = (
        int(body.metadata.get("generation", 1)),
        int(body.spec.get("port", 8080)),
    )
    await ensure(deployment(body))
    await ensure(service(body))


async def owner_facts(namespace: str, name: str) -> tuple[int, int] | None:
    """(generation, port) of a WebApp: remembered by its handler, else read."""
    known = OWNERS.get((namespace, name))
    if known is not None:
        return known
    status, body = await API.call("GET", f"{WEBAPP_PATH.format(namespace=namespace)}/{name}")
    if status != 200:
        return None
    return int(body["metadata"].get("generation", 1)), int(body["spec"].get("port", 8080))


@kopf.on.event("apps", "v1", "deployments", labels=MANAGED)
async def deployment_changed(
    event: kopf.RawEvent, body: kopf.Body, namespace: str | None, **_: Any
) -> None:
    """Write the owning WebApp's status whenever its Deployment changes."""
    if event["type"] == "DELETED" or namespace is None:
        return
    owner = next(
        (
            r
            for r in body.metadata.get("ownerReferences", [])
            if r.get("kind") == "WebApp" and r.get("controller")
        ),
        None,
    )
    facts = await owner_facts(namespace, owner["name"]) if owner else None
    if owner is None or facts is None:
        return
    generation, port = facts
    status = webapp_status(owner["name"], namespace, generation, port, replicas_ready(body))
    await API.call(
        "PATCH",
        f"{WEBAPP_PATH.format(namespace=namespace)}/{owner['name']}/status",
        {"status": status},
        content_type="application/merge-patch+json",
    )
