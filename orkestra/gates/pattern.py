"""A pattern directory as ``ork push`` sees it: its kind, its target reference, the
publish-only rules (version and tag must agree, no local motif imports, a sane crd.yaml),
and a typed katalog's code: the hook sources that travel with it (:func:`code_files`, never
a file outside the directory) and the Orkestra version it pins (:func:`pinned_runtime`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from orkestra import DISTRIBUTION
from orkestra.errors import OrkError, UsageError
from orkestra.model.document import Document
from orkestra.model.errors import Problem
from orkestra.model.imports import motif_imports
from orkestra.model.loader import load_document
from orkestra.model.source import LOADER, read_text
from orkestra.registry.artifact import CODE_REQUIREMENTS, PRIMARY_FILES, PatternFile
from orkestra.registry.client import RegistryClient
from orkestra.registry.refs import Reference, tag_of

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@dataclass(frozen=True)
class PatternDir:
    directory: Path
    kind: str

    @property
    def primary(self) -> Path:
        return self.directory / PRIMARY_FILES[self.kind]


def detect_pattern(directory: Path, kind: str | None = None) -> PatternDir:
    """The pattern in ``directory``, its kind read from the file: ``katalog.yaml`` (kind
    Katalog) first, then ``motif.yaml`` (kind Motif). ``kind`` (``--motif``) picks one;
    a directory that holds only the other kind is a clear error."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory", hint="ork push [NAME:VERSION] DIR")
    found = [
        k
        for k, name in PRIMARY_FILES.items()
        if (directory / name).is_file() and _declared_kind(directory / name) == k
    ]
    if kind is None and found:
        return PatternDir(directory, found[0])
    if kind in found:
        return PatternDir(directory, kind)
    if kind is not None and found:
        raise UsageError(
            f"--{kind.lower()} given, but {directory} holds a {found[0]} "
            f"({PRIMARY_FILES[found[0]]}, kind: {found[0]})",
            hint="leave the flag out: the kind is read from the file",
        )
    raise OrkError(
        f"no recognized Orkestra pattern in {directory} (expected katalog.yaml "
        "with kind: Katalog, or motif.yaml with kind: Motif)"
    )


def _declared_kind(path: Path) -> str:
    """The kind the file declares; for a file that does not parse, the kind its name
    stands for, so that loading it reports the YAML error with its position."""
    try:
        for doc in yaml.load_all(read_text(path), Loader=LOADER):
            return str(doc.get("kind", "")) if isinstance(doc, dict) else ""
    except (yaml.YAMLError, UnicodeDecodeError):
        return {file: kind for kind, file in PRIMARY_FILES.items()}.get(path.name, "")
    return ""


@dataclass(frozen=True)
class Target:
    """Where a push goes and with which version."""

    ref: Reference
    version: str


def push_target(
    ref_text: str | None, doc: Document, kind: str, client: RegistryClient, *, update_meta: bool
) -> Target:
    """The reference to push to. Its tag must be ``metadata.version``: a mismatch is a hard
    error that no flag overrides, unless ``update_meta`` writes the tag into the file."""
    version = doc.version
    if not ref_text:
        return Target(
            client.resolve(f"{doc.name}:{version or 'latest'}", kind), version or "latest"
        )
    ref = client.resolve(ref_text, kind)
    if ref.digest:
        raise UsageError(f"cannot push to a digest reference ({ref_text}); name a tag")
    if not tag_of(ref_text):
        ref = ref.with_tag(version or "latest")
    if version and ref.tag != version and not update_meta:
        raise _version_mismatch(doc, ref.tag)
    return Target(ref, ref.tag)


def _version_mismatch(doc: Document, tag: str) -> TagMismatchError:
    """The push names a tag other than the file's ``metadata.version``."""
    version = doc.version
    text = (
        f'"{version}" does not match provided tag "{tag}": expected {doc.name}:{version} '
        "(version and tag must agree; no flag overrides this)"
    )
    hint = (
        f"push {doc.name}:{version}, or give no tag (the version is read from the "
        f'file); to publish {tag}, set metadata.version: "{tag}" (--update-meta '
        "writes it)"
    )
    problem = doc.problem(("metadata", "version"), text, hint=hint)
    where = f"{problem.file}:{problem.line}" if problem.line else problem.file
    return TagMismatchError(f"{where}: metadata.version {text}", hint, problem)


@dataclass(frozen=True)
class LocalImport:
    """A motif import that names a local file, and how to publish the motif instead."""

    where: str
    path: str
    #: The motif's directory as ``ork push`` takes it, relative to the working directory.
    directory: str
    #: Where ``ork push`` of that directory publishes the motif ("" if the file is unreadable).
    reference: str


def local_imports(doc: Document, client: RegistryClient) -> list[LocalImport]:
    """Every motif import of ``doc`` that names a local file."""
    return [
        _local_import(doc, client, imp.where, imp.ref)
        for imp in motif_imports(doc.data)
        if imp.is_local
    ]


