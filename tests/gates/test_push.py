"""The publish pipeline: gates, the version rule, local imports, what gets recorded."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TypeVar

import pytest

from orkestra.errors import OrkError, UsageError
from orkestra.gates.pattern import (
    PushBlockedError,
    TagMismatchError,
    check_crd_file,
    with_version,
)
from orkestra.gates.push import (
    Deprecated,
    Event,
    GateFailedError,
    GatePassed,
    GateSkipped,
    MetaUpdated,
    NoAssertions,
    Published,
    PushOptions,
    Uploading,
    detect_runner,
    publish,
)
from orkestra.gates.republish import ReplaceRefusedError
from orkestra.model.errors import PatternError
from orkestra.registry.artifact import GateRecord
from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError
from orkestra.registry.oci import digest_of
from orkestra.registry.trust.verify import check
from tests.conftest import RegistryTarget, use_published_motifs

E = TypeVar("E", bound=Event)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


def push(
    directory: Path,
    ref: str | None = None,
    *,
    force: bool = False,
    update_meta: bool = False,
    no_simulate: bool = False,
    no_e2e: bool = False,
    e2e_file: str | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
    kind: str | None = None,
) -> tuple[Published, Recorder]:
    recorder = Recorder()
    options = PushOptions(
        force=force,
        update_meta=update_meta,
        no_simulate=no_simulate,
        no_e2e=no_e2e,
        e2e_file=e2e_file,
        overwrite=overwrite,
        dry_run=dry_run,
    )
    return publish(directory, ref, options, recorder, kind=kind), recorder


def push_motifs(pack: Path) -> None:
    for name in ("web-service", "data-store", "platform-admission"):
        push(pack / "01-motifs" / name)


def test_version_must_match_the_tag(pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed 01: a mismatch is a hard error, and --force (which skips gates) does not
    override it."""
    web = pack_copy / "01-motifs" / "web-service"
    monkeypatch.chdir(web)  # messages name files as the user sees them: here, motif.yaml
    for force in (False, True):
        with pytest.raises(TagMismatchError) as caught:
            push(web, "web-service:2.0.0", force=force)
        assert caught.value.message == (
            'motif.yaml:6: metadata.version "v1.0.0" does not match provided tag "2.0.0": '
            "expected web-service:v1.0.0 (version and tag must agree; no flag overrides this)"
        )
        assert caught.value.hint == (
            "push web-service:v1.0.0, or give no tag (the version is read from the file); "
            'to publish 2.0.0, set metadata.version: "2.0.0" (--update-meta writes it)'
        )
        [problem] = caught.value.problems
        assert (problem.file, problem.line, problem.path) == (
            "motif.yaml",
            6,
            ("metadata", "version"),
        )
    with pytest.raises(ArtifactNotFoundError):
        RegistryClient().info(RegistryClient().resolve("web-service:2.0.0", "Motif"))


def test_update_meta_rewrites_the_file_keeping_comments(pack_copy: Path) -> None:
    web = pack_copy / "01-motifs" / "web-service"
    before = (web / "motif.yaml").read_text()
    result, events = push(web, "web-service:v2.0.0", update_meta=True)
    after = (web / "motif.yaml").read_text()
    assert after == before.replace("version: v1.0.0", 'version: "v2.0.0"')
    assert [(e.file, e.version) for e in events.of(MetaUpdated)] == [("motif.yaml", "v2.0.0")]
    pulled = RegistryClient().fetch(result.ref)
    assert pulled.files["motif.yaml"].decode() == after


