"""Admission webhooks called by the embedded API server, driven with real kubectl: a small
HTTPS webhook server runs in the test (certificate from a CA of the test's own), webhook
configurations point at it by URL or by a Service, and what kubectl prints must be what it
prints against kube-apiserver v1.32."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from orkestra.apiserver import EmbeddedServer, certs
from orkestra.apiserver.server import free_port
from orkestra.loops import new_event_loop
from tests.apiserver.conftest import Kubectl

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
Answer = Callable[[Obj], Any]
HOOKS_NS, HOOKS_SVC = "webhooks-test", "hooks"  # the service the server's override resolves
LOCAL_NS, LOCAL_SVC = "webhooks-local", "local"  # the service resolved by its targetPort
GROUP = "admissionregistration.k8s.io/v1"


@dataclass
class Raw:
    """An answer that is not an AdmissionReview: an HTTP status and body."""

    status: int
    body: bytes


@dataclass
class Slow:
    """An answer given after ``seconds``."""

    seconds: float
    answer: Obj


def allow(**extra: Any) -> Answer:
    return lambda request: {"allowed": True, **extra}


def deny(message: str, **status: Any) -> Answer:
    return lambda request: {"allowed": False, "status": {"message": message, **status}}


def jsonpatch(*operations: Obj) -> Obj:
    return {
        "patchType": "JSONPatch",
        "patch": base64.b64encode(json.dumps(list(operations)).encode()).decode(),
    }


@dataclass
class Hooks:
    """An HTTPS admission webhook server on a thread of its own: each path answers with what
    the test set, and every review it was sent is kept."""

    pair: certs.KeyPair
    directory: Path
    port: int = field(default_factory=free_port)
    answers: dict[str, Answer] = field(default_factory=dict)
    received: dict[str, list[Obj]] = field(default_factory=dict)

    def start(self) -> None:
        (self.directory / "tls.crt").write_bytes(self.pair.certificate)
        (self.directory / "tls.key").write_bytes(self.pair.key)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.directory / "tls.crt", self.directory / "tls.key")
        self.loop = new_event_loop()
        app = web.Application()
        app.router.add_post("/{path:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", self.port, ssl_context=context)
            self.loop.run_until_complete(site.start())
            started.set()
            self.loop.run_forever()
            self.loop.run_until_complete(runner.cleanup())

        self.thread = threading.Thread(target=serve, name="webhooks", daemon=True)
        self.thread.start()
        started.wait(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        review = await request.json()
        self.received.setdefault(path, []).append(review)
        answer = self.answers[path](review["request"])
        if isinstance(answer, Slow):
            await asyncio.sleep(answer.seconds)
            answer = answer.answer
        if isinstance(answer, Raw):
            return web.Response(status=answer.status, body=answer.body)
        return web.json_response(
            {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": {"uid": review["request"]["uid"], **answer},
            }
        )

    def on(self, path: str, answer: Answer) -> str:
        self.answers[path] = answer
        self.received[path] = []
        return path

    def requests(self, path: str) -> list[Obj]:
        return [review["request"] for review in self.received.get(path, [])]


@pytest.fixture(scope="module")
def ca() -> certs.KeyPair:
    return certs.generate_ca(common_name="webhooks-test-ca")


@pytest.fixture(scope="module")
def hooks(ca: certs.KeyPair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooks]:
    pair = certs.generate_server_cert(
        ca, names=[f"{HOOKS_SVC}.{HOOKS_NS}.svc", f"{LOCAL_SVC}.{LOCAL_NS}.svc"]
    )
    running = Hooks(pair, tmp_path_factory.mktemp("hooks"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server(hooks: Hooks) -> Iterator[EmbeddedServer]:
    """The API server of this module, told where the webhooks' Service listens."""
    with EmbeddedServer(
        port=0, service_hosts={(HOOKS_NS, HOOKS_SVC): f"127.0.0.1:{hooks.port}"}
    ) as running:
        yield running


@pytest.fixture
def install(kubectl: Kubectl) -> Iterator[Callable[[Obj], None]]:
    """Apply webhook configurations, deleted again after the test."""
    installed: list[Obj] = []

    def apply(configuration: Obj) -> None:
        kubectl.apply(configuration)
        installed.append(configuration)

    yield apply
    for configuration in reversed(installed):
        kubectl(
            "delete",
            configuration["kind"].lower(),
            configuration["metadata"]["name"],
            "--ignore-not-found",
        )


