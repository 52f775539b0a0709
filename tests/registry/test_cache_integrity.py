"""Cache integrity: every read of a cached pattern re-verifies its files against the
manifest it was pulled with; ``pull`` of a tag asks the registry where the tag points now
and says when it moved; ``--offline`` and cached digest references need no network."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orkestra.registry.cache import MANIFEST_FILE, CacheIntegrityError, CacheWriteError
from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError
from orkestra.registry.refs import Reference
from orkestra.registry.retry import RetryPolicy
from tests.conftest import RegistryTarget, run
from tests.registry.server import DistributionRegistry, FaultProxy
from tests.registry.test_layout import artifact

ORK = shutil.which("ork", path=str(Path(sys.executable).parent)) or "ork"


def pulled(text: str = "kind: Katalog\n") -> tuple[RegistryClient, Reference, Path]:
    client = RegistryClient()
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(text=text), ref)
    return client, ref, client.pull(ref).directory


def no_network(client: RegistryClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(ref: Reference) -> Any:
        raise AssertionError(f"network used for {ref}")

    monkeypatch.setattr(client, "backend", refuse)


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (
            lambda d: (d / "katalog.yaml").write_text("kind: Katalog # evil\n"),
            "katalog.yaml was modified",
        ),
        (
            lambda d: (d / "katalog.yaml").write_text("kind: Katalog!\n"),  # same size
            "katalog.yaml was modified",
        ),
        (lambda d: (d / "README.md").unlink(), "README.md is missing"),
        (lambda d: (d / "helpers.py").write_text("import os\n"), "helpers.py was added"),
        (
            lambda d: (d / "pkg").mkdir() or (d / "pkg" / "x.yaml").write_text("a: 1\n"),
            "pkg/x.yaml was added",
        ),
        (
            lambda d: (d / "README.md").unlink() or (d / "README.md").symlink_to("/etc/hostname"),
            "README.md is not a regular file",
        ),
        (lambda d: (d / MANIFEST_FILE).write_text("{"), "is unreadable"),
    ],
)
def test_a_changed_cache_entry_is_never_used(
    change: Any, found: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ref, directory = pulled()
    change(directory)
    with pytest.raises(CacheIntegrityError) as caught:
        client.cached(ref)
    assert caught.value.message.startswith(f"cached copy of {ref} does not match its manifest (")
    assert found in caught.value.message
    assert f"ork pull --refresh {ref}" in caught.value.hint
    no_network(client, monkeypatch)
    with pytest.raises(CacheIntegrityError):
        client.pull(ref, offline=True)


def test_bytecode_and_a_lock_file_are_not_changes() -> None:
    client, ref, directory = pulled()
    (directory / "__pycache__").mkdir()
    (directory / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (directory / "komposer.lock").write_text("imports: []\n")
    cached = client.cached(ref)
    assert cached is not None and cached.from_cache


def test_an_entry_read_by_digest_must_hold_that_manifest(registry: RegistryTarget) -> None:
    client = RegistryClient()
    ref = client.resolve("web:v1.0.0")
    first = client.push(artifact(), ref)
    second = client.push(artifact(text="kind: Katalog # 2\n"), ref.with_tag("v2"))
    pinned = ref.with_digest(first.digest)
    directory = client.pull(pinned).directory
    other = client.pull(ref.with_tag("v2")).directory
    for name in ("katalog.yaml", MANIFEST_FILE):
        shutil.copy(other / name, directory / name)
    with pytest.raises(CacheIntegrityError, match=f"has digest {second.digest}"):
        client.cached(pinned)


def test_pull_downloads_a_changed_entry_again(registry: RegistryTarget) -> None:
    client, ref, directory = pulled()
    (directory / "katalog.yaml").write_text("kind: Katalog # evil\n")
    again = client.pull(ref)
    assert not again.from_cache
    assert "katalog.yaml was modified" in again.replaced
    assert (again.directory / "katalog.yaml").read_text() == "kind: Katalog\n"
    assert client.pull(ref).from_cache


def test_a_moved_tag_is_reported_and_the_new_content_pulled(registry: RegistryTarget) -> None:
    client, ref, _ = pulled()
    old = client.info(ref).digest
    assert client.pull(ref, check_tag=True).from_cache  # unchanged: the cached copy
    new = client.push(artifact(text="kind: Katalog # v2\n"), ref).digest
    assert client.pull(ref, offline=True).info.digest == old  # offline: what is cached
    moved = client.pull(ref, check_tag=True)
    assert (moved.from_cache, moved.moved_from, moved.info.digest) == (False, old, new)
    assert (moved.directory / "katalog.yaml").read_text() == "kind: Katalog # v2\n"
    assert client.pull(ref, check_tag=True).from_cache


def test_cached_digest_references_need_no_network(
    registry: RegistryTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ref, _ = pulled()
    pinned = ref.with_digest(client.info(ref).digest)
    client.pull(pinned)
    no_network(client, monkeypatch)
    assert client.pull(pinned, check_tag=True).from_cache
    assert client.pull(ref, offline=True).from_cache
    with pytest.raises(ArtifactNotFoundError, match="is not in the local cache"):
        client.pull(ref.with_tag("v9"), offline=True)


def test_a_full_disk_leaves_no_partial_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    client = RegistryClient()
    ref = client.resolve("web:v1.0.0")
    client.push(artifact(), ref)
    real = Path.write_bytes
    calls = []

    def full(self: Path, data: Any) -> int:
        calls.append(self)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(CacheWriteError) as caught:
        client.pull(ref)
    assert "No space left on device" in caught.value.message
    assert "free some disk space" in caught.value.hint
    assert client.cache.lookup(ref) is None
    assert not [p for p in client.cache.root.rglob("*") if p.is_file()]


# -- the command line ------------------------------------------------------------------------


def test_ork_pull_reports_a_moved_tag_and_a_changed_copy(
    registry: RegistryTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    client, ref, directory = pulled()
    old = client.info(ref).digest
    code, out, _ = run(capsys, "pull", "web:v1.0.0")
    assert code == 0 and out.startswith("  ✓ Already cached\n")
    new = client.push(artifact(text="kind: Katalog # v2\n"), ref).digest
    code, out, _ = run(capsys, "pull", "web:v1.0.0")
    assert code == 0
    assert f"  ⚠ tag v1.0.0 moved from {old} to {new}\n" in out
    assert (directory / "katalog.yaml").read_text() == "kind: Katalog # v2\n"
    (directory / "katalog.yaml").write_text("kind: Katalog # evil\n")
    code, out, err = run(capsys, "pull", "web:v1.0.0", "--offline")
    assert code == 1 and "katalog.yaml was modified" in err and "Traceback" not in err
    code, out, err = run(capsys, "pull", "web:v1.0.0")
    assert code == 0
    assert (
        f"⚠ cached copy of {ref} does not match its manifest (katalog.yaml was "
        "modified); downloaded it again" in err
    )
    assert (directory / "katalog.yaml").read_text() == "kind: Katalog # v2\n"


def test_ork_pull_offline_is_a_usage_error_with_refresh(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "pull", "web:v1.0.0", "--offline", "--refresh")
    assert code == 2 and "--offline cannot be combined with --refresh" in err


@pytest.mark.integration
def test_offline_pull_without_the_registry(
    distribution: DistributionRegistry, tmp_path: Path
) -> None:
    proxy = FaultProxy(distribution.host).start()
    env = {
        **os.environ,
        "ORK_HOME": str(tmp_path / "home"),
        "NO_COLOR": "1",
        "ORK_REGISTRY": f"{proxy.host}/offline",
    }
    try:
        client = RegistryClient(env, retry=RetryPolicy(attempts=1))
        ref = client.resolve("web:v1.0.0")
        client.push(artifact(), ref)
        client.pull(ref)
    finally:
        proxy.stop()

    def ork(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ORK, *args], capture_output=True, text=True, timeout=30, env=env)

    offline = ork("pull", "web:v1.0.0", "--offline")
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.startswith("  ✓ Already cached\n")
    online = ork("pull", "web:v1.0.0")
    assert online.returncode == 1 and "Traceback" not in online.stderr
    assert f"cannot connect to {proxy.host}" in online.stderr
    assert "--offline uses the cached copy (sha256:" in online.stderr


def test_validate_reads_a_verified_cache_offline(
    registry: RegistryTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str], pack_copy: Path
) -> None:
    from tests.conftest import use_published_motifs
    from tests.gates.test_push import push, push_motifs

    push_motifs(pack_copy)
    use_published_motifs(pack_copy / "02-katalog-api" / "katalog.yaml")
    push(pack_copy / "02-katalog-api")
    komposer = tmp_path / "komposer.yaml"
    komposer.write_text(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata:\n"
        "  name: platform\n  version: v1.0.0\nimports:\n  registry:\n"
        "    - webapp-operator:v1.0.0\n"
    )
    assert run(capsys, "pull", "-f", str(komposer))[0] == 0
    entries = list(RegistryClient().cache.root.rglob("webapp-operator/*/katalog.yaml"))
    assert entries
    code, _, err = run(capsys, "validate", "-f", str(komposer))
    assert code == 0, err
    for katalog in entries:
        katalog.write_text("kind: Katalog\n")
    code, _, err = run(capsys, "validate", "-f", str(komposer))
    assert code == 1 and "Traceback" not in err
    assert "does not match its manifest (katalog.yaml was modified)" in err
    assert "ork pull --refresh" in err
    code, _, err = run(capsys, "pull", "-f", str(komposer))
    assert code == 0 and "katalog.yaml was modified); downloading it again" in err
    assert run(capsys, "validate", "-f", str(komposer))[0] == 0
