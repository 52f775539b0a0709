"""The runtime image (Containerfile, tools/image/build.sh, `make image`): built without a
Docker engine and without pulling a base image (buildah from a debootstrap root filesystem,
vfs storage, chroot isolation), pushed to a real docker-registry, read back with skopeo,
pulled back into an OCI layout and run from its unpacked layers, chrooted as its user.

Slow: the first build on a machine runs debootstrap (a few minutes); later ones reuse the
root filesystem cached under ~/.cache/orkestra and buildah's layer cache. Needs root and
the Debian packages buildah, debootstrap, skopeo and docker-registry, which `make test`
installs. Never skipped in CI: a missing tool fails the test with what to install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import orkestra
from tests.registry.server import BINARY as REGISTRY_BINARY
from tests.registry.server import DistributionRegistry

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "tools" / "image" / "build.sh"
UID = 65532
# Read at import, before the autouse isolated_home fixture removes CI from the environment.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
APT = "buildah debootstrap skopeo docker-registry"

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _oci_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("oci_run", ROOT / "tools/image/oci_run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


oci_run = _oci_run()


def _missing() -> list[str]:
    missing = [tool for tool in ("buildah", "debootstrap", "skopeo") if not shutil.which(tool)]
    if not Path(REGISTRY_BINARY).exists():
        missing.append("docker-registry")
    return missing


def _require_tools() -> None:
    """Fail in CI, skip (with the reason) elsewhere: never a silent pass."""
    problems = []
    if missing := _missing():
        problems.append(
            f"missing {', '.join(missing)}: apt-get install {APT} (`make test` installs them)"
        )
    if os.geteuid() != 0:
        problems.append("must run as root (debootstrap, chroot, buildah's chroot isolation)")
    if problems:
        message = "runtime image: " + "; ".join(problems)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Built:
    version: str
    layout: Path  # the OCI image layout build.sh wrote
    remote: str  # HOST:PORT/orkestra:VERSION
    log: str  # build.sh's stderr

    def skopeo(self, *args: str) -> Any:
        result = subprocess.run(
            ["skopeo", "inspect", "--tls-verify=false", *args, f"docker://{self.remote}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def built(distribution: DistributionRegistry, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`tools/image/build.sh` (what `make image` runs), pushing to the test registry; the
    root filesystem cache is the machine's (ORK_IMAGE_CACHE or ~/.cache/orkestra)."""
    _require_tools()
    work = tmp_path_factory.mktemp("image")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REGISTRY", "IMAGE_NAME", "TLS_VERIFY", "OUT", "WORK")
    }
    env.update(
        REGISTRY=distribution.host,
        OUT=str(work / "out"),
        WORK=str(work / "work"),
        PYTHON=sys.executable,
    )
    result = subprocess.run(
        ["bash", str(BUILD)], env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    assert result.returncode == 0, f"build.sh failed:\n{result.stderr[-4000:]}"
    version = orkestra.__version__
    assert result.stdout.strip().splitlines()[-1] == f"localhost/orkestra:{version}"
    return Built(
        version, work / "out" / "oci", f"{distribution.host}/orkestra:{version}", result.stderr
    )


@dataclass
class Pulled:
    root: Path
    config: dict[str, Any]

    def run(self, *args: str, entrypoint: list[str] | None = None) -> str:
        result = oci_run.run(
            self.root, self.config, list(args), entrypoint=entrypoint, capture=True
        )
        assert result.returncode == 0, result.stderr
        return str(result.stdout)


@pytest.fixture(scope="module")
def pulled(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pulled]:
    """The image copied back from the registry (skopeo), unpacked as a runtime would."""
    work = tmp_path_factory.mktemp("pulled")
    layout = work / "oci"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            f"docker://{built.remote}",
            f"oci:{layout}:{built.version}",
        ],
        check=True,
        timeout=300,
    )
    manifest = oci_run.manifest_of(layout, built.version)
    root = work / "rootfs"
    oci_run.unpack(layout, manifest, root)
    yield Pulled(root, oci_run.config_of(layout, manifest))
    shutil.rmtree(root, ignore_errors=True)


def _commands(help_text: str) -> list[str]:
    """The command names of `ork --help`."""
    section = help_text.split("Commands:", 1)[1]
    return sorted(m.group(1) for m in re.finditer(r"^  (\S+)", section, re.MULTILINE))


