"""YAML documents with the position of every key and value, read within bounds.

A text is read quickly first (:mod:`orkestra.model.quickread`: values straight from the
parser's events, no positions). When that reading gives up (anchors, aliases, merge keys,
unusual tags, mistakes, bounds crossed) the text is read thoroughly here: PyYAML's C
composer builds the node graph (fast, and it keeps marks) and the conversion to Python
values records each value's line and column under its YAML path, rejects duplicate keys
(YAML forbids them; PyYAML silently keeps the last) and keeps timestamps strings, as they
are in Kubernetes manifests. A quickly read document finds its positions the thorough way
the first time a problem needs one; both readings make the same values.

Every YAML text is read within the bounds of :mod:`orkestra.limits`, so a hostile document
ends fast with an error naming the bound and its variable instead of exhausting time or
memory: its size (``ORK_MAX_YAML_BYTES``), its values counted with aliases expanded (an
alias bomb; ``ORK_MAX_YAML_NODES``), its nesting (``ORK_MAX_YAML_DEPTH``) and the keys of
one mapping (``ORK_MAX_YAML_KEYS``). :data:`LOADER` enforces them for every caller, including
``yaml.load(text, Loader=LOADER)`` elsewhere, by raising :class:`YamlLimitError` (a
``yaml.YAMLError``): a cheap pass over the parser's events stops at the first bound crossed
before any node is built, and the composed graph is measured with aliases expanded.

Files are read by :func:`read_text`: regular files only (never a FIFO or a device such as
``/dev/zero``), at most ``ORK_MAX_YAML_BYTES``. :func:`reference_problem` is the check for a
file a pattern names (``crdFile``, ``include:``, a simulation's CR files ...): it must also
lie inside the pattern's directory once ``..`` and symbolic links are resolved, or inside a
directory listed in ``ORK_ALLOWED_ROOTS``.
"""

from __future__ import annotations

import functools
import gc
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orkestra import limits
from orkestra.kubeobjects import Json, JsonDict
from orkestra.model.errors import PatternError, Problem, YamlPath
from orkestra.model.quickread import (
    BASE,
    CONSTRUCTOR,
    STRING_TAGS,
    VALUE_ERRORS,
    is_bool_word_key,
    key_text,
    read_values,
)

_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class YamlLimitError(yaml.MarkedYAMLError):
    """A YAML text crossed one of the bounds of :mod:`orkestra.limits`."""

    def __init__(self, problem: str, mark: Any, limit: limits.Limit) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = limit.hint


def _scan(text: str | bytes) -> int:
    """Walk the parser's events (no nodes are built) and stop at the first bound crossed:
    values, nesting depth, keys per mapping; returns how many aliases there are. Syntax
    errors are left to the composer, which reports them with their position."""
    if len(text) > limits.YAML_BYTES.value:
        raise YamlLimitError(
            f"the document is larger than the limit of {limits.YAML_BYTES.value} bytes",
            None,
            limits.YAML_BYTES,
        )
    max_nodes, max_depth = limits.YAML_NODES.value, limits.YAML_DEPTH.value
    max_children = 2 * limits.YAML_KEYS.value
    parser = BASE(text)
    nodes = aliases = 0
    children: list[int] = []  # per open collection: its children so far (-1: a sequence)
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, _END_EVENTS):
                children.pop()
                continue
            if not isinstance(event, _NODE_EVENTS):
                continue
            nodes += 1
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
            if nodes > max_nodes:
                raise YamlLimitError(
                    f"more than {max_nodes} values", event.start_mark, limits.YAML_NODES
                )
            if children and children[-1] >= 0:
                children[-1] += 1
                if children[-1] > max_children:
                    raise YamlLimitError(
                        f"a mapping with more than {max_children // 2} keys",
                        event.start_mark,
                        limits.YAML_KEYS,
                    )
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                children.append(0 if isinstance(event, yaml.MappingStartEvent) else -1)
                if len(children) > max_depth:
                    raise YamlLimitError(
                        f"nested more than {max_depth} levels deep",
                        event.start_mark,
                        limits.YAML_DEPTH,
                    )
    except yaml.YAMLError as exc:
        if isinstance(exc, YamlLimitError):
            raise
    finally:
        parser.dispose()
    return aliases


