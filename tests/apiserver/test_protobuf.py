"""Kubernetes protobuf request bodies (:mod:`orkestra.apiserver.protobuf`).

Golden bodies are real: ``tests/apiserver/data/*.pb`` were sent by Helm 4.1.4 and kubectl
1.32 to the embedded server (data/README.md says how), and the ``.json`` beside kubectl's
are what kubectl prints for the same command with ``--dry-run=client -o json``: the decoded
protobuf must be that very dict. Synthetic bodies (built with the small encoder below) cover
the fields those clients leave empty. Malformed bodies must raise the module's errors and
nothing else. The integration tests run real helm and kubectl against the server.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orkestra.apiserver import EmbeddedServer
from orkestra.apiserver.protobuf import (
    MAGIC,
    MEDIA_TYPE,
    ProtobufError,
    UnsupportedKindError,
    decode_body,
    fields,
    unwrap,
)

Obj = dict[str, Any]
DATA = Path(__file__).resolve().parent / "data"
BIN = Path(sys.executable).parent
HELM = str(BIN / "helm") if (BIN / "helm").exists() else shutil.which("helm")
KUBECTL = shutil.which("kubectl")
GOLDEN = sorted(p.name for p in DATA.glob("*.pb"))


def golden(name: str) -> bytes:
    return (DATA / name).read_bytes()


def decode(body: bytes) -> Obj:
    return decode_body(MEDIA_TYPE, body)


# -- a test-side encoder --------------------------------------------------------------------


def varint(number: int) -> bytes:
    number &= (1 << 64) - 1  # negative ints as two's complement, as Go writes them
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def ld(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field."""
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def vi(number: int, value: int) -> bytes:
    """A varint field."""
    return varint(number << 3) + varint(value)


def entry(number: int, key: str, value: bytes | str) -> bytes:
    """One map entry."""
    return ld(number, ld(1, key) + ld(2, value))


def stamp(seconds: int, nanos: int = 0) -> bytes:
    return vi(1, seconds) + vi(2, nanos)


def envelope(
    api_version: str, kind: str, raw: bytes, *, encoding: str = "", content_type: str = ""
) -> bytes:
    return (
        MAGIC
        + ld(1, ld(1, api_version) + ld(2, kind))
        + ld(2, raw)
        + ld(3, encoding)
        + ld(4, content_type)
    )


# -- golden bodies from real clients --------------------------------------------------------


@pytest.mark.parametrize("command", ["namespace", "configmap", "secret", "serviceaccount"])
def test_kubectl_bodies_decode_to_the_json_kubectl_would_send(command: str) -> None:
    expected = json.loads((DATA / f"kubectl-create-{command}.json").read_text())
    assert decode(golden(f"kubectl-create-{command}.pb")) == expected


def test_kubectl_configmap_binary_data_is_base64() -> None:
    decoded = decode(golden("kubectl-create-configmap.pb"))
    assert decoded["data"] == {"a": "b"}
    assert base64.b64decode(decoded["binaryData"]["blob"]) == bytes(range(256))


def test_kubectl_secret_data_is_base64() -> None:
    data = decode(golden("kubectl-create-secret.pb"))["data"]
    assert {k: base64.b64decode(v) for k, v in data.items()} == {
        "user": b"admin",
        "pass": b"s3cr=t",
    }


def helm_release(secret: Obj) -> Obj:
    """Helm's release record: base64 of gzipped JSON, in the Secret's bytes."""
    record: Obj = json.loads(
        gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"])))
    )
    return record


def test_helm_release_record_as_created() -> None:
    secret = decode(golden("helm-release-create.pb"))
    assert list(secret) == ["apiVersion", "kind", "metadata", "data", "type"]
    assert secret["apiVersion"] == "v1"
    assert secret["kind"] == "Secret"
    assert secret["type"] == "helm.sh/release.v1"
    meta = secret["metadata"]
    assert list(meta) == ["name", "creationTimestamp", "labels"]  # no empty strings
    assert meta["name"] == "sh.helm.release.v1.tiny.v1"
    assert meta["creationTimestamp"] is None
    assert meta["labels"] == {
        "createdAt": "1796220430",
        "name": "tiny",
        "owner": "helm",
        "status": "pending-install",
        "version": "1",
    }
    assert list(secret["data"]) == ["release"]
    record = helm_release(secret)
    assert (record["name"], record["namespace"], record["version"]) == ("tiny", "demo", 1)
    assert record["info"]["status"] == "pending-install"
    assert record["chart"]["metadata"] == {"name": "tiny", "version": "0.1.0", "apiVersion": "v2"}


