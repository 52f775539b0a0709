"""Install ``ork`` for the GitHub Action (action.yml's first step) and point the job at it.

Run with the runner's ``python3``; everything comes from the environment the action sets:

  ORK_SOURCE           the ``ork-version`` input: empty for the action's own checkout
                       (``GITHUB_ACTION_PATH``), else a wheel of this project (a path or an
                       http(s) URL ending in ``.whl``) or a source directory of it
  ORK_CACHE            ``true``: keep the installation in the runner's tool cache and reuse it
                       (self-hosted runners keep it from one job to the next)
  ORK_REGISTRY_URL     the ``registry-url`` input, exported as ORK_REGISTRY
  ORK_MOTIFS_URL       the ``registry-motifs-url`` input, exported as ORK_MOTIFS_REGISTRY

A wheel is installed as is; a source directory (the default) is installed editable, so
``ork build runtime`` finds the image tools of that checkout. The name ``orkestra`` on PyPI
belongs to an unrelated project: nothing is ever installed by name from an index.
``ork``'s directory goes to ``GITHUB_PATH``, the registries to ``GITHUB_ENV``.

Kept importable by Python before 3.11 so that such a runner gets a clear error, not a
syntax error.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import venv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MINIMUM = (3, 11)
MARKER = ".ork-action-complete"


class SetupError(Exception):
    """A problem the workflow's author fixes: reported as one ``::error``."""


@dataclass(frozen=True)
class Source:
    """What pip installs: a wheel (path or URL), or a source directory, editable."""

    target: str
    editable: bool

    def fingerprint(self) -> str:
        """What the installation depends on besides the Python running it."""
        if self.editable:
            project = Path(self.target) / "pyproject.toml"
            return f"editable:{self.target}:{hashlib.sha256(project.read_bytes()).hexdigest()}"
        if "://" in self.target:
            return f"url:{self.target}"
        return f"wheel:{hashlib.sha256(Path(self.target).read_bytes()).hexdigest()}"


def check_python(version: tuple[Any, ...], executable: str) -> None:
    if tuple(version[:2]) < MINIMUM:
        shown = ".".join(str(part) for part in version[:3])
        raise SetupError(
            f"ork needs Python {MINIMUM[0]}.{MINIMUM[1]} or newer; this runner's python3 is "
            f"{shown} ({executable}). Run actions/setup-python with python-version: "
            f"'{MINIMUM[0]}.{MINIMUM[1]}' (or newer) before this action.")


def parse_source(value: str, action_path: str, cwd: Path) -> Source:
    """The ``ork-version`` input: empty (the action's checkout), a wheel or a directory."""
    value = value.strip()
    if not value:
        if not action_path:
            raise SetupError("GITHUB_ACTION_PATH is not set: run this as the action's step")
        return _directory(Path(action_path), "the action's checkout")
    if value.startswith(("https://", "http://", "file://")):
        if not value.split("?", 1)[0].endswith(".whl"):
            raise SetupError(f'ork-version "{value}": a URL must name a wheel (.whl) of '
                             "this project")
        return Source(value, editable=False)
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if value.endswith(".whl"):
        if not path.is_file():
            raise SetupError(f'ork-version "{value}": no such wheel ({path})')
        return Source(str(path.resolve()), editable=False)
    if path.is_dir():
        return _directory(path, f'ork-version "{value}"')
    raise SetupError(
        f'ork-version "{value}" is neither a wheel (.whl, a path or URL) nor a source '
        "directory of this project. Versions are not installed by name: the PyPI name "
        "orkestra belongs to an unrelated project. Leave ork-version empty to install the "
        "action's own checkout.")


def _directory(path: Path, what: str) -> Source:
    if not (path / "pyproject.toml").is_file() or not (path / "orkestra").is_dir():
        raise SetupError(f"{what} ({path}) is not a source checkout of this project "
                         "(no pyproject.toml and orkestra/)")
    return Source(str(path.resolve()), editable=True)


def install_dir(source: Source, env: Mapping[str, str], *, cache: bool) -> Path:
    """The tool cache's directory for this source and Python, else one under RUNNER_TEMP."""
    tool_cache = env.get("RUNNER_TOOL_CACHE", "")
    if cache and tool_cache:
        key = hashlib.sha256("\n".join([
            source.fingerprint(), sys.version, platform.machine(), platform.system(),
        ]).encode()).hexdigest()[:20]
        return Path(tool_cache) / "orkestra-action" / key
    temp = env.get("RUNNER_TEMP") or "/tmp"
    return Path(temp) / "orkestra-action"


def install(source: Source, root: Path, *, reuse: bool) -> tuple[Path, bool]:
    """The venv's bin directory, and whether an earlier installation was reused."""
    root.parent.mkdir(parents=True, exist_ok=True)
    environment = root / "venv"
    bin_dir = environment / "bin"
    with open(root.parent / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another job of this runner may be installing it
        if reuse and (environment / MARKER).is_file() and (bin_dir / "ork").is_file():
            return bin_dir, True
        shutil.rmtree(environment, ignore_errors=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(environment)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SetupError(f"{sys.executable} cannot create a virtualenv ({exc}): install "
                             "python3-venv, or run actions/setup-python first") from None
        command = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                   "--disable-pip-version-check"]
        command += ["--editable", source.target] if source.editable else [source.target]
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            raise SetupError(f"pip could not install ork from {source.target} "
                             f"(exit {done.returncode}); see the log above")
        (environment / MARKER).write_text(source.fingerprint() + "\n")
    return bin_dir, False


def registry_env(env: Mapping[str, str]) -> list[str]:
    """``NAME=value`` lines for GITHUB_ENV: the registries the inputs name."""
    lines = []
    for variable, name in (("ORK_REGISTRY_URL", "ORK_REGISTRY"),
                           ("ORK_MOTIFS_URL", "ORK_MOTIFS_REGISTRY")):
        value = env.get(variable, "").strip()
        if not value:
            continue
        if any(c in value for c in "\r\n") or any(c.isspace() for c in value):
            raise SetupError(f"{name}: a registry is one word, e.g. ghcr.io/myorg/katalogs "
                             f'(got "{value}")')
        lines.append(f"{name}={value}")
    return lines


def append(path: str, lines: list[str]) -> None:
    if path and lines:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))


def main(env: Mapping[str, str]) -> int:
    try:
        check_python(sys.version_info, sys.executable)
        source = parse_source(env.get("ORK_SOURCE", ""), env.get("GITHUB_ACTION_PATH", ""),
                              Path.cwd())
        cache = env.get("ORK_CACHE", "true").strip().lower() == "true"
        exports = registry_env(env)
        bin_dir, reused = install(source, install_dir(source, env, cache=cache), reuse=cache)
        version = subprocess.run([str(bin_dir / "ork"), "version"], check=False,
                                 capture_output=True, text=True)
        if version.returncode != 0:
            raise SetupError(f"the installed ork does not run: {version.stderr.strip()}")
    except SetupError as exc:
        print(f"::error title=ork setup::{exc}", file=sys.stderr)
        return 1
    how = "reused from the tool cache" if reused else f"installed from {source.target}"
    print(f"{version.stdout.strip()}: {how} ({bin_dir})")
    append(env.get("GITHUB_PATH", ""), [str(bin_dir)])
    append(env.get("GITHUB_ENV", ""), exports)
    append(env.get("GITHUB_OUTPUT", ""), [f"ork={bin_dir / 'ork'}"])
    return 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
