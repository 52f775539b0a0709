"""The Helm chart charts/orkestra: version, ``helm lint --strict``, rendered manifests checked
by kubernetes-validate (``--strict``: unknown fields fail), the values schema, and a real
``helm install`` / ``kubectl rollout status`` / ``helm uninstall`` on the embedded API server.

helm is the binary ``tools/ensure-helm.sh`` installs into the virtualenv (``make test`` runs
it); kubectl is the system one. helm 4 writes its release records (Secrets) in protobuf and
its ``--wait`` watches with ``sendInitialEvents=true``: the server decodes the one and ends
the other's initial events with a bookmark.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import orkestra
from orkestra.apiserver import EmbeddedServer
from orkestra.cli.run import command as run_command

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "orkestra"
VALUES = Path(__file__).resolve().parent / "values"
REDIS_KATALOG = (
    ROOT / "orkestra" / "packs" / "registry-guide" / "official" / "redis" / "katalog.yaml"
)
BIN = Path(sys.executable).parent
HELM = str(BIN / "helm") if (BIN / "helm").exists() else shutil.which("helm")
KUBECTL = shutil.which("kubectl")
KUBERNETES_VALIDATE = (
    str(BIN / "kubernetes-validate")
    if (BIN / "kubernetes-validate").exists()
    else shutil.which("kubernetes-validate")
)
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest that
# kubernetes-validate knows.
KUBE_VERSIONS = ("1.25.0", None)
RELEASE = "orkestra"
NAMESPACE = "orkestra-system"

Obj = dict[str, Any]

needs_helm = pytest.mark.skipif(
    HELM is None, reason="helm is not installed (tools/ensure-helm.sh, run by make test)"
)


# -- running helm ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """helm's cache, config and data in a temp dir; no KUBECONFIG from the developer."""
    home = tmp_path_factory.mktemp("helm")
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG" and not k.startswith("HELM_")}
    env.update(
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
    )
    return env