def test_helm_release_record_as_updated() -> None:
    secret = decode(golden("helm-release-update.pb"))
    assert secret["metadata"]["name"] == "sh.helm.release.v1.tiny.v1"
    assert secret["metadata"]["labels"] == {
        "modifiedAt": "1796220430",
        "name": "tiny",
        "owner": "helm",
        "status": "deployed",
        "version": "1",
    }
    assert helm_release(secret)["info"]["status"] == "deployed"


def test_helm_delete_options_are_empty() -> None:
    assert decode(golden("helm-delete-options.pb")) == {"apiVersion": "v1", "kind": "DeleteOptions"}


def test_the_envelope_of_a_real_body() -> None:
    unknown = unwrap(golden("kubectl-create-namespace.pb"))
    assert (unknown.api_version, unknown.kind) == ("v1", "Namespace")
    assert (unknown.content_encoding, unknown.content_type) == ("", "")
    assert [number for number, _, _ in fields(unknown.raw)] == [1, 2, 3]


def test_other_kinds_are_unsupported_with_the_supported_ones_listed() -> None:
    with pytest.raises(UnsupportedKindError) as caught:
        decode(golden("kubectl-create-deployment.pb"))
    message = str(caught.value)
    assert "Deployment (apps/v1) in protobuf is not supported" in message
    for kind in (
        "Secret (v1)",
        "ConfigMap (v1)",
        "Namespace (v1)",
        "ServiceAccount (v1)",
        "Event (v1)",
        "DeleteOptions",
    ):
        assert kind in message


# -- synthetic bodies: the fields real clients left empty -----------------------------------

OWNER = (
    ld(5, "apps/v1") + ld(1, "ReplicaSet") + ld(3, "web-1") + ld(4, "uid-1") + vi(6, 1) + vi(7, 0)
)
MANAGED = (
    ld(1, "kubectl")
    + ld(2, "Update")
    + ld(3, "v1")
    + ld(4, stamp(1714979289))
    + ld(6, "FieldsV1")
    + ld(7, ld(1, b'{"f:data":{"f:a":{}}}'))
    + ld(8, "")
)
FULL_META = (
    ld(1, "web")
    + ld(2, "")
    + ld(3, "prod")
    + ld(4, "")
    + ld(5, "uid-9")
    + ld(6, "42")
    + vi(7, 3)
    + ld(8, stamp(1714979289, 123456789))
    + ld(9, stamp(1714979300))
    + vi(10, 0)
    + entry(11, "app", "web")
    + entry(12, "note", "")
    + ld(13, OWNER)
    + ld(14, "example.com/hold")
    + ld(14, "")
    + ld(17, MANAGED)
)
FULL_META_DICT = {
    "name": "web",
    "namespace": "prod",
    "uid": "uid-9",
    "resourceVersion": "42",
    "generation": 3,
    "creationTimestamp": "2024-05-06T07:08:09Z",
    "deletionTimestamp": "2024-05-06T07:08:20Z",
    "deletionGracePeriodSeconds": 0,
    "labels": {"app": "web"},
    "annotations": {"note": ""},
    "ownerReferences": [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web-1",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": False,
        }
    ],
    "finalizers": ["example.com/hold", ""],
    "managedFields": [
        {
            "manager": "kubectl",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2024-05-06T07:08:09Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}}},
        }
    ],
}


def test_object_meta_in_full() -> None:
    body = envelope("v1", "ConfigMap", ld(1, FULL_META) + vi(4, 0) + entry(2, "a", "1"))
    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": FULL_META_DICT,
        "immutable": False,
        "data": {"a": "1"},
    }


def test_secret_pointer_fields_keep_their_zero_values() -> None:
    raw = ld(1, ld(1, "s")) + entry(2, "k", b"\x00\xff") + ld(3, "") + entry(4, "p", "q") + vi(5, 0)
    assert decode(envelope("v1", "Secret", raw)) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"k": "AP8="},
        "stringData": {"p": "q"},
        "immutable": False,
    }


