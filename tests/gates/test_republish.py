"""Re-pushing a published version, and pushes racing for one registry: nothing is lost and
nothing changes silently (issue 14, item 2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from orkestra.gates import push as push_module
from orkestra.gates.push import PushOptions, SupersededError, publish
from orkestra.gates.republish import Previous, ReplaceRefusedError
from orkestra.registry.client import RegistryClient
from orkestra.registry.oci import (
    EMPTY_JSON,
    EMPTY_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    Descriptor,
    Manifest,
)
from orkestra.registry.refs import Reference
from orkestra.registry.trust.keys import Keyring
from orkestra.registry.trust.verify import check
from tests.conftest import PACK, RegistryTarget, run, use_published_motifs
from tests.gates.test_push import Recorder, push, push_motifs
from tests.registry.server import DistributionRegistry

MOTIF = PACK / "01-motifs" / "web-service"


def motif(
    tmp_path: Path,
    folder: str,
    *,
    name: str = "web-service",
    edit: Callable[[str], str] = lambda text: text,
) -> Path:
    directory = tmp_path / folder
    directory.mkdir(parents=True)
    text = (MOTIF / "motif.yaml").read_text().replace("name: web-service", f"name: {name}", 1)
    (directory / "motif.yaml").write_text(edit(text))
    return directory


def more_replicas(text: str) -> str:
    return text.replace('default: "1"', 'default: "3"', 1)


def deprecated(text: str) -> str:
    return text.replace(
        "  tags: [web, http, deployment]\n",
        "  tags: [web, http, deployment]\n  deprecation:\n"
        "    message: use v2\n    migratedTo: web-service:v2.0.0\n",
        1,
    )


def history(client: RegistryClient, ref: Reference) -> list[tuple[str, str]]:
    index = client.index(ref.index())
    assert index is not None
    entry = next(e for e in index.entries if e.name == ref.name)
    return [(h.digest, h.how) for h in entry.history]


def test_a_changed_version_is_refused_until_overwrite(
    registry: RegistryTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = RegistryClient()
    first = push(motif(tmp_path, "a"))[0]
    code, _, err = run(capsys, "push", str(motif(tmp_path, "b", edit=more_replicas)))
    assert code == 1
    assert (
        f"web-service:v1.0.0 is already published ({first.digest[:19]}…) and this push "
        "changes what it does: motif.yaml (outside metadata)" in err
    )
    assert "hint: publish the change as a new version (metadata.version), or --overwrite" in err
    assert client.tagged(first.ref) == first.digest  # nothing moved
    code, out, err = run(capsys, "push", "--overwrite", str(tmp_path / "b"))
    assert code == 0, err
    assert (
        f"Replaced the artifact published before: {first.digest}\n"
        f"    still pullable as web-service@{first.digest}" in out
    )
    assert client.tagged(first.ref) != first.digest
    assert client.info(first.ref.with_digest(first.digest)).digest == first.digest
    assert history(client, first.ref) == [(first.digest, "replaced")]
    overwritten = client.tagged(first.ref)
    data = json.loads(run(capsys, "push", "--overwrite", "-o", "json", str(tmp_path / "a"))[1])
    assert data["replaced"] == overwritten and data["digest"] == client.tagged(first.ref)


def test_the_same_behaviour_may_be_republished_with_a_deprecation(
    registry: RegistryTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = push(motif(tmp_path, "a"))[0]
    notes = motif(
        tmp_path,
        "b",
        edit=lambda t: deprecated(t).replace("# A Deployment", "# Reformatted,\n# a Deployment"),
    )
    second, events = push(notes)
    assert second.replaced == first.digest
    assert events.of(push_module.Replacing)[0].draft is False
    code, _, err = run(capsys, "push", str(motif(tmp_path, "c")))
    assert code == 1 and "is published with a deprecation notice" in err
    assert "keep metadata.deprecation in the pattern to re-push it" in err
    assert RegistryClient().tagged(first.ref) == second.digest


def test_a_draft_is_replaced_by_a_clean_push(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gate mechanics "Try it": push 03 as a draft, fix the assertion, push cleanly."""
    push_motifs(pack_copy)
    cache = pack_copy / "03-katalog-cache"
    use_published_motifs(cache / "katalog.yaml")
    draft = push(cache, force=True, no_e2e=True)[0]
    plans = cache / "simulate.yaml"  # the fix: drop the ConfigMap assertion ...
    plans.write_text(
        plans.read_text().replace(
            "      - cycle: 1\n        verb: create\n        resource: configmaps\n"
            "        name: my-cache-config\n",
            "",
        )
    )
    katalog = cache / "katalog.yaml"  # ... and the behaviour may change too: it was a draft
    katalog.write_text(katalog.read_text().replace("workers: 2", "workers: 3"))
    code, out, err = run(capsys, "push", str(cache))
    assert code == 0, err
    assert f"Replaced a draft: {draft.digest}" in out
    with pytest.raises(ReplaceRefusedError, match="would replace it with a draft"):
        push(cache, force=True, no_e2e=True)


