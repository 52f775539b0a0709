"""Shared fixtures."""

from __future__ import annotations

import contextlib
import shutil
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.registry.server import PASSWORD, USER, DistributionRegistry, serve


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``ork ARGS`` in-process: the exit code, stdout and stderr."""
    from orkestra.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


PACK = Path(__file__).resolve().parent.parent / "orkestra" / "packs" / "registry-guide"

WriteFiles = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteFiles:
    """Write dedented files into a temp dir (made the cwd); returns the dir."""
    monkeypatch.chdir(tmp_path)

    def _write(**files: str) -> Path:
        for name, text in files.items():
            target = tmp_path / name.replace("__", "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip("\n"))
        return tmp_path

    return _write


_ORK_VARIABLES = (
    "ORK_REGISTRY",
    "ORK_MOTIFS_REGISTRY",
    "ORK_REGISTRY_USERNAME",
    "ORK_REGISTRY_PASSWORD",
    "ORK_LOCAL_REGISTRY",
    "SOURCE_DATE_EPOCH",
)
_CI_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "CIRCLECI",
    "JENKINS_URL",
    "BUILDKITE",
    "DRONE",
    "CI",
    "GITHUB_REF_TYPE",
    "GITHUB_REF_NAME",
    "GITHUB_WORKSPACE",
    "GITHUB_STEP_SUMMARY",
    "CI_COMMIT_TAG",
)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own ~/.orkestra and docker config, and no registry settings,
    so nothing reads or writes the developer's real cache or credentials."""
    home = tmp_path_factory.mktemp("ork-home")
    monkeypatch.setenv("ORK_HOME", str(home / ".orkestra"))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / ".docker"))
    for name in _ORK_VARIABLES + _CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributionRegistry]:
    """Debian's docker-registry on 127.0.0.1, anonymous."""
    yield from serve(tmp_path_factory.mktemp("registry-anon"))


@pytest.fixture(scope="session")
def distribution_basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributionRegistry]:
    """docker-registry with htpasswd Basic auth (user ork)."""
    yield from serve(tmp_path_factory.mktemp("registry-basic"), auth="basic")


@pytest.fixture(scope="session")
def distribution_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributionRegistry]:
    """docker-registry with bearer-token auth from a token service."""
    yield from serve(tmp_path_factory.mktemp("registry-token"), auth="token")


@dataclass
class RegistryTarget:
    """Where a test publishes: the embedded registry or a docker-registry, with its env."""

    name: str
    env: dict[str, str]

    def apply(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("distribution", marks=pytest.mark.integration),
        pytest.param("distribution-basic", marks=pytest.mark.integration),
    ]
)
def registry(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> RegistryTarget:
    """Each test using this runs against the embedded registry and real docker-registries,
    with ORK_REGISTRY / ORK_MOTIFS_REGISTRY (and credentials) set in the environment."""
    space = f"t{uuid.uuid4().hex[:10]}"
    env: dict[str, str] = {}
    if request.param != "embedded":
        server: DistributionRegistry = request.getfixturevalue(
            "distribution" if request.param == "distribution" else "distribution_basic"
        )
        env = {
            "ORK_REGISTRY": f"{server.host}/{space}/katalogs",
            "ORK_MOTIFS_REGISTRY": f"{server.host}/{space}/motifs",
        }
        if request.param == "distribution-basic":
            env.update(ORK_REGISTRY_USERNAME=USER, ORK_REGISTRY_PASSWORD=PASSWORD)
    target = RegistryTarget(request.param, env)
    target.apply(monkeypatch)
    return target


def copy_pack(directory: Path) -> Path:
    """A private copy of the registry-guide pack in ``directory``."""
    target = directory / "registry-guide"
    shutil.copytree(PACK, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A private copy of the registry-guide pack."""
    return copy_pack(tmp_path)


@contextlib.contextmanager
def publishing_pack(factory: pytest.TempPathFactory, label: str) -> Iterator[tuple[Path, Path]]:
    """(ORK_HOME, pack copy) for a module-scoped fixture to publish into: while the block
    runs, ORK_HOME is a fresh one and no registry is configured (the embedded one)."""
    home = factory.mktemp(label) / ".orkestra"
    pack = copy_pack(factory.mktemp("pack"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORK_HOME", str(home))
        for name in ("ORK_REGISTRY", "ORK_MOTIFS_REGISTRY"):
            patch.delenv(name, raising=False)
        yield home, pack


def use_published_motifs(katalog: Path) -> None:
    """Switch a pack katalog's local motif imports to their registry references (the step
    the READMEs ask for before ork push)."""
    from orkestra.registry.client import RegistryClient

    client = RegistryClient()
    text = katalog.read_text()
    for name in ("web-service", "data-store", "platform-admission"):
        ref = client.resolve(f"{name}:v1.0.0", "Motif")
        text = text.replace(f"../01-motifs/{name}/motif.yaml", str(ref))
    katalog.write_text(text)
