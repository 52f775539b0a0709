"""What ``ork --help``, ``ork validate``, ``ork pull`` and ``ork push`` import: a set of
modules, not a timing (issue 16, items 3 and 4; issue 15, item 5).

Each command runs in a fresh interpreter under ``-X importtime``. The modules it leaves in
``sys.modules`` (less those of a bare interpreter) must be within the allow-lists below: the
third-party packages, the Orkestra packages or modules, and none of the heavy standard
library packages. A module outside them fails the test naming the chain of modules that
imported it, so a regression (say the engine, asyncio or httpx behind ``ork validate``)
points at the import to make lazy.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.registry.server import DistributionRegistry

# Runs ``ork ARGS`` and writes sys.modules at exit; imports nothing but sys itself.
_DRIVER = """
import atexit, sys
_out = sys.argv.pop(1)

def _dump():
    with open(_out, "w") as handle:
        handle.write("\\n".join(sorted(sys.modules)))

atexit.register(_dump)
from orkestra.cli import main
sys.exit(main(sys.argv[1:]))
"""

# An entry allows that module and its submodules ("orkestra.compose"), and the packages
# above it ("orkestra.hooks.spec" allows the package orkestra.hooks, not its runner).
HELP_THIRD_PARTY = {"click"}
HELP_ORKESTRA = {
    "orkestra.cli.app",
    "orkestra.cli.groups",
    "orkestra.cli.output",
    "orkestra.errors",
}
VALIDATE_THIRD_PARTY = {"click", "yaml", "re2"}
VALIDATE_ORKESTRA = {
    "orkestra.cli.app",
    "orkestra.cli.ci",
    "orkestra.cli.deprecation",
    "orkestra.cli.files",
    "orkestra.cli.groups",
    "orkestra.cli.output",
    "orkestra.cli.params",
    "orkestra.cli.validate",
    "orkestra.gates.validate",  # not the push gate
    "orkestra.e2e.spec",  # e2e.yaml is read, no cluster is run
    "orkestra.compose",
    "orkestra.model",
    "orkestra.template",
    "orkestra.hooks.spec",  # what a CRD says about its code; no code is loaded
    "orkestra.cluster.data",
    "orkestra.cluster.openapi",  # a CRD file's schema is checked
    "orkestra.errors",
    "orkestra.files",
    "orkestra.kubeobjects",  # JSON and Kubernetes shapes: TypedDicts, imports only typing
    "orkestra.lazy",  # the packages' lazy re-exports
    "orkestra.limits",
    "orkestra.markdown",
    "orkestra.regex",
    "orkestra.units",
}
PULL_THIRD_PARTY = {"click"}
PULL_ORKESTRA = {
    "orkestra.cli.app",
    "orkestra.cli.completion",
    "orkestra.cli.groups",
    "orkestra.cli.output",
    "orkestra.cli.params",
    "orkestra.cli.pull",
    "orkestra.cli.refs",
    "orkestra.errors",
    "orkestra.files",
    "orkestra.units",
    "orkestra.lazy",
    "orkestra.transport",  # HTTP/1.1 to the registry
    # The client, the artifact read back and verified, the cache, the HTTP backend and its
    # auth: not the index, the push records, semantic versions, signing or pattern models.
    "orkestra.registry.artifact",
    "orkestra.registry.auth",
    "orkestra.registry.backend",
    "orkestra.registry.cache",
    "orkestra.registry.client",
    "orkestra.registry.errors",
    "orkestra.registry.info",
    "orkestra.registry.oci",
    "orkestra.registry.refs",
    "orkestra.registry.remote",
    "orkestra.registry.retry",
}
# Standard library packages neither command needs (each costs milliseconds to import).
HEAVY_STDLIB = {
    "asyncio",
    "concurrent",
    "difflib",
    "email",
    "hashlib",
    "http",
    "json",
    "logging",
    "multiprocessing",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "tarfile",
    "xml",
    "zipfile",
}
# What a pull needs of those: digests, manifests, the registry's socket; and difflib, which
# click loads for ``-o DIR`` (tried as a long option first: the error it then catches, before
# trying the short one, asks difflib for close matches).
PULL_STDLIB = {"hashlib", "json", "socket", "difflib"}
PULL_HEAVY_STDLIB = (HEAVY_STDLIB - PULL_STDLIB) | {"tomllib", "urllib.request"}


def _allowed(module: str, entries: Iterable[str]) -> bool:
    return any(
        module == e or module.startswith(e + ".") or e.startswith(module + ".") for e in entries
    )


def _importers(importtime: str) -> dict[str, str]:
    """Each module's importer, from ``-X importtime``'s tree: a line's parent is the next
    line indented less ("" for a module imported at run time, outside any import)."""
    rows = []
    for line in importtime.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            name = line.split("|")[2]
            rows.append((name.strip(), len(name) - len(name.lstrip())))
    parents: dict[str, str] = {}
    for i, (name, depth) in enumerate(rows):
        parent = next((n for n, d in rows[i + 1 :] if d < depth), "")
        parents.setdefault(name, parent)
    return parents


def _chain(module: str, parents: dict[str, str]) -> str:
    chain = [module]
    while parents.get(chain[-1]) and len(chain) < 30:
        chain.append(parents[chain[-1]])
    return " <- ".join(chain) + ("" if len(chain) > 1 else " (imported at run time)")


def _imports(args: list[str], cwd: Path, tmp_path: Path) -> tuple[set[str], dict[str, str]]:
    """The modules ``ork ARGS`` imports beyond a bare interpreter's, and their importers
    (modules an extension registers itself, such as Cython's runtime, are not imports)."""
    dump = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _DRIVER, str(dump), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    bare = subprocess.run(
        [sys.executable, "-c", "import sys; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    parents = _importers(done.stderr)
    return set(dump.read_text().split()).intersection(parents) - set(bare), parents


def _check(
    command: str,
    modules: set[str],
    parents: dict[str, str],
    third_party: set[str],
    orkestra: set[str],
    heavy: set[str] = HEAVY_STDLIB,
) -> None:
    stdlib = sys.stdlib_module_names
    outside = sorted(
        m
        for m in modules
        if (m.split(".")[0] == "orkestra" and m != "orkestra" and not _allowed(m, orkestra))
        or (m.split(".")[0] in heavy or m in heavy)
        or (
            m.split(".")[0] not in stdlib
            and m.split(".")[0] != "orkestra"
            and m.split(".")[0] not in third_party
        )
    )
    # A package's own submodules add nothing to the message: name the first one.
    firsts = [m for m in outside if not any(m.startswith(o + ".") for o in outside)]
    assert not firsts, (
        f"`ork {command}` imports modules outside its allow-list:\n"
        + "\n".join(f"  {_chain(m, parents)}" for m in firsts)
        + (
            "\nimport them where they are used (a function-level import, or a TYPE_CHECKING "
            "import for a type), or allow them in tests/test_import_budget.py with the reason"
        )
    )


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from orkestra.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["init", "--pack", "registry-guide"]) == 0
    return tmp_path / "registry-guide"


def test_help_imports_only_the_command_line(tmp_path: Path) -> None:
    modules, parents = _imports(["--help"], tmp_path, tmp_path)
    _check("--help", modules, parents, HELP_THIRD_PARTY, HELP_ORKESTRA)


def test_validate_imports_no_engine_registry_or_runtime(pack: Path, tmp_path: Path) -> None:
    modules, parents = _imports(["validate"], pack / "02-katalog-api", tmp_path)
    assert "orkestra.e2e.spec" in modules  # the example's e2e.yaml was checked
    _check("validate", modules, parents, VALIDATE_THIRD_PARTY, VALIDATE_ORKESTRA)


def test_the_budget_names_who_imported_a_module_outside_it(tmp_path: Path) -> None:
    """The check itself: a module outside the allow-list fails with its import chain."""
    modules, parents = _imports(["--help"], tmp_path, tmp_path)
    with pytest.raises(AssertionError) as failed:
        _check("--help", modules, parents, set(), HELP_ORKESTRA)
    assert "click <- orkestra.cli.app <- orkestra.cli" in str(failed.value)


def test_push_imports_no_gate_machinery_until_a_gate_runs(tmp_path: Path) -> None:
    """``ork push`` loads the simulator, the e2e runner and ``packaging`` (typed katalogs'
    requirements) only where a gate or a typed katalog needs them: ``--force`` pays for
    neither. ``--help`` imports the command module, so this is what every push pays."""
    modules, parents = _imports(["push", "--help"], tmp_path, tmp_path)
    gate_only = ("orkestra.simulate.", "orkestra.e2e.", "orkestra.engine.", "packaging.")
    loaded = sorted(m for m in modules if (m + ".").startswith(gate_only))
    assert not loaded, "\n".join(_chain(m, parents) for m in loaded)


@pytest.fixture
def published(distribution: DistributionRegistry, pack_copy: Path) -> tuple[str, Path]:
    """A motif pushed (gates skipped) to docker-registry on 127.0.0.1: its registry base
    (``ORK_MOTIFS_REGISTRY``) and the pack it came from. Pulls and pushes talk HTTP, as in
    the benchmark."""
    from orkestra.gates.push import PushOptions, publish

    motifs = f"{distribution.host}/b{uuid.uuid4().hex[:10]}/motifs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORK_MOTIFS_REGISTRY", motifs)
        publish(
            pack_copy / "01-motifs" / "web-service", None, PushOptions(force=True), lambda _: None
        )
    return motifs, pack_copy


@pytest.mark.integration
def test_pull_imports_the_client_and_the_http_backend_only(
    published: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ork pull --refresh -o DIR``, the command ``benchmarks.push`` times: the pattern is
    downloaded (its blobs side by side, on plain threads), verified and cached."""
    monkeypatch.setenv("ORK_MOTIFS_REGISTRY", published[0])
    out = tmp_path / "out"
    args = ["pull", "web-service:v1.0.0", "--motif", "--refresh", "-o", str(out)]
    modules, parents = _imports(args, tmp_path, tmp_path)
    assert (out / "motif.yaml").is_file()
    assert {"orkestra.registry.remote", "threading"} <= modules  # HTTP, blobs side by side
    _check("pull", modules, parents, PULL_THIRD_PARTY, PULL_ORKESTRA, PULL_HEAVY_STDLIB)


@pytest.mark.integration
def test_push_force_imports_no_serialization_pool_toml_or_report_machinery(
    published: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ork push --force`` signs (Ed25519 only: not cryptography's serialization package,
    with its OpenSSH, RSA and cipher modules), uploads side by side on plain threads (not a
    ``concurrent.futures`` pool, which brings ``logging``), reads no ``pyproject.toml``
    (``tomllib``: typed katalogs only) and, without ``--report-file``, writes no Markdown."""
    motifs, pack = published
    monkeypatch.setenv("ORK_MOTIFS_REGISTRY", motifs + "-again")
    directory = pack / "01-motifs" / "web-service"
    modules, parents = _imports(["push", "--force", str(directory)], tmp_path, tmp_path)
    assert "cryptography.hazmat.primitives.asymmetric.ed25519" in modules  # it did sign
    unwanted = (
        "cryptography.hazmat.primitives.serialization.",
        "concurrent.",
        "logging.",
        "tomllib.",
        "html.",
    )
    loaded = sorted(m for m in modules if (m + ".").startswith(unwanted))
    assert not loaded, "\n".join(_chain(m, parents) for m in loaded)