def test_rival_pushes_of_one_version_settle_on_one_artifact(
    registry: RegistryTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both writers check the tag before either pushes (a barrier holds them there), then
    race: one artifact ends up tagged, the other writer is told it was superseded."""
    Keyring(RegistryClient().home, os.environ).signing_key()  # made once, not by two threads
    barrier = threading.Barrier(2, timeout=30)
    checked = push_module.previous_push

    def check_then_wait(client: RegistryClient, ref: Reference) -> Previous | None:
        found = checked(client, ref)
        barrier.wait()
        return found

    monkeypatch.setattr(push_module, "previous_push", check_then_wait)
    folders = [motif(tmp_path, "a"), motif(tmp_path, "b", edit=more_replicas)]

    def attempt(folder: Path) -> object:
        try:
            return publish(folder, None, PushOptions(), Recorder(), RegistryClient())
        except SupersededError as exc:
            return exc

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(attempt, folders))
    won = [o for o in outcomes if isinstance(o, push_module.Published)]
    lost = [o for o in outcomes if isinstance(o, SupersededError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    client = RegistryClient()
    assert client.tagged(won[0].ref) == won[0].digest
    assert f"now names {won[0].digest}" in lost[0].message
    assert "was uploaded but is not tagged" in lost[0].message
    loser = lost[0].message.split("this artifact (")[1].split(")")[0]
    assert loser != won[0].digest
    lost_folder, won_folder = (folders[outcomes.index(o)] for o in (lost[0], won[0]))
    by_digest = client.pull(won[0].ref.with_digest(loser))  # the loser's own content
    assert (by_digest.directory / "motif.yaml").read_bytes() == (
        lost_folder / "motif.yaml"
    ).read_bytes()
    assert (client.pull(won[0].ref).directory / "motif.yaml").read_bytes() == (
        won_folder / "motif.yaml"
    ).read_bytes()
    meta = by_digest.info.metadata
    assert (meta.kind, meta.name, meta.version) == ("Motif", "web-service", won[0].ref.tag)
    assert check(client, by_digest.info.ref, by_digest.info.manifest).proven  # signed, as is
    assert history(client, won[0].ref) == [(loser, "superseded")]


def _ork(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orkestra", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )


@pytest.mark.integration
def test_sixteen_concurrent_pushes_all_appear(
    distribution: DistributionRegistry, tmp_path: Path
) -> None:
    env = {**os.environ, "ORK_MOTIFS_REGISTRY": f"{distribution.host}/concurrent/motifs"}
    shutil.rmtree(Path(env["ORK_HOME"]), ignore_errors=True)
    assert _ork("key", "generate", env=env).returncode == 0
    folders = [motif(tmp_path, f"m{i}", name=f"motif-{i:02d}") for i in range(16)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda f: _ork("push", str(f), env=env), folders))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    listed = json.loads(_ork("patterns", "--motifs", "-o", "json", env=env).stdout)
    assert sorted(p["name"] for p in listed["patterns"]) == [f"motif-{i:02d}" for i in range(16)]


def test_a_tag_holding_something_else_is_replaced_only_with_overwrite(
    registry: RegistryTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = RegistryClient()
    ref = client.resolve("web-service:v1.0.0", "Motif")
    backend, empty = client.backend(ref), Descriptor.of(EMPTY_JSON, EMPTY_MEDIA_TYPE)
    backend.push_blob(ref.repository, empty, EMPTY_JSON)
    foreign = backend.push_manifest(
        ref.repository,
        Manifest(
            config=empty,
            layers=(empty,),
            annotations={},
            artifact_type="application/vnd.example+json",
        ).to_bytes(),
        MANIFEST_MEDIA_TYPE,
        ref.tag,
    )
    code, _, err = run(capsys, "push", str(motif(tmp_path, "a")))
    assert (
        code == 1
        and f"web-service:v1.0.0 names an artifact that is not an Orkestra "
        f"pattern ({foreign.digest})"
        in err
    )
    code, out, err = run(capsys, "push", "--overwrite", str(tmp_path / "a"))
    assert code == 0, err
    assert f"Replaced the artifact published before: {foreign.digest}" in out