def _measure(root: yaml.Node) -> None:
    """Refuse a graph whose aliases expand beyond the value or depth bounds (an alias bomb),
    or that contains itself (a recursive alias)."""
    max_nodes, max_depth = limits.YAML_NODES.value, limits.YAML_DEPTH.value
    memo: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        known = memo.get(key)
        if known is not None:
            return known
        if key in active:
            raise YamlLimitError(
                "an alias refers to a node that contains it", node.start_mark, limits.YAML_NODES
            )
        active.add(key)
        count, depth = 1, 0
        if isinstance(node, yaml.SequenceNode):
            children: Iterable[yaml.Node] = node.value
        elif isinstance(node, yaml.MappingNode):
            children = (part for pair in node.value for part in pair)
        else:
            children = ()
        for child in children:
            child_count, child_depth = size(child)
            count, depth = count + child_count, max(depth, child_depth + 1)
            if count > max_nodes:
                raise YamlLimitError(
                    f"aliases expand to more than {max_nodes} values",
                    node.start_mark,
                    limits.YAML_NODES,
                )
            if depth > max_depth:
                raise YamlLimitError(
                    f"aliases nest values more than {max_depth} levels deep",
                    node.start_mark,
                    limits.YAML_DEPTH,
                )
        active.discard(key)
        memo[key] = (count, depth)
        return count, depth

    try:
        size(root)
    except RecursionError:
        raise YamlLimitError(
            "nested too deeply to be measured", root.start_mark, limits.YAML_DEPTH
        ) from None


def _bad_value(node: yaml.Node) -> str:
    """``"abc" is not a valid !!float`` for a value its explicit tag cannot construct."""
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    return f"{str(node.value)[:80]!r} is not a valid {tag}"


