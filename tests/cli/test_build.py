"""``ork build runtime`` without buildah: which code and requirements go into the image
(:mod:`orkestra.runtime.hookcode`), the image name, the base, the host checks, and the
command's output. The build itself is tests/image/test_custom_image.py (slow)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from orkestra import __version__
from orkestra.cli import main
from orkestra.errors import UsageError
from orkestra.registry.cache import MANIFEST_FILE
from orkestra.runtime import image
from orkestra.runtime.hookcode import (
    HookCodeError,
    Requirements,
    collect,
    filtered_requirements,
    provided,
    requirement_lines,
)
from orkestra.runtime.image import (
    BuildOptions,
    Built,
    ImageTag,
    RuntimeImageError,
    Tools,
    base_reference,
    build_runtime_image,
    check_host,
    labels,
)
from tests.conftest import WriteFiles
from tests.hooks.patterns import database_katalog

CONFIG_MAP = {
    "onReconcile": {
        "configMaps": [
            {"name": "{{ .metadata.name }}-config", "data": {"engine": "{{ .spec.engine }}"}}
        ]
    }
}
HOOKS = """
from orkestra.hooks import HookSet

def database_hooks():
    return HookSet(on_reconcile=lambda cr, ctx: None)
"""
PLAIN = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: plain
  version: 1.0.0
spec:
  crds:
    web:
      apiTypes: {group: demo.io, version: v1, kind: Web, plural: webs}
      operatorBox:
        onReconcile:
          configMaps:
            - name: '{{ .metadata.name }}'
"""


def typed(
    write: WriteFiles, *, hooks: str = "dbhooks.database", model: str = "api.v1alpha1", **files: str
) -> Path:
    """A typed pattern: dbhooks/ and api/ beside the katalog (written into the cwd)."""
    root = write(
        **{
            "katalog.yaml": database_katalog(
                hooks=hooks, model=model, version="1.0.0", reconcile=CONFIG_MAP
            ),
            "dbhooks__database.py": HOOKS,
            "api__v1alpha1.py": "class Database:\n    pass\n",
            **files,
        }
    )
    for package in ("dbhooks", "api"):
        (root / package / "__init__.py").write_text("")
    return root


# -- what goes in ---------------------------------------------------------------------------


def test_collects_the_packages_of_hooks_and_model(write: WriteFiles) -> None:
    root = typed(write)
    code = collect(root)
    assert code.modules == ("api.v1alpha1", "dbhooks.database")
    assert [(p.name, p.source) for p in code.packages] == [
        ("api", (root / "api").resolve()),
        ("dbhooks", (root / "dbhooks").resolve()),
    ]
    assert code.installed == ()
    assert code.requirements.empty
    assert (code.kind, code.name, code.version) == ("Katalog", "database-operator", "1.0.0")
    assert code.entries == {
        "database": {
            "apiTypes": {
                "group": "rkguide.demo",
                "version": "v1alpha1",
                "kind": "Database",
                "plural": "databases",
                "location": "api.v1alpha1",
                "object": "Database",
            },
            "operatorBox": {
                "reconcile": {"hooks": {"module": "dbhooks.database", "function": "database_hooks"}}
            },
        }
    }


def test_a_single_file_module_and_a_komposer_first(write: WriteFiles) -> None:
    root = typed(write, hooks="dbhooks", model="models", **{"models.py": "class Database: ...\n"})
    (root / "dbhooks" / "__init__.py").write_text(HOOKS)
    code = collect(root)
    assert code.modules == ("dbhooks", "models")
    assert [(p.name, p.source.name) for p in code.packages] == [
        ("dbhooks", "dbhooks"),
        ("models", "models.py"),
    ]


