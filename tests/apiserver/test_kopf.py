"""A minimal Kopf operator run in-process against the embedded API server: its create,
update and delete handlers fire, its finalizer comes and goes, and its log is clean."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import Any

import pytest
from kopf.testing import KopfRunner

from orkestra.apiserver import EmbeddedServer
from orkestra.cluster.errors import NotFoundError
from tests.apiserver.conftest import resource_type, wait_until, webapp

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"

OPERATOR = """
import kopf


@kopf.on.login()
def login(**_):
    return kopf.ConnectionInfo(server={url!r}, ca_path={ca!r}, token={token!r},
                               scheme="Bearer")


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.watching.server_timeout = 60
    settings.posting.loggers = True  # post the handlers' log lines as Kubernetes Events


def record(name, namespace, suffix, data, logger):
    api = {{"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {{"name": f"{{name}}-{{suffix}}", "namespace": namespace}},
           "data": {{k: str(v) for k, v in data.items()}}}}
    import kubernetes
    client = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(
        config_file={kubeconfig!r}))
    client.create_namespaced_config_map(namespace, api)
    logger.info("recorded %s", suffix)


@kopf.on.create("rkguide.demo", "v1", "webapps")
def created(spec, name, namespace, logger, **_):
    record(name, namespace, "created", {{"image": spec["image"]}}, logger)
    return {{"seen": spec["replicas"]}}


@kopf.on.update("rkguide.demo", "v1", "webapps", field="spec.replicas")
def updated(old, new, name, namespace, logger, **_):
    record(name, namespace, "updated", {{"old": old, "new": new}}, logger)
    return {{"seen": new}}


@kopf.on.delete("rkguide.demo", "v1", "webapps")
def deleted(name, namespace, logger, **_):
    record(name, namespace, "deleted", {{"bye": "yes"}}, logger)
"""


def operator_file(server: EmbeddedServer, tmp_path: Path) -> Path:
    path = tmp_path / "webapp_handlers.py"  # not operator.py: it would shadow the stdlib
    path.write_text(
        textwrap.dedent(
            OPERATOR.format(
                url=server.url,
                ca=str(server.credentials.ca_file),
                token=server.token,
                kubeconfig=str(server.kubeconfig),
            )
        )
    )
    return path


def test_kopf_handlers_fire_and_finalizers_come_and_go(
    server: EmbeddedServer,
    webapp_crd: Obj,
    ns: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="kopf")
    cluster = server.cluster
    webapps = resource_type(server, "rkguide.demo", "webapps")
    configmaps = resource_type(server, "", "configmaps")

    def configmap(name: str) -> Obj | None:
        try:
            return cluster.read(configmaps, ns, name)
        except NotFoundError:
            return None

    def cr() -> Obj | None:
        try:
            return cluster.read(webapps, ns, "shop")
        except NotFoundError:
            return None

    with KopfRunner(
        ["run", "-A", "--standalone", str(operator_file(server, tmp_path))], timeout=30
    ) as runner:
        cluster.create_in(webapps, ns, webapp("shop", ns, replicas=2))
        created = wait_until(lambda: configmap("shop-created"), what="on.create")
        assert created["data"] == {"image": "ghcr.io/orkspace/demo-web:1.0.0"}
        obj = wait_until(
            lambda: (c := cr()) and (c.get("status") or {}).get("created") and c,
            what="the create handler's result in status",
        )
        assert obj["status"]["created"] == {"seen": 2}
        assert FINALIZER in obj["metadata"]["finalizers"]
        annotations = obj["metadata"]["annotations"]
        assert "kopf.zalando.org/last-handled-configuration" in annotations

        current = cluster.read(webapps, ns, "shop")
        cluster.replace_in(
            webapps, ns, "shop", {**current, "spec": {**current["spec"], "replicas": 3}}
        )
        updated = wait_until(lambda: configmap("shop-updated"), what="on.update")
        assert updated["data"] == {"old": "2", "new": "3"}

        cluster.delete_in(webapps, ns, "shop")
        assert cluster.read(webapps, ns, "shop")["metadata"]["deletionTimestamp"]
        wait_until(lambda: configmap("shop-deleted"), what="on.delete")
        wait_until(lambda: cr() is None, what="the finalizer to be removed")

        events = resource_type(server, "", "events")

        def posted() -> set[str]:  # Kopf posts its handler logs as Events, in batches
            return {
                str(e.get("message"))
                for e in cluster.list_type(events, ns, record=False)
                if (e.get("involvedObject") or {}).get("name") == "shop"
            }

        expected = {
            "Handler 'created' succeeded.",
            "Handler 'deleted' succeeded.",
            "Handler 'updated/spec.replicas' succeeded.",
            "Deletion is processed: 1 succeeded; 0 failed.",
        }
        # Batches may land in any order under load: wait for all of them.
        wait_until(lambda: expected <= posted(), what="Kopf's events")
    assert runner.exit_code == 0
    assert runner.exception is None
    messages = [r.getMessage() for r in caplog.records]
    for handler in ("created", "updated/spec.replicas", "deleted"):
        assert f"Handler '{handler}' succeeded." in messages
    problems = [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING and not r.getMessage().startswith("OS signals are ignored")
    ]  # KopfRunner runs it in a thread
    assert problems == []