def _local_import(doc: Document, client: RegistryClient, where: str, ref: str) -> LocalImport:
    motif = doc.resolve_path(ref)
    directory = os.path.relpath(motif.parent) + "/"
    try:
        published = load_document(motif, kinds=("Motif",))
    except OrkError:
        return LocalImport(where, ref, directory, "")
    version = published.version or "latest"
    return LocalImport(
        where, ref, directory, str(client.resolve(f"{published.name}:{version}", "Motif"))
    )


class PushBlockedError(OrkError):
    """Local motif imports: the pattern cannot be resolved by consumers. ``--force`` skips
    gates, not this check, so the message says what to run instead."""

    def __init__(self, primary: str, imports: list[LocalImport]) -> None:
        self.primary = primary
        self.imports = imports
        super().__init__(self.render())

    def render(self) -> str:
        many = len(self.imports) > 1
        directories = dict.fromkeys(imp.directory for imp in self.imports)
        lines = [f"✗ Push blocked: local file imports in {self.primary}", ""]
        lines += [f'  {imp.where}: "{imp.path}"' for imp in self.imports]
        lines += [
            "",
            "  Local imports work for ork simulate and ork template, but cannot",
            "  be resolved by consumers after the katalog is published.",
            "",
            "  Before publishing (--force skips gates, not this check):",
            f"    1. Push the motif{'s' * (len(directories) > 1)}:",
        ]
        lines += [f"         ork push {directory}" for directory in directories]
        lines += [
            f"    2. Replace the local path{'s' * many} in {self.primary} with the "
            f"OCI ref{'s' * many}:"
        ]
        lines += [
            f"         motif: {imp.reference or 'oci://<registry>/motifs/<name>:<version>'}"
            for imp in self.imports
        ]
        return "\n".join(lines)


