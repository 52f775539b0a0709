"""YAML text out: the dumpers behind everything the project prints or writes as YAML.

Each dumper runs on libyaml's emitter (PyYAML's ``CSafeDumper``) where PyYAML was built
with it: it is about three times faster than PyYAML's pure-Python ``SafeDumper``, which is
most of what ``ork template`` and ``toYaml`` cost on large outputs. The two emitters write
the same bytes except for strings outside the ordinary (characters beyond the BMP, control
characters, ``\r``, NEL and the Unicode line separators, empty mapping keys, a literal
block that keeps trailing blank lines) and a document that is a bare scalar (the Python one
ends it with ``...``): a value holding any of
those is written by the Python emitter, so the output never depends on which one ran (the
tests compare them on generated values). A dumper that overrides how the *emitter* works
(indentation, say) cannot use libyaml, which ignores Python overrides of the emitter: such
a dumper subclasses :data:`PURE_SAFE_DUMPER` and says why.

:func:`block` (what ``ork template`` prints) goes further: a hand-written writer emits the
common values itself, about five times faster than libyaml behind PyYAML's Python
representer, which builds a node per value. It knows PyYAML's block layout and its choice
among plain, single-quoted and literal scalars (the emitter's ``analyze_scalar`` and the
resolver's implicit tags, which it asks directly), and hands every other value to PyYAML:
keys that are not strings or not simple keys, floats the resolver would not read back as
floats, strings outside the ordinary or ones PyYAML would double-quote or fold, other
types. The tests compare it with both emitters on generated values.
"""

from __future__ import annotations

import math
import re
from typing import Any, cast

import yaml

SAFE_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
PURE_SAFE_DUMPER = yaml.SafeDumper
WIDE = 1 << 16  # never fold a long line (template strings stay on one line)
# What the emitters quote or break differently (see the module docstring). A string of
# ASCII needs only the second pattern; the first, whose ranges take 2 ms to compile, is
# compiled by ``re`` on first use (its cache), so text without other characters never pays.
_UNORDINARY = (
    r"[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]|[\u2028\u2029]"
    r"|(?:\A|\n)\n\Z"
)
# Without allow_unicode, every character beyond ASCII is written as an escape, and the two
# emitters fold a long line of escapes at different places.
_UNORDINARY_ESCAPED = re.compile(r"[^\t\n\x20-\x7e]|(?:\A|\n)\n\Z")


def _unordinary(text: str, allow_unicode: bool) -> bool:
    """Whether the emitters may write ``text`` differently."""
    if allow_unicode and not text.isascii():
        return re.search(_UNORDINARY, text) is not None
    return _UNORDINARY_ESCAPED.search(text) is not None


def _ordinary(value: Any, allow_unicode: bool) -> bool:
    """Whether both emitters write ``value`` (a mapping or a list) the same way."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _unordinary(item, allow_unicode):
                return False
        elif isinstance(item, dict):
            if "" in item:
                return False
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return True


def _fast(value: Any, *, allow_unicode: bool) -> bool:
    return (
        SAFE_DUMPER is not PURE_SAFE_DUMPER
        and isinstance(value, (dict, list))
        and _ordinary(value, allow_unicode)
    )


def literal_strings(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """A multi-line string as a literal block (``|``), any other as PyYAML chooses."""
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    )


class _Block:
    """Block YAML in insertion order, multi-line strings as literal blocks, no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class BlockDumper(_Block, SAFE_DUMPER):  # type: ignore[valid-type,misc]  # chosen at import
    """:class:`_Block` on the fastest emitter."""


class PureBlockDumper(_Block, PURE_SAFE_DUMPER):
    """:class:`_Block` on the Python emitter (values the C one writes differently)."""


BlockDumper.add_representer(str, literal_strings)
PureBlockDumper.add_representer(str, literal_strings)


def block(value: Any) -> str:
    """``value`` as block YAML in insertion order, long lines kept whole (what ``ork
    template`` and ``ork generate bundle`` print)."""
    if type(value) in (dict, list):
        try:
            return _BlockWriter().document(value)
        except _Unwritten:
            pass
    text: str = yaml.dump(
        value,
        Dumper=BlockDumper if _fast(value, allow_unicode=True) else PureBlockDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=WIDE,
    )
    return text


def safe(value: Any, **options: Any) -> str:
    """``yaml.safe_dump`` on the fastest emitter available (same options, same text)."""
    fast = _fast(value, allow_unicode=bool(options.get("allow_unicode")))
    dumper = SAFE_DUMPER if fast else PURE_SAFE_DUMPER
    text: str = yaml.dump(value, Dumper=dumper, **options)
    return text


def safe_all(documents: list[Any], **options: Any) -> str:
    """``yaml.safe_dump_all`` on the fastest emitter available."""
    unicode = bool(options.get("allow_unicode"))
    fast = all(_fast(d, allow_unicode=unicode) for d in documents)
    dumper = SAFE_DUMPER if fast else PURE_SAFE_DUMPER
    text: str = yaml.dump_all(documents, Dumper=dumper, **options)
    return text


# -- the hand-written block writer (see the module docstring) -----------------------------