@pytest.mark.parametrize("api_version", ["v1", "meta.k8s.io/v1", "apps/v1"])
def test_delete_options_in_full(api_version: str) -> None:
    raw = (
        vi(1, 0)
        + ld(2, ld(1, "uid-9") + ld(2, "42"))
        + vi(3, 0)
        + ld(4, "Foreground")
        + ld(5, "All")
    )
    assert decode(envelope(api_version, "DeleteOptions", raw)) == {
        "apiVersion": api_version,
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-9", "resourceVersion": "42"},
        "orphanDependents": False,
        "propagationPolicy": "Foreground",
        "dryRun": ["All"],
    }


def test_event_with_micro_times() -> None:
    reference = (
        ld(1, "Pod") + ld(2, "prod") + ld(3, "web-0") + ld(5, "v1") + ld(7, "spec.containers{web}")
    )
    raw = (
        ld(1, ld(1, "web-0.17") + ld(3, "prod"))
        + ld(2, reference)
        + ld(3, "Pulled")
        + ld(4, "pulled")
        + ld(5, ld(1, "kubelet") + ld(2, ""))
        + ld(6, stamp(1714979289))
        + ld(7, b"")
        + vi(8, 2)
        + ld(9, "Normal")
        + ld(10, stamp(1714979289, 123456789))
        + ld(11, vi(1, 2) + ld(2, stamp(1714979290, 5000)))
        + ld(12, "")
        + ld(13, ld(3, "node-1"))
        + ld(14, "")
        + ld(15, "kubelet-1")
    )
    assert decode(envelope("v1", "Event", raw)) == {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web-0.17", "namespace": "prod"},
        "involvedObject": {
            "kind": "Pod",
            "namespace": "prod",
            "name": "web-0",
            "apiVersion": "v1",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "Pulled",
        "message": "pulled",
        "source": {"component": "kubelet"},
        "firstTimestamp": "2024-05-06T07:08:09Z",
        "lastTimestamp": None,
        "count": 2,
        "type": "Normal",
        "eventTime": "2024-05-06T07:08:09.123456Z",
        "series": {"count": 2, "lastObservedTime": "2024-05-06T07:08:10.000005Z"},
        "related": {"name": "node-1"},
        "reportingComponent": "",
        "reportingInstance": "kubelet-1",
    }


def test_namespace_and_service_account() -> None:
    condition = (
        ld(1, "NamespaceDeletionContentFailure")
        + ld(2, "False")
        + ld(4, stamp(1714979289))
        + ld(5, "")
        + ld(6, "")
    )
    namespace = (
        ld(1, ld(1, "team"))
        + ld(2, ld(1, "kubernetes"))
        + ld(3, ld(1, "Active") + ld(2, condition))
    )
    assert decode(envelope("v1", "Namespace", namespace)) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {
            "phase": "Active",
            "conditions": [
                {
                    "type": "NamespaceDeletionContentFailure",
                    "status": "False",
                    "lastTransitionTime": "2024-05-06T07:08:09Z",
                }
            ],
        },
    }
    account = ld(1, ld(1, "bot")) + ld(2, ld(3, "bot-token")) + ld(3, ld(1, "pull")) + vi(4, 0)
    assert decode(envelope("v1", "ServiceAccount", account)) == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "bot"},
        "secrets": [{"name": "bot-token"}],
        "imagePullSecrets": [{"name": "pull"}],
        "automountServiceAccountToken": False,
    }


def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    unknown = (
        vi(90, 7)
        + varint(91 << 3 | 1)
        + bytes(8)
        + ld(92, b"\x01\x02")
        + varint(93 << 3 | 5)
        + bytes(4)
    )
    meta = ld(1, "s") + unknown + entry(11, "a", "b")
    raw = unknown + ld(1, meta) + unknown + entry(2, "k", b"v") + unknown
    body = MAGIC + unknown + ld(1, ld(1, "v1") + ld(2, "Secret") + unknown) + ld(2, raw)
    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "labels": {"a": "b"}},
        "data": {"k": "dg=="},
    }


