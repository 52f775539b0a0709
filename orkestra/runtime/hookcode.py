"""The Python code a pattern's runtime needs: what ``ork build runtime`` installs in an image.

Every enabled CRD of the katalog (or komposer) names its code with ``reconcile.hooks`` or
``reconcile.constructor`` and its CR model with ``apiTypes.location``
(:mod:`orkestra.hooks.spec`). Each module path resolves as the loader resolves it: against
the directory of the katalog that declares the CRD (its code travels with the pattern),
otherwise against installed packages. :func:`collect` gathers the top-level packages (or
single-file modules) found beside the katalogs, to be copied into the image whole, and the
requirements of ``requirements.txt`` and ``pyproject.toml`` (``[project].dependencies``)
beside the pattern and beside each katalog providing code, to be installed from wheels. A
module found nowhere must come from those requirements. This project's distribution
(``orkestra-patterns``) is never a requirement to install: the base image provides it.

Code from a pulled pattern (a registry cache entry) goes into an image only when the caller
trusts it, as the loader runs it only then.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from orkestra import DISTRIBUTION
from orkestra.compose import compose_file
from orkestra.errors import OrkError
from orkestra.hooks.loader import CodeSource
from orkestra.hooks.spec import code_ref, model_ref
from orkestra.model.shapes import CrdEntry, ReconcileBlock

PATTERN_FILES = ("komposer.yaml", "katalog.yaml")  # a komposer here composes the katalog
REQUIREMENTS_FILE = "requirements.txt"
PYPROJECT_FILE = "pyproject.toml"
PROVIDED = DISTRIBUTION  # the base image already has it
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_SKIPPED = ("__pycache__", "*.pyc", "*.pyo", ".*")  # not copied into the image


class HookCodeError(OrkError):
    """A pattern's code cannot be put in a runtime image."""


@dataclass(frozen=True)
class Package:
    """A top-level package (directory) or module (``.py`` file) copied into the image."""

    name: str
    source: Path


@dataclass(frozen=True)
class Requirements:
    """A pattern's dependencies: requirements files (filtered copies are installed) and
    ``pyproject.toml`` dependencies."""

    files: tuple[Path, ...] = ()
    dependencies: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.files and not self.dependencies

    def lines(self) -> list[str]:
        """Every requirement, this project left out, in the order found (no duplicates)."""
        found: list[str] = []
        for path in self.files:
            found += [
                line
                for line in requirement_lines(path)
                if not line.startswith("-") and not provided(line)
            ]
        found += list(self.dependencies)
        return list(dict.fromkeys(found))


@dataclass(frozen=True, kw_only=True)
class HookCode:
    """What one pattern needs in its runtime image."""

    pattern: Path  # the katalog.yaml or komposer.yaml
    kind: str
    name: str
    version: str
    modules: tuple[str, ...]  # hook, constructor and CR model modules, sorted
    packages: tuple[Package, ...]  # copied from beside the katalogs
    installed: tuple[str, ...]  # top-level names the requirements must provide
    requirements: Requirements
    entries: dict[str, CrdEntry] = field(default_factory=dict)  # CRD name -> its code keys

    @property
    def package_names(self) -> list[str]:
        return [p.name for p in self.packages]


def pattern_file(directory: Path) -> Path:
    """The komposer.yaml, else katalog.yaml, of a directory."""
    if not directory.is_dir():
        raise HookCodeError(
            f"{directory} is not a directory",
            hint="give the pattern's directory (default: the current one)",
        )
    for name in PATTERN_FILES:
        if (directory / name).is_file():
            return directory / name
    raise HookCodeError(
        f"no komposer.yaml or katalog.yaml in {directory}",
        hint="give the directory of the pattern whose hooks the image runs",
    )


def collect(directory: Path, *, trust_hooks: bool = False) -> HookCode:
    """The code and requirements of the pattern in ``directory``."""
    path = pattern_file(directory)
    composed = compose_file(path, str(path))
    packages: dict[str, Package] = {}
    installed: set[str] = set()
    modules: set[str] = set()
    entries: dict[str, CrdEntry] = {}
    roots = [directory]
    for crd, entry in composed.enabled_crds.items():
        names = _modules_of(entry)
        if not names:
            continue
        entries[crd] = _code_keys(entry)
        root = composed.code_root(crd)
        for module in names:
            modules.add(module)
            package = _package(module, root, crd, trust_hooks)
            if package is None:
                installed.add(module.split(".")[0])
                continue
            _claim(packages, package, crd)
            roots.append(root)
    if not modules:
        raise HookCodeError(
            f"no CRD of {path} names hooks or a CR model",
            hint="a katalog without Python code runs on the project's "
            "runtime image as it is (the chart's default image)",
        )
    requirements = _requirements(roots)
    if installed and requirements.empty:
        missing = ", ".join(sorted(installed))
        raise HookCodeError(
            f"{missing}: not beside the katalog and no {REQUIREMENTS_FILE} "
            f"or {PYPROJECT_FILE} to install it from",
            hint="put the package beside the katalog, or list the "
            f"distribution that provides it in {REQUIREMENTS_FILE}",
        )
    return HookCode(
        pattern=path,
        kind=composed.source.kind,
        name=composed.name or directory.resolve().name,
        version=composed.version,
        modules=tuple(sorted(modules)),
        packages=tuple(sorted(packages.values(), key=lambda p: p.name)),
        installed=tuple(sorted(installed)),
        requirements=requirements,
        entries=entries,
    )