def test_requirements_and_pyproject_dependencies(write: WriteFiles) -> None:
    root = typed(
        write,
        **{
            "requirements.txt": "# the model\npydantic>=2  # v2 API\n\norkestra-patterns==0.1.0\n"
            "httpx==0.27.0 \\\n    --hash=sha256:abc\n--extra-index-url x\n",
            "pyproject.toml": '[project]\nname = "db"\ndependencies = ["Orkestra_Patterns>=0.1", '
            '"tenacity>=8", "pydantic>=2"]\n',
        },
    )
    code = collect(root)
    assert code.requirements.files == (root.resolve() / "requirements.txt",)
    assert code.requirements.dependencies == ("tenacity>=8", "pydantic>=2")
    assert code.requirements.lines() == [
        "pydantic>=2",
        "httpx==0.27.0 --hash=sha256:abc",
        "tenacity>=8",
    ]
    # what pip gets: this project left out (the base image has it), options kept
    assert filtered_requirements(root / "requirements.txt") == (
        "pydantic>=2\nhttpx==0.27.0 --hash=sha256:abc\n--extra-index-url x\n"
    )


@pytest.mark.parametrize(
    ("line", "is_orkestra"),
    [
        ("orkestra-patterns", True),
        ("orkestra_patterns==0.1.0", True),
        ("Orkestra.Patterns[dev] >= 0.1", True),
        ("orkestra-patterns_", False),
        ("orkestra", False),  # PyPI's orkestra is an unrelated project, not this one
        ("orkestra-patterns-hooks", False),
        ("pydantic", False),
        ("-r x.txt", False),
    ],
)
def test_orkestra_is_provided_by_the_base(line: str, is_orkestra: bool) -> None:
    assert provided(line) is is_orkestra


def test_requirement_lines(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("a==1 # pinned\n#whole line\n  \nb \\\n  >=2\nurl#egg=c\n")
    assert requirement_lines(path) == ["a==1", "b >=2", "url#egg=c"]


def test_a_module_from_the_requirements(write: WriteFiles) -> None:
    root = typed(write, hooks="dbhooks.database", model="dbmodels.v1")
    with pytest.raises(HookCodeError) as error:
        collect(root)
    assert error.value.message == (
        "dbmodels: not beside the katalog and no requirements.txt "
        "or pyproject.toml to install it from"
    )
    assert "requirements.txt" in error.value.hint
    (root / "requirements.txt").write_text("dbmodels==1.0\n")
    code = collect(root)
    assert code.installed == ("dbmodels",)
    assert code.package_names == ["dbhooks"]


def test_a_missing_module_of_a_present_package(write: WriteFiles) -> None:
    root = typed(write, hooks="dbhooks.databse")
    with pytest.raises(HookCodeError) as error:
        collect(root)
    assert error.value.message.startswith(
        f'CRD database: module "dbhooks.databse" not found in {(root / "dbhooks").resolve()}'
    )
    assert "relative to the katalog's directory" in error.value.hint


def test_a_pulled_pattern_needs_trust(write: WriteFiles) -> None:
    root = typed(write)
    (root / MANIFEST_FILE).write_text("{}")
    with pytest.raises(HookCodeError, match="pulled from a registry") as error:
        collect(root)
    assert "--trust-hooks" in error.value.hint
    assert collect(root, trust_hooks=True).package_names == ["api", "dbhooks"]


def test_a_pattern_without_code(write: WriteFiles) -> None:
    root = write(**{"katalog.yaml": PLAIN})
    with pytest.raises(HookCodeError, match="names hooks or a CR model") as error:
        collect(root)
    assert "project's runtime image" in error.value.hint


def test_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(HookCodeError, match=r"no komposer\.yaml or katalog\.yaml"):
        collect(tmp_path)
    with pytest.raises(HookCodeError, match="is not a directory"):
        collect(tmp_path / "missing")


def test_bad_pyproject(write: WriteFiles) -> None:
    root = typed(write, **{"pyproject.toml": "[project\n"})
    with pytest.raises(HookCodeError, match=r"pyproject\.toml: not valid TOML"):
        collect(root)


def test_context_holds_the_packages_without_bytecode(write: WriteFiles, tmp_path: Path) -> None:
    root = typed(write, **{"dbhooks__.hidden": "x", "dbhooks__sub__mod.py": "X = 1\n"})
    (root / "dbhooks" / "__pycache__").mkdir()
    (root / "dbhooks" / "__pycache__" / "database.cpython-311.pyc").write_text("x")
    context = image._context(collect(root), tmp_path / "work", print)
    assert sorted(str(p.relative_to(context)) for p in context.rglob("*")) == [
        "hooks",
        "hooks/api",
        "hooks/api/__init__.py",
        "hooks/api/v1alpha1.py",
        "hooks/dbhooks",
        "hooks/dbhooks/__init__.py",
        "hooks/dbhooks/database.py",
        "hooks/dbhooks/sub",
        "hooks/dbhooks/sub/mod.py",
    ]


# -- the image's name and base --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "repository", "tag", "host", "plain"),
    [
        (
            "ghcr.io/myorg/database-operator:v1.0.0",
            "ghcr.io/myorg/database-operator",
            "v1.0.0",
            "ghcr.io",
            False,
        ),
        (
            "127.0.0.1:5000/database-operator:dev",
            "127.0.0.1:5000/database-operator",
            "dev",
            "127.0.0.1:5000",
            True,
        ),
        ("localhost/db:1", "localhost/db", "1", "localhost", True),
        ("myorg/db:latest", "myorg/db", "latest", None, False),
    ],
)
def test_image_tags(text: str, repository: str, tag: str, host: str | None, plain: bool) -> None:
    parsed = ImageTag.parse(text)
    assert (parsed.repository, parsed.tag, parsed.host, parsed.plain_http) == (
        repository,
        tag,
        host,
        plain,
    )
    assert str(parsed) == text