def helm(
    env: dict[str, str], *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    assert HELM is not None
    done = subprocess.run(
        [HELM, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"helm {' '.join(args)} exited {done.returncode}\n"
            f"stdout: {done.stdout}\nstderr: {done.stderr}"
        )
    return done


def render(env: dict[str, str], *values: str, kube_version: str | None = None) -> str:
    """``helm template`` of the chart as release orkestra in orkestra-system."""
    extra = ["--kube-version", kube_version] if kube_version else []
    return helm(
        env, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *extra, *values
    ).stdout


def documents(manifest: str) -> list[Obj]:
    return [d for d in yaml.safe_load_all(manifest) if d]


def find(docs: list[Obj], kind: str, name: str) -> Obj:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def container(deployment: Obj) -> Obj:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: Obj = containers[0]
    return result


# The value sets the chart is checked with: helm arguments.
CASES = {
    "default": [],
    "gateway": ["-f", str(VALUES / "gateway.yaml")],
    "typed-image": ["-f", str(VALUES / "typed-image.yaml")],
    "inline-katalog": ["--set-file", f"runtime.katalog.inline={REDIS_KATALOG}"],
    "inline-block": ["-f", str(VALUES / "inline-block.yaml")],
}


# -- version --------------------------------------------------------------------------------


def test_chart_version_and_app_version_are_the_package_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["version"] == orkestra.__version__
    assert chart["appVersion"] == orkestra.__version__


# -- lint, render, validate -----------------------------------------------------------------


@pytest.mark.integration
@needs_helm
@pytest.mark.parametrize("case", CASES)
def test_lint_strict(helm_env: dict[str, str], case: str) -> None:
    done = helm(helm_env, "lint", "--strict", str(CHART), "--namespace", NAMESPACE, *CASES[case])
    assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout


@pytest.mark.integration
@needs_helm
@pytest.mark.skipif(
    KUBERNETES_VALIDATE is None,
    reason="kubernetes-validate is not installed (pip install -e '.[dev]')",
)
@pytest.mark.parametrize("kube_version", KUBE_VERSIONS, ids=lambda v: v or "latest")
@pytest.mark.parametrize("case", CASES)
def test_rendered_manifests_pass_kubernetes_validate_strict(
    helm_env: dict[str, str], tmp_path: Path, case: str, kube_version: str | None
) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(render(helm_env, *CASES[case], kube_version=kube_version))
    assert KUBERNETES_VALIDATE is not None
    version = ["--kubernetes-version", kube_version] if kube_version else []
    done = subprocess.run(
        [KUBERNETES_VALIDATE, "--strict", *version, str(manifest)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.findall(r"passed for resource (\S+)", done.stdout + done.stderr)
    assert len(passed) == len(documents(manifest.read_text())) > 0


@pytest.mark.integration
@needs_helm
def test_default_values(helm_env: dict[str, str]) -> None:
    docs = documents(render(helm_env))
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == [
        ("Deployment", "orkestra-runtime"),
        ("PodDisruptionBudget", "orkestra-runtime"),
        ("Service", "orkestra-runtime-metrics"),
        ("ServiceAccount", "orkestra"),
    ]
    for doc in docs:
        assert doc["metadata"]["namespace"] == NAMESPACE
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "orkestra"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/version"] == orkestra.__version__
        assert labels["helm.sh/chart"] == f"orkestra-{orkestra.__version__}"
    deployment = find(docs, "Deployment", "orkestra-runtime")
    pod = deployment["spec"]["template"]["spec"]
    runtime = container(deployment)
    assert deployment["spec"]["replicas"] == 2
    assert runtime["image"] == f"ghcr.io/orkspace/orkestra:{orkestra.__version__}"
    assert runtime["command"] == ["ork"]
    assert runtime["args"] == [
        "run",
        "-f",
        "/etc/orkestra/katalog/katalog.yaml",
        "--http-port",
        "8081",
        "--log-format",
        "json",
        "--log-level",
        "info",
        "--shutdown-timeout",
        "30s",
        "--leader-elect",
        "--lease-namespace",
        NAMESPACE,
    ]
    # the root filesystem is read-only: ork's cache goes to the /tmp emptyDir; the runtime
    # names its image when a hook module is missing from it
    assert runtime["env"] == [
        {"name": "ORK_HOME", "value": "/tmp/orkestra"},
        {"name": "ORK_RUNTIME_IMAGE", "value": runtime["image"]},
    ]
    assert runtime["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert runtime["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert runtime["ports"] == [{"name": "http", "containerPort": 8081, "protocol": "TCP"}]
    assert pod["serviceAccountName"] == "orkestra"
    # non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp, /tmp
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert runtime["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"name": "tmp", "mountPath": "/tmp"} in runtime["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    # the katalog: the ConfigMap `ork generate bundle` makes
    assert {
        "name": "katalog",
        "configMap": {
            "name": "orkestra-katalog",
            "items": [{"key": "katalog.yaml", "path": "katalog.yaml"}],
        },
    } in pod["volumes"]
    assert {"name": "katalog", "mountPath": "/etc/orkestra/katalog", "readOnly": True} in runtime[
        "volumeMounts"
    ]
    service = find(docs, "Service", "orkestra-runtime-metrics")
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["selector"] == selector
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8081, "targetPort": "http", "protocol": "TCP"}
    ]
    pdb = find(docs, "PodDisruptionBudget", "orkestra-runtime")
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}


@pytest.mark.integration
@needs_helm
def test_typed_image_values(helm_env: dict[str, str]) -> None:
    docs = documents(render(helm_env, *CASES["typed-image"]))
    assert {d["kind"] for d in docs} == {"Deployment", "Service", "ServiceAccount"}
    deployment = find(docs, "Deployment", "orkestra-runtime")
    runtime = container(deployment)
    assert deployment["spec"]["replicas"] == 1
    assert runtime["image"] == "ghcr.io/myorg/database-operator:v1.0.0"
    assert runtime["args"][runtime["args"].index("--log-level") + 1] == "debug"
    assert runtime["args"][runtime["args"].index("--shutdown-timeout") :] == [
        "--shutdown-timeout",
        "30s",
        "--leader-elect",
        "--lease-namespace",
        NAMESPACE,
        "--lease-name",
        "database-operator",
        "--namespace",
        "databases",
        "--workers",
        "4",
        "--resync",
        "1m30s",
    ]


@pytest.mark.integration
@needs_helm
@pytest.mark.parametrize(
    ("values", "image"),
    [
        (CASES["typed-image"], "ghcr.io/myorg/database-operator:v1.0.0"),
        # what `ork build runtime --tag 127.0.0.1:5000/database-operator:dev --push` made
        (
            [
                "--set",
                "runtime.image.repository=127.0.0.1:5000/database-operator",
                "--set",
                "runtime.image.tag=dev",
            ],
            "127.0.0.1:5000/database-operator:dev",
        ),
        (
            [
                "--set",
                "runtime.image.repository=ghcr.io/myorg/database-operator",
                "--set",
                "runtime.image.digest=sha256:" + "cd" * 32,
            ],
            "ghcr.io/myorg/database-operator@sha256:" + "cd" * 32,
        ),
    ],
)
def test_custom_runtime_image_is_named_in_the_environment(
    helm_env: dict[str, str], values: list[str], image: str
) -> None:
    """A custom image (``ork build runtime``) runs with ORK_RUNTIME_IMAGE naming it, so the
    hook loader's missing-module error says which image lacks the module; extraEnv still
    comes after."""
    docs = documents(
        render(
            helm_env,
            *values,
            "--set",
            "runtime.extraEnv[0].name=EXTRA",
            "--set-string",
            "runtime.extraEnv[0].value=1",
        )
    )
    runtime = container(find(docs, "Deployment", "orkestra-runtime"))
    assert runtime["image"] == image
    assert runtime["env"] == [
        {"name": "ORK_HOME", "value": "/tmp/orkestra"},
        {"name": "ORK_RUNTIME_IMAGE", "value": image},
        {"name": "EXTRA", "value": "1"},
    ]


@pytest.mark.integration
@needs_helm
@pytest.mark.parametrize(
    "setting",
    [
        "runtime.image.repository=ghcr.io/myorg/database-operator:v1.0.0",  # the tag goes in tag
        "runtime.image.repository=",
        "runtime.image.repository=GHCR.io/MyOrg/Operator",
        "runtime.image.tag=v1:0",
    ],
)
def test_schema_rejects_bad_runtime_images(helm_env: dict[str, str], setting: str) -> None:
    done = helm(helm_env, "template", RELEASE, str(CHART), "--set", setting, check=False)
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema" in done.stderr
    assert "/runtime/image/" in done.stderr, done.stderr


@pytest.mark.integration
@needs_helm
def test_single_replica_without_leader_election(helm_env: dict[str, str]) -> None:
    docs = documents(
        render(helm_env, "--set", "runtime.replicaCount=1", "--set", "rbac.create=true")
    )
    runtime = container(find(docs, "Deployment", "orkestra-runtime"))
    assert "--leader-elect" not in runtime["args"]
    assert not [d for d in docs if d["kind"] in ("Role", "RoleBinding")]


@pytest.mark.integration
@needs_helm
def test_images(helm_env: dict[str, str]) -> None:
    digest = "sha256:" + "ab" * 32
    docs = documents(
        render(helm_env, "--set", f"runtime.image.digest={digest}", "--set", "gateway.enabled=true")
    )
    # by digest; the gateway and its hook run the runtime's image
    for kind, name in (
        ("Deployment", "orkestra-runtime"),
        ("Deployment", "orkestra-gateway"),
        ("Job", "orkestra-gateway-uninstall"),
    ):
        assert container(find(docs, kind, name))["image"] == f"ghcr.io/orkspace/orkestra@{digest}"
    docs = documents(
        render(
            helm_env,
            "--set",
            f"runtime.image.digest={digest}",
            "--set",
            "gateway.enabled=true",
            "--set",
            "gateway.image.repository=ghcr.io/myorg/gateway",
        )
    )
    for kind, name in (("Deployment", "orkestra-gateway"), ("Job", "orkestra-gateway-uninstall")):
        assert (
            container(find(docs, kind, name))["image"]
            == f"ghcr.io/myorg/gateway:{orkestra.__version__}"
        )


@pytest.mark.integration
@needs_helm
def test_gateway_values(helm_env: dict[str, str]) -> None:
    docs = documents(render(helm_env, *CASES["gateway"]))
    gateway = find(docs, "Deployment", "orkestra-gateway")
    pod = gateway["spec"]["template"]["spec"]
    server = container(gateway)
    assert gateway["spec"]["replicas"] == 2
    assert pod["serviceAccountName"] == "orkestra-gateway"
    assert server["image"] == f"ghcr.io/orkspace/orkestra:{orkestra.__version__}"
    assert server["args"] == [
        "gateway",
        "-f",
        "/etc/orkestra/katalog/katalog.yaml",
        "--namespace",
        NAMESPACE,
        "--service-name",
        "orkestra-gateway",
        "--port",
        "8443",
        "--http-port",
        "8080",
        "--log-format",
        "json",
        "--log-level",
        "info",
        "--tls-secret",
        "orkestra-gateway-tls",
        "--failure-policy",
        "Ignore",
    ]
    assert "env" not in server
    assert server["ports"] == [
        {"name": "https", "containerPort": 8443, "protocol": "TCP"},
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
    ]
    assert server["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert server["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    # the Service on the port the gateway registers in its webhook configurations
    service = find(docs, "Service", "orkestra-gateway")
    assert service["spec"]["ports"] == [
        {"name": "https", "port": 8443, "targetPort": "https", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"] == gateway["spec"]["selector"]["matchLabels"]
    assert find(docs, "PodDisruptionBudget", "orkestra-gateway")
    assert find(docs, "ServiceAccount", "orkestra-gateway")
    # the runtime advertises the gateway
    runtime = container(find(docs, "Deployment", "orkestra-runtime"))
    assert runtime["env"][2:] == [
        {"name": "ORK_GATEWAY_ENDPOINT", "value": f"https://orkestra-gateway.{NAMESPACE}.svc:8443"}
    ]
    # RBAC: the runtime's own rules and rbac.rules, the Lease in the namespace; the
    # gateway's webhook configurations, rbac.gatewayRules, and only its Secret
    runtime_role = find(docs, "ClusterRole", "orkestra-runtime")
    assert runtime_role["rules"][:2] == [
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "verbs": ["get"],
        },
    ]
    assert (
        runtime_role["rules"][2:]
        == yaml.safe_load((VALUES / "gateway.yaml").read_text())["rbac"]["rules"]
    )
    assert find(docs, "Role", "orkestra-runtime")["rules"] == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "create", "update"],
        }
    ]
    gateway_role = find(docs, "ClusterRole", "orkestra-gateway")
    assert gateway_role["rules"][1:] == [
        {
            "apiGroups": ["data.orkestra.dev"],
            "resources": ["redises"],
            "verbs": ["get", "list", "watch"],
        }
    ]
    assert find(docs, "Role", "orkestra-gateway")["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["orkestra-gateway-tls"],
            "verbs": ["get"],
        },
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["orkestra-gateway-certs"],
            "verbs": ["delete"],
        },
    ]
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        for binding in (d for d in docs if d["kind"] == kind):
            assert binding["subjects"] == [
                {
                    "kind": "ServiceAccount",
                    "namespace": NAMESPACE,
                    "name": binding["metadata"]["name"].replace("orkestra-runtime", "orkestra"),
                }
            ]
    # the pre-delete hook that removes the webhook configurations
    hook = find(docs, "Job", "orkestra-gateway-uninstall")
    assert hook["metadata"]["annotations"]["helm.sh/hook"] == "pre-delete"
    assert container(hook)["args"] == [
        "gateway",
        "--uninstall",
        "--namespace",
        NAMESPACE,
        "--service-name",
        "orkestra-gateway",
        "--log-format",
        "json",
    ]
    assert (
        hook["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        == "gateway-uninstall"
    )


@pytest.mark.integration
@needs_helm
def test_gateway_with_generated_certificates(helm_env: dict[str, str]) -> None:
    docs = documents(render(helm_env, "--set", "gateway.enabled=true", "--set", "rbac.create=true"))
    server = container(find(docs, "Deployment", "orkestra-gateway"))
    assert "--tls-secret" not in server["args"]
    assert "--failure-policy" not in server["args"]
    assert find(docs, "Role", "orkestra-gateway")["rules"][0] == {
        "apiGroups": [""],
        "resources": ["secrets"],
        "verbs": ["get", "create", "update"],
    }


@pytest.mark.integration
@needs_helm
def test_gateway_only_serving(helm_env: dict[str, str]) -> None:
    docs = documents(
        render(helm_env, "--set", "gateway.enabled=true", "--set", "gateway.webhooks.manage=false")
    )
    assert (
        container(find(docs, "Deployment", "orkestra-gateway"))["args"][-1]
        == "--no-manage-webhooks"
    )
    assert not [d for d in docs if d["kind"] == "Job"]


@pytest.mark.integration
@needs_helm
@pytest.mark.parametrize("case", ["inline-katalog", "inline-block"])
def test_inline_katalog(helm_env: dict[str, str], case: str) -> None:
    docs = documents(render(helm_env, *CASES[case], "--set", "gateway.enabled=true"))
    configmap = find(docs, "ConfigMap", "orkestra-runtime-katalog")
    if case == "inline-katalog":
        key, text = "katalog.yaml", REDIS_KATALOG.read_text()
    else:
        key = "greeter.yaml"
        text = yaml.safe_load((VALUES / "inline-block.yaml").read_text())["runtime"]["katalog"][
            "inline"
        ]
    assert configmap["data"] == {key: text}
    checksums = set()
    for name in ("orkestra-runtime", "orkestra-gateway"):
        deployment = find(docs, "Deployment", name)
        template = deployment["spec"]["template"]
        checksums.add(template["metadata"]["annotations"]["checksum/katalog"])
        volume = next(v for v in template["spec"]["volumes"] if v["name"] == "katalog")
        assert volume["configMap"] == {
            "name": "orkestra-runtime-katalog",
            "items": [{"key": key, "path": key}],
        }
        assert f"/etc/orkestra/katalog/{key}" in container(deployment)["args"]
    assert len(checksums) == 1


@pytest.mark.integration
@needs_helm
@pytest.mark.parametrize("case", CASES)
def test_runtime_arguments_are_what_ork_run_accepts(
    helm_env: dict[str, str], case: str, tmp_path: Path
) -> None:
    """The runtime container's arguments, parsed by the real ``ork run`` command line (the
    katalog path replaced by a file that exists; nothing runs)."""
    runtime = container(
        find(documents(render(helm_env, *CASES[case])), "Deployment", "orkestra-runtime")
    )
    assert runtime["command"] == ["ork"]
    args = runtime["args"]
    assert args[:2] == ["run", "-f"]
    katalog = tmp_path / "katalog.yaml"
    katalog.write_text(REDIS_KATALOG.read_text())
    context = run_command.make_context("run", ["-f", str(katalog), *args[3:]])
    assert context.params["files"] == (str(katalog),)
    assert context.params["http_port"] == 8081
    assert context.params["log_format"] == "json"


@pytest.mark.integration
@needs_helm
@pytest.mark.parametrize(
    "values",
    [CASES["gateway"], ["--set", "gateway.enabled=true", "--set", "gateway.webhooks.manage=false"]],
    ids=["gateway", "only-serving"],
)
def test_gateway_arguments_are_what_ork_gateway_accepts(
    helm_env: dict[str, str], values: list[str], tmp_path: Path
) -> None:
    """The gateway's and its uninstall hook's arguments, parsed by ``ork gateway``."""
    gateway_cli = pytest.importorskip("orkestra.cli.gateway")
    docs = documents(render(helm_env, *values))
    args = container(find(docs, "Deployment", "orkestra-gateway"))["args"]
    assert args[:2] == ["gateway", "-f"]
    katalog = tmp_path / "katalog.yaml"
    katalog.write_text(REDIS_KATALOG.read_text())
    context = gateway_cli.command.make_context("gateway", ["-f", str(katalog), *args[3:]])
    assert context.params["service_name"] == "orkestra-gateway"
    assert (context.params["port"], context.params["http_port"]) == (8443, 8080)
    for hook in (d for d in docs if d["kind"] == "Job"):
        context = gateway_cli.command.make_context("gateway", container(hook)["args"][1:])
        assert context.params["uninstall"] is True


# -- the values schema ----------------------------------------------------------------------


@pytest.mark.integration
@needs_helm
@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ("runtime.replicaCont=3", "additional properties 'replicaCont' not allowed"),
        ("replicaCount=3", "additional properties 'replicaCount' not allowed"),
        ("gateway.enabeld=true", "additional properties 'enabeld' not allowed"),
        ("runtime.katalog.existingConfigmap=x", "'existingConfigmap' not allowed"),
        ("runtime.config.logLevel=verbose", "/runtime/config/logLevel"),
        ("runtime.config.resync=30", "/runtime/config/resync"),
        ("runtime.image.digest=abc", "/runtime/image/digest"),
        ("runtime.replicaCount=two", "/runtime/replicaCount"),
        ("runtime.katalog.existingConfigMap=", "/runtime/katalog/existingConfigMap"),
    ],
)
def test_schema_rejects(helm_env: dict[str, str], setting: str, error: str) -> None:
    done = helm(helm_env, "template", RELEASE, str(CHART), "--set", setting, check=False)
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema" in done.stderr
    assert error in done.stderr, done.stderr