def check_crd_file(path: Path) -> None:
    """``crd.yaml`` must be a CustomResourceDefinition with a group and a kind."""
    try:
        doc = next(iter(yaml.load_all(read_text(path), Loader=LOADER)), None)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise OrkError(f"crd.yaml: not valid YAML ({exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
        got = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
        raise OrkError(f'crd.yaml: kind must be CustomResourceDefinition, got "{got}"')
    spec = doc["spec"] if isinstance(doc.get("spec"), dict) else {}
    if not spec.get("group"):
        raise OrkError("crd.yaml: spec.group is required")
    if not (spec.get("names") or {}).get("kind"):
        raise OrkError("crd.yaml: spec.names.kind is required")


def with_version(text: str, version: str) -> str:
    """``text`` with ``metadata.version`` set to ``version``; comments and layout are kept."""
    root = yaml.compose(text, Loader=LOADER)
    if not isinstance(root, yaml.MappingNode):
        raise OrkError("cannot update metadata.version: the file is not a mapping")
    metadata = _value(root, "metadata")
    if not isinstance(metadata, yaml.MappingNode) or not metadata.value:
        raise OrkError("cannot update metadata.version: the file has no metadata block")
    quoted = json.dumps(version)
    current = _value(metadata, "version")
    if current is not None:
        start, end = current.start_mark.index, current.end_mark.index
        return text[:start] + quoted + text[end:]
    first_key = metadata.value[0][0]
    line_start = text.rfind("\n", 0, first_key.start_mark.index) + 1
    indent = text[line_start : first_key.start_mark.index]
    name_value = _value(metadata, "name") or metadata.value[0][1]
    line_end = text.find("\n", name_value.end_mark.index)
    line_end = len(text) if line_end < 0 else line_end
    return text[:line_end] + f"\n{indent}version: {quoted}" + text[line_end:]


def _value(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    return next((v for k, v in mapping.value if getattr(k, "value", None) == key), None)


class TagMismatchError(OrkError):
    """A push, or a CI tag build, of a version other than the pattern's (``problems``: at
    the line of ``metadata.version``, for CI annotations)."""

    def __init__(self, message: str, hint: str, problem: Problem) -> None:
        super().__init__(message, hint)
        self.problems = [problem]


def ci_tag(env: Mapping[str, str] | None = None) -> str | None:
    """The git tag a CI job builds (GitHub: ``GITHUB_REF_TYPE=tag``; GitLab:
    ``CI_COMMIT_TAG``); None on a branch build or outside CI."""
    env = os.environ if env is None else env
    if env.get("GITHUB_REF_TYPE") == "tag" and env.get("GITHUB_REF_NAME"):
        return env["GITHUB_REF_NAME"]
    return env.get("CI_COMMIT_TAG") or None


def check_ci_tag(doc: Document, env: Mapping[str, str] | None = None) -> None:
    """On a CI tag build the tag must be ``metadata.version`` (a ``v`` prefix on either
    side is the same version): a hard failure that ``--force`` does not override."""
    tag = ci_tag(env)
    version = doc.version
    if tag is None or tag.removeprefix("v") == version.removeprefix("v"):
        return
    message = f'git tag "{tag}" does not match metadata.version "{version}" of {doc.display}'
    hint = (
        f"a tag build publishes the tagged version: set metadata.version: {tag} and "
        f"tag again, or tag the commit {version} (--force does not override this in CI)"
    )
    raise TagMismatchError(message, hint, doc.problem(("metadata", "version"), message, hint=hint))


class HookSourceError(OrkError):
    """A typed katalog's code cannot be published as it is."""


@dataclass(frozen=True)
class CodeFiles:
    """A typed katalog's hook sources, and the modules it names that are not beside it."""

    files: tuple[PatternFile, ...]
    missing: tuple[str, ...]


def code_files(directory: Path, modules: Iterable[str]) -> CodeFiles:
    """``pyproject.toml`` / ``requirements.txt`` when present, then every ``*.py`` file of
    the top-level package (or module) each named module lives in, titled with its path
    relative to ``directory``; hidden files and ``__pycache__`` stay behind. A symlink
    that leads out of ``directory`` is refused: nothing outside it is ever published."""
    root = directory.resolve()
    paths = [directory / n for n in CODE_REQUIREMENTS if (directory / n).is_file()]
    for path in paths:
        _inside(root, directory, path)
    missing = []
    seen: set[Path] = set()
    for module in dict.fromkeys(modules):
        tops = _top_level(directory, module)
        if not tops:
            missing.append(module)
        for top in tops:
            paths += _sources(root, directory, top, seen)
    files = {p.relative_to(directory).as_posix(): p for p in paths}
    return CodeFiles(
        tuple(PatternFile(name, path.read_bytes()) for name, path in files.items()), tuple(missing)
    )


def _top_level(directory: Path, module: str) -> list[Path]:
    """The package directory and/or ``name.py`` providing a module's top-level name."""
    top = module.split(".")[0]
    if not top.isidentifier():
        return []
    return [p for p in (directory / top, directory / f"{top}.py") if p.exists()]


def _sources(root: Path, directory: Path, path: Path, seen: set[Path]) -> Iterator[Path]:
    """``path`` if it is a ``.py`` file, else the ``.py`` files below it (sorted; a
    directory reached twice through symlinks is walked once)."""
    real = _inside(root, directory, path)
    if not path.is_dir():
        if path.suffix == ".py" and path.is_file():
            yield path
        return
    if real in seen:
        return
    seen.add(real)
    for child in sorted(path.iterdir()):
        if not child.name.startswith(".") and child.name != "__pycache__":
            yield from _sources(root, directory, child, seen)


def _inside(root: Path, directory: Path, path: Path) -> Path:
    """``path`` resolved, which must stay inside the pattern directory ``root``."""
    real = path.resolve()
    if not real.is_relative_to(root):
        raise HookSourceError(
            f"{path.relative_to(directory).as_posix()} is a symlink to {real}, outside the "
            f"pattern directory {directory}; it is not published",
            hint="copy the file into the pattern directory (a pushed pattern carries only "
            "what is inside it)",
        )
    return real


def pinned_runtime(directory: Path) -> str | None:
    """The Orkestra version a typed katalog's code pins (``v0.1.0``): the first
    ``orkestra-patterns`` requirement with a version in ``pyproject.toml``'s
    ``[project].dependencies``, then in ``requirements.txt`` (``==``, else ``~=``, else
    ``>=``); None when neither pins one."""
    from packaging.utils import canonicalize_name  # packaging: only for typed katalogs

    for requirement in _requirements(directory):
        if canonicalize_name(requirement.name) != DISTRIBUTION:
            continue
        versions = {s.operator: s.version for s in requirement.specifier}
        for operator in ("===", "==", "~=", ">="):
            if operator in versions:
                return "v" + versions[operator].removesuffix(".*").removeprefix("v")
    return None


def _requirements(directory: Path) -> Iterator[Requirement]:
    import tomllib

    from packaging.requirements import InvalidRequirement, Requirement

    lines = []
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise HookSourceError(
                f"pyproject.toml: not valid TOML ({exc})",
                hint="it is published with the hooks: fix it, or remove "
                "it and list the hooks' requirements in "
                "requirements.txt",
            ) from None
        project = data.get("project")
        dependencies = project.get("dependencies") if isinstance(project, dict) else None
        lines += [str(d) for d in dependencies or []]
    requirements = directory / "requirements.txt"
    if requirements.is_file():
        lines += [
            line.partition("#")[0].strip()
            for line in requirements.read_text(encoding="utf-8", errors="replace").splitlines()
        ]
    for line in lines:
        if line and not line.startswith("-"):  # pip options: -r, -e, --index-url...
            try:
                yield Requirement(line)
            except InvalidRequirement:
                continue
