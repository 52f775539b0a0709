"""The HTTP backend against real docker-registries: auth flows, chunked uploads, tag
pagination, skopeo interoperability, and faults injected by a proxy (each fault ends in a
clean error or a successful retry, and never in a partial cache entry)."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import (
    IntegrityError,
    RegistryAuthError,
    RegistryError,
    TooLargeError,
    TransientError,
)
from orkestra.registry.oci import EMPTY_JSON, MANIFEST_MEDIA_TYPE, TITLE, Descriptor, Manifest
from orkestra.registry.records import PushRecord, claim_time
from orkestra.registry.refs import Reference, layout_reference
from orkestra.registry.remote import RemoteBackend
from orkestra.registry.retry import RetryPolicy
from orkestra.transport import Response
from tests.registry.server import (
    PASSWORD,
    USER,
    DistributionRegistry,
    Fault,
    FaultProxy,
    serve,
)
from tests.registry.test_layout import artifact

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def client_for(host: str, tmp_path: Path, **env: str) -> RegistryClient:
    return RegistryClient(
        {
            "ORK_HOME": str(tmp_path / "home"),
            "ORK_REGISTRY": f"{host}/k",
            "DOCKER_CONFIG": str(tmp_path / "docker"),
            **env,
        },
        retry=FAST,
    )


def test_basic_auth_without_credentials_is_a_clean_401(
    distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    client = client_for(distribution_basic.host, tmp_path)
    with pytest.raises(RegistryAuthError) as caught:
        client.push(artifact(), client.resolve("web:v1.0.0"))
    assert "requires authentication and no credentials were found" in caught.value.message
    assert f"ork login {distribution_basic.host}" in caught.value.hint


def test_basic_auth_with_wrong_password(
    distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    client = client_for(
        distribution_basic.host, tmp_path, ORK_REGISTRY_USERNAME=USER, ORK_REGISTRY_PASSWORD="wrong"
    )
    with pytest.raises(RegistryAuthError, match="refused access") as caught:
        client.info(client.resolve("web:v1.0.0"))
    assert "wrong" not in caught.value.render()


def test_docker_config_credentials(
    distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(
        json.dumps({"auths": {distribution_basic.host: {"username": USER, "password": PASSWORD}}})
    )
    client = client_for(distribution_basic.host, tmp_path)
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    assert client.pull(ref).info.metadata.name == "web"


def test_bearer_token_flow(distribution_token: DistributionRegistry, tmp_path: Path) -> None:
    client = client_for(
        distribution_token.host,
        tmp_path,
        ORK_REGISTRY_USERNAME=USER,
        ORK_REGISTRY_PASSWORD=PASSWORD,
    )
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    assert distribution_token.token_server is not None
    assert distribution_token.token_server.requests, "a token was requested"
    mirror = client.resolve("mirror:v1.0.0")
    client.push(artifact(), mirror)  # the blobs are mounted from k/web: a two-scope token
    assert client.fetch(mirror).files == client.fetch(ref).files
    anonymous = client_for(distribution_token.host, tmp_path / "anon")
    assert anonymous.pull(ref).info.metadata.name == "web"  # pull-only anonymous token
    with pytest.raises(RegistryAuthError):
        anonymous.push(artifact(), ref.with_tag("v2"))


def test_chunked_upload_and_tag_pagination(
    distribution: DistributionRegistry, tmp_path: Path
) -> None:
    client = client_for(distribution.host, tmp_path)
    ref = client.resolve("big:v1")
    backend = client.backend(ref)
    assert isinstance(backend, RemoteBackend)
    backend.monolithic_limit, backend.chunk_size = 1000, 700
    data = bytes(range(256)) * 20
    descriptor = Descriptor.of(data, "application/octet-stream")
    before = backend.requests
    backend.push_blob(ref.repository, descriptor, data)
    assert backend.requests - before == 1 + 8 + 1  # POST, 8 PATCHes, PUT
    assert backend.fetch_blob(ref.repository, descriptor) == data
    config = Descriptor.of(EMPTY_JSON, "application/vnd.test")
    backend.push_blob(ref.repository, config, EMPTY_JSON)
    manifest = Manifest(config=config, layers=(descriptor,)).to_bytes()
    for i in range(5):
        backend.push_manifest(
            ref.repository, manifest, "application/vnd.oci.image.manifest.v1+json", f"t{i}"
        )
    backend.tag_page_size = 2
    assert sorted(backend.tags(ref.repository)) == [f"t{i}" for i in range(5)]


def shapes(lines: list[str]) -> list[str]:
    """Request lines as ``METHOD what?parameters`` (``upload``: the uploads endpoint or an
    upload session; ``_state``, docker-registry's session state, left out)."""
    out = []
    for line in lines:
        method, target = line.split(" ", 1)
        path, _, query = target.partition("?")
        what = "upload" if "/blobs/uploads/" in path else path.split("/")[-2]
        names = ",".join(sorted(k for k in urllib.parse.parse_qs(query) if k != "_state"))
        out.append(f"{method} {what}?{names}" if names else f"{method} {what}")
    return out


def blob(text: bytes) -> tuple[Descriptor, bytes]:
    return Descriptor.of(text, "application/octet-stream"), text


def test_uploads_on_a_registry_without_single_request_uploads(
    distribution: DistributionRegistry, tmp_path: Path
) -> None:
    """docker-registry 2.8 answers ``POST …/uploads/?digest=`` with an upload session: the
    first new blob finds that out (the POST with the body, then a PUT); later blobs start
    with a POST asking to mount the blob from its own repository, one request when the
    registry has it and a PUT more when not. A blob the backend knows the repository holds
    costs nothing; one it knows in another repository is mounted from there."""
    namespace = f"u{uuid.uuid4().hex[:10]}"
    env = {"ORK_REGISTRY": f"{distribution.host}/{namespace}"}
    client = client_for(distribution.host, tmp_path / "a", **env)
    repository = client.resolve("blobs:v1").repository
    backend = client.backend(client.resolve("blobs:v1"))
    one, two, had = blob(b"one"), blob(b"two"), blob(b"already there")
    other = client_for(distribution.host, tmp_path / "b", **env)
    other.backend(other.resolve("blobs:v1")).push_blob(repository, *had)
    seen = len(distribution.requests(namespace))

    def sent() -> list[str]:
        nonlocal seen
        lines = distribution.requests(namespace)[seen:]
        seen += len(lines)
        return shapes(lines)

    backend.push_blob(repository, *one)
    assert sent() == ["POST upload?digest", "PUT upload?digest"]
    backend.push_blob(repository, *two)
    assert sent() == ["POST upload?from,mount", "PUT upload?digest"]
    backend.push_blob(repository, *had)
    assert sent() == ["POST upload?from,mount"]  # 201: mounted, nothing sent
    backend.push_blob(repository, *one)
    assert sent() == []
    backend.push_blob(f"{namespace}/elsewhere", *one)
    mounted = distribution.requests(namespace)[seen:]
    assert sent() == ["POST upload?from,mount"]
    assert f"from={urllib.parse.quote(repository, safe='')}" in mounted[0]
    assert backend.fetch_blob(f"{namespace}/elsewhere", one[0]) == b"one"


def test_uploads_on_a_registry_that_takes_single_request_uploads(
    distribution: DistributionRegistry, tmp_path: Path
) -> None:
    """Where ``POST …/uploads/?digest=`` with the body is answered 201, a small blob costs
    that one request, new or not; a larger one is asked about with a HEAD first."""
    proxy = FaultProxy(distribution.host, single_post=True).start()
    try:
        clients = [client_for(proxy.host, tmp_path / name) for name in "ab"]
        repository = clients[0].resolve("single:v1").repository
        small, large = blob(b"small"), blob(b"large " * 100)
        for client, expected in zip(
            clients, (["HEAD blobs", "POST upload?digest"], ["HEAD blobs"]), strict=True
        ):
            backend = client.backend(client.resolve("single:v1"))
            assert isinstance(backend, RemoteBackend)
            backend.resend_limit = 100
            proxy.log.clear()
            backend.push_blob(repository, *small)
            assert shapes(proxy.log) == ["POST upload?digest"]
            proxy.log.clear()
            backend.push_blob(repository, *large)
            assert shapes(proxy.log) == expected  # absent, then there
            assert backend.fetch_blob(repository, large[0]) == large[1]
    finally:
        proxy.stop()


def test_requests_per_push(distribution: DistributionRegistry, tmp_path: Path) -> None:
    client = client_for(distribution.host, tmp_path)
    ref = client.resolve(f"counted-{uuid.uuid4().hex[:8]}:v1.0.0")
    client.push(artifact(), ref)
    blobs = 3  # config + 2 files
    assert client.request_count() == 2 * blobs + 1
    again = client.request_count()
    client.push(artifact(), ref.with_tag("v1.0.1"))
    assert client.request_count() - again == 1  # the blobs are known to be there
    later = client_for(distribution.host, tmp_path / "later")
    later.manifest(ref)  # the blobs a manifest names are in its repository
    again = later.request_count()
    later.push(artifact(), ref.with_tag("v1.0.2"))
    assert later.request_count() - again == 1


@pytest.mark.parametrize("via", ["ork", "skopeo"])
def test_skopeo_interoperability(
    distribution: DistributionRegistry, tmp_path: Path, via: str
) -> None:
    client = client_for(distribution.host, tmp_path)
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    _, _, raw = client.manifest(ref)
    source = f"docker://{distribution.host}/k/web:v1.0.0"
    shown = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", source],
        check=True,
        capture_output=True,
    ).stdout
    assert shown == raw
    assert json.loads(shown)["annotations"]["io.orkestra.simulate.status"] == "passed"
    layout = tmp_path / "layout"
    subprocess.run(
        ["skopeo", "copy", "--quiet", "--src-tls-verify=false", source, f"oci:{layout}:v1.0.0"],
        check=True,
        capture_output=True,
    )
    from_layout = client.fetch(layout_reference(f"{layout}:v1.0.0"))
    assert from_layout.files == client.fetch(ref).files
    assert from_layout.info.digest == client.info(ref).digest


