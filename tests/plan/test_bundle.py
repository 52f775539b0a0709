"""ork generate bundle, the library: least privilege against ``ork plan``, determinism, the
gateway, merging, the katalog ConfigMap (registry imports pinned by digest), and the
runtime on the embedded API server needing nothing the bundle does not grant."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.apiserver import EmbeddedServer
from orkestra.apiserver.faults import Faults
from orkestra.cli import main
from orkestra.cluster.resources import plural_of
from orkestra.compose import compose_file
from orkestra.engine.build.base import KINDS
from orkestra.model.errors import PatternError
from orkestra.plan.bundle import (
    CONFIGMAP,
    KATALOG_KEY,
    LOCK_KEY,
    Bundle,
    build,
    load,
)
from orkestra.plan.objects import inventory
from orkestra.plan.source import from_bundle
from orkestra.registry.client import RegistryClient
from orkestra.registry.lock import LockFile
from tests.conftest import PACK, WriteFiles, use_published_motifs
from tests.gates.test_push import push, push_motifs
from tests.plan.rbac_check import Account, Grant, Request, grants, request_of
from tests.runtime.harness import Runtime, wait_for

Obj = dict[str, Any]
NS = "orkestra-system"
INFORMED = ("get", "list", "watch", "create", "update", "delete")
LIVE = ("get", "create", "update")
OFFICIAL = sorted(p.name for p in (PACK / "official").iterdir() if p.is_dir())
PACK_KATALOGS = [
    PACK / "02-katalog-api",
    PACK / "03-katalog-cache",
    PACK / "04-katalog-platform",
    *(PACK / "official" / n for n in OFFICIAL),
]

TENANTS = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: tenants, version: v1.0.0}
spec:
  crds:
    tenant:
      apiTypes: {group: t.io, version: v1, kind: Tenant, plural: tenants}
      namespaced: false
      operatorBox:
        onCreate:
          namespaces: [{name: "{{ .metadata.name }}"}]
        onReconcile:
          roles:
            - name: reader
              namespace: "{{ .metadata.name }}"
              rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
          roleBindings:
            - name: viewers
              namespace: "{{ .metadata.name }}"
              roleRef: {kind: ClusterRole, name: view}
              subjects: [{kind: Group, name: "{{ .spec.team }}"}]
          clusterRoleBindings:
            - name: "{{ .metadata.name }}-admins"
              roleRef: {kind: ClusterRole, name: admin}
              subjects: [{kind: Group, name: "{{ .spec.team }}"}]
          ingresses:
            - name: web
              namespace: "{{ .metadata.name }}"
              host: "{{ .spec.host }}"
              tls: {create: true}
          custom:
            - {apiVersion: t.io/v1, kind: Quota, metadata: {name: "{{ .metadata.name }}"}}
        onDelete:
          jobs: [{name: cleanup, namespace: default, image: busybox}]
    quota:
      apiTypes: {group: t.io, version: v1, kind: Quota, plural: quotaz}
    legacy:
      enabled: false
      apiTypes: {group: t.io, version: v1, kind: Legacy, plural: legacies}
      operatorBox: {onReconcile: {secrets: [{name: x}]}}
"""


def bundle_of(*files: Path, namespace: str = NS, **options: Any) -> Bundle:
    return build(load([(f, str(f)) for f in files]), namespace, **options)


def pattern_file(path: Path) -> Path:
    return path if path.is_file() else path / "katalog.yaml"


def one(bundle: Bundle, kind: str, name: str) -> Obj:
    found = bundle.find(kind, name)
    assert found is not None, f"no {kind} {name} in the bundle"
    return found


# -- least privilege: the ClusterRole is what `ork plan` says the templates make -------------


def plan_json(path: Path, capsys: pytest.CaptureFixture[str]) -> Obj:
    assert main(["plan", str(path), "-o", "json"]) == 0
    data: Obj = json.loads(capsys.readouterr().out)
    return data


def crd_plurals(directory: Path) -> dict[tuple[str, str], str]:
    """(group, kind) -> plural of the CRD manifests in a pattern directory."""
    found = {}
    for path in directory.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                names = doc["spec"]["names"]
                found[(doc["spec"]["group"], names["kind"])] = names["plural"]
    return found


