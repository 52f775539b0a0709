"""``ork build runtime``: a custom runtime image for a typed katalog (hooks in ``dbhooks/``,
a pydantic CR model in ``api/``, pydantic from ``requirements.txt``), built FROM the runtime
image of tools/image/build.sh with buildah, checked inside (orkestra's hook loader, as the
image's user), pushed to a real docker-registry and read back.

Slow: build.sh first (cached per machine, as in test_image.py), then two builds of a
minute or so each. Needs root and the Debian packages buildah, debootstrap, skopeo and
docker-registry, which `make test` installs; fails in CI without them, skips elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import orkestra
from tests.hooks.patterns import database_katalog
from tests.image.test_image import oci_run
from tests.registry.server import BINARY as REGISTRY_BINARY
from tests.registry.server import DistributionRegistry

ROOT = Path(__file__).resolve().parents[2]
UID = 65532
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
APT = "buildah debootstrap skopeo docker-registry"
TAG = "v1.0.0"

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOOKS = """
from orkestra.hooks import HookContext, HookSet

from api.v1alpha1 import Database


def database_hooks() -> HookSet[Database]:
    return HookSet(on_reconcile=reconcile)


def reconcile(db: Database, ctx: HookContext) -> None:
    ctx.status["engine"] = db.spec.engine
"""
MODEL = """
from pydantic import BaseModel, ConfigDict, Field


class DatabaseSpec(BaseModel):
    engine: str = "postgres"