_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# The resolver's implicit tags by a scalar's first character (PyYAML's own table, with the
# resolvers for any character appended, as its ``resolve`` tries them).
_IMPLICIT: dict[str | None, list[tuple[str, re.Pattern[str]]]] = (
    PURE_SAFE_DUMPER.yaml_implicit_resolvers
)
_ANY_RESOLVERS = tuple(_IMPLICIT.get(None, ()))
_RESOLVERS = {
    first: (*resolvers, *_ANY_RESOLVERS) for first, resolvers in _IMPLICIT.items() if first
}
_LEADING = frozenset("#,[]{}&*!|>'\"%@` ")  # a plain scalar may not start with these
_LONGEST = 16_384  # a longer single-line scalar could reach the width and be folded
# From this length PyYAML's emitter writes a key as a complex key ("? "), libyaml's from
# one more character: such keys are left to them.
_SIMPLE_KEY = 128


class _Unwritten(Exception):  # noqa: N818 - an outcome, not an error
    """A value the hand-written writer leaves to PyYAML."""


def _tag(text: str) -> str:
    """The tag PyYAML's resolver gives ``text`` as a plain scalar."""
    for tag, pattern in _RESOLVERS.get(text[:1], _ANY_RESOLVERS):
        if pattern.match(text):
            return tag
    return _STR_TAG


def _plain(text: str) -> bool:
    """Whether PyYAML writes the one-line ``text`` plain in block context."""
    return (
        text[0] not in _LEADING
        and text[-1] not in " :"
        and not (text[0] in "?:-" and text[1:2] in ("", " "))
        and not text.startswith(("---", "..."))
        and ": " not in text
        and " #" not in text
        and _tag(text) == _STR_TAG
    )


def _one_line(text: str) -> str:
    """A one-line string as PyYAML writes it: plain where it may, else single-quoted."""
    if text and _plain(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _float(value: float) -> str:
    """A float as PyYAML's representer spells it (always read back as a float)."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    if _tag(text) != _FLOAT_TAG:
        raise _Unwritten
    return text


def _ordinary_string(text: str) -> None:
    """Refuse what the writer does not write: characters PyYAML escapes or the emitters
    treat differently, and lines long enough to be folded."""
    if "\t" in text or _unordinary(text, True) or (len(text) > _LONGEST and "\n" not in text):
        raise _Unwritten


def _key(key: str) -> str:
    if not key or len(key) >= _SIMPLE_KEY or "\n" in key:
        raise _Unwritten
    _ordinary_string(key)
    return _one_line(key)


def _literal(text: str, indent: str) -> str:
    """A multi-line string as a literal block: the indicator line's end, then the lines."""
    if text[-1] == " " or " \n" in text:  # trailing spaces: PyYAML double-quotes it
        raise _Unwritten
    hints = "2" if text[0] in " \n" else ""
    if text[-1] != "\n":
        hints += "-"
        lines = text.split("\n")
    else:
        lines = text[:-1].split("\n")
    body = "".join(indent + line + "\n" if line else "\n" for line in lines)
    return f" |{hints}\n{body}"


class _BlockWriter:
    """Block YAML as :class:`BlockDumper` writes it, for the values it knows."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.keys: dict[str, str] = {}  # the same keys come back in every object

    def key(self, key: object) -> str:
        if type(key) is not str:
            raise _Unwritten
        text = self.keys.get(key)
        if text is None:
            text = self.keys[key] = _key(key)
        return text

    def document(self, value: dict[Any, Any] | list[Any]) -> str:
        if not value:
            return "{}\n" if isinstance(value, dict) else "[]\n"
        if isinstance(value, dict):
            self.mapping(value, 0, inline=False)
        else:
            self.sequence(value, 0, inline=False)
        return "".join(self.out)

    def mapping(self, value: dict[Any, Any], indent: int, inline: bool) -> None:
        pad = " " * indent
        for key, item in value.items():
            start = "" if inline else pad
            inline = False
            if type(item) is dict and item:
                self.out.append(f"{start}{self.key(key)}:\n")
                self.mapping(item, indent + 2, inline=False)
            elif type(item) is list and item:
                self.out.append(f"{start}{self.key(key)}:\n")
                self.sequence(item, indent, inline=False)
            else:
                self.out.append(f"{start}{self.key(key)}:{self.scalar(item, indent + 2)}")

    def sequence(self, value: list[Any], indent: int, inline: bool) -> None:
        pad = " " * indent
        for item in value:
            start = "" if inline else pad
            inline = False
            if type(item) is dict and item:
                self.out.append(start + "- ")
                self.mapping(item, indent + 2, inline=True)
            elif type(item) is list and item:
                self.out.append(start + "- ")
                self.sequence(item, indent + 2, inline=True)
            else:
                self.out.append(f"{start}-{self.scalar(item, indent + 2)}")

    def scalar(self, value: object, indent: int) -> str:
        """What follows a key's colon or an item's dash for a scalar or an empty
        collection, line break included."""
        kind = type(value)
        if kind is str:
            text = cast(str, value)
            _ordinary_string(text)
            if "\n" in text:
                return _literal(text, " " * indent)
            return f" {_one_line(text)}\n"
        if kind is bool:
            return " true\n" if value else " false\n"
        if kind is int:
            return f" {value}\n"
        if value is None:
            return " null\n"
        if kind is float:
            return f" {_float(cast(float, value))}\n"
        if kind is dict:
            return " {}\n"
        if kind is list:
            return " []\n"
        raise _Unwritten