def needed(plan: Obj, plurals: dict[tuple[str, str], str]) -> set[Grant]:
    """What the runtime needs, from `ork plan -o json` and what the runtime does with it:
    informers (list, watch), reads and writes (get, create, PUT = update, delete) for the
    kinds of onCreate/onReconcile; live reads and writes for kinds only onDelete or an
    implied object (an Ingress's TLS Secret) touch; escalate on Roles it writes, bind on
    the roles its bindings reference; CRs read and replaced, status through /status,
    finalizers (blockOwnerDeletion); core Events; its CRDs read by name."""
    out: set[Grant] = {("", "events", v, "") for v in ("create", "patch")}
    for crd in plan["crds"]:
        if not crd["enabled"]:
            continue
        group = crd["group"]
        plural = plurals.get((group, crd["kind"])) or plural_of(crd["kind"])
        out |= {(group, plural, v, "") for v in ("get", "list", "watch", "update")}
        out |= {
            (group, f"{plural}/status", "update", ""),
            (group, f"{plural}/finalizers", "update", ""),
            ("apiextensions.k8s.io", "customresourcedefinitions", "get", f"{plural}.{group}"),
        }
        informed = {
            (o["apiVersion"], o["kind"])
            for o in crd["objects"]
            if o["phase"] != "onDelete" and not implied(o)
        }
        for obj in crd["objects"]:
            out |= object_grants(obj, plurals, (obj["apiVersion"], obj["kind"]) in informed)
    return compact(out)


def implied(obj: Obj) -> bool:
    key = obj["declaration"].split("/")[1]
    return bool(key != "custom" and KINDS[key][1] != obj["kind"])


def object_grants(obj: Obj, plurals: dict[tuple[str, str], str], informed: bool) -> set[Grant]:
    group = obj["apiVersion"].rpartition("/")[0]
    resource = plurals.get((group, obj["kind"])) or plural_of(obj["kind"])
    out = {(group, resource, v, "") for v in (INFORMED if informed else LIVE)}
    if obj["kind"] in ("Role", "ClusterRole"):
        out.add((group, resource, "escalate", ""))
    if "roleRef" in obj:
        ref = obj["roleRef"]
        name = "" if "{{" in ref["name"] else ref["name"]
        out.add(("rbac.authorization.k8s.io", ref["kind"].lower() + "s", "bind", name))
    return out


def compact(found: set[Grant]) -> set[Grant]:
    """A grant limited to one name is part of the same grant on any name."""
    return {g for g in found if not g[3] or (*g[:3], "") not in found}