class BoundedLoader(BASE):  # type: ignore[misc]
    """PyYAML's safe loader (C when available) that refuses documents beyond the bounds.

    Without aliases the event pass has bounded everything; with aliases each composed
    document is also measured as if they were expanded."""

    def __init__(self, stream: Any) -> None:
        if hasattr(stream, "read"):
            stream = stream.read(limits.YAML_BYTES.value + 1)
        self.aliases = _scan(stream)
        super().__init__(stream)

    def get_node(self) -> Any:
        node = super().get_node()
        if node is not None and self.aliases:
            _measure(node)
        return node

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None and self.aliases:
            _measure(node)
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value its explicit tag cannot construct (``!!float abc``) is a YAML error."""
        try:
            return super().construct_object(node, deep)
        except VALUE_ERRORS:
            raise yaml.constructor.ConstructorError(
                None, None, _bad_value(node), node.start_mark
            ) from None


LOADER: type = BoundedLoader


@dataclass(frozen=True, slots=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Positions:
    """Where each value and each mapping key of one document was written."""

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


@dataclass(kw_only=True)
class SourceDoc:
    """One YAML document of a file: its data and where each part of it was written.

    ``written`` is filled by the thorough reading, or on first use by reading ``text``
    again (the ``index``-th document) for a document that was read quickly."""

    path: str
    data: Json
    index: int = 0
    text: str = ""
    written: Positions | None = field(default=None, repr=False, compare=False)

    @property
    def positions(self) -> Positions:
        if self.written is None:
            self.written = _positions(self.text, self.index)
        return self.written

    def mark(self, path: YamlPath, *, key: bool = False) -> Mark:
        """Where ``path`` was written (its key if ``key``), or its nearest written parent."""
        return self.positions.mark(path, key=key)

    def problem(
        self,
        path: YamlPath,
        message: str,
        *,
        expected: str = "",
        hint: str = "",
        key: bool = False,
        severity: str = "error",
    ) -> Problem:
        mark = self.mark(path, key=key)
        return Problem(
            file=self.path,
            line=mark.line,
            column=mark.column,
            path=path,
            message=message,
            expected=expected,
            hint=hint,
            severity=severity,
        )


class _Converter:
    """Values and positions of one composed document (the thorough reading)."""

    def __init__(self, path: str, index: int, text: str) -> None:
        self.positions = Positions()
        self.doc = SourceDoc(path=path, data=None, index=index, text=text, written=self.positions)
        self.problems: list[Problem] = []

    def convert(self, node: yaml.Node, path: YamlPath) -> Json:
        self.positions.values[path] = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: yaml.Node, path: YamlPath) -> Json:
        if node.tag in STRING_TAGS:
            return str(node.value)
        construct = CONSTRUCTOR.yaml_constructors.get(node.tag)
        if construct is None:
            self.problems.append(
                self.doc.problem(path, f"unsupported YAML tag {node.tag}", hint="remove the tag")
            )
            return str(node.value)
        try:
            value: Json = construct(CONSTRUCTOR, node)  # the scalar tags build JSON scalars
        except VALUE_ERRORS:
            self.problems.append(
                self.doc.problem(path, _bad_value(node), hint="remove the tag or fix the value")
            )
            return str(node.value)
        return value

    def key(self, node: yaml.ScalarNode, path: YamlPath) -> str:
        if is_bool_word_key(node.tag, str(node.value)):
            return str(node.value)
        return key_text(self.scalar(node, path))

    def mapping(self, node: yaml.MappingNode, path: YamlPath) -> JsonDict:
        CONSTRUCTOR.flatten_mapping(node)
        result: JsonDict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(self.doc.problem(path, "a mapping key must be a scalar"))
                continue
            key = self.key(key_node, path)
            key_path = path + (key,)
            mark = Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                first = self.positions.keys[key_path]
                self.problems.append(
                    Problem(
                        file=self.doc.path,
                        line=mark.line,
                        column=mark.column,
                        path=key_path,
                        message=f'duplicate key "{key}"',
                        hint=f"it is already set on line {first.line}; YAML keys must be unique",
                    )
                )
                continue
            self.positions.keys[key_path] = mark
            result[key] = self.convert(value_node, key_path)
        return result


def _yaml_problem(path: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, YamlLimitError):
        return Problem(
            file=path,
            line=line,
            column=column,
            path=(),
            message=f"YAML refused: {problem}",
            hint=exc.hint,
        )
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return Problem(
        file=path,
        line=line,
        column=column,
        path=(),
        message=message,
        hint="check the indentation and quoting around this line",
    )


@contextmanager
def _no_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector: building many nodes triggers it over and over,
    and nothing built here is garbage yet."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_documents(text: str, path: str) -> list[SourceDoc]:
    """All documents of a YAML text; empty documents are skipped."""
    with _no_collection():
        values = read_values(text)
        if values is None:
            return thorough_documents(text, path)
    return [
        SourceDoc(path=path, data=data, index=index, text=text) for index, data in enumerate(values)
    ]


def thorough_documents(text: str, path: str) -> list[SourceDoc]:
    """:func:`parse_documents` without the quick reading: every document with its
    positions, or the problems of the text."""
    docs: list[SourceDoc] = []
    problems: list[Problem] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=LOADER))
    except yaml.YAMLError as exc:
        raise PatternError([_yaml_problem(path, exc)]) from None
    for index, node in enumerate(nodes):
        if node is None:
            continue
        converter = _Converter(path, index, text)
        doc = converter.doc
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


class _Stream:
    """The positions of the documents of one text, composed in order as far as they are
    asked for: one pass over the text for all of its documents, instead of one pass per
    document (a file of many documents with a problem each would take quadratic time)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lock = threading.Lock()
        self.found: list[Positions] = []
        self.nodes: Iterator[yaml.Node] | None = None
        self.restart()

    def restart(self) -> None:
        """Start again from the first document (after an error, the next call retries as
        if nothing had been read, so it fails the same way)."""
        self.found = []
        self.nodes = yaml.compose_all(self.text, Loader=BASE)

    def positions(self, index: int) -> Positions:
        with self.lock, _no_collection():
            try:
                while len(self.found) <= index and self.nodes is not None:
                    self.advance()
            except BaseException:
                self.restart()
                raise
        return self.found[index] if index < len(self.found) else Positions()

    def advance(self) -> None:
        """Convert the next document (without the bounds' event pass: the quick reading
        enforced them on this text), or note that there is none."""
        assert self.nodes is not None
        node = next(self.nodes, None)
        if node is None:
            self.nodes = None
            return
        converter = _Converter("", len(self.found), self.text)
        converter.convert(node, ())
        self.found.append(converter.positions)


