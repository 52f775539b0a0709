"""The quick reading of a YAML text: its values straight from libyaml's events.

Most pattern files are plain YAML: no anchors, aliases or merge keys, no unusual tags, no
mistakes. For those, the thorough reading of :mod:`orkestra.model.source` (a pass over the
events to enforce the bounds, PyYAML's node graph, then values with the position of each)
costs four times what reading the events once does. :func:`read_values` reads them once,
enforces the same bounds and builds the same values, keeping no positions (they are looked
up again when a problem needs one). On anything else (an anchor or alias, a merge key, a
tag it does not build, a duplicate or non-scalar key, a syntax error, a bound crossed or
nesting deeper than :data:`QUICK_DEPTH`) it returns None, and the thorough reading reports
what it always has.

The scalar rules both readings share live here: which tags stay strings, how mapping keys
become text, and PyYAML's safe constructors for the rest.
"""

from __future__ import annotations

from typing import Any

import yaml

from orkestra import limits
from orkestra.kubeobjects import Json, JsonDict

try:
    BASE: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    BASE = yaml.SafeLoader

CONSTRUCTOR = yaml.constructor.SafeConstructor()
STR_TAG = "tag:yaml.org,2002:str"
STRING_TAGS = frozenset(
    {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary", STR_TAG}
)  # timestamps stay strings, as in Kubernetes manifests
BOOL_TAG = "tag:yaml.org,2002:bool"
VALUE_ERRORS = (ValueError, LookupError, TypeError, ArithmeticError)
QUICK_DEPTH = 100
"""Documents nested deeper are read thoroughly. The thorough conversion is recursive: it
decides, as it always has, whether a document nests too deeply for Python; the positions of
a quickly read document come from it too, so they are never asked of deeper nesting."""

_BUILT_TAGS = frozenset(
    {"tag:yaml.org,2002:null", BOOL_TAG, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
)
_RESOLVER: Any = yaml.resolver.Resolver()  # PyYAML is untyped
_SCALAR, _MAPPING = yaml.ScalarEvent, yaml.MappingStartEvent
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_SKIPPED = (yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.DocumentEndEvent)
_NO_KEY = "(an item)"  # in a sequence: compared by identity, so no key is taken for it
_AWAITED = None  # in a mapping: the next scalar is a key


def key_text(raw: Json) -> str:
    """Mapping keys become strings, as they do in JSON and Kubernetes objects."""
    if isinstance(raw, str):
        return raw
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def is_bool_word_key(tag: str, value: str) -> bool:
    """A YAML 1.1 boolean word as a key (``on:``, ``yes:``) stays a word, as in Go's
    yaml.v3."""
    return tag == BOOL_TAG and value.lower() not in ("true", "false")


class _UnusualTextError(Exception):
    """The text needs the thorough reading."""


class _Reader:
    """One quick reading: the open collections and what has been built so far."""

    def __init__(self) -> None:
        self.max_nodes = limits.YAML_NODES.value
        self.max_depth = min(limits.YAML_DEPTH.value, QUICK_DEPTH)
        self.max_keys = limits.YAML_KEYS.value
        self.tags: dict[str, str] = {}  # plain scalar -> its resolved tag
        self.built: dict[tuple[str, str], Json] = {}  # (tag, text) -> null, bool or number

    def tag(self, event: Any) -> str:
        tag: str | None = event.tag
        value: str = event.value
        if tag is None:
            if not event.implicit[0]:
                return STR_TAG
            found = self.tags.get(value)
            if found is None:
                found = self.tags[value] = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
            return found
        if tag == "!":
            return str(_RESOLVER.resolve(yaml.ScalarNode, value, event.implicit))
        return tag

    def build(self, tag: str, value: str) -> Json:
        """A scalar of a tag that does not stay a string."""
        if tag not in _BUILT_TAGS:
            raise _UnusualTextError
        try:
            return self.built[(tag, value)]
        except KeyError:
            pass
        try:
            made: Json = CONSTRUCTOR.yaml_constructors[tag](
                CONSTRUCTOR, yaml.ScalarNode(tag, value)
            )
        except VALUE_ERRORS:
            raise _UnusualTextError from None
        self.built[(tag, value)] = made
        return made

    def key(self, tag: str, value: str, mapping: JsonDict) -> str:
        if tag in STRING_TAGS or is_bool_word_key(tag, value):
            key = value
        else:
            key = key_text(self.build(tag, value))
        if key in mapping or len(mapping) >= self.max_keys:
            raise _UnusualTextError  # a duplicate key, or one key too many
        return key

    def documents(self, get_event: Any) -> list[Json]:
        """Every document's value, reading events until the stream ends (one loop, not a
        call per value: this is the costliest part of loading a large pattern)."""
        docs: list[Json] = []
        open_: list[tuple[Any, str | None]] = []  # the enclosing collections, and their keys
        top: Any = docs  # the innermost open collection (the list of documents at first)
        key: str | None = _NO_KEY  # the key awaiting its value, _AWAITED or _NO_KEY
        nodes = 0
        while True:
            event = get_event()
            kind = event.__class__
            if kind in _SKIPPED:
                continue
            if kind in _CLOSING:
                top, key = open_.pop()
                continue
            if kind is yaml.StreamEndEvent:
                return docs
            if event.anchor is not None:
                raise _UnusualTextError  # an anchor or an alias
            nodes += 1
            if nodes > self.max_nodes:
                raise _UnusualTextError
            if kind is _SCALAR:
                tag, value = self.tag(event), event.value
                if key is _AWAITED:
                    key = self.key(tag, value, top)
                    continue
                item = value if tag in STRING_TAGS else self.build(tag, value)
            elif key is _AWAITED:
                raise _UnusualTextError  # a collection as a key
            else:
                item = {} if kind is _MAPPING else []
            if key is _NO_KEY:
                top.append(item)
            else:
                top[key] = item
                key = _AWAITED
            if kind is not _SCALAR:
                open_.append((top, key))
                if len(open_) > self.max_depth:
                    raise _UnusualTextError
                top, key = item, (_AWAITED if kind is _MAPPING else _NO_KEY)


def read_values(text: str) -> list[Json] | None:
    """The value of every document of ``text``, or None when it needs the thorough
    reading."""
    if len(text) > limits.YAML_BYTES.value:
        return None
    parser = BASE(text)
    try:
        return _Reader().documents(parser.get_event)
    except (_UnusualTextError, yaml.YAMLError):
        return None
    finally:
        parser.dispose()