def test_build_checks_ork_version_inside(built: Built) -> None:
    # build.sh ran `ork version` in the unpacked image as its user, and compared
    assert re.search(
        rf"^ork v{re.escape(built.version)} \(python 3\.11\.\d+\)$", built.log, re.MULTILINE
    ), built.log
    cache = Path(
        os.environ.get(
            "ORK_IMAGE_CACHE",
            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "orkestra",
        )
    )
    assert list(cache.glob("image-rootfs-*.tar")), "the root filesystem is cached per machine"
    assert (built.layout / "index.json").is_file()


def test_manifest_in_the_registry(built: Built) -> None:
    manifest = built.skopeo("--raw")
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    # Debian, the user, orkestra: the Debian layer is shared by every build on a machine
    layers = manifest["layers"]
    assert len(layers) == 3
    assert all(layer["mediaType"].endswith("tar+gzip") for layer in layers)
    assert layers[0]["size"] > layers[2]["size"] > layers[1]["size"]


def test_config_in_the_registry(built: Built) -> None:
    config = built.skopeo("--config", "--raw")
    assert config["architecture"] in ("amd64", "arm64")
    assert config["os"] == "linux"
    image = config["config"]
    assert image["User"] == f"{UID}:{UID}"
    assert image["Entrypoint"] == ["ork"]
    assert image["Cmd"] == ["run"]
    assert image["WorkingDir"] == "/home/ork"
    assert image["Env"][0].startswith("PATH=/opt/orkestra/bin:")
    labels = image["Labels"]
    assert labels["org.opencontainers.image.version"] == built.version
    assert labels["org.opencontainers.image.title"] == "orkestra"
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["io.orkestra.runtime-image"] == "true"
    assert re.fullmatch(r"([0-9a-f]{40}(-dirty)?)?", labels["org.opencontainers.image.revision"])
    # skopeo's summary shows the same labels
    assert built.skopeo()["Labels"]["io.orkestra.runtime-image"] == "true"


def test_pulled_image_runs_ork_version_as_non_root(pulled: Pulled, built: Built) -> None:
    said = pulled.run("version", "-o", "json")
    info = json.loads(said)
    assert info["version"] == built.version
    assert info["python"].startswith("3.11.")
    # the image's default command is `ork run`
    assert pulled.config["config"]["Cmd"] == ["run"]
    ids = pulled.run("-u", entrypoint=["/usr/bin/id"]), pulled.run("-g", entrypoint=["/usr/bin/id"])
    assert ids == (f"{UID}\n", f"{UID}\n")
    home = pulled.run("-c", "cd && pwd && touch .written && echo ok", entrypoint=["/bin/sh"])
    assert home == "/home/ork\nok\n"


def test_image_has_the_whole_cli(pulled: Pulled) -> None:
    """The wheel carries every command (`ork gateway` included, once it is registered)."""
    here = subprocess.run(
        [sys.executable, "-m", "orkestra", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert _commands(pulled.run("--help")) == _commands(here)


def test_gateway_runs_from_the_same_image(pulled: Pulled) -> None:
    here = subprocess.run(
        [sys.executable, "-m", "orkestra", "--help"], capture_output=True, text=True, check=True
    ).stdout
    if "gateway" not in _commands(here):
        pytest.skip("ork gateway is not a command of this checkout yet")
    assert "Usage: ork gateway" in pulled.run("gateway", "--help")


def test_package_data_and_bytecode(pulled: Pulled) -> None:
    """Package data (packs, schemas) made it into the wheel; bytecode is precompiled for a
    read-only root filesystem; the user cannot change the installation."""
    site = pulled.root / "opt/orkestra/lib/python3.11/site-packages/orkestra"
    suffixes = {".yaml", ".md", ".txt", ".sh", ".gz"}

    def data(top: Path) -> set[str]:
        return {
            str(p.relative_to(top))
            for p in top.rglob("*")
            if p.suffix in suffixes and "__pycache__" not in p.parts
        }

    assert data(site) == data(ROOT / "orkestra")
    assert list((site / "cli" / "__pycache__").glob("app.cpython-311.pyc"))
    for path in (site, site / "cli" / "app.py", pulled.root / "opt/orkestra/bin"):
        info = path.stat()
        assert info.st_uid == 0
        assert not info.st_mode & stat.S_IWOTH
