"""YAML documents with the position of every key and value.

PyYAML's C composer builds the node graph (fast, and it keeps marks); the conversion to
Python values is done here so that each value's line and column is recorded under its YAML
path, duplicate keys are rejected (YAML forbids them; PyYAML silently keeps the last) and
timestamps stay strings, as they do in Kubernetes manifests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orkestra.model.errors import PatternError, Problem, YamlPath

try:
    LOADER: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    LOADER = yaml.SafeLoader

_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STRING_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary",
                "tag:yaml.org,2002:str"}


@dataclass(frozen=True, slots=True)
class Mark:
    line: int    # 1-based
    column: int  # 1-based


@dataclass
class SourceDoc:
    """One YAML document of a file: its data and where each part of it was written."""

    path: str
    data: Any
    index: int = 0
    text: str = ""
    values: dict[YamlPath, Mark] = field(default_factory=dict)
    keys: dict[YamlPath, Mark] = field(default_factory=dict)

    def mark(self, path: YamlPath, *, key: bool = False) -> Mark:
        """Where ``path`` was written (its key if ``key``), or its nearest written parent."""
        if key and path in self.keys:
            return self.keys[path]
        probe = path
        while probe:
            found = self.values.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return self.values.get((), Mark(1, 1))

    def problem(self, path: YamlPath, message: str, *, expected: str = "", hint: str = "",
                key: bool = False, severity: str = "error") -> Problem:
        mark = self.mark(path, key=key)
        return Problem(self.path, mark.line, mark.column, path, message, expected, hint,
                       severity)

    def child(self, data: Any, path: YamlPath) -> SourceDoc:
        """A view of a sub-tree, positions rebased so ``()`` is ``path``."""
        values = {p[len(path):]: m for p, m in self.values.items() if p[: len(path)] == path}
        keys = {p[len(path):]: m for p, m in self.keys.items() if p[: len(path)] == path}
        return SourceDoc(self.path, data, self.index, self.text, values, keys)


class _Converter:
    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def convert(self, node: yaml.Node, path: YamlPath) -> Any:
        self.doc.values[path] = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: yaml.Node, path: YamlPath) -> Any:
        if node.tag in _STRING_TAGS:
            return str(node.value)
        construct = _CONSTRUCTOR.yaml_constructors.get(node.tag)
        if construct is None:
            self.problems.append(self.doc.problem(
                path, f"unsupported YAML tag {node.tag}", hint="remove the tag"))
            return str(node.value)
        return construct(_CONSTRUCTOR, node)

    def mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict[str, Any]:
        _CONSTRUCTOR.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(self.doc.problem(path, "a mapping key must be a scalar"))
                continue
            key = _key_text(self.scalar(key_node, path))
            key_path = path + (key,)
            mark = Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                first = self.doc.keys[key_path]
                self.problems.append(Problem(
                    self.doc.path, mark.line, mark.column, key_path, f'duplicate key "{key}"',
                    hint=f"it is already set on line {first.line}; YAML keys must be unique"))
                continue
            self.doc.keys[key_path] = mark
            result[key] = self.convert(value_node, key_path)
        return result


def _key_text(raw: Any) -> str:
    """Mapping keys become strings, as they do in JSON and Kubernetes objects."""
    if isinstance(raw, str):
        return raw
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _yaml_problem(path: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return Problem(path, line, column, (), message,
                   hint="check the indentation and quoting around this line")


def parse_documents(text: str, path: str) -> list[SourceDoc]:
    """All documents of a YAML text; empty documents are skipped."""
    docs: list[SourceDoc] = []
    problems: list[Problem] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=LOADER))
    except yaml.YAMLError as exc:
        raise PatternError([_yaml_problem(path, exc)]) from None
    for index, node in enumerate(nodes):
        if node is None:
            continue
        doc = SourceDoc(path, None, index, text)
        converter = _Converter(doc)
        try:
            doc.data = converter.convert(node, ())
        except RecursionError:
            problems.append(doc.problem((), "YAML nests too deeply (recursive alias?)"))
            continue
        except yaml.YAMLError as exc:
            problems.append(_yaml_problem(path, exc))
            continue
        problems.extend(converter.problems)
        docs.append(doc)
    if problems:
        raise PatternError(problems)
    return docs


def read_text(path: Path, display: str | None = None) -> str:
    """A file's text, with a pattern-style error when it cannot be read."""
    shown = display or str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PatternError([Problem(shown, 0, 0, (), "file not found",
                                    hint="check the path (relative paths are resolved from "
                                         "the file that names them)")]) from None
    except IsADirectoryError:
        raise PatternError([Problem(shown, 0, 0, (), "is a directory, expected a YAML file")]
                           ) from None
    except UnicodeDecodeError as exc:
        raise PatternError([Problem(shown, 0, 0, (), f"not UTF-8 text: {exc.reason}")]) from None
    except OSError as exc:
        raise PatternError([Problem(shown, 0, 0, (), f"cannot read: {exc.strerror}")]) from None


def load_documents(path: Path, display: str | None = None) -> list[SourceDoc]:
    return parse_documents(read_text(path, display), display or str(path))
