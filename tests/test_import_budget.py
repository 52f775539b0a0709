"""What ``ork --help`` and ``ork validate`` import: a set of modules, not a timing (issue 16,
item 3; issue 15, item 5).

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
from collections.abc import Iterable
from pathlib import Path

import pytest

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
) -> None:
    stdlib = sys.stdlib_module_names
    outside = sorted(
        m
        for m in modules
        if (m.split(".")[0] == "orkestra" and m != "orkestra" and not _allowed(m, orkestra))
        or (m.split(".")[0] in HEAVY_STDLIB)
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