def _modules_of(entry: CrdEntry) -> list[str]:
    code, model = code_ref(entry), model_ref(entry)
    return [ref.module for ref in (code, model) if ref is not None and ref.module]


def _code_keys(entry: CrdEntry) -> CrdEntry:
    """The part of a CRD entry the hook loader reads (checked again inside the image): the
    API types and the reconcile keys :func:`code_ref` reads."""
    reconcile = (entry.get("operatorBox") or {}).get("reconcile") or {}
    code: ReconcileBlock = {}
    if "hooks" in reconcile:
        code["hooks"] = reconcile["hooks"]
    if "constructor" in reconcile:
        code["constructor"] = reconcile["constructor"]
    if "default" in reconcile:
        code["default"] = reconcile["default"]
    return {
        "apiTypes": (entry.get("apiTypes") or {}).copy(),
        "operatorBox": {"reconcile": code},
    }


def _package(module: str, root: Path, crd: str, trust_hooks: bool) -> Package | None:
    """The top-level package of ``module`` beside the katalog; None when not there."""
    parts = module.split(".")
    if not all(p.isidentifier() for p in parts):
        raise HookCodeError(
            f'CRD {crd}: "{module}" is not a Python module path',
            hint="a dotted module path such as dbhooks.database",
        )
    top = parts[0]
    source = root / top if (root / top).is_dir() else root / f"{top}.py"
    if not source.exists():
        return None
    if CodeSource(root).pulled and not trust_hooks:
        raise HookCodeError(
            f"CRD {crd}: its code ({module}) comes from a pattern pulled "
            f"from a registry ({root}); it is not put in an image unless "
            "you trust it",
            hint="re-run with --trust-hooks once you have read its code",
        )
    if not _module_exists(root, parts):
        raise HookCodeError(
            f'CRD {crd}: module "{module}" not found in {source}',
            hint="the module path is relative to the katalog's directory",
        )
    return Package(top, source.resolve())


def _module_exists(root: Path, parts: list[str]) -> bool:
    base = root.joinpath(*parts)
    return base.with_suffix(".py").is_file() or base.is_dir()


def _claim(packages: dict[str, Package], package: Package, crd: str) -> None:
    known = packages.get(package.name)
    if known is not None and known.source != package.source:
        raise HookCodeError(
            f"CRD {crd}: two patterns provide the Python package "
            f'"{package.name}" ({known.source} and {package.source})',
            hint="give each pattern's code its own top-level package name",
        )
    packages[package.name] = package


# -- requirements ---------------------------------------------------------------------------


def provided(requirement: str) -> bool:
    """Whether a requirement line names the distribution the base image provides."""
    match = _NAME.match(requirement)
    return match is not None and re.sub(r"[-_.]+", "-", match.group(1)).lower() == PROVIDED


def requirement_lines(path: Path) -> list[str]:
    """The logical lines of a requirements file: continuations joined, spaces collapsed,
    comments and blank lines dropped."""
    text = path.read_text(encoding="utf-8", errors="replace").replace("\\\n", " ")
    lines = (re.sub(r"(^|\s)#.*", "", line).split() for line in text.splitlines())
    return [" ".join(words) for words in lines if words]


def filtered_requirements(path: Path) -> str:
    """A requirements file without this project (the base image provides it), for pip."""
    return "".join(f"{line}\n" for line in requirement_lines(path) if not provided(line))


def _requirements(roots: list[Path]) -> Requirements:
    files: list[Path] = []
    dependencies: list[str] = []
    for root in dict.fromkeys(r.resolve() for r in roots):
        if (root / REQUIREMENTS_FILE).is_file():
            files.append(root / REQUIREMENTS_FILE)
        if (root / PYPROJECT_FILE).is_file():
            dependencies += [
                d for d in _pyproject_dependencies(root / PYPROJECT_FILE) if not provided(d)
            ]
    return Requirements(tuple(files), tuple(dict.fromkeys(dependencies)))


def _pyproject_dependencies(path: Path) -> list[str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HookCodeError(
            f"{path}: not valid TOML ({exc})",
            hint="its [project].dependencies are installed in the image: fix the file",
        ) from None
    project = data.get("project")
    dependencies = project.get("dependencies") if isinstance(project, dict) else None
    if not isinstance(dependencies, list):
        return []
    return [str(d).strip() for d in dependencies if str(d).strip()]


def skipped(_directory: str, names: list[str]) -> set[str]:
    """``shutil.copytree``'s ignore: bytecode, caches and hidden files stay out."""
    return {n for n in names if any(fnmatch.fnmatch(n, p) for p in _SKIPPED)}