def check_least_privilege(
    path: Path, plurals: dict[tuple[str, str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    plan = plan_json(path, capsys)
    bundle = bundle_of(pattern_file(path))
    cluster_role = one(bundle, "ClusterRole", "orkestra-runtime")
    assert not any("*" in str(rule) for rule in cluster_role["rules"])
    have, want = grants(cluster_role["rules"]), needed(plan, plurals)
    assert sorted(have - want) == [], "granted but not needed"
    assert sorted(want - have) == [], "needed but not granted"
    role = one(bundle, "Role", "orkestra-runtime")
    assert grants(role["rules"]) == {
        ("coordination.k8s.io", "leases", v, "") for v in ("get", "create", "update")
    }
    assert role["metadata"]["namespace"] == NS


@pytest.mark.parametrize("directory", PACK_KATALOGS, ids=lambda p: p.name)
def test_the_cluster_role_is_what_ork_plan_lists(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_least_privilege(directory, crd_plurals(directory), capsys)


def test_least_privilege_with_rbac_children_implied_and_disabled(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    """Roles (escalate), bindings (bind, by name when literal), a custom kind of another CRD
    of the katalog (its declared plural), an onDelete-only kind (no list or watch), an
    Ingress's TLS Secret (read live), a disabled CRD (nothing)."""
    here = write(**{"katalog.yaml": TENANTS})
    plurals = {
        ("t.io", "Tenant"): "tenants",
        ("t.io", "Quota"): "quotaz",
        ("t.io", "Legacy"): "legacies",
    }
    check_least_privilege(here / "katalog.yaml", plurals, capsys)
    rules = grants(
        one(bundle_of(here / "katalog.yaml"), "ClusterRole", "orkestra-runtime")["rules"]
    )
    assert ("rbac.authorization.k8s.io", "clusterroles", "bind", "admin") in rules
    assert ("rbac.authorization.k8s.io", "clusterroles", "bind", "") not in rules
    assert ("t.io", "quotaz", "create", "") in rules
    assert {g for g in rules if g[1] in ("jobs", "secrets")} == {
        ("batch", "jobs", v, "") for v in LIVE
    } | {("", "secrets", v, "") for v in LIVE}
    assert not [g for g in rules if g[1].startswith("legacies")]


def test_a_templated_custom_kind_is_reported_not_granted(write: WriteFiles) -> None:
    here = write(
        **{
            "katalog.yaml": TENANTS.replace(
                "kind: Quota, metadata", 'kind: "{{ .spec.kind }}", metadata'
            )
        }
    )
    bundle = bundle_of(here / "katalog.yaml")
    assert bundle.warnings == [
        "tenant onReconcile/custom/0: t.io/v1 {{ .spec.kind }} is a template, so only a CR "
        "decides which kind it makes; the bundle does not grant it, add a rule for it "
        "yourself"
    ]
    assert "{{" not in yaml.safe_dump(one(bundle, "ClusterRole", "orkestra-runtime"))


# -- what the bundle holds ---------------------------------------------------------------------


def test_the_bundle_of_02() -> None:
    bundle = bundle_of(PACK / "02-katalog-api" / "katalog.yaml")
    assert [
        (o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) for o in bundle.objects
    ] == [
        ("Namespace", NS, None),
        ("ServiceAccount", "orkestra", NS),
        ("ClusterRole", "orkestra-runtime", None),
        ("ClusterRoleBinding", "orkestra-runtime", None),
        ("Role", "orkestra-runtime", NS),
        ("RoleBinding", "orkestra-runtime", NS),
        ("ConfigMap", CONFIGMAP, NS),
    ]
    for obj in bundle.objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "orkestra"
        assert labels["app.kubernetes.io/managed-by"] == "ork"
    binding = one(bundle, "ClusterRoleBinding", "orkestra-runtime")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "orkestra-runtime",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "orkestra", "namespace": NS}]
    assert one(bundle, "ClusterRole", "orkestra-runtime")["rules"][:3] == [
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": [""], "resources": ["services"], "verbs": list(INFORMED)},
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "resourceNames": ["webapps.rkguide.demo"],
            "verbs": ["get"],
        },
    ]
    assert bundle.find("ServiceAccount", "orkestra-gateway") is None
    assert set(one(bundle, "ConfigMap", CONFIGMAP)["data"]) == {KATALOG_KEY}


def test_the_katalog_configmap_is_the_merged_katalog_and_plan_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = PACK / "02-katalog-api" / "katalog.yaml"
    path = tmp_path / "bundle.yaml"
    path.write_text(bundle_of(source).text())
    katalog = yaml.safe_load(
        next(d for d in yaml.safe_load_all(path.read_text()) if d["kind"] == "ConfigMap")["data"][
            KATALOG_KEY
        ]
    )
    expected = compose_file(source).as_katalog()
    expected["spec"]["crds"]["webapp"].pop("crdFile")
    assert katalog == expected  # motifs expanded; no crdFile (the CRDs are applied apart)
    deployed = from_bundle(path)
    assert deployed.label.endswith(f"(ConfigMap {CONFIGMAP}, key {KATALOG_KEY})")
    assert [o.identity for o in deployed.inventory.objects()] == [
        o.identity for o in inventory(compose_file(source)).objects()
    ]
    assert main(["plan", str(source.parent), "--bundle", str(path), "--exit-code"]) == 0
    out = capsys.readouterr().out  # the deployed katalog has no crdFile to compare schemas
    assert "Objects:" not in out and "No risk findings." in out


def test_several_files_are_one_katalog() -> None:
    bundle = bundle_of(
        PACK / "02-katalog-api" / "katalog.yaml", PACK / "official" / "redis" / "katalog.yaml"
    )
    katalog = yaml.safe_load(one(bundle, "ConfigMap", CONFIGMAP)["data"][KATALOG_KEY])
    assert list(katalog["spec"]["crds"]) == ["webapp", "redis"]
    names = [
        r for r in one(bundle, "ClusterRole", "orkestra-runtime")["rules"] if r.get("resourceNames")
    ]
    assert names == [
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "resourceNames": ["redises.data.orkestra.dev", "webapps.rkguide.demo"],
            "verbs": ["get"],
        }
    ]
    assert bundle.text().startswith(
        "# ork generate bundle: webapp-operator v1.0.0, redis v1.0.0 in namespace orkestra-system\n"
    )


def test_a_crd_from_two_files_is_an_error(write: WriteFiles) -> None:
    here = write(**{"a.yaml": TENANTS, "b.yaml": TENANTS.replace("name: tenants,", "name: other,")})
    with pytest.raises(PatternError) as caught:
        bundle_of(here / "a.yaml", here / "b.yaml")
    text = caught.value.render()
    assert (
        'b.yaml:6:5: error: spec.crds.tenant: CRD "tenant" is also defined in '
        f"{here / 'a.yaml'}\n  hint: a CRD must come from one file only" in text
    )


def test_with_crds_puts_the_manifests_first() -> None:
    bundle = bundle_of(PACK / "02-katalog-api" / "katalog.yaml", with_crds=True)
    first = bundle.objects[0]
    assert (first["kind"], first["metadata"]["name"]) == (
        "CustomResourceDefinition",
        "webapps.rkguide.demo",
    )


def test_a_system_namespace_is_not_declared() -> None:
    bundle = bundle_of(PACK / "02-katalog-api" / "katalog.yaml", namespace="kube-system")
    assert bundle.find("Namespace", "kube-system") is None
    assert one(bundle, "ConfigMap", CONFIGMAP)["metadata"]["namespace"] == "kube-system"


# -- the gateway ---------------------------------------------------------------------------

KOMPOSER = f"""
apiVersion: orkestra.orkspace.io/v1
kind: Komposer
metadata: {{name: app-platform, version: v1.0.0, author: me}}
imports:
  files:
    - {PACK}/03-katalog-cache/katalog.yaml
    - {PACK}/04-katalog-platform/katalog.yaml
gateway:
  endpoint: http://orkestra-gateway.orkestra-system.svc:8080
security:
  webhooks: {{admission: {{enabled: true}}}}
  deletionProtection: {{enabled: true}}
"""


def test_the_gateway_gets_rbac_when_webhooks_or_protection_are_on(write: WriteFiles) -> None:
    here = write(**{"komposer.yaml": KOMPOSER})
    bundle = bundle_of(here / "komposer.yaml", namespace="platform")
    assert bundle.find("ServiceAccount", "orkestra-gateway") is not None
    cluster = grants(one(bundle, "ClusterRole", "orkestra-gateway")["rules"])
    webhooks = {
        ("admissionregistration.k8s.io", f"{kind}webhookconfigurations", v, "")
        for kind in ("validating", "mutating")  # 04 has mutation rules
        for v in ("get", "list", "watch", "create", "update", "patch", "delete")
    }
    reads = {
        ("rkguide.demo", plural, v, "")
        for plural in ("caches", "platformapps")
        for v in ("get", "list", "watch")
    }
    assert cluster == webhooks | reads
    role = one(bundle, "Role", "orkestra-gateway")
    assert role["metadata"]["namespace"] == "platform"
    assert grants(role["rules"]) == {
        ("", "secrets", v, "") for v in ("get", "create", "update", "delete")
    }
    binding = one(bundle, "ClusterRoleBinding", "orkestra-gateway")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "orkestra-gateway", "namespace": "platform"}
    ]
    runtime = one(bundle, "ClusterRole", "orkestra-runtime")
    assert not [r for r in runtime["rules"] if "admissionregistration.k8s.io" in r["apiGroups"]]