# -- install on the embedded API server -----------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(port=0) as running:
        yield running


class Cluster:
    """helm and kubectl against one embedded server."""

    def __init__(self, server: EmbeddedServer, env: dict[str, str], cache: Path) -> None:
        self.kubeconfig = str(server.kubeconfig)
        self.cache = str(cache)
        self.env = env

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return helm(self.env, "--kubeconfig", self.kubeconfig, *args, check=check)

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        assert KUBECTL is not None
        done = subprocess.run(
            [KUBECTL, "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    def labelled(self, selector: str) -> list[str]:
        """Every object of every listable type (cluster-wide) matching ``selector``."""
        types = self.kubectl("api-resources", "--verbs=list", "-o", "name").split()
        listed = json.loads(
            self.kubectl("get", ",".join(types), "--all-namespaces", "-l", selector, "-o", "json")
        )
        return sorted(
            f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
            for o in listed["items"]
        )


@pytest.fixture(scope="module")
def cluster(
    server: EmbeddedServer, helm_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Cluster:
    # helm 4's client-go (v1.35) lists and watches with WatchList (sendInitialEvents) for
    # --wait; the embedded server does not end the initial events with the
    # "k8s.io/initial-events-end" bookmark, so it uses plain list + watch here.
    env = {**helm_env, "KUBE_FEATURE_WatchListClient": "false"}
    return Cluster(server, env, tmp_path_factory.mktemp("kube-cache"))


def bundle(namespace: str) -> str:
    """What `ork generate bundle` applies before the chart, as far as the chart cares: the
    ServiceAccount and the katalog ConfigMap (not chart objects: uninstall must leave them)."""
    return yaml.safe_dump_all(
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "orkestra", "namespace": namespace},
            },
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "orkestra-katalog", "namespace": namespace},
                "data": {"katalog.yaml": REDIS_KATALOG.read_text()},
            },
        ]
    )