@pytest.fixture
def proxy(distribution: DistributionRegistry) -> Iterator[FaultProxy]:
    server = FaultProxy(distribution.host).start()
    yield server
    server.stop()


def pushed_through(proxy: FaultProxy, tmp_path: Path) -> tuple[RegistryClient, Reference]:
    client = client_for(proxy.host, tmp_path)
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    return client, ref


def test_5xx_then_success_is_retried(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.inject(
        Fault("POST", "/blobs/uploads/", "status:503", times=2),
        Fault("GET", "/manifests/", "status:500"),
        Fault("GET", "/blobs/sha256:", "status:429"),
    )
    client, ref = pushed_through(proxy, tmp_path)
    assert client.pull(ref).info.metadata.name == "web"
    assert all(f.hits == f.times for f in proxy.faults)


def test_connection_reset_mid_blob_is_retried(proxy: FaultProxy, tmp_path: Path) -> None:
    client, ref = pushed_through(proxy, tmp_path)
    proxy.inject(Fault("GET", "/blobs/sha256:", "reset"))
    pulled = client.pull(ref)
    assert (pulled.directory / "katalog.yaml").read_bytes() == b"kind: Katalog\n"
    assert proxy.faults[0].hits == 1


def test_persistent_resets_fail_cleanly(proxy: FaultProxy, tmp_path: Path) -> None:
    client, ref = pushed_through(proxy, tmp_path)
    proxy.inject(Fault("GET", "/blobs/sha256:", "reset", times=99))
    with pytest.raises(TransientError, match="gave up after 3 attempts"):
        client.pull(ref)
    assert client.cache.lookup(ref) is None
    assert not list(client.cache.root.rglob("katalog.yaml"))


def test_blob_digest_mismatch(proxy: FaultProxy, tmp_path: Path) -> None:
    client, ref = pushed_through(proxy, tmp_path)
    proxy.inject(Fault("GET", "/blobs/sha256:", "corrupt", times=99))
    with pytest.raises(IntegrityError, match="does not match"):
        client.pull(ref)
    manifest, _, _ = client.manifest(ref)
    # Each blob fetched at most once (they are fetched side by side): a lie is not retried.
    assert 1 <= proxy.faults[0].hits <= len(manifest.layers)
    assert not list(client.cache.root.rglob("katalog.yaml"))


def test_manifest_over_the_size_limit(proxy: FaultProxy, tmp_path: Path) -> None:
    client, ref = pushed_through(proxy, tmp_path)
    proxy.inject(Fault("GET", "/manifests/", "oversize"))
    with pytest.raises(TooLargeError, match="over the 4194304-byte limit"):
        client.pull(ref)
    assert client.cache.lookup(ref) is None


def test_a_push_checks_its_tag_by_head_and_fetches_no_record_twice(
    proxy: FaultProxy, tmp_path: Path
) -> None:
    """Settling reads the tag with HEADs (the digest is all it needs) and the records of
    earlier pushes from the cached index; the index refresh after it neither lists the
    records again nor reads the cached index again nor fetches the records settling read
    or wrote."""
    client = client_for(proxy.host, tmp_path)
    ref = client.resolve("settled:v1.0.0")  # the registry is shared: a name of its own
    manifest = client.upload_blobs(artifact("settled"), ref)
    digest = Descriptor.of(manifest, MANIFEST_MEDIA_TYPE).digest
    record = PushRecord(
        name="settled", version="v1.0.0", kind="Katalog", digest=digest, claimedAt=claim_time()
    )
    proxy.log.clear()
    settled = client.settle(ref, record, manifest)
    assert settled.won and record.tag in settled.records
    index = client.refresh_index(ref, settled)
    assert record.tag in index.records
    on_tag = [line.split()[0] for line in proxy.log if line.endswith("/settled/manifests/v1.0.0")]
    assert on_tag == ["HEAD", "PUT"]  # absent, written (no rival recorded: not read again)
    assert not [line for line in proxy.log if line.startswith("GET") and record.tag in line]
    assert len([line for line in proxy.log if "/index/tags/list" in line]) == 1
    assert client.tagged(ref.with_tag("v9")) is None
    manifest = client.upload_blobs(artifact("settled", text="kind: Katalog\n# 2\n"), ref)
    second = PushRecord(
        name="settled",
        version="v1.0.0",
        kind="Katalog",
        digest=Descriptor.of(manifest, MANIFEST_MEDIA_TYPE).digest,
        claimedAt=claim_time(),
        replaces=digest,
    )
    again = client_for(proxy.host, tmp_path / "again")  # a new process: no record known
    proxy.log.clear()
    settled = again.settle(ref, second, manifest)
    assert settled.won and record.tag in settled.records
    assert set(again.refresh_index(ref, settled).records) == {record.tag, second.tag}
    assert not [line for line in proxy.log if record.tag in line]  # in the cached index
    assert len([line for line in proxy.log if "/index/manifests/latest" in line]) == 2
    assert len([line for line in proxy.log if "/index/tags/list" in line]) == 1


def errors(status: int, doc: object) -> Response:
    return Response(status, {"content-type": "application/json"}, json.dumps(doc).encode())


def test_a_manifest_naming_a_blob_the_registry_has_not_caught_up_with_is_retried() -> None:
    backend = RemoteBackend("registry.test", lambda: None)
    unknown = errors(
        400, {"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry"}]}
    )
    with pytest.raises(TransientError, match="MANIFEST_BLOB_UNKNOWN: blob unknown"):
        backend._check(unknown, "push manifest k/web:v1")
    invalid = errors(400, {"errors": [{"code": "MANIFEST_INVALID"}]})
    with pytest.raises(RegistryError) as caught:
        backend._check(invalid, "push manifest k/web:v1")
    assert type(caught.value) is RegistryError
    backend.close()


