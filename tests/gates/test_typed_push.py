"""Publishing a typed katalog: its hook sources travel as layers (never a file outside the
pattern directory), its annotations say what code it runs, and ``runtime_version`` is the
Orkestra version its code pins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orkestra import __version__
from orkestra.gates.pattern import HookSourceError, code_files, pinned_runtime
from orkestra.gates.push import FileChecked, Warned
from orkestra.registry.artifact import PYTHON_LAYER_TYPE, K
from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError
from tests.conftest import RegistryTarget
from tests.gates.test_push import push
from tests.hooks.patterns import database_katalog

HOOKS = '''\
"""The database hooks: a headless Service per Database."""

from typing import Any

from api.v1alpha1 import Database
from dbhooks.naming import service_name
from orkestra.hooks import HookContext, HookSet


def database_hooks() -> HookSet[Database]:
    return HookSet(on_reconcile=reconcile)


def reconcile(db: Database, ctx: HookContext) -> dict[str, Any]:
    ctx.status["engine"] = db.engine
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": service_name(db.name)},
            "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}}
'''

MODEL = '''\
"""The Database CR as the hooks see it."""

from typing import Any


class Database:
    def __init__(self, obj: dict[str, Any]) -> None:
        self.name = obj["metadata"]["name"]
        self.engine = (obj.get("spec") or {}).get("engine", "postgres")
'''

SIMULATE = """\
apiVersion: orkestra.orkspace.io/v1
kind: Simulate
metadata: {name: database-sim}
spec:
  katalog: ./katalog.yaml
  cr: ./cr.yaml
  expect:
    steady: true
    noErrors: true
    ops:
      - {cycle: 1, verb: create, resource: services, name: orders-db}