@pytest.mark.parametrize("time", [b"", stamp(-62135596800)], ids=["empty", "go-zero"])
def test_the_zero_time_is_null(time: bytes) -> None:
    body = envelope("v1", "ConfigMap", ld(1, ld(1, "c") + ld(8, time)))
    assert decode(body)["metadata"] == {"name": "c", "creationTimestamp": None}


def test_negative_numbers_and_the_last_occurrence_wins() -> None:
    raw = ld(1, vi(7, -1) + ld(1, "first") + ld(1, "second") + ld(2, "x") + ld(2, ""))
    assert decode(envelope("v1", "Secret", raw))["metadata"] == {"generation": -1, "name": "second"}
    event = envelope("v1", "Event", vi(8, -2))
    assert decode(event)["count"] == -2


def test_a_content_type_parameter_is_ignored() -> None:
    body = golden("kubectl-create-serviceaccount.pb")
    assert decode_body(f"{MEDIA_TYPE}; charset=binary", body) == decode(body)


# -- errors ---------------------------------------------------------------------------------

META = ld(1, ld(1, "x"))
MALFORMED = {
    "empty": b"",
    "json": b'{"kind": "Secret"}',
    "no magic": b"k8s" + ld(1, b""),
    "truncated varint": MAGIC + b"\x0a",
    "length past the end": MAGIC + b"\x0a\x05ab",
    "eleven-byte varint": MAGIC + b"\x08" + b"\xff" * 10 + b"\x01",
    "group wire type": MAGIC + b"\x0b",
    "field number 0": MAGIC + b"\x02\x00",
    "not UTF-8": envelope("v1", "Secret", ld(1, ld(1, b"\xff\xfe"))),
    "string as varint": envelope("v1", "Secret", ld(1, vi(1, 5))),
    "map as varint": envelope("v1", "Secret", vi(2, 5)),
    "FieldsV1 not JSON": envelope("v1", "Secret", ld(1, ld(17, ld(7, ld(1, b"{nope"))))),
    "nanos out of range": envelope("v1", "Secret", ld(1, ld(8, stamp(1, 10**9)))),
    "time out of range": envelope("v1", "Secret", ld(1, ld(8, stamp(10**15)))),
    "truncated object": envelope("v1", "Secret", META)[:-3],
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=list(MALFORMED))
def test_malformed_bodies_raise_the_module_error(body: bytes) -> None:
    with pytest.raises(ProtobufError):
        decode(body)


UNSUPPORTED = {
    "events.k8s.io Event": ("events.k8s.io/v1", "Event", "", ""),
    "no kind": ("", "", "", ""),
    "gzip": ("v1", "Secret", "gzip", ""),
    "raw JSON": ("v1", "Secret", "", "application/json"),
}


@pytest.mark.parametrize("envelope_of", UNSUPPORTED.values(), ids=list(UNSUPPORTED))
def test_unsupported_envelopes(envelope_of: tuple[str, str, str, str]) -> None:
    api_version, kind, encoding, content_type = envelope_of
    with pytest.raises(UnsupportedKindError):
        decode(envelope(api_version, kind, META, encoding=encoding, content_type=content_type))


def test_another_media_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedKindError):
        decode_body("application/json", golden("kubectl-create-secret.pb"))


def decodes_or_fails_cleanly(body: bytes) -> None:
    try:
        result = decode(body)
    except (ProtobufError, UnsupportedKindError):
        return
    assert isinstance(result, dict)


@pytest.mark.parametrize("name", GOLDEN)
def test_every_truncation_of_a_real_body_fails_cleanly(name: str) -> None:
    body = golden(name)
    for end in range(len(body)):
        decodes_or_fails_cleanly(body[:end])
    with pytest.raises(ProtobufError):
        decode(body[:-1])


@pytest.mark.parametrize("name", GOLDEN)
def test_every_byte_flip_of_a_real_body_fails_cleanly(name: str) -> None:
    body = golden(name)
    for at in range(len(body)):
        for flip in (0x01, 0x80, 0xFF):
            decodes_or_fails_cleanly(body[:at] + bytes([body[at] ^ flip]) + body[at + 1 :])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_after_the_magic_fails_cleanly(garbage: bytes) -> None:
    decodes_or_fails_cleanly(MAGIC + garbage)
    decodes_or_fails_cleanly(envelope("v1", "Secret", garbage))
    decodes_or_fails_cleanly(envelope("v1", "Event", garbage))