@pytest.mark.parametrize("title", ["../escape.yaml", "/etc/evil"])
def test_layer_titles_that_escape(
    distribution: DistributionRegistry, tmp_path: Path, title: str
) -> None:
    client = client_for(distribution.host, tmp_path)
    ref = client.resolve("evil:v1")
    backend = client.backend(ref)
    config = Descriptor.of(EMPTY_JSON, "application/vnd.orkestra.pattern.v1+tar+gzip")
    layer = Descriptor.of(b"x", "text/plain", {TITLE: title})
    backend.push_blob(ref.repository, config, EMPTY_JSON)
    backend.push_blob(ref.repository, layer, b"x")
    backend.push_manifest(
        ref.repository,
        Manifest(config=config, layers=(layer,)).to_bytes(),
        "application/vnd.oci.image.manifest.v1+json",
        "v1",
    )
    with pytest.raises(IntegrityError, match="is not a plain file name"):
        client.pull(ref)
    assert not (tmp_path / "escape.yaml").exists()
    assert client.cache.lookup(ref) is None


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributionRegistry]:
    yield from serve(tmp_path_factory.mktemp("registry-tls"), tls=True)


def test_tls_registry_with_an_untrusted_certificate(
    tls_registry: DistributionRegistry, tmp_path: Path
) -> None:
    secure = RegistryClient(
        {"ORK_HOME": str(tmp_path / "a"), "ORK_REGISTRY": f"{tls_registry.host}/k"}, retry=FAST
    )
    ref = secure.resolve("web:v1.0.0")
    with pytest.raises(RegistryError):  # loopback means plain HTTP; this server wants TLS
        secure.push(artifact(), ref)
    insecure = RegistryClient(
        {"ORK_HOME": str(tmp_path / "b"), "ORK_REGISTRY": f"{tls_registry.host}/k"},
        retry=FAST,
        insecure=True,
    )
    insecure.push(artifact(), ref)
    assert insecure.pull(ref).info.metadata.name == "web"


def test_insecure_falls_back_to_plain_http(
    distribution: DistributionRegistry, tmp_path: Path
) -> None:
    proxy = FaultProxy(distribution.host, address="127.0.0.2").start()
    try:
        env = {"ORK_HOME": str(tmp_path / "h"), "ORK_REGISTRY": f"{proxy.host}/k"}
        strict = RegistryClient(env, retry=FAST)
        ref = strict.resolve("web:v1.0.0")
        with pytest.raises(TransientError) as caught:
            strict.push(artifact(), ref)
        assert "--insecure skips certificate checks" in caught.value.hint
        lenient = RegistryClient(env, retry=FAST, insecure=True)
        lenient.push(artifact(), ref)
        assert lenient.pull(ref).info.metadata.name == "web"
    finally:
        proxy.stop()