def test_dry_run_runs_the_gates_and_uploads_nothing(pack_copy: Path) -> None:
    push_motifs(pack_copy)
    api = pack_copy / "02-katalog-api"
    use_published_motifs(api / "katalog.yaml")
    before = (api / "katalog.yaml").read_text()
    dry, events = push(api, "webapp-operator:v1.1.0", update_meta=True, no_e2e=True, dry_run=True)
    assert dry.dry_run and [e.gate for e in events.of(GatePassed)] == ["Simulate"]
    assert events.of(Uploading) == [] and events.of(MetaUpdated) == []
    assert (api / "katalog.yaml").read_text() == before  # --update-meta writes nothing
    client = RegistryClient()
    with pytest.raises(ArtifactNotFoundError):
        client.info(dry.ref)
    assert dry.manifest.annotations["io.orkestra.pattern.version"] == "v1.1.0"
    assert dry.manifest.annotations["io.orkestra.simulate.status"] == "passed"
    assert dry.digest == digest_of(dry.manifest.to_bytes())
    pushed, _ = push(api, "webapp-operator:v1.1.0", update_meta=True, no_e2e=True)
    manifest = client.info(pushed.ref).manifest
    assert manifest.layers[:-1] == dry.manifest.layers[:-1]  # the files, as the dry run said
    cache = pack_copy / "03-katalog-cache"
    use_published_motifs(cache / "katalog.yaml")
    with pytest.raises(GateFailedError):  # blocked like the push it rehearses
        push(cache, dry_run=True)


def test_the_kind_is_read_from_the_file(pack_copy: Path) -> None:
    web = pack_copy / "01-motifs" / "web-service"
    assert push(web)[0].kind == push(web, kind="Motif")[0].kind == "Motif"
    api = pack_copy / "02-katalog-api"
    with pytest.raises(UsageError) as caught:
        push(api, kind="Motif")
    assert caught.value.message == (
        f"--motif given, but {api} holds a Katalog (katalog.yaml, kind: Katalog)"
    )
    assert caught.value.hint == "leave the flag out: the kind is read from the file"


def test_with_version_inserts_and_replaces() -> None:
    text = "kind: Motif  # k\nmetadata:\n  name: web   # the name\n  tags: [a]\nspec: {}\n"
    assert with_version(text, "v2") == (
        "kind: Motif  # k\nmetadata:\n  name: web   # the name"
        '\n  version: "v2"\n  tags: [a]\nspec: {}\n'
    )
    text = "metadata:\n    version: 'v1'   # keep me\n    name: x\n"
    assert with_version(text, "v3") == 'metadata:\n    version: "v3"   # keep me\n    name: x\n'
    text = "# café ✓\nmetadata:\n  name: naïve\n  version: v1 # ✓ kept\n"
    assert with_version(text, "v2") == text.replace("version: v1", 'version: "v2"')
    with pytest.raises(OrkError, match="no metadata block"):
        with_version("kind: Motif\n", "v1")