def test_a_per_crd_webhook_needs_the_gateway_too(write: WriteFiles) -> None:
    text = (
        (PACK / "02-katalog-api" / "katalog.yaml")
        .read_text()
        .replace("      crdFile: ./crd.yaml\n", "      webhooks: {validation: true}\n")
        .replace("../01-motifs", str(PACK / "01-motifs"))
    )
    here = write(**{"katalog.yaml": text})
    bundle = bundle_of(here / "katalog.yaml")
    assert grants(one(bundle, "ClusterRole", "orkestra-gateway")["rules"]) >= {
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "create", "")
    }
    assert bundle.find("ClusterRole", "orkestra-gateway") is not None


# -- determinism -----------------------------------------------------------------------------


def test_the_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    files = [
        PACK / "04-katalog-platform" / "katalog.yaml",
        PACK / "official" / "deployment-stack" / "katalog.yaml",
    ]
    first = bundle_of(*files).text()
    assert bundle_of(*files).text() == first
    args = [sys.executable, "-m", "orkestra", "generate", "bundle"]
    for f in files:
        args += ["-f", str(f)]
    outputs = {
        subprocess.run(
            args,
            capture_output=True,
            check=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert outputs == {first.encode()}  # set and dict orders of other processes too


def test_rbac_does_not_depend_on_declaration_order(write: WriteFiles) -> None:
    """The CRDs and the kinds within a phase in another order: the same RBAC objects
    (the katalog keeps the author's order, which sets the runtime's start order)."""
    data = yaml.safe_load(TENANTS)
    crds = data["spec"]["crds"]
    data["spec"]["crds"] = dict(reversed(crds.items()))
    box = crds["tenant"]["operatorBox"]
    box["onReconcile"] = dict(reversed(box["onReconcile"].items()))
    here = write(**{"a.yaml": TENANTS, "b.yaml": yaml.safe_dump(data, sort_keys=False)})
    a, b = bundle_of(here / "a.yaml"), bundle_of(here / "b.yaml")
    rbac = [o for o in a.objects if o["kind"] != "ConfigMap"]
    assert yaml.safe_dump_all(rbac) == yaml.safe_dump_all(
        [o for o in b.objects if o["kind"] != "ConfigMap"]
    )


# -- registry imports: resolved, and pinned by digest ------------------------------------------

PINNED = """
apiVersion: orkestra.orkspace.io/v1
kind: Komposer
metadata: {name: pinned-platform, version: v1.0.0, author: me}
imports:
  registry:
    - webapp-operator:v1.0.0
    - redis:v1.0.0
"""


@pytest.fixture
def published_02(pack_copy: Path) -> Path:
    """web-service, 02-katalog-api (by its motif's registry reference) and redis published
    to the embedded registry."""
    push_motifs(pack_copy)
    use_published_motifs(pack_copy / "02-katalog-api" / "katalog.yaml")
    push(pack_copy / "02-katalog-api")
    push(pack_copy / "official" / "redis", no_e2e=True)
    return pack_copy


def test_registry_imports_are_expanded_and_pinned_by_digest(
    published_02: Path, write: WriteFiles
) -> None:
    here = write(**{"komposer.yaml": PINNED})
    assert main(["pull", "-f", "komposer.yaml"]) == 0
    lock = LockFile.load(here / "komposer.lock")
    bundle = bundle_of(here / "komposer.yaml")
    data = one(bundle, "ConfigMap", CONFIGMAP)["data"]
    katalog = yaml.safe_load(data[KATALOG_KEY])
    assert list(katalog["spec"]["crds"]) == ["webapp", "redis"]
    assert "imports" not in katalog["spec"]["crds"]["webapp"]  # the motif is expanded
    assert (
        "deployments"
        in katalog["spec"]["crds"]["webapp"]["operatorBox"]["reconcile"]["onReconcile"]
    )
    pinned = yaml.safe_load(data[LOCK_KEY])
    assert pinned["kind"] == "KomposerLock"
    got = {(e["import"], e["kind"]): e["digest"] for e in pinned["imports"]}
    assert got == {key: entry.digest for key, entry in lock.entries.items()}
    assert ("oci://local/motifs/web-service:v1.0.0", "Motif") in got  # the katalog's motif
    client = RegistryClient()
    ref = client.resolve("webapp-operator:v1.0.0")
    assert got[("webapp-operator:v1.0.0", "Katalog")] == client.info(ref).digest
    assert bundle_of(here / "komposer.yaml").text() == bundle.text()


def test_without_a_lock_the_resolved_digests_are_recorded(
    published_02: Path, write: WriteFiles
) -> None:
    here = write(**{"komposer.yaml": PINNED})
    data = one(bundle_of(here / "komposer.yaml"), "ConfigMap", CONFIGMAP)["data"]
    entries = yaml.safe_load(data[LOCK_KEY])["imports"]
    assert {e["import"] for e in entries if e["kind"] == "Katalog"} == {
        "webapp-operator:v1.0.0",
        "redis:v1.0.0",
    }
    assert all(e["digest"].startswith("sha256:") for e in entries)
    assert not (here / "komposer.lock").exists()  # a bundle never writes the lock


# -- manifests the API accepts -------------------------------------------------------------


def test_every_object_is_valid_kubernetes(write: WriteFiles) -> None:
    validate = pytest.importorskip("kubernetes_validate")
    here = write(**{"komposer.yaml": KOMPOSER})
    for bundle in (
        bundle_of(here / "komposer.yaml"),
        bundle_of(PACK / "02-katalog-api" / "katalog.yaml", with_crds=True),
    ):
        for obj in yaml.safe_load_all(bundle.text()):
            validate.validate(obj, validate.latest_version(), strict=True)


@pytest.mark.integration
def test_kubectl_applies_it_and_plan_reads_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.apiserver.conftest import Kubectl

    path = tmp_path / "bundle.yaml"
    path.write_text(bundle_of(PACK / "02-katalog-api" / "katalog.yaml").text())
    with EmbeddedServer(port=0) as server:
        kubectl = Kubectl(server.kubeconfig, tmp_path / "cache")
        assert "created (dry run)" in kubectl("apply", "--dry-run=client", "-f", str(path))
        kubectl("apply", "-f", str(path))
        again = kubectl("apply", "-f", str(path)).splitlines()
        assert len(again) == 7 and all(line.endswith(" unchanged") for line in again)
        kubectl("apply", "--dry-run=server", "-f", str(path))
        monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig))
        assert main(["plan", str(PACK / "02-katalog-api"), "--cm", CONFIGMAP, "--exit-code"]) == 0
        out = capsys.readouterr().out
        assert f"configmap {NS}/{CONFIGMAP}" in out and "Objects:" not in out