@functools.lru_cache(maxsize=1)
def _stream(text: str) -> _Stream:
    """The positions of the text last asked about: its documents are asked in turn."""
    return _Stream(text)


def _positions(text: str, index: int) -> Positions:
    """The positions of the ``index``-th document of a quickly read text."""
    return _stream(text).positions(index)


def _refused(shown: str, message: str, hint: str = "") -> PatternError:
    return PatternError(
        [Problem(file=shown, line=0, column=0, path=(), message=message, hint=hint)]
    )


_SPECIAL = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str:
    """What a file that is not a regular file is ("" for a regular file)."""
    if stat.S_ISREG(mode):
        return ""
    return next((name for test, name in _SPECIAL if test(mode)), "not a regular file")


def _too_large(size: int) -> str:
    limit = limits.YAML_BYTES
    return f"the file is larger than the limit of {limit.value} bytes" if size > limit.value else ""


def read_text(path: Path, display: str | None = None) -> str:
    """A file's text, with a pattern-style error when it cannot be read: regular files only
    (opening never waits on a FIFO), at most ``ORK_MAX_YAML_BYTES``."""
    shown = display or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise _refused(
            shown,
            "file not found",
            "check the path (relative paths are resolved from the file that names them)",
        ) from None
    except IsADirectoryError:
        raise _refused(shown, "is a directory, expected a YAML file") from None
    except OSError as exc:
        raise _refused(shown, f"cannot read: {exc.strerror}") from None
    try:
        kind = _not_regular(os.fstat(fd).st_mode)
        if kind:
            raise _refused(shown, f"is {kind}, expected a YAML file")
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(limits.YAML_BYTES.value + 1)
    except OSError as exc:
        raise _refused(shown, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if _too_large(len(data)):
        raise _refused(shown, _too_large(len(data)), limits.YAML_BYTES.hint)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused(shown, f"not UTF-8 text: {exc.reason}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def reference_problem(target: Path, roots: Iterable[Path]) -> tuple[str, str] | None:
    """Why a pattern may not read ``target``, as (message, hint), or None when it may.

    It must resolve (``..`` and symbolic links followed) inside one of ``roots`` (the
    pattern's directories) or of ``ORK_ALLOWED_ROOTS``; when it exists it must be a regular
    file of at most ``ORK_MAX_YAML_BYTES``. A missing file is left to the caller, which
    knows how to word it."""
    resolved = target.resolve()
    allowed = [root.resolve() for root in roots] + list(limits.allowed_roots())
    if not any(resolved.is_relative_to(root) for root in allowed):
        inside = " or ".join(str(root) for root in allowed)
        return (
            f"{resolved} is outside the pattern's directory ({inside})",
            'a pattern reads only files inside its directory (after following ".." '
            "and symbolic links); copy the file there, or list its directory in "
            f"{limits.ALLOWED_ROOTS_VARIABLE}",
        )
    try:
        info = resolved.stat()
    except OSError:
        return None
    kind = _not_regular(info.st_mode)
    if kind:
        return f"{resolved} is {kind}, not a regular file", "name a YAML file"
    if _too_large(info.st_size):
        return _too_large(info.st_size), limits.YAML_BYTES.hint
    return None


def load_documents(path: Path, display: str | None = None) -> list[SourceDoc]:
    return parse_documents(read_text(path, display), display or str(path))