def webhook(
    name: str,
    path: str,
    ca: certs.KeyPair,
    *,
    url: str | None = None,
    resources: tuple[str, ...] = ("configmaps",),
    operations: tuple[str, ...] = ("CREATE", "UPDATE"),
    **extra: Any,
) -> Obj:
    client: Obj = {"caBundle": base64.b64encode(ca.certificate).decode()}
    if url is not None:
        client["url"] = url
    else:
        client["service"] = {"namespace": HOOKS_NS, "name": HOOKS_SVC, "path": path}
    return {
        "name": name,
        "clientConfig": client,
        "rules": [
            {
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "operations": list(operations),
                "resources": list(resources),
            }
        ],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        **extra,
    }


def configuration(kind: str, name: str, *hooks: Obj) -> Obj:
    return {"apiVersion": GROUP, "kind": kind, "metadata": {"name": name}, "webhooks": list(hooks)}


def validating(name: str, *hooks: Obj) -> Obj:
    return configuration("ValidatingWebhookConfiguration", name, *hooks)


def mutating(name: str, *hooks: Obj) -> Obj:
    return configuration("MutatingWebhookConfiguration", name, *hooks)


def for_namespace(ns: str) -> Obj:
    """A namespaceSelector that keeps a webhook to one test's namespace."""
    return {"matchLabels": {"webhooks-test": ns}}


@pytest.fixture
def ns(server: EmbeddedServer) -> str:
    """A fresh namespace for one test, labelled so that its webhooks see only it."""
    name = f"t-{time.monotonic_ns() % 10**10}"
    server.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"webhooks-test": name}},
        },
        record=False,
    )
    return name


def configmap(name: str, ns: str, labels: dict[str, str] | None = None, **data: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {"app": name}},
        "data": data or {"key": "value"},
    }


# -- validating ---------------------------------------------------------------------------