def rolled_out(cluster: Cluster, namespace: str, deployments: list[str]) -> None:
    for deployment in deployments:
        out = cluster.kubectl("rollout", "status", deployment, "-n", namespace, "--timeout=60s")
        assert "successfully rolled out" in out


INSTALLS = {
    # the consumer flow: the bundle first, then the chart without its own ServiceAccount
    "bundle": (["--set", "runtime.serviceAccount.create=false"], ["deployment/orkestra-runtime"]),
    # everything the chart can create
    "everything": (
        [
            "--set-file",
            f"runtime.katalog.inline={REDIS_KATALOG}",
            "--set",
            "rbac.create=true",
            "--set",
            "gateway.enabled=true",
        ],
        ["deployment/orkestra-runtime", "deployment/orkestra-gateway"],
    ),
}


@pytest.mark.integration
@needs_helm
@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (make test installs it)")
@pytest.mark.parametrize("install", INSTALLS)
def test_install_rollout_uninstall(cluster: Cluster, install: str) -> None:
    values, deployments = INSTALLS[install]
    namespace = f"orkestra-{install}"
    chart_objects = f"app.kubernetes.io/instance={RELEASE}"
    release_records = f"owner=helm,name={RELEASE}"
    if install == "bundle":
        cluster.kubectl("apply", "-f", "-", stdin=bundle(namespace))

    # the documented command (reference §11.1)
    install_command = [
        "upgrade",
        "--install",
        RELEASE,
        str(CHART),
        "--namespace",
        namespace,
        "--create-namespace",
        "--wait",
        "--timeout",
        "60s",
        *values,
    ]
    installed = cluster.helm(*install_command, check=False)
    assert installed.returncode == 0, installed.stderr
    try:
        rolled_out(cluster, namespace, deployments)
        manifest = documents(cluster.helm("get", "manifest", RELEASE, "-n", namespace).stdout)
        assert cluster.labelled(chart_objects) == sorted(
            f"{d['kind']}/{d['metadata'].get('namespace', '')}/{d['metadata']['name']}"
            for d in manifest
        )
        # an upgrade that changes the pods rolls out too
        cluster.helm(*install_command, "--set", "runtime.config.logLevel=debug")
        rolled_out(cluster, namespace, deployments)
        runtime = json.loads(
            cluster.kubectl("get", "deployment/orkestra-runtime", "-n", namespace, "-o", "json")
        )
        assert runtime["metadata"]["generation"] == 2
        assert "debug" in container(runtime)["args"]
        assert cluster.labelled(release_records) == [
            f"Secret/{namespace}/sh.helm.release.v1.{RELEASE}.v1",
            f"Secret/{namespace}/sh.helm.release.v1.{RELEASE}.v2",
        ]
    finally:
        cluster.helm("uninstall", RELEASE, "--namespace", namespace, "--wait", "--timeout", "60s")
    assert cluster.labelled(chart_objects) == []
    assert cluster.labelled(release_records) == []
    if install == "bundle":
        assert cluster.kubectl(
            "get",
            "serviceaccount/orkestra",
            "configmap/orkestra-katalog",
            "-n",
            namespace,
            "-o",
            "name",
        ).split() == ["serviceaccount/orkestra", "configmap/orkestra-katalog"]
