"""What ``ork push`` costs in HTTP requests, counted from docker-registry's own access log.

The 02 pattern (eight blobs: the config, six files and the signed gate report) is pushed
to a fresh namespace, then pushed again unchanged. Counted: every request to the pattern's
repository and to the index repository beside it (the motif the katalog imports is read
by its gates from another namespace and is not part of the push). The budget, from issue
16: a fresh push makes at most two requests per new blob plus six others (the version
check's manifest read, the push record, the tag's HEAD and PUT, the record listing and the
index manifest), and an unchanged re-push at most one request per blob plus those six.
docker-registry 2.8 does not take single-request uploads, so this is the two-request path.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from orkestra.gates.push import PushOptions, publish
from orkestra.registry.client import RegistryClient
from orkestra.registry.refs import Reference
from tests.conftest import use_published_motifs
from tests.registry.server import DistributionRegistry

pytestmark = pytest.mark.integration
_DIGEST = re.compile(r"sha256(?::|%3A)([a-f0-9]{64})")
OTHERS = 6


def pushed(directory: Path) -> Reference:
    return publish(directory, None, PushOptions(), lambda event: None).ref


def named(requests: list[str]) -> dict[str, list[str]]:
    """The requests that name each blob digest (in the path or a parameter)."""
    by_digest: dict[str, list[str]] = {}
    for line in requests:
        for digest in {f"sha256:{hex_}" for hex_ in _DIGEST.findall(line)}:
            by_digest.setdefault(digest, []).append(line)
    return by_digest


def referenced(ref: Reference) -> set[tuple[str, str]]:
    """(repository, digest) of every blob the pattern's and the index's manifests name."""
    client = RegistryClient()
    out = set()
    for target in (ref, ref.index()):
        manifest, _, _ = client.manifest(target)
        out |= {(target.repository, d.digest) for d in (manifest.config, *manifest.layers)}
    return out


def test_push_and_unchanged_re_push_stay_within_the_request_budget(
    distribution: DistributionRegistry, pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = f"n{uuid.uuid4().hex[:10]}"
    namespace = f"{space}/katalogs"
    monkeypatch.setenv("ORK_REGISTRY", f"{distribution.host}/{namespace}")
    monkeypatch.setenv("ORK_MOTIFS_REGISTRY", f"{distribution.host}/{space}-motifs/motifs")
    pushed(pack_copy / "01-motifs" / "web-service")
    katalog = pack_copy / "02-katalog-api"
    use_published_motifs(katalog / "katalog.yaml")

    ref = pushed(katalog)
    fresh = distribution.requests(namespace)
    new = distribution.blobs(namespace)
    assert len(new) == 10  # eight in the pattern's repository, two in the index's
    assert len(fresh) <= 2 * len(new) + OTHERS, "\n".join(fresh)
    assert all(len(lines) <= 2 for lines in named(fresh).values())

    held = distribution.blobs(namespace)
    pushed(katalog)
    again = distribution.requests(namespace)[len(fresh) :]
    blobs = referenced(ref)
    assert len(again) <= len(blobs) + OTHERS, "\n".join(again)
    for (_, digest), lines in ((blob, named(again).get(blob[1], [])) for blob in held):
        assert len(lines) <= 1, lines  # a blob the registry has: one request at most
        assert not [line for line in lines if line.startswith(("PUT", "PATCH"))], digest
