"""``ork push`` as a user runs it: --dry-run, -o json (also for a blocked push), the kind
read from the file, the version/tag rule and the reference grammar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError
from tests.conftest import run, use_published_motifs

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def motifs(pack_copy: Path, capsys: Capsys) -> Path:
    """The pack with its three motifs pushed and its katalogs importing them."""
    for name in ("web-service", "data-store", "platform-admission"):
        assert run(capsys, "push", str(pack_copy / "01-motifs" / name))[0] == 0
    for step in ("02-katalog-api", "03-katalog-cache"):
        use_published_motifs(pack_copy / step / "katalog.yaml")
    return pack_copy


def test_dry_run_prints_what_would_be_uploaded(pack_copy: Path, capsys: Capsys) -> None:
    web = pack_copy / "01-motifs" / "web-service"
    code, out, err = run(capsys, "push", "--dry-run", str(web))
    assert code == 0, err
    client = RegistryClient()
    ref = client.resolve("web-service:v1.0.0", "Motif")
    with pytest.raises(ArtifactNotFoundError):
        client.info(ref)
    assert out.startswith(
        "Pushing web-service:v1.0.0 (Motif) to local/motifs (dry run: nothing is uploaded)...\n"
    )
    assert f"Dry run: nothing was uploaded. Would push {ref}\n  Tag: v1.0.0\n  Config: " in out
    assert "Pushed" not in out and "To import" not in out
    code, json_out, _ = run(capsys, "push", "--dry-run", "-o", "json", str(web))
    data = json.loads(json_out)
    assert (data["pushed"], data["dryRun"], data["ref"], data["tag"], data["kind"]) == (
        False,
        True,
        str(ref),
        "v1.0.0",
        "Motif",
    )
    assert [layer["title"] for layer in data["layers"]] == ["motif.yaml", "gate-report.dsse.json"]
    motif = (web / "motif.yaml").read_bytes()
    assert data["layers"][0]["size"] == len(motif)
    assert data["layers"][0]["mediaType"] == "application/vnd.orkestra.motif.v1+yaml"
    assert data["layers"][0]["digest"] in out  # the file's layer: the same in the text output
    annotations = data["annotations"]
    assert (annotations["io.orkestra.pattern.kind"], annotations["io.orkestra.pattern.name"]) == (
        "Motif",
        "web-service",
    )
    assert "  Annotations:\n    io.orkestra.katalog.runtime_version: v" in out
    assert "\n    io.orkestra.pattern.name: web-service\n" in out
    with pytest.raises(ArtifactNotFoundError):
        client.info(ref)
    code, _, err = run(capsys, "push", str(web))  # the real push uploads what was listed
    assert code == 0, err
    pushed = client.info(ref).manifest
    assert pushed.layers[0].digest == data["layers"][0]["digest"]


def test_dry_run_runs_the_gates(motifs: Path, capsys: Capsys) -> None:
    code, out, _ = run(capsys, "push", "--dry-run", str(motifs / "03-katalog-cache"))
    assert code == 1 and "Running simulate gate (simulate.yaml)..." in out
    code, out, err = run(capsys, "push", "--dry-run", "--no-e2e", str(motifs / "02-katalog-api"))
    assert code == 0, err
    assert "  ✓ Simulate passed" in out and "io.orkestra.simulate.status: passed" in out
    with pytest.raises(ArtifactNotFoundError):
        RegistryClient().info(RegistryClient().resolve("webapp-operator:v1.0.0"))


def test_json_of_a_push_blocked_by_a_gate(motifs: Path, capsys: Capsys) -> None:
    code, out, err = run(capsys, "push", "-o", "json", str(motifs / "03-katalog-cache"))
    assert code == 1 and err.startswith("✗ Simulate gate failed — push blocked\n")
    data = json.loads(out)
    assert data == {
        "pushed": False,
        "dryRun": False,
        "ref": str(RegistryClient().resolve("cache-operator:v1.0.0")),
        "tag": "v1.0.0",
        "kind": "Katalog",
        "blockedBy": "simulate",
        "simulate": {
            "status": "failed",
            "failures": [
                "✗ configmaps/my-cache-config not found (expected cycle 1 create)",
                "3/4 assertions passed, 1 failed",
            ],
        },
        "error": {"message": err.rstrip("\n")},
    }


def test_a_blocked_push_prints_one_result_in_the_format_asked(motifs: Path, capsys: Capsys) -> None:
    """The result object already carries the error: no second, generic error object."""
    code, out, _ = run(capsys, "push", "--format", "yaml", str(motifs / "03-katalog-cache"))
    [data] = yaml.safe_load_all(out)
    assert code == 1 and (data["pushed"], data["blockedBy"]) == (False, "simulate")


def test_json_of_a_push_stopped_before_its_gates(pack_copy: Path, capsys: Capsys) -> None:
    code, out, err = run(
        capsys,
        "push",
        "-o",
        "json",
        "web-service:v2.0.0",
        str(pack_copy / "01-motifs" / "web-service"),
    )
    assert code == 1
    data = json.loads(out)
    assert (data["pushed"], data["error"]["message"]) == (False, err.splitlines()[0])
    assert data["error"]["hint"].startswith("push web-service:v1.0.0, or give no tag")


def test_json_gate_records_have_no_empty_fields(motifs: Path, capsys: Capsys) -> None:
    code, out, err = run(
        capsys, "push", "--force", "--no-e2e", "-o", "json", str(motifs / "03-katalog-cache")
    )
    assert code == 0, err
    data = json.loads(out)
    assert (data["simulate"], data["e2e"]) == (
        {"status": "skipped"},
        {"status": "skipped", "runner": "local"},
    )
    assert "replaced" not in data and data["signedBy"]
    motif = json.loads(
        run(capsys, "push", "--overwrite", "-o", "json", str(motifs / "01-motifs" / "web-service"))[
            1
        ]
    )
    assert "simulate" not in motif and "e2e" not in motif and motif["replaced"]


def test_the_kind_is_read_from_the_file(pack_copy: Path, capsys: Capsys) -> None:
    web = pack_copy / "01-motifs" / "web-service"
    code, out, err = run(capsys, "push", str(web))
    assert code == 0, err and "(Motif)" in out
    code, out, err = run(capsys, "push", "--motif", "--overwrite", str(web))
    assert code == 0, err
    assert "Pushing web-service:v1.0.0 (Motif)" in out
    code, _, err = run(capsys, "push", "-m", str(pack_copy / "02-katalog-api"))
    assert code == 2
    assert err == (
        f"--motif given, but {pack_copy / '02-katalog-api'} holds a Katalog "
        "(katalog.yaml, kind: Katalog)\n"
        "  hint: leave the flag out: the kind is read from the file\n"
    )


def test_force_does_not_override_a_version_mismatch(
    pack_copy: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pack_copy / "01-motifs")
    code, _, err = run(capsys, "push", "--force", "web-service:2.0.0", "./web-service/")
    assert code == 1
    assert err.splitlines() == [
        'web-service/motif.yaml:6: metadata.version "v1.0.0" does not match provided tag "2.0.0": '
        "expected web-service:v1.0.0 (version and tag must agree; no flag overrides this)",
        "  hint: push web-service:v1.0.0, or give no tag (the version is read from the "
        'file); to publish 2.0.0, set metadata.version: "2.0.0" (--update-meta writes it)',
    ]
    code, _, err = run(capsys, "push", "--update-meta", "web-service:v2.0.0", "./web-service/")
    assert code == 0, err


RANGE = (
    '"^1.0" is a version range, not a tag\n'
    "  hint: name one version (web-service:v1.2.3, listed by 'ork inspect web-service "
    "--versions') or a digest (web-service@sha256:...); ranges are written in imports "
    "(web-service@^1.0)\n"
)


@pytest.mark.parametrize("command", [["push"], ["pull"], ["inspect"]])
def test_a_range_gets_one_answer_whichever_separator(
    command: list[str], pack_copy: Path, capsys: Capsys
) -> None:
    directory = [str(pack_copy / "01-motifs" / "web-service")] if command == ["push"] else []
    errors = []
    for text in ("web-service@^1.0", "web-service:^1.0"):
        code, _, err = run(capsys, *command, text, *directory)
        assert code == 1
        errors.append(err)
    assert errors == [
        f'invalid reference "web-service@^1.0": {RANGE}',
        f'invalid reference "web-service:^1.0": {RANGE}',
    ]