def test_a_validating_webhook_denies_with_its_message(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    path = hooks.on("/deny", deny("configmaps may not hold passwords"))
    install(
        validating(
            "deny", webhook("deny.hooks.example.com", path, ca, namespaceSelector=for_namespace(ns))
        )
    )
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert error == (
        'Error from server: error when creating "STDIN": admission webhook '
        '"deny.hooks.example.com" denied the request: configmaps may not hold '
        "passwords\n"
    )
    assert "NotFound" in kubectl.fails("get", "configmap", "cfg", "-n", ns)
    request = hooks.requests(path)[-1]
    assert request["operation"] == "CREATE" and request["name"] == "cfg"
    assert request["namespace"] == ns
    assert request["kind"] == {"group": "", "version": "v1", "kind": "ConfigMap"}
    assert request["resource"] == {"group": "", "version": "v1", "resource": "configmaps"}
    assert request["object"]["data"] == {"key": "value"} and request["oldObject"] is None
    assert request["options"] == {
        "apiVersion": "meta.k8s.io/v1",
        "kind": "CreateOptions",
        "fieldManager": "kubectl-client-side-apply",
    }
    assert request["dryRun"] is False and request["userInfo"]["username"] == "ork-embedded"


def test_a_denial_keeps_the_code_and_reason_the_webhook_chose(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    path = hooks.on("/forbid", deny("not on Fridays", code=403, reason="Forbidden"))
    install(
        validating(
            "forbid",
            webhook("forbid.hooks.example.com", path, ca, namespaceSelector=for_namespace(ns)),
        )
    )
    done = kubectl.run("create", "-f", "-", stdin=json.dumps(configmap("cfg", ns)), check=False)
    assert done.stderr == (
        'Error from server (Forbidden): error when creating "STDIN": '
        'admission webhook "forbid.hooks.example.com" denied the request: '
        "not on Fridays\n"
    )


def test_warnings_reach_kubectl(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    path = hooks.on("/warn", allow(warnings=["key 'key' is deprecated", "use 'keys'"]))
    install(
        validating(
            "warn", webhook("warn.hooks.example.com", path, ca, namespaceSelector=for_namespace(ns))
        )
    )
    done = kubectl.run("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert done.stdout == "configmap/cfg created\n"
    assert done.stderr == "Warning: key 'key' is deprecated\nWarning: use 'keys'\n"


# -- mutating -------------------------------------------------------------------------------


def test_mutating_webhooks_patch_in_order_before_validating_ones(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    first = hooks.on(
        "/label",
        lambda request: {
            "allowed": True,
            **jsonpatch({"op": "add", "path": "/metadata/labels/injected", "value": "yes"}),
        },
    )
    second = hooks.on(
        "/annotate",
        lambda request: {
            "allowed": True,
            **jsonpatch(
                {
                    "op": "add",
                    "path": "/metadata/annotations",
                    "value": {"saw": request["object"]["metadata"]["labels"].get("injected", "no")},
                }
            ),
        },
    )
    judge = hooks.on("/judge", allow())
    selector = {"namespaceSelector": for_namespace(ns)}
    install(mutating("b-annotate", webhook("annotate.hooks.example.com", second, ca, **selector)))
    install(mutating("a-label", webhook("label.hooks.example.com", first, ca, **selector)))
    install(validating("judge", webhook("judge.hooks.example.com", judge, ca, **selector)))
    kubectl.apply(configmap("cfg", ns))
    meta = kubectl.json("get", "configmap", "cfg", "-n", ns)["metadata"]
    assert meta["labels"] == {"app": "cfg", "injected": "yes"}
    assert meta["annotations"]["saw"] == "yes"
    judged = hooks.requests(judge)[-1]["object"]
    assert judged["metadata"]["labels"]["injected"] == "yes" and judged["metadata"]["uid"]

    kubectl.apply(configmap("cfg", ns, key="changed"))  # an update: mutated again
    updates = hooks.requests(first)
    assert [r["operation"] for r in updates] == ["CREATE", "UPDATE"]
    assert updates[-1]["oldObject"]["data"] == {"key": "value"}
    assert updates[-1]["object"]["data"] == {"key": "changed"}
    assert updates[-1]["options"]["kind"] == "UpdateOptions"


def test_a_patch_that_does_not_apply_is_an_internal_error(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    path = hooks.on(
        "/bad-patch",
        lambda request: {
            "allowed": True,
            **jsonpatch({"op": "replace", "path": "/spec/replicas", "value": 3}),
        },
    )
    install(
        mutating(
            "bad-patch",
            webhook("bad-patch.hooks.example.com", path, ca, namespaceSelector=for_namespace(ns)),
        )
    )
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert error.startswith(
        'Error from server (InternalError): error when creating "STDIN": Internal error occurred: '
    )


def test_server_side_dry_run_reaches_webhooks_without_storing(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    path = hooks.on(
        "/dry",
        lambda request: {
            "allowed": True,
            **jsonpatch(
                {"op": "add", "path": "/metadata/labels/dry", "value": str(request["dryRun"])}
            ),
        },
    )
    install(
        mutating(
            "dry", webhook("dry.hooks.example.com", path, ca, namespaceSelector=for_namespace(ns))
        )
    )
    out = kubectl(
        "apply", "--dry-run=server", "-o", "json", "-f", "-", stdin=json.dumps(configmap("cfg", ns))
    )
    assert json.loads(out)["metadata"]["labels"]["dry"] == "True"
    assert hooks.requests(path)[-1]["options"]["dryRun"] == ["All"]
    assert "NotFound" in kubectl.fails("get", "configmap", "cfg", "-n", ns)


# -- which requests a webhook sees ------------------------------------------------------------


def test_rules_and_selectors_narrow_what_is_sent(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    path = hooks.on("/narrow", deny("caught"))
    install(
        validating(
            "narrow",
            webhook(
                "narrow.hooks.example.com",
                path,
                ca,
                namespaceSelector=for_namespace(ns),
                objectSelector={
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["critical"]}]
                },
                matchConditions=[
                    {
                        "name": "not-exempt",
                        "expression": "!has(object.data) || !('exempt' in object.data)",
                    }
                ],
            ),
        )
    )
    kubectl.apply(configmap("plain", ns))  # the object selector leaves it out
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",  # the rules leave it out
            "metadata": {"name": "s", "namespace": ns, "labels": {"tier": "critical"}},
        }
    )
    kubectl.apply(configmap("exempt", ns, {"tier": "critical"}, exempt="yes"))  # a condition
    other = f"{ns}-other"
    kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    kubectl.apply(configmap("elsewhere", other, {"tier": "critical"}))  # the namespace's
    assert hooks.requests(path) == []
    error = kubectl.fails(
        "apply", "-f", "-", stdin=json.dumps(configmap("caught", ns, {"tier": "critical"}))
    )
    assert 'admission webhook "narrow.hooks.example.com" denied the request: caught' in error
    # an update that removes the label is still sent (the old object matches)
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("exempt", ns)))
    assert error.endswith(
        'error when patching "STDIN": admission webhook '
        '"narrow.hooks.example.com" denied the request: caught\n'
    )
    assert [r["name"] for r in hooks.requests(path)] == ["caught", "exempt"]


def test_a_match_condition_that_fails_refuses_under_fail(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    path = hooks.on("/condition", allow())
    condition = [{"name": "owner", "expression": "object.metadata.labels.owner == 'me'"}]
    install(
        validating(
            "condition",
            webhook(
                "condition.hooks.example.com",
                path,
                ca,
                namespaceSelector=for_namespace(ns),
                matchConditions=condition,
            ),
        )
    )
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert error == (
        'Error from server (Forbidden): error when creating "STDIN": configmaps '
        "\"cfg\" is forbidden: expression 'object.metadata.labels.owner == 'me'' "
        "resulted in error: no such key: owner\n"
    )
    assert hooks.requests(path) == []


# -- failures -----------------------------------------------------------------------------------


def test_a_webhook_that_is_down_fails_closed_or_open(
    kubectl: Kubectl, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    port = free_port()
    url = f"https://127.0.0.1:{port}/validate"
    hook = webhook("down.hooks.example.com", "", ca, url=url, namespaceSelector=for_namespace(ns))
    install(validating("down", hook))
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert error == (
        'Error from server (InternalError): error when creating "STDIN": Internal '
        'error occurred: failed calling webhook "down.hooks.example.com": failed '
        f'to call webhook: Post "{url}?timeout=10s": dial tcp 127.0.0.1:{port}: '
        "connect: connection refused\n"
    )
    install(validating("down", {**hook, "failurePolicy": "Ignore"}))
    assert (
        kubectl("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
        == "configmap/cfg created\n"
    )


def test_a_slow_webhook_times_out_per_its_policy(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    path = hooks.on("/slow", lambda request: Slow(6, {"allowed": False}))
    hook = webhook(
        "slow.hooks.example.com", path, ca, timeoutSeconds=1, namespaceSelector=for_namespace(ns)
    )
    install(validating("slow", hook))
    started = time.monotonic()
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert time.monotonic() - started < 5  # not the webhook's 6 seconds
    assert error == (
        'Error from server (InternalError): error when creating "STDIN": Internal '
        'error occurred: failed calling webhook "slow.hooks.example.com": failed '
        f'to call webhook: Post "https://{HOOKS_SVC}.{HOOKS_NS}.svc:443/slow'
        '?timeout=1s": context deadline exceeded\n'
    )
    install(validating("slow", {**hook, "failurePolicy": "Ignore"}))
    kubectl.apply(configmap("cfg", ns))
    assert kubectl.json("get", "configmap", "cfg", "-n", ns)["data"] == {"key": "value"}


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (
            lambda request: Raw(200, b"garbage"),
            "failed to call webhook: couldn't get version/kind; json parse error: ",
        ),
        (
            lambda request: {"allowed": True, "uid": "someone-else"},
            'received invalid webhook response: expected response.uid="',
        ),
        (
            lambda request: Raw(500, b"boom"),
            'failed to call webhook: an error on the server ("boom") has prevented the request '
            "from succeeding",
        ),
        (
            lambda request: {"allowed": True, **jsonpatch({"op": "add", "path": "/x", "value": 1})},
            "received invalid webhook response: validating webhooks may not return response.patch",
        ),
    ],
    ids=["not-json", "wrong-uid", "server-error", "validating-patch"],
)
def test_a_malformed_answer_follows_the_failure_policy(
    kubectl: Kubectl,
    hooks: Hooks,
    ns: str,
    ca: certs.KeyPair,
    install: Any,
    answer: Answer,
    why: str,
) -> None:
    path = hooks.on("/malformed", answer)
    hook = webhook("malformed.hooks.example.com", path, ca, namespaceSelector=for_namespace(ns))
    install(validating("malformed", hook))
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert error.startswith(
        'Error from server (InternalError): error when creating "STDIN": '
        "Internal error occurred: failed calling webhook "
        f'"malformed.hooks.example.com": {why}'
    ), error
    install(validating("malformed", {**hook, "failurePolicy": "Ignore"}))
    kubectl.apply(configmap("cfg", ns))


def test_the_certificate_is_checked_against_the_ca_bundle(
    kubectl: Kubectl, hooks: Hooks, ns: str, install: Any
) -> None:
    path = hooks.on("/untrusted", allow())
    stranger = certs.generate_ca(common_name="someone-else")
    install(
        validating(
            "untrusted",
            webhook(
                "untrusted.hooks.example.com", path, stranger, namespaceSelector=for_namespace(ns)
            ),
        )
    )
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert error.endswith(
        '/untrusted?timeout=10s": tls: failed to verify certificate: x509: '
        "certificate signed by unknown authority\n"
    )
    assert hooks.requests(path) == []


# -- delete -----------------------------------------------------------------------------------


def test_delete_sends_the_old_object_and_can_be_denied(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    kubectl.apply(configmap("keep", ns, {"protected": "true"}))
    kubectl.apply(configmap("drop", ns))
    path = hooks.on(
        "/protect",
        lambda request: {
            "allowed": request["oldObject"]["metadata"]["labels"].get("protected") != "true",
            "status": {"message": "this configmap is protected"},
        },
    )
    install(
        validating(
            "protect",
            webhook(
                "protect.hooks.example.com",
                path,
                ca,
                operations=("DELETE",),
                namespaceSelector=for_namespace(ns),
            ),
        )
    )
    error = kubectl.fails("delete", "configmap", "keep", "-n", ns)
    assert error == (
        'Error from server: admission webhook "protect.hooks.example.com" denied '
        "the request: this configmap is protected\n"
    )
    kubectl("get", "configmap", "keep", "-n", ns)
    assert kubectl("delete", "configmap", "drop", "-n", ns) == 'configmap "drop" deleted\n'
    request = hooks.requests(path)[-1]
    assert request["operation"] == "DELETE" and request["object"] is None
    assert request["oldObject"]["metadata"]["name"] == "drop"
    assert request["options"]["kind"] == "DeleteOptions"
    assert request["options"]["propagationPolicy"] == "Background"


# -- configurations -------------------------------------------------------------------------


def test_a_service_is_reached_at_its_target_port(
    kubectl: Kubectl, hooks: Hooks, ns: str, ca: certs.KeyPair, install: Any
) -> None:
    kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LOCAL_NS}})
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": LOCAL_SVC, "namespace": LOCAL_NS},
            "spec": {"ports": [{"port": 443, "targetPort": hooks.port}]},
        }
    )
    path = hooks.on("/local", deny("seen through the service"))
    hook = webhook("local.hooks.example.com", path, ca, namespaceSelector=for_namespace(ns))
    hook["clientConfig"]["service"] = {"namespace": LOCAL_NS, "name": LOCAL_SVC, "path": path}
    install(validating("local", hook))
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert "denied the request: seen through the service" in error
    kubectl("delete", "service", LOCAL_SVC, "-n", LOCAL_NS)
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(configmap("cfg", ns)))
    assert error.endswith(
        f'failed to call webhook: Post "https://{LOCAL_SVC}.{LOCAL_NS}.svc:443'
        f'/local?timeout=10s": service "{LOCAL_SVC}" not found\n'
    )


