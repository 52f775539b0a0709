"""The registry-guide pack published the way its READMEs say, once per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import publishing_pack, use_published_motifs
from tests.gates.test_push import push, push_motifs

OFFICIAL = ("postgres", "mysql", "mongodb", "redis", "kafka", "rabbitmq", "deployment-stack")


def publish_pack(pack: Path) -> None:
    """Steps 01, 02, 03, 04, 07, 10, 11's webapp-operator v2 and the official patterns, as
    the pack's READMEs publish them."""
    push_motifs(pack)
    for name in OFFICIAL:
        push(pack / "official" / name, no_e2e=True)
    use_published_motifs(pack / "02-katalog-api" / "katalog.yaml")
    push(pack / "02-katalog-api")
    use_published_motifs(pack / "04-katalog-platform" / "katalog.yaml")
    push(pack / "04-katalog-platform", no_e2e=True)
    push(pack / "07-upgrade" / "web-service-v1.1.0")
    push(pack / "07-upgrade" / "webapp-operator-v1.1.0")
    use_published_motifs(pack / "03-katalog-cache" / "katalog.yaml")
    push(pack / "03-katalog-cache", force=True, no_e2e=True)
    push(pack / "10-hooks-katalog", no_e2e=True)
    push(pack / "11-typed-komposer" / "webapp-operator-v2.0.0", no_e2e=True)


@pytest.fixture(scope="module")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An ORK_HOME whose embedded registry holds the published pack (read-only use)."""
    with publishing_pack(tmp_path_factory, "published") as (home, pack):
        publish_pack(pack)
    yield home


@pytest.fixture
def published(published_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORK_HOME", str(published_home))
    return published_home
