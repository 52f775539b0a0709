"""A komposer's import policy, enforced from the signed gate report by pull, validate and
everything else that composes the komposer (issue 14)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from orkestra.registry.artifact import GateRecord
from orkestra.registry.policy import ImportPolicy
from orkestra.registry.trust.verify import TAMPERED, UNSIGNED, VERIFIED, Verification
from tests.conftest import PACK, run
from tests.registry.test_layout import artifact


def komposer(directory: Path, policy: dict[str, object]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    doc = {
        "apiVersion": "orkestra.orkspace.io/v1",
        "kind": "Komposer",
        "metadata": {"name": "strict", "version": "v1.0.0"},
        "policy": policy,
        "imports": {"registry": ["redis@v1.0.0"]},
    }
    path = directory / "komposer.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
def redis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The official redis pattern pushed with simulate passed and e2e skipped; returns the
    id of the key that signed it (the user's own, trusted)."""
    shutil.copytree(PACK / "official" / "redis", tmp_path / "redis")
    assert run(capsys, "push", "--no-e2e", str(tmp_path / "redis"))[0] == 0
    return str(json.loads(run(capsys, "key", "show", "-o", "json")[1])["id"])


def test_pull_and_validate_refuse_imports_below_the_policy(
    redis: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = komposer(tmp_path / "k", {"requireSigned": True, "requireGates": ["simulate"]})
    monkeypatch.chdir(path.parent)
    code, _, err = run(capsys, "pull", "-f", "komposer.yaml")
    assert code == 0, err
    assert run(capsys, "validate")[0] == 0
    komposer(path.parent, {"requireGates": ["simulate", "e2e"]})  # tightened after the pull
    code, _, err = run(capsys, "validate")
    assert code == 1
    assert (
        "komposer.yaml:12:5: error: imports.registry[0]: oci://local/katalogs/redis:v1.0.0 "
        "does not meet the komposer's policy: its e2e gate did not pass (skipped)" in err
    )
    assert "hint: import a version that does (ork inspect NAME --versions)" in err
    komposer(path.parent, {"trustedKeys": ["SHA256:somebody-else"]})
    code, _, err = run(capsys, "pull", "-f", "komposer.yaml")
    assert code == 1
    assert f"it is signed by {redis}, which is not in policy.trustedKeys" in err
    komposer(path.parent, {"trustedKeys": [redis], "requireE2ECluster": ["kind", "existing"]})
    code, _, err = run(capsys, "validate")
    assert code == 1 and "its e2e did not pass on kind or existing (no passing e2e)" in err


def test_a_policy_typo_is_a_schema_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = komposer(tmp_path / "k", {"requireGates": ["simualte"]})
    monkeypatch.chdir(path.parent)
    code, _, err = run(capsys, "validate")
    assert code == 1 and "policy.requireGates[0]" in err and "simualte" in err


@pytest.mark.parametrize(
    ("proof", "policy", "expected"),
    [
        (
            Verification(state=VERIFIED, trusted=True, key_id="SHA256:a"),
            ImportPolicy(require_signed=True),
            [],
        ),
        (
            Verification(state=VERIFIED, trusted=False, key_id="SHA256:a"),
            ImportPolicy(require_signed=True),
            ["it is signed by SHA256:a, which is not in your trusted keys"],
        ),
        (
            Verification(state=UNSIGNED, reasons=("no signed gate report in the artifact",)),
            ImportPolicy(require_signed=True),
            ["its signature does not verify (unsigned: no signed gate report in the artifact)"],
        ),
        (
            Verification(state=TAMPERED, reasons=("simulate status: x",)),
            ImportPolicy(require_gates=("simulate",)),
            ["its gate results cannot be verified (tampered)"],
        ),
        (
            Verification(state=VERIFIED, trusted=False, key_id="SHA256:a"),
            ImportPolicy(require_gates=("simulate",)),
            [],
        ),  # the gates alone do not ask who signed
        (
            Verification(state=VERIFIED, trusted=True, key_id="SHA256:a"),
            ImportPolicy(require_gates=("e2e",), require_e2e_cluster=("kind",)),
            [
                "its e2e gate did not pass (not run)",
                "its e2e did not pass on kind (no passing e2e)",
            ],
        ),
    ],
)
def test_violations(proof: Verification, policy: ImportPolicy, expected: list[str]) -> None:
    from orkestra.registry.info import PatternInfo
    from orkestra.registry.oci import Descriptor
    from orkestra.registry.refs import resolve

    made = artifact()
    manifest = made.manifest()
    info = PatternInfo.read(
        resolve("web:v1.0.0"), manifest, Descriptor.of(manifest.to_bytes(), "x")
    )
    assert info.simulate == GateRecord(
        status="passed", duration="3ms", tested_at="2026-01-01T00:00:00Z", assertions=2
    )
    assert policy.violations(info, proof) == expected


def test_the_trusted_keys_are_read_once_per_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from orkestra.registry.client import RegistryClient

    reads: list[RegistryClient] = []

    def trusted_ids(client: RegistryClient) -> set[str]:
        reads.append(client)
        return {"SHA256:mine"}

    monkeypatch.setattr("orkestra.registry.policy.trusted_ids", trusted_ids)
    client, other = RegistryClient(), RegistryClient()
    policy = ImportPolicy(require_signed=True)
    assert policy.trusted(client) == policy.trusted(client) == {"SHA256:mine"}
    assert reads == [client]
    assert policy.trusted(other) == {"SHA256:mine"} and reads == [client, other]
    assert ImportPolicy(trusted_keys=("SHA256:a",)).trusted(client) == {"SHA256:a"}
    assert len(reads) == 2  # the policy's own keys: the keyring is not read
    assert policy == ImportPolicy(require_signed=True)  # the cache is no part of the policy