class ObjectMeta(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class Database(BaseModel):
    model_config = ConfigDict(extra="allow")
    metadata: ObjectMeta
    spec: DatabaseSpec = Field(default_factory=DatabaseSpec)
"""


def _require_tools() -> None:
    """Fail in CI, skip (with the reason) elsewhere: never a silent pass."""
    problems = []
    missing = [tool for tool in ("buildah", "debootstrap", "skopeo") if not shutil.which(tool)]
    if not Path(REGISTRY_BINARY).exists():
        missing.append("docker-registry")
    if missing:
        problems.append(f"missing {', '.join(missing)}: apt-get install {APT}")
    if os.geteuid() != 0:
        problems.append("must run as root (buildah's chroot isolation, chroot)")
    if problems:
        message = "custom runtime image: " + "; ".join(problems)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _pattern(directory: Path, *, requirements: str | None) -> Path:
    files = {
        "katalog.yaml": database_katalog(version="1.0.0"),
        "dbhooks/__init__.py": "",
        "dbhooks/database.py": HOOKS,
        "api/__init__.py": "",
        "api/v1alpha1.py": MODEL,
    }
    if requirements is not None:
        files["requirements.txt"] = requirements
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return directory


def _ork_build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orkestra", "build", "runtime", *args],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The project's runtime image, as `make image` builds it (an OCI layout)."""
    _require_tools()
    work = tmp_path_factory.mktemp("base")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REGISTRY", "IMAGE_NAME", "TLS_VERIFY")
    }
    env.update(OUT=str(work / "out"), WORK=str(work / "work"), PYTHON=sys.executable)
    done = subprocess.run(
        ["bash", str(ROOT / "tools/image/build.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, f"build.sh failed:\n{done.stderr[-4000:]}"
    return f"{work / 'out' / 'oci'}:{orkestra.__version__}"


@dataclass
class Built:
    remote: str
    result: dict[str, Any]
    log: str
    layout: Path

    def skopeo(self, *args: str) -> Any:
        done = subprocess.run(
            ["skopeo", "inspect", "--tls-verify=false", *args, f"docker://{self.remote}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def built(
    base: str, distribution: DistributionRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Built:
    work = tmp_path_factory.mktemp("custom")
    pattern = _pattern(
        work / "pattern", requirements="# the CR model\npydantic>=2\norkestra-patterns>=0.1\n"
    )
    remote = f"{distribution.host}/database-operator:{TAG}"
    done = _ork_build(
        str(pattern),
        "--tag",
        remote,
        "--base",
        base,
        "--layout",
        str(work / "layout"),
        "--push",
        "-o",
        "json",
    )
    assert done.returncode == 0, f"ork build runtime failed:\n{done.stderr[-4000:]}"
    return Built(remote, json.loads(done.stdout), done.stderr, work / "layout")


@dataclass
class Unpacked:
    root: Path
    config: dict[str, Any]

    def run(
        self, *args: str, entrypoint: list[str] | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        config = json.loads(json.dumps(self.config))
        config["config"]["Env"] += [f"{k}={v}" for k, v in (env or {}).items()]
        result: subprocess.CompletedProcess[str] = oci_run.run(
            self.root, config, list(args), entrypoint=entrypoint, capture=True
        )
        return result


@pytest.fixture(scope="module")
def unpacked(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unpacked]:
    """The image's OCI layout unpacked as a runtime would."""
    root = tmp_path_factory.mktemp("unpacked") / "rootfs"
    manifest = oci_run.manifest_of(built.layout, TAG)
    oci_run.unpack(built.layout, manifest, root)
    yield Unpacked(root, oci_run.config_of(built.layout, manifest))
    shutil.rmtree(root, ignore_errors=True)


def test_the_build_loads_the_hooks_inside_and_pushes(built: Built, base: str) -> None:
    result = built.result
    assert result["image"] == built.remote
    assert result["base"] == f"oci:{base}"
    assert result["layout"] == f"{built.layout}:{TAG}"
    assert result["pushed"] is True
    assert result["digest"].startswith("sha256:")
    assert result["modules"] == ["api.v1alpha1", "dbhooks.database"]
    assert [p["name"] for p in result["packages"]] == ["api", "dbhooks"]
    assert result["requirements"] == ["pydantic>=2"]  # orkestra: the base's own
    # the check ran orkestra's hook loader in the image, as its user, before the push
    assert "database: hooks loaded" in built.log
    assert built.log.index("hooks loaded") < built.log.index("pushing")
    assert (built.layout / "index.json").is_file()


def test_labels_and_config_in_the_registry(built: Built) -> None:
    config = built.skopeo("--config", "--raw")
    image = config["config"]
    labels = image["Labels"]
    assert labels["io.orkestra.runtime-image"] == "true"
    assert labels["io.orkestra.hooks"] == "api.v1alpha1,dbhooks.database"
    assert labels["io.orkestra.katalog.name"] == "database-operator"
    assert labels["io.orkestra.katalog.version"] == "1.0.0"
    assert labels["org.opencontainers.image.base.name"] == built.result["base"]
    assert labels["org.opencontainers.image.version"] == orkestra.__version__  # the base's
    # the base's user, entrypoint, command and environment are unchanged
    assert image["User"] == f"{UID}:{UID}"
    assert image["Entrypoint"] == ["ork"]
    assert image["Cmd"] == ["run"]
    assert image["WorkingDir"] == "/home/ork"
    # one layer on top of the base's three
    manifest = built.skopeo("--raw")
    assert len(manifest["layers"]) == 4
    assert built.skopeo()["Digest"] == built.result["digest"]


def test_the_hooks_import_by_module_path_as_the_image_user(unpacked: Unpacked) -> None:
    done = unpacked.run(
        "-c",
        "import os, dbhooks.database, api.v1alpha1, pydantic; "
        "print(os.getuid(), dbhooks.database.__file__, "
        "api.v1alpha1.Database.model_validate("
        "{'metadata': {'name': 'orders'}}).spec.engine)",
        entrypoint=["python3"],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{UID} /opt/orkestra/hooks/dbhooks/database.py postgres\n"
    # on sys.path through a .pth file, compiled for the read-only root filesystem, owned by
    # root and not writable by the user
    hooks = unpacked.root / "opt/orkestra/hooks"
    site = unpacked.root / "opt/orkestra/lib/python3.11/site-packages"
    assert (site / "orkestra-hooks.pth").read_text() == "/opt/orkestra/hooks\n"
    assert list((hooks / "dbhooks" / "__pycache__").glob("database.cpython-311.pyc"))
    assert sorted(p.name for p in hooks.iterdir()) == ["api", "dbhooks"]
    for path in (hooks, hooks / "dbhooks" / "database.py"):
        info = path.stat()
        assert info.st_uid == 0
        assert not info.st_mode & 0o022
    # ork itself still runs
    assert unpacked.run("version").stdout.startswith(f"ork v{orkestra.__version__} ")


def test_a_missing_module_names_the_image(unpacked: Unpacked, built: Built) -> None:
    """The chart sets ORK_RUNTIME_IMAGE to the image it runs: the loader's error names it."""
    script = textwrap.dedent("""
        import sys
        from orkestra.hooks.loader import HookLoadError, Loader
        try:
            Loader().module("billing.hooks", None, ())
        except HookLoadError as exc:
            sys.exit(exc.render())
    """)
    done = unpacked.run(
        "-c", script, entrypoint=["python3"], env={"ORK_RUNTIME_IMAGE": built.remote}
    )
    assert done.returncode != 0
    assert 'hook module "billing.hooks" not found' in done.stderr
    assert f"this runtime image ({built.remote}) does not contain it" in done.stderr


def test_a_broken_image_fails_the_build(
    base: str, built: Built, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The model imports pydantic, which nothing installs: the check inside the image fails
    the build, and nothing is pushed."""
    work = tmp_path_factory.mktemp("broken")
    pattern = _pattern(work / "pattern", requirements=None)
    remote = built.remote.replace("database-operator", "broken-operator")
    done = _ork_build(
        str(pattern), "--tag", remote, "--base", base, "--layout", str(work / "layout"), "--push"
    )
    assert done.returncode == 1, done.stderr
    assert "the image does not load the pattern's code" in done.stderr
    assert 'imports "pydantic", which is not installed' in done.stderr
    assert "pushing" not in done.stderr
    listed = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{remote}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode != 0