def test_local_imports_block_the_push(pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with --force (it skips gates, not this check); the message names the commands
    that fix it: the motif's directory as typed from here, and its registry reference."""
    monkeypatch.chdir(pack_copy / "02-katalog-api")
    with pytest.raises(PushBlockedError) as caught:
        push(Path("."), force=True)
    assert caught.value.render() == "\n".join(
        [
            "✗ Push blocked: local file imports in katalog.yaml",
            "",
            '  spec.crds.webapp.imports[0]: "../01-motifs/web-service/motif.yaml"',
            "",
            "  Local imports work for ork simulate and ork template, but cannot",
            "  be resolved by consumers after the katalog is published.",
            "",
            "  Before publishing (--force skips gates, not this check):",
            "    1. Push the motif:",
            "         ork push ../01-motifs/web-service/",
            "    2. Replace the local path in katalog.yaml with the OCI ref:",
            "         motif: oci://local/motifs/web-service:v1.0.0",
        ]
    )


def test_02_passes_both_gates(pack_copy: Path, registry: RegistryTarget) -> None:
    push_motifs(pack_copy)
    use_published_motifs(pack_copy / "02-katalog-api" / "katalog.yaml")
    result, events = push(pack_copy / "02-katalog-api")
    assert [(e.gate, e.where) for e in events.of(GatePassed)] == [
        ("Simulate", ""),
        ("E2E", "embedded API server (no kubelet)"),
    ]
    client = RegistryClient()
    info = client.info(result.ref)
    assert info.simulate is not None
    assert (info.simulate.status, info.simulate.assertions) == ("passed", 2)
    assert info.e2e is not None
    assert (info.e2e.status, info.e2e.assertions, info.e2e.cluster, info.e2e.runner) == (
        "passed",
        5,
        "embedded",
        "local",
    )
    assert [f.title for f in info.files] == [
        "katalog.yaml",
        "crd.yaml",
        "README.md",
        "cr.yaml",
        "e2e.yaml",
        "simulate.yaml",
        "gate-report.dsse.json",
    ]
    assert info.runtime_version.startswith("v")
    assert info.signed_report is not None and info.signed_report.title == "gate-report.dsse.json"
    proof = check(client, info.ref, info.manifest)
    assert (proof.state, proof.trusted, proof.key_id) == ("verified", True, result.signed_by)
    index = client.read_index(info.ref.index())
    assert index is not None
    entry = next(e for e in index.entries if e.name == "webapp-operator")
    assert (entry.simulateStatus, entry.e2eStatus, entry.digest) == (
        "passed",
        "passed",
        info.digest,
    )


def test_03_story(pack_copy: Path) -> None:
    push_motifs(pack_copy)
    cache = pack_copy / "03-katalog-cache"
    use_published_motifs(cache / "katalog.yaml")
    with pytest.raises(GateFailedError) as caught:
        push(cache)
    assert caught.value.message.splitlines() == [
        "✗ Simulate gate failed — push blocked",
        "  Run 'ork simulate' to see the failures",
        "  Use --force to override (recorded in the artifact)",
        "",
        "  ✗ configmaps/my-cache-config not found (expected cycle 1 create)",
        "  3/4 assertions passed, 1 failed",
    ]
    client = RegistryClient()
    ref = client.resolve("cache-operator:v1.0.0")
    with pytest.raises(ArtifactNotFoundError):
        client.info(ref)
    _, events = push(cache, force=True, no_e2e=True)
    assert [e.gate for e in events.of(GateSkipped)] == ["Simulate", "E2E"]
    info = client.info(ref)
    assert info.simulate is not None and info.simulate.status == "skipped"
    assert info.e2e is not None and (info.e2e.status, info.e2e.runner) == ("skipped", "local")
    assert client.referrers(ref, info.digest) == []
    simulate = cache / "simulate.yaml"
    text = simulate.read_text()
    simulate.write_text(
        text[: text.index("      - cycle: 1\n        verb: create\n        resource: configmaps")]
    )
    push(cache)
    record = client.info(ref).simulate
    assert record is not None and (record.status, record.assertions) == ("passed", 3)


def test_no_assertions_and_skips(pack_copy: Path) -> None:
    push_motifs(pack_copy)
    api = pack_copy / "02-katalog-api"
    use_published_motifs(api / "katalog.yaml")
    simulate = api / "simulate.yaml"
    simulate.write_text(simulate.read_text().split("  expect:")[0])
    result, events = push(api)
    assert len(events.of(NoAssertions)) == 1
    info = RegistryClient().info(result.ref)
    assert info.simulate is not None and info.simulate.status == "no-assertion"
    with pytest.raises(
        ReplaceRefusedError, match="skipped the simulate gate and would replace it with a draft"
    ):
        push(api, no_simulate=True)
    result, events = push(api, no_simulate=True, overwrite=True)
    assert RegistryClient().info(result.ref).simulate == GateRecord(status="skipped")


DIGEST = "sha256:4364d38de74f6f5118c1d7440c2382ec66c05cd85bce9a0636a6af7437b77cea"


def test_04_story_simulate_passes_e2e_blocks_the_push(pack_copy: Path) -> None:
    """Seed 04: the cluster's admission policy (installed by e2e.yaml's setup) rejects the
    test CR that simulate accepts; nothing is pushed until the CR is fixed."""
    push_motifs(pack_copy)
    platform = pack_copy / "04-katalog-platform"
    use_published_motifs(platform / "katalog.yaml")
    events = Recorder()
    with pytest.raises(GateFailedError) as caught:
        publish(platform, None, PushOptions(), events, RegistryClient())
    assert [e.gate for e in events.of(GatePassed)] == ["Simulate"]
    assert caught.value.gate == "E2E"
    message = caught.value.message
    assert message.startswith("✗ E2E gate failed — push blocked\n  Run 'ork e2e'")
    assert (
        "ValidatingAdmissionPolicy 'platform-images-pinned' with binding "
        "'platform-images-pinned' denied request: platform policy: images must be pinned "
        "by digest" in message
    )
    assert "1/4 expectations passed on the embedded API server (no kubelet)" in message
    with pytest.raises(ArtifactNotFoundError):
        RegistryClient().info(RegistryClient().resolve("platform-app-operator:v1.0.0", "Katalog"))
    cr = platform / "cr.yaml"
    cr.write_text(cr.read_text().replace("demo-web:1.0.0", f"demo-web@{DIGEST}"))
    result, events = push(platform)
    assert [(e.gate, e.where) for e in events.of(GatePassed)] == [
        ("Simulate", ""),
        ("E2E", "embedded API server (no kubelet)"),
    ]
    info = RegistryClient().info(result.ref)
    assert info.e2e is not None
    assert (info.e2e.status, info.e2e.cluster, info.e2e.assertions) == ("passed", "embedded", 4)
    layout = RegistryClient().home / "local-registry" / "katalogs" / "platform-app-operator"
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{layout}:v1.0.0"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    annotations = json.loads(raw)["annotations"]
    assert (
        annotations["io.orkestra.e2e.status"],
        annotations["io.orkestra.e2e.cluster"],
        annotations["io.orkestra.e2e.runner"],
    ) == ("passed", "embedded", "local")


def test_e2e_skips_and_choices(pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    push_motifs(pack_copy)
    platform = pack_copy / "04-katalog-platform"
    use_published_motifs(platform / "katalog.yaml")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result, _ = push(platform, no_e2e=True)
    info = RegistryClient().info(result.ref)
    assert info.simulate is not None and info.simulate.status == "passed"
    assert info.e2e is not None and (info.e2e.status, info.e2e.runner) == (
        "skipped",
        "github-actions",
    )
    with pytest.raises(OrkError, match=r"e2e file other\.yaml not found"):
        push(platform, e2e_file="other.yaml")
    monkeypatch.setenv("ORK_E2E_CLUSTER", "minikube")
    with pytest.raises(UsageError, match="unknown e2e cluster 'minikube'"):
        push(platform)


@pytest.mark.parametrize(
    ("env", "runner"),
    [
        ({}, "local"),
        ({"GITHUB_ACTIONS": "true"}, "github-actions"),
        ({"GITLAB_CI": "true"}, "gitlab-ci"),
        ({"CIRCLECI": "true"}, "circleci"),
        ({"JENKINS_URL": "http://j"}, "jenkins"),
        ({"BUILDKITE": "true"}, "buildkite"),
        ({"DRONE": "true"}, "drone"),
        ({"CI": "true"}, "ci"),
        ({"CI": "1"}, "local"),
        ({"CI": "true", "GITLAB_CI": "true"}, "gitlab-ci"),
    ],
)
def test_runner_detection(env: dict[str, str], runner: str) -> None:
    assert detect_runner(env) == runner


def test_katalog_and_motif_in_one_directory(pack_copy: Path) -> None:
    push_motifs(pack_copy)
    api = pack_copy / "02-katalog-api"
    use_published_motifs(api / "katalog.yaml")
    motif = (pack_copy / "01-motifs" / "web-service" / "motif.yaml").read_text()
    (api / "motif.yaml").write_text(motif.replace("name: web-service", "name: webapp-operator"))
    result, _ = push(api)
    assert result.motif is not None
    client = RegistryClient()
    assert client.info(client.resolve("webapp-operator:v1.0.0", "Motif")).kind == "Motif"
    assert client.info(client.resolve("webapp-operator:v1.0.0")).kind == "Katalog"


def test_deprecation_travels(pack_copy: Path) -> None:
    web = pack_copy / "01-motifs" / "web-service"
    text = (
        (web / "motif.yaml")
        .read_text()
        .replace(
            "  version: v1.0.0\n",
            "  version: v1.0.0\n  deprecation:\n    message: use v2\n"
            "    migratedTo: web-service:v2.0.0\n    timeline: {from: '2026-01-01', "
            "to: '2099-01-01'}\n",
        )
    )
    (web / "motif.yaml").write_text(text)
    result, events = push(web)
    assert len(events.of(Deprecated)) == 1
    client = RegistryClient()
    notice = client.info(result.ref).metadata.deprecation
    assert notice is not None
    assert (notice.message, notice.migrated_to, str(notice.end_of_life)) == (
        "use v2",
        "web-service:v2.0.0",
        "2099-01-01",
    )
    index = client.read_index(result.ref.index())
    assert index is not None and index.entries[0].deprecated


def test_refs_and_bad_input(pack_copy: Path) -> None:
    web = pack_copy / "01-motifs" / "web-service"
    result, _ = push(web, "web-service")
    assert str(result.ref).endswith("/motifs/web-service:v1.0.0")
    with pytest.raises(UsageError, match="digest"):
        push(web, "web-service@sha256:" + "a" * 64)
    with pytest.raises(UsageError, match="is not a directory"):
        push(pack_copy / "nope")
    with pytest.raises(OrkError, match="no recognized Orkestra pattern"):
        push(pack_copy)
    (web / "motif.yaml").write_text((web / "motif.yaml").read_text().replace("inputs:", "inptus:"))
    with pytest.raises(PatternError, match='did you mean "inputs"'):
        push(web)


def test_broken_yaml_is_reported_with_its_position(pack_copy: Path) -> None:
    motif = pack_copy / "01-motifs" / "web-service" / "motif.yaml"
    motif.write_text(motif.read_text().replace("inputs:\n", "inputs: [\n", 1))
    with pytest.raises(PatternError, match=r"motif\.yaml:\d+:\d+: error: "):
        push(motif.parent)


def test_crd_file_checks(tmp_path: Path) -> None:
    crd = tmp_path / "crd.yaml"
    for text, message in (
        ("kind: ConfigMap\n", 'kind must be CustomResourceDefinition, got "ConfigMap"'),
        ("kind: CustomResourceDefinition\nspec: {}\n", "spec.group is required"),
        ("kind: CustomResourceDefinition\nspec: {group: g}\n", "spec.names.kind is"),
        ("a: [\n", "not valid YAML"),
    ):
        crd.write_text(text)
        with pytest.raises(OrkError, match=message):
            check_crd_file(crd)


def test_gate_report_content(pack_copy: Path) -> None:
    push_motifs(pack_copy)
    use_published_motifs(pack_copy / "02-katalog-api" / "katalog.yaml")
    result, _ = push(pack_copy / "02-katalog-api")
    client = RegistryClient()
    info = client.info(result.ref)
    assert client.referrers(result.ref, info.digest) == []  # the report is in the artifact
    proof = check(client, info.ref, info.manifest)
    assert proof.statement is not None
    simulate = proof.statement["predicate"]["gates"]["simulate"]
    assert (simulate["assertions"], simulate["counts"]) == (2, {"passed": 2, "total": 2})
    assert simulate["checks"][-2:] == [
        "✓ create deployments/my-webapp (cycle 1)",
        "✓ create services/my-webapp-svc (cycle 1)",
    ]
    assert [c["line"] for c in simulate["runs"][0]["checks"]][-2:] == simulate["checks"][-2:]
    e2e = proof.statement["predicate"]["gates"]["e2e"]
    assert (e2e["status"], e2e["assertions"], e2e["cluster"]) == ("passed", 5, "embedded")
    assert len(e2e["checks"]) == e2e["counts"]["total"] == 5