def test_configurations_are_defaulted_and_checked(
    kubectl: Kubectl, ca: certs.KeyPair, install: Any
) -> None:
    hook = webhook("checked.hooks.example.com", "/x", ca)
    install(validating("checked", hook))
    stored = kubectl.json("get", "validatingwebhookconfiguration", "checked")["webhooks"][0]
    assert (stored["failurePolicy"], stored["matchPolicy"], stored["timeoutSeconds"]) == (
        "Fail",
        "Equivalent",
        10,
    )
    assert stored["clientConfig"]["service"]["port"] == 443
    assert stored["rules"][0]["scope"] == "*"
    assert kubectl("get", "validatingwebhookconfigurations", "checked").split()[:5] == [
        "NAME",
        "WEBHOOKS",
        "AGE",
        "checked",
        "1",
    ]
    broken = {k: v for k, v in hook.items() if k != "sideEffects"}
    error = kubectl.fails(
        "apply", "-f", "-", stdin=json.dumps(validating("broken", {**broken, "name": "short"}))
    )
    assert error == (
        'The ValidatingWebhookConfiguration "broken" is invalid: \n'
        '* webhooks[0].name: Invalid value: "short": should be a domain with at '
        "least three segments separated by dots\n"
        "* webhooks[0].sideEffects: Required value: must specify one of None, "
        "NoneOnDryRun\n"
    )


def test_webhook_configurations_are_not_sent_to_webhooks(
    kubectl: Kubectl, ca: certs.KeyPair, install: Any
) -> None:
    every = webhook(
        "everything.hooks.example.com",
        "/nowhere",
        ca,
        url=f"https://127.0.0.1:{free_port()}/",
        resources=("*",),
    )
    every["rules"][0].update(apiGroups=["*"], apiVersions=["*"])
    every["rules"][0]["operations"] = ["*"]
    install(validating("everything", every))
    install(validating("everything", {**every, "timeoutSeconds": 5}))  # still updatable
    kubectl("delete", "validatingwebhookconfiguration", "everything")