"""

CR = """\
apiVersion: rkguide.demo/v1alpha1
kind: Database
metadata: {name: orders, namespace: default}
spec: {engine: postgres}
"""

#: What a push of :func:`typed_pattern` publishes, in order.
PUBLISHED = [
    "katalog.yaml",
    "cr.yaml",
    "simulate.yaml",
    "dbhooks/__init__.py",
    "dbhooks/database.py",
    "dbhooks/naming.py",
    "dbhooks/sql/__init__.py",
    "dbhooks/sql/queries.py",
    "api/__init__.py",
    "api/v1alpha1.py",
]


def typed_pattern(directory: Path, *, block: str = "hooks") -> Path:
    """A typed katalog (``block``: hooks, or constructor), its hooks package ``dbhooks``
    (with a subpackage), its CR model ``api.v1alpha1``, and files that must stay behind."""
    files = {
        "katalog.yaml": database_katalog(block=block, resources=("Service",)),
        "cr.yaml": CR,
        "simulate.yaml": SIMULATE,
        "dbhooks/__init__.py": "",
        "dbhooks/database.py": HOOKS,
        "dbhooks/naming.py": "def service_name(name: str) -> str:\n    return f'{name}-db'\n",
        "dbhooks/sql/__init__.py": "",
        "dbhooks/sql/queries.py": "SELECT = 'select 1'\n",
        "dbhooks/sql/schema.sql": "create table t (id int);\n",
        "dbhooks/.secret.py": "TOKEN = 'do not publish'\n",
        "dbhooks/__pycache__/database.cpython-311.pyc": "stale",
        "api/__init__.py": "",
        "api/v1alpha1.py": MODEL,
        "scratch.py": "print('not named by the katalog')\n",
        "tools/release.py": "print('not named by the katalog')\n",
    }
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


@pytest.fixture
def pattern(tmp_path: Path) -> Path:
    return typed_pattern(tmp_path / "database-operator")


def test_push_publishes_the_hook_sources(pattern: Path, registry: RegistryTarget) -> None:
    result, events = push(pattern)
    assert [name for name, _ in result.files] == PUBLISHED
    assert result.simulate is not None and result.simulate.status == "passed"
    listed = [e.name for e in events.of(FileChecked)]
    assert listed[-7:] == PUBLISHED[-7:]
    assert not events.of(Warned)
    client = RegistryClient()
    manifest, _, _ = client.manifest(result.ref)
    layers = {layer.title: layer for layer in manifest.layers}
    assert list(layers) == [*PUBLISHED, "gate-report.dsse.json"]  # the signed report last
    assert {layers[n].media_type for n in PUBLISHED if n.endswith(".py")} == {PYTHON_LAYER_TYPE}
    assert client.blob(result.ref, layers["dbhooks/database.py"]) == HOOKS.encode()
    notes = manifest.annotations
    assert (notes[K + "has_hooks"], notes[K + "typed"]) == ("true", "true")
    assert K + "has_constructor" not in notes
    assert notes[K + "runtime_version"] == f"v{__version__}"


def test_pull_restores_the_sources_in_their_packages(
    pattern: Path, registry: RegistryTarget
) -> None:
    result, _ = push(pattern)
    pulled = RegistryClient().pull(result.ref)
    for name in PUBLISHED:
        assert (pulled.directory / name).read_bytes() == (pattern / name).read_bytes()
    left = [
        "scratch.py",
        "tools",
        "dbhooks/.secret.py",
        "dbhooks/__pycache__",
        "dbhooks/sql/schema.sql",
    ]
    assert not [name for name in left if (pulled.directory / name).exists()]


def test_a_constructor_is_recorded_as_such(tmp_path: Path) -> None:
    result, _ = push(typed_pattern(tmp_path / "p", block="constructor"), no_simulate=True)
    notes = RegistryClient().info(result.ref)
    assert (notes.typed.hooks, notes.typed.constructor) == (False, True)
    assert "dbhooks/database.py" in [name for name, _ in result.files]


def test_an_untyped_katalog_carries_no_code(pattern: Path) -> None:
    katalog = pattern / "katalog.yaml"
    text = katalog.read_text()
    katalog.write_text(text[: text.index("        location:")])
    (pattern / "simulate.yaml").unlink()
    (pattern / "pyproject.toml").write_text(
        '[project]\ndependencies = ["orkestra-patterns==0.0.1"]\n'
    )
    result, _ = push(pattern)
    assert [name for name, _ in result.files] == ["katalog.yaml", "cr.yaml"]
    info = RegistryClient().info(result.ref)
    assert not info.typed.any
    assert info.runtime_version == f"v{__version__}"


def test_a_module_not_beside_the_katalog_is_warned_about(pattern: Path) -> None:
    katalog = pattern / "katalog.yaml"
    katalog.write_text(
        katalog.read_text().replace("location: api.v1alpha1", "location: installed.api")
    )
    result, events = push(pattern, no_simulate=True)
    assert [e.text for e in events.of(Warned)] == [
        'Python module "installed.api" is not beside katalog.yaml: not published (the '
        "runtime image must install it)"
    ]
    assert result.warnings == [events.of(Warned)[0].text]
    assert "api/v1alpha1.py" not in [name for name, _ in result.files]


@pytest.mark.parametrize(
    "module", ["../escape", "/etc/passwd", "..", "dbhooks/../..", "github.com/myorg/dbhooks"]
)
def test_module_paths_never_reach_outside(tmp_path: Path, module: str) -> None:
    pattern = typed_pattern(tmp_path / "p")
    (tmp_path / "escape.py").write_text("SECRET = 1\n")
    found = code_files(pattern, [module])
    assert found.missing == (module,)
    assert found.files == ()


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("TOKEN = 'outside'\n")
    return outside


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("dbhooks/secret.py", "secret.py"),
        ("dbhooks/vendored", "."),
        ("pyproject.toml", "secret.py"),
    ],
)
def test_symlinks_out_of_the_pattern_are_refused(
    pattern: Path, tmp_path: Path, link: str, target: str
) -> None:
    outside = _outside(tmp_path)
    (pattern / link).symlink_to(outside / target)
    with pytest.raises(HookSourceError) as caught:
        push(pattern)
    assert caught.value.message == (
        f"{link} is a symlink to {(outside / target).resolve()}, "
        f"outside the pattern directory {pattern}; it is not "
        "published"
    )
    assert "copy the file into the pattern directory" in caught.value.hint
    with pytest.raises(ArtifactNotFoundError):
        RegistryClient().info(RegistryClient().resolve("database-operator:v1.0.0"))


def test_a_symlinked_package_out_of_the_pattern_is_refused(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    pattern = tmp_path / "p"
    pattern.mkdir()
    (pattern / "dbhooks").symlink_to(outside)
    with pytest.raises(HookSourceError, match=r"^dbhooks is a symlink to"):
        code_files(pattern, ["dbhooks.database"])


def test_symlinks_inside_the_pattern_are_followed_once(pattern: Path) -> None:
    (pattern / "dbhooks" / "aliases.py").symlink_to(pattern / "dbhooks" / "naming.py")
    (pattern / "dbhooks" / "loop").symlink_to(pattern / "dbhooks")
    found = code_files(pattern, ["dbhooks.database"])
    names = [f.name for f in found.files]
    assert names == [
        "dbhooks/__init__.py",
        "dbhooks/aliases.py",
        "dbhooks/database.py",
        "dbhooks/naming.py",
        "dbhooks/sql/__init__.py",
        "dbhooks/sql/queries.py",
    ]
    assert found.files[1].data == (pattern / "dbhooks" / "naming.py").read_bytes()


def test_a_single_module_and_the_requirements_travel(tmp_path: Path) -> None:
    pattern = tmp_path / "p"
    pattern.mkdir()
    (pattern / "hooks.py").write_text("X = 1\n")
    (pattern / "requirements.txt").write_text("orkestra-patterns==0.0.3\n")
    found = code_files(pattern, ["hooks", "hooks"])
    assert [(f.name, f.media_type) for f in found.files] == [
        ("requirements.txt", "text/plain"),
        ("hooks.py", PYTHON_LAYER_TYPE),
    ]


@pytest.mark.parametrize(
    ("pyproject", "requirements", "pinned"),
    [
        ('dependencies = ["orkestra-patterns>=0.0.7"]', "", "v0.0.7"),
        ('dependencies = ["orkestra-patterns==0.2.0", "pydantic>=2"]', "", "v0.2.0"),
        (
            "dependencies = [\"Orkestra_Patterns[hooks] ~= 0.3.1 ; python_version >= '3.11'\"]",
            "",
            "v0.3.1",
        ),
        ('dependencies = ["orkestra-patterns>=0.1,<0.2,==0.1.5"]', "", "v0.1.5"),
        ('dependencies = ["orkestra-patterns==0.4.*"]', "", "v0.4"),
        ('dependencies = ["orkestra-patterns<1"]', "orkestra-patterns==0.0.2", "v0.0.2"),
        ('dependencies = ["orkestrator==9.9.9"]', "", None),
        ('dependencies = ["orkestra==9.9.9"]', "", None),  # PyPI's orkestra: another project
        (
            'name = "x"',
            "# pins\n-r base.txt\n--index-url https://x\nnot a requirement !\n"
            "orkestra-patterns == 0.5.0  # the runtime\n",
            "v0.5.0",
        ),
        (
            "",
            "orkestra-patterns\norkestra-patterns @ git+https://example.com/o#egg=orkestra-patterns\n",
            None,
        ),
    ],
)
def test_pinned_runtime(
    tmp_path: Path, pyproject: str, requirements: str, pinned: str | None
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[project]\n{pyproject}\n")
    if requirements:
        (tmp_path / "requirements.txt").write_text(requirements)
    assert pinned_runtime(tmp_path) == pinned


def test_pinned_runtime_without_files_or_project(tmp_path: Path) -> None:
    assert pinned_runtime(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('project = "odd"\n')
    assert pinned_runtime(tmp_path) is None


def test_the_pin_is_the_runtime_version(pattern: Path) -> None:
    (pattern / "pyproject.toml").write_text(
        '[project]\nname = "dbhooks"\ndependencies = ["orkestra-patterns>=0.0.7", "pydantic"]\n'
    )
    result, _ = push(pattern)
    assert "pyproject.toml" in [name for name, _ in result.files]
    assert RegistryClient().info(result.ref).runtime_version == "v0.0.7"


def test_a_broken_pyproject_blocks_the_push(pattern: Path) -> None:
    (pattern / "pyproject.toml").write_text("[project\n")
    with pytest.raises(HookSourceError) as caught:
        push(pattern)
    assert caught.value.message.startswith("pyproject.toml: not valid TOML (")
    assert "requirements.txt" in caught.value.hint
    with pytest.raises(ArtifactNotFoundError):
        RegistryClient().info(RegistryClient().resolve("database-operator:v1.0.0"))


def test_unreadable_package_entries_are_not_published(pattern: Path) -> None:
    (pattern / "dbhooks" / "dangling.py").symlink_to(pattern / "missing.py")
    os.mkfifo(pattern / "dbhooks" / "pipe.py")
    names = [f.name for f in code_files(pattern, ["dbhooks"]).files]
    assert "dbhooks/dangling.py" not in names and "dbhooks/pipe.py" not in names