@pytest.mark.parametrize(
    "text",
    [
        "ghcr.io/myorg/db",
        "db",
        "ghcr.io/MyOrg/db:v1",
        "db:v1:x",
        "ghcr.io/db@sha256:" + "a" * 64,
        ":v1",
        "db:-v1",
    ],
)
def test_bad_image_tags(text: str) -> None:
    with pytest.raises(UsageError) as error:
        ImageTag.parse(text)
    assert error.value.exit_code == 2
    assert "--tag ghcr.io/myorg/database-operator:v1.0.0" in error.value.hint


def _layout(directory: Path, tag: str) -> Path:
    """A minimal OCI layout: one manifest, whose config digest is the image id."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (blobs / "m1").write_text(json.dumps({"config": {"digest": "sha256:c0ffee"}}))
    (directory / "index.json").write_text(
        json.dumps({"manifests": [{"digest": "sha256:m1", "annotations": {image.REF_NAME: tag}}]})
    )
    return directory


def test_base_references(tmp_path: Path) -> None:
    tools = Tools(tmp_path)
    assert base_reference(None, tools) == f"oci:{tmp_path}/dist/image/oci:{__version__}"
    layout = _layout(tmp_path / "base", "0.1.0")
    assert base_reference(f"{layout}:0.1.0", tools) == f"oci:{layout.resolve()}:0.1.0"
    assert base_reference(str(layout), tools) == f"oci:{layout.resolve()}"
    assert base_reference("oci:/x:1", tools) == "oci:/x:1"
    assert (
        base_reference("ghcr.io/orkspace/orkestra:0.1.0", tools)
        == "docker://ghcr.io/orkspace/orkestra:0.1.0"
    )
    assert image._layout_image_id(f"oci:{layout}:0.1.0") == "c0ffee"
    assert image._layout_image_id(f"oci:{layout}") == "c0ffee"
    assert image._layout_image_id(f"oci:{layout}:other") is None


def _checkout(root: Path, script: str) -> Tools:
    (root / "tools" / "image").mkdir(parents=True)
    (root / "tools" / "image" / "build.sh").write_text(script)
    (root / "tools" / "image" / "oci_run.py").write_text("")
    return Tools.find(root)


def test_the_default_base_is_built_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image, "check_host", lambda *programs: None)
    tools = _checkout(
        tmp_path,
        f"""
echo "image: built with $PYTHON" >&2
mkdir -p "$OUT/oci/blobs/sha256"
echo '{{"manifests": [{{"digest": "sha256:m1", "annotations":
  {{"{image.REF_NAME}": "{__version__}"}}}}]}}' >"$OUT/oci/index.json"