# -- the runtime with only the bundle's RBAC -----------------------------------------------


class Recorder(Faults):
    """Injects nothing; notes every non-watch request the server answers (its audit log
    holds writes only)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []

    def pick(self, method: str, path: str) -> None:
        self.seen.append((method, path))


AUDITED = [
    PACK / "02-katalog-api",
    PACK / "04-katalog-platform",
    PACK / "official" / "deployment-stack",
    PACK / "official" / "mongodb",
]


def open_watches(server: EmbeddedServer) -> set[Request]:
    """The watches open on the server now (its watch hub's registry: the one place that
    knows them, since watch requests skip the fault hook)."""
    hub = server._hub  # a read-only look at the embedded server's private state
    assert hub is not None
    return {
        Request("watch", w.rt.group, w.rt.plural, w.namespace or "")
        for watchers in hub._watchers.values()
        for w in watchers
    }


FAREWELL = """          onDelete:
            serviceAccounts:
              - name: "{{ .metadata.name }}-farewell"
"""


def with_finalizer(directory: Path, target: Path) -> Path:
    """A copy of a pattern whose CRs get a finalizer and an onDelete-only kind."""
    shutil.copytree(directory, target)
    katalog = target / "katalog.yaml"
    text = (
        katalog.read_text()
        .replace(
            "      operatorBox:\n",
            "      operatorBox:\n        runtime:\n"
            "          finalizers: [apps.orkestra.dev/farewell]\n",
            1,
        )
        .replace("          onReconcile:\n", FAREWELL + "          onReconcile:\n", 1)
    )
    katalog.write_text(text)
    return target


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, Recorder, Bundle, Path]]:
    stack = with_finalizer(AUDITED[2], tmp_path / "deployment-stack")
    bundle = bundle_of(*(d / "katalog.yaml" for d in (*AUDITED[:2], stack, AUDITED[3])))
    katalog = tmp_path / "deployed" / "katalog.yaml"  # what the chart mounts
    katalog.parent.mkdir()
    katalog.write_text(one(bundle, "ConfigMap", CONFIGMAP)["data"][KATALOG_KEY])
    recorder = Recorder()
    with EmbeddedServer(port=0, audit=True, faults=recorder) as server:
        server.cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, record=False
        )
        for directory in AUDITED:
            for doc in yaml.safe_load_all((directory / "crd.yaml").read_text()):
                server.cluster.create(doc, record=False)
        yield server, recorder, bundle, katalog


def settled(runtime: Runtime) -> bool:
    """Nothing queued or running, and no write for a moment (the Lease renewals aside)."""
    before = runtime.writes()
    time.sleep(0.5)
    idle = all(
        len(c.queue) == 0 and c.queue.processing == 0 for c in runtime.operator.controllers.values()
    )
    return idle and runtime.writes() == before


def apply_crs(server: EmbeddedServer, *paths: Path) -> list[Obj]:
    return [
        server.cluster.create(doc)
        for path in paths
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


@pytest.mark.integration
def test_the_runtime_needs_nothing_the_bundle_does_not_grant(
    running: tuple[EmbeddedServer, Recorder, Bundle, Path],
) -> None:
    """02, 04 and two official patterns run from the bundle's ConfigMap with leader
    election in the bundle's namespace: creates, updates, status, a denial's Event, a
    prune (the ingress whose host went away) and CR deletion (finalizers). Every request
    the runtime made must be allowed by the RBAC the bundle binds to its ServiceAccount.
    The embedded server enforces no RBAC itself (it authenticates one token, which may do
    anything), so the check is made here, request by request, the way the RBAC authorizer
    matches rules."""
    server, recorder, bundle, katalog = running
    with Runtime(
        server,
        katalog,
        leader_elect=True,
        lease_namespace=NS,
        identity="bundle-test",
        retry_period=0.2,
    ) as runtime:
        apply_crs(
            server,
            PACK / "02-katalog-api" / "cr-with-ingress.yaml",
            PACK / "04-katalog-platform" / "cr.yaml",
            PACK / "04-katalog-platform" / "cr-denied.yaml",
            *(d / "cr.yaml" for d in AUDITED[2:]),
        )
        wait_for(lambda: settled(runtime), "the runtime to settle", 60)
        watches = open_watches(server)
        webapp = server.cluster.find("rkguide.demo/v1", "WebApp", "my-webapp", "default")
        assert webapp is not None
        server.cluster.update(
            {**webapp, "spec": {k: v for k, v in webapp["spec"].items() if k != "host"}}
        )
        wait_for(
            lambda: (
                server.cluster.find(
                    "networking.k8s.io/v1", "Ingress", "my-webapp-ingress", "default"
                )
                is None
            ),
            "the ingress to be pruned",
        )
        for cr in server.cluster.list("apps.orkestra.dev/v1", "Application", None):
            server.cluster.delete(
                "apps.orkestra.dev/v1", "Application", cr["metadata"]["name"], "default"
            )
        wait_for(
            lambda: not server.cluster.list("apps.orkestra.dev/v1", "Application", None),
            "the CR to be finalized",
        )
        wait_for(lambda: settled(runtime), "the runtime to settle again", 60)
    assert server.audit is not None
    assert {r.user_agent for r in server.audit} <= {runtime.operator.client.user_agent}
    requests = {r for method, path in recorder.seen if (r := request_of(method, path))}
    requests |= {r for a in server.audit if (r := request_of(a.method, a.path))}
    lists = {r for r in requests if r.verb == "list"}
    requests |= watches | {Request("watch", r.group, r.resource, r.namespace) for r in lists}
    account = Account.of(bundle.objects, NS, "orkestra")
    denied = sorted(str(r) for r in requests if not account.allows(r))
    assert denied == []
    done = {(r.verb, r.group, r.resource) for r in requests}
    assert done >= {
        ("create", "", "events"),
        ("create", "coordination.k8s.io", "leases"),
        ("update", "coordination.k8s.io", "leases"),
        ("update", "rkguide.demo", "webapps/status"),
        ("update", "apps.orkestra.dev", "applications"),  # finalizers
        ("get", "", "serviceaccounts"),
        ("create", "", "serviceaccounts"),
        ("delete", "networking.k8s.io", "ingresses"),
        ("get", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("create", "batch", "jobs"),
        ("watch", "apps", "deployments"),
    }


def test_the_rbac_check_matches_like_kubernetes() -> None:
    objects = bundle_of(PACK / "02-katalog-api" / "katalog.yaml").objects
    account = Account.of(objects, NS, "orkestra")
    crd = request_of(
        "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/webapps.rkguide.demo"
    )
    other = request_of("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.io")
    lease = request_of("PUT", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/l")
    elsewhere = request_of("PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/l")
    status = request_of("PUT", "/apis/rkguide.demo/v1/namespaces/a/webapps/w/status")
    patch = request_of("PATCH", "/apis/apps/v1/namespaces/a/deployments/d")
    assert request_of("GET", "/apis/apps/v1") is None
    assert all(r is not None for r in (crd, other, lease, elsewhere, status, patch))
    assert [
        account.allows(r) for r in (crd, other, lease, elsewhere, status, patch) if r is not None
    ] == [True, False, True, False, True, False]
    assert lease is not None and not Account.of(objects, NS, "someone-else").allows(lease)