# -- over HTTP, and real helm ---------------------------------------------------------------


@pytest.fixture(scope="module")
def http(server: EmbeddedServer) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cafile=str(server.credentials.ca_file))
    with httpx.Client(
        base_url=server.url,
        verify=context,
        timeout=httpx.Timeout(10.0),
        headers={
            "Authorization": f"Bearer {server.token}",
            "Accept": f"{MEDIA_TYPE},application/json",
        },
    ) as client:
        yield client


def send(http: httpx.Client, method: str, path: str, body: bytes) -> httpx.Response:
    return http.request(method, path, content=body, headers={"Content-Type": MEDIA_TYPE})


@pytest.mark.integration
def test_kubectl_bodies_over_http_store_what_json_would(http: httpx.Client) -> None:
    sent = {
        "namespace": "/api/v1/namespaces",
        "configmap": "/api/v1/namespaces/pb-ns/configmaps",
        "secret": "/api/v1/namespaces/pb-ns/secrets",
        "serviceaccount": "/api/v1/namespaces/pb-ns/serviceaccounts",
    }
    for command, path in sent.items():
        response = send(http, "POST", path, golden(f"kubectl-create-{command}.pb"))
        assert response.status_code == 201, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        stored = response.json()
        expected = json.loads((DATA / f"kubectl-create-{command}.json").read_text())
        for key in ("data", "binaryData"):
            assert stored.get(key) == expected.get(key)
        assert stored["metadata"]["name"] == expected["metadata"]["name"]
    deleted = send(
        http,
        "DELETE",
        "/api/v1/namespaces/pb-ns/secrets/pb-secret",
        golden("helm-delete-options.pb"),
    )
    assert deleted.status_code == 200, deleted.text
    assert http.get("/api/v1/namespaces/pb-ns/secrets/pb-secret").status_code == 404


@pytest.mark.integration
def test_helm_release_record_over_http(http: httpx.Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/secrets"
    created = send(http, "POST", path, golden("helm-release-create.pb"))
    assert created.status_code == 201, created.text
    name = "sh.helm.release.v1.tiny.v1"
    updated = send(http, "PUT", f"{path}/{name}", golden("helm-release-update.pb"))
    assert updated.status_code == 200, updated.text
    stored = http.get(f"{path}/{name}").json()
    assert stored["metadata"]["labels"]["status"] == "deployed"
    assert stored["type"] == "helm.sh/release.v1"
    assert helm_release(stored)["info"]["status"] == "deployed"


@pytest.mark.integration
def test_unsupported_and_malformed_bodies_over_http(http: httpx.Client, ns: str) -> None:
    refused = send(
        http,
        "POST",
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        golden("kubectl-create-deployment.pb"),
    )
    assert refused.status_code == 415
    assert "Secret (v1)" in refused.json()["message"]
    broken = send(
        http, "POST", f"/api/v1/namespaces/{ns}/secrets", golden("helm-release-create.pb")[:-5]
    )
    assert broken.status_code == 400
    assert "not valid protobuf" in broken.json()["message"]
    mismatched = send(
        http, "POST", f"/api/v1/namespaces/{ns}/configmaps", golden("helm-release-create.pb")
    )
    assert mismatched.status_code == 400


# -- real helm ------------------------------------------------------------------------------

needs_helm = pytest.mark.skipif(HELM is None, reason="helm is not installed (tools/ensure-helm.sh)")
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 0.1.0\n",
    "values.yaml": "greeting: hello\nreplicas: 0\n",
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
    ),
    "templates/deployment.yaml": (
        "{{- if .Values.replicas }}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        "  name: {{ .Release.Name }}-web\nspec:\n  replicas: {{ .Values.replicas }}\n"
        "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n"
        "      labels: {app: web}\n    spec:\n      containers:\n"
        "        - {name: web, image: 'nginx:1.27'}\n{{- end }}\n"
    ),
}


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chart") / "tiny"
    for name, text in CHART.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture(scope="module")