""",
    )
    said: list[str] = []
    options = BuildOptions(tag=ImageTag.parse("db/op:1"))
    assert (
        image._ensure_base(options, tools, said.append)
        == f"oci:{tmp_path}/dist/image/oci:{__version__}"
    )
    assert said[-1].startswith("image: built with ")
    assert (tmp_path / "dist" / "image" / "oci" / "index.json").is_file()
    # there now: not built again, unless asked
    said.clear()
    image._ensure_base(options, tools, said.append)
    assert said == []
    image._ensure_base(BuildOptions(tag=options.tag, rebuild_base=True), tools, said.append)
    assert said[-1].startswith("image: built with ")
    # another base is never built
    said.clear()
    assert (
        image._ensure_base(BuildOptions(tag=options.tag, base="ghcr.io/o/r:1"), tools, said.append)
        == "docker://ghcr.io/o/r:1"
    )
    assert said == []


def test_a_failing_base_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image, "check_host", lambda *programs: None)
    tools = _checkout(tmp_path, "echo 'image: error: no debootstrap' >&2; exit 1\n")
    said: list[str] = []
    with pytest.raises(RuntimeImageError, match=r"build\.sh failed") as error:
        image._ensure_base(BuildOptions(tag=ImageTag.parse("db/op:1")), tools, said.append)
    assert error.value.hint == "apt-get install buildah debootstrap"
    assert said[-1] == "image: error: no debootstrap"


def test_tools_come_from_a_checkout(tmp_path: Path) -> None:
    assert Tools.find().oci_run.is_file()  # this checkout
    with pytest.raises(RuntimeImageError, match="no tools/image in") as error:
        Tools.find(tmp_path)
    assert "pip install -e" in error.value.hint


def test_labels(write: WriteFiles) -> None:
    code = collect(typed(write))
    assert labels(code, "oci:/b:1") == {
        "io.orkestra.runtime-image": "true",
        "io.orkestra.hooks": "api.v1alpha1,dbhooks.database",
        "io.orkestra.katalog.name": "database-operator",
        "io.orkestra.katalog.version": "1.0.0",
        "org.opencontainers.image.base.name": "oci:/b:1",
    }


# -- the host -------------------------------------------------------------------------------


def test_buildah_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeImageError, match="buildah and debootstrap not installed") as e:
        check_host("buildah", "debootstrap")
    assert e.value.hint == "apt-get install buildah debootstrap"


def test_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(image.os, "geteuid", lambda: 1000)
    with pytest.raises(RuntimeImageError, match="must run as root"):
        check_host("buildah")


# -- the command ----------------------------------------------------------------------------


def test_command_fails_cleanly_without_buildah(
    write: WriteFiles, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed(write)
    monkeypatch.setattr(image.shutil, "which", lambda name: None)
    assert main(["build", "runtime", "--tag", "ghcr.io/myorg/db:v1"]) == 1
    assert capsys.readouterr().err == (
        "buildah not installed: ork build runtime builds with buildah (no Docker engine)\n"
        "  hint: apt-get install buildah debootstrap\n"
    )


def test_command_usage_errors(
    write: WriteFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typed(write)
    assert main(["build", "runtime"]) == 2
    assert "Missing option '-t' / '--tag'" in capsys.readouterr().err
    assert main(["build", "runtime", "--tag", "ghcr.io/myorg/db"]) == 2
    assert "the image needs a tag" in capsys.readouterr().err
    assert main(["build", "runtime", str(tmp_path / "nowhere"), "--tag", "db/op:1"]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["build", "runtime", str(tmp_path / "empty"), "--tag", "db/op:1"]) == 1
    assert "no komposer.yaml or katalog.yaml in" in capsys.readouterr().err


def _built(code: Any, options: BuildOptions, log: Any, tools: Any = None) -> Built:
    log("buildah from somewhere")
    return Built(
        image=str(options.tag),
        base="oci:/base:0.1.0",
        layout="/cache/layout:v1",
        digest="sha256:" + "d" * 64,
        labels=labels(code, "oci:/base:0.1.0"),
        pushed=options.push,
        seconds=42.0,
    )


def test_command_output(
    write: WriteFiles, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = typed(write, **{"requirements.txt": "pydantic>=2\n"})
    seen: list[BuildOptions] = []
    monkeypatch.setattr(
        "orkestra.cli.build.build_runtime_image",
        lambda code, options, log: seen.append(options) or _built(code, options, log),
    )
    assert (
        main(
            [
                "build",
                "runtime",
                "--tag",
                "127.0.0.1:5000/db:v1",
                "--push",
                "--no-tls-verify",
                "--base",
                "ghcr.io/o/r:1",
            ]
        )
        == 0
    )
    assert seen == [
        BuildOptions(
            tag=ImageTag("127.0.0.1:5000/db", "v1"),
            base="ghcr.io/o/r:1",
            rebuild_base=False,
            layout=None,
            push=True,
            tls_verify=False,
        )
    ]
    captured = capsys.readouterr()
    assert captured.err == "buildah from somewhere\n"
    assert captured.out.splitlines() == [
        "✓ Built 127.0.0.1:5000/db:v1 in 42s (katalog database-operator 1.0.0)",
        "  From:     oci:/base:0.1.0",
        "  Hooks:    api.v1alpha1, dbhooks.database (loaded inside the image)",
        "  Packages: api, dbhooks in /opt/orkestra/hooks",
        "  Requires: pydantic>=2",
        "  Layout:   /cache/layout:v1",
        f"  ✓ Pushed 127.0.0.1:5000/db:v1@sha256:{'d' * 64}",
        "",
        "Run it with the chart:",
        "  --set runtime.image.repository=127.0.0.1:5000/db --set runtime.image.tag=v1",
    ]
    assert main(["build", "runtime", str(root), "-t", "db/op:1", "-o", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["image"] == "db/op:1"
    assert result["pushed"] is False
    assert result["modules"] == ["api.v1alpha1", "dbhooks.database"]
    assert result["packages"] == [
        {"name": "api", "source": str((root / "api").resolve())},
        {"name": "dbhooks", "source": str((root / "dbhooks").resolve())},
    ]
    assert result["requirements"] == ["pydantic>=2"]
    assert result["labels"]["io.orkestra.hooks"] == "api.v1alpha1,dbhooks.database"
    assert result["pattern"]["name"] == "database-operator"


def test_build_checks_the_host_before_anything(
    write: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = collect(typed(write))
    monkeypatch.setattr(image.os, "geteuid", lambda: os.getuid() + 1)
    monkeypatch.setattr(image.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(image, "_ensure_base", lambda *a: pytest.fail("built a base"))
    with pytest.raises(RuntimeImageError, match="must run as root"):
        build_runtime_image(code, BuildOptions(tag=ImageTag.parse("db/op:1")), print)


def test_requirements_value() -> None:
    assert Requirements().empty
    assert not Requirements(dependencies=("a",)).empty


def test_buildah_without_docker_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$DOCKER_CONFIG without config.json (no credentials) would make buildah refuse."""
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    buildah = image._Buildah(tmp_path)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    auth = Path(buildah.env()["REGISTRY_AUTH_FILE"])
    assert json.loads(auth.read_text()) == {}
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text("{}")
    assert "REGISTRY_AUTH_FILE" not in buildah.env()


def test_buildah_from_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buildah = image._Buildah(tmp_path)
    assert buildah.source("docker://ghcr.io/o/r:1") == [
        "--tls-verify=true",
        "docker://ghcr.io/o/r:1",
    ]
    assert buildah.source("docker://127.0.0.1:5000/o/r:1") == [
        "--tls-verify=false",
        "docker://127.0.0.1:5000/o/r:1",
    ]
    assert buildah.source("docker://ghcr.io/o/r:1", False)[0] == "--tls-verify=false"
    layout = _layout(tmp_path / "base", "0.1.0")
    stored: list[str] = []
    monkeypatch.setattr(
        image._Buildah,
        "__call__",
        lambda self, *args, check=True: "x" if args[-1] in stored else "",
    )
    # a layout is pulled unless the store has its image (by id: names follow directories)
    assert buildah.source(f"oci:{layout}:0.1.0") == ["--pull=always", f"oci:{layout}:0.1.0"]
    stored.append("c0ffee")
    assert buildah.source(f"oci:{layout}:0.1.0") == ["c0ffee"]