def helm(
    server: EmbeddedServer, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., subprocess.CompletedProcess[str]]:
    home = tmp_path_factory.mktemp("helm-home")
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG" and not k.startswith("HELM_")}
    env.update(
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        assert HELM is not None
        done = subprocess.run(
            [HELM, "--kubeconfig", str(server.kubeconfig), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"helm {' '.join(args)}: {done.stderr}"
        return done

    return run


def release_secrets(server: EmbeddedServer, namespace: str) -> dict[str, Obj]:
    return {
        s["metadata"]["name"]: s
        for s in server.cluster.list("v1", "Secret", namespace, record=False)
        if (s["metadata"].get("labels") or {}).get("owner") == "helm"
    }


@pytest.mark.integration
@needs_helm
def test_helm_install_upgrade_uninstall(
    server: EmbeddedServer, helm: Any, chart: Path, ns: str
) -> None:
    helm("install", "tiny", str(chart), "-n", ns)
    records = release_secrets(server, ns)
    assert list(records) == ["sh.helm.release.v1.tiny.v1"]
    first = records["sh.helm.release.v1.tiny.v1"]
    assert first["type"] == "helm.sh/release.v1"
    assert first["metadata"]["labels"]["status"] == "deployed"
    assert helm_release(first)["info"]["status"] == "deployed"

    helm("upgrade", "tiny", str(chart), "-n", ns, "--set", "greeting=hi")
    records = release_secrets(server, ns)
    assert {name: s["metadata"]["labels"]["status"] for name, s in records.items()} == {
        "sh.helm.release.v1.tiny.v1": "superseded",
        "sh.helm.release.v1.tiny.v2": "deployed",
    }
    configmap = server.cluster.find("v1", "ConfigMap", "tiny-cm", ns)
    assert configmap is not None and configmap["data"] == {"greeting": "hi"}
    assert json.loads(helm("list", "-n", ns, "-o", "json").stdout)[0]["status"] == "deployed"

    helm("uninstall", "tiny", "-n", ns)
    assert release_secrets(server, ns) == {}
    assert server.cluster.find("v1", "ConfigMap", "tiny-cm", ns) is None


def sends_initial_events_end(http: httpx.Client, namespace: str) -> bool:
    """Whether a watch with ``sendInitialEvents=true`` ends its initial events with the
    bookmark client-go waits for."""
    query = (
        "watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1"
    )
    with http.stream("GET", f"/api/v1/namespaces/{namespace}/configmaps?{query}") as stream:
        for line in stream.iter_lines():
            event = json.loads(line)
            annotations = event["object"]["metadata"].get("annotations") or {}
            if (
                event["type"] == "BOOKMARK"
                and annotations.get("k8s.io/initial-events-end") == "true"
            ):
                return True
    return False


@pytest.mark.integration
@needs_helm
def test_helm_wait(
    server: EmbeddedServer, helm: Any, chart: Path, http: httpx.Client, ns: str
) -> None:
    """Helm 4's ``--wait`` watches with ``sendInitialEvents=true`` and waits for the
    initial-events-end bookmark, without which every resource stays 'status: Unknown'."""
    assert sends_initial_events_end(http, ns)
    helm(
        "install", "tiny", str(chart), "-n", ns, "--set", "replicas=1", "--wait", "--timeout", "60s"
    )
    helm("uninstall", "tiny", "-n", ns, "--wait", "--timeout", "60s")
    assert release_secrets(server, ns) == {}


@pytest.mark.integration
@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_create_secret_and_read_it_back(
    server: EmbeddedServer, ns: str, tmp_path: Path
) -> None:
    def kubectl(*args: str) -> str:
        assert KUBECTL is not None
        return subprocess.run(
            [
                KUBECTL,
                "--kubeconfig",
                str(server.kubeconfig),
                "--cache-dir",
                str(tmp_path / "cache"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout

    kubectl("create", "secret", "generic", "creds", "-n", ns, "--from-literal=user=admin")
    kubectl("create", "configmap", "settings", "-n", ns, "--from-literal=a=b")
    secret = json.loads(kubectl("get", "secret", "creds", "-n", ns, "-o", "json"))
    assert base64.b64decode(secret["data"]["user"]) == b"admin"
    assert json.loads(kubectl("get", "configmap", "settings", "-n", ns, "-o", "json"))["data"] == {
        "a": "b"
    }
