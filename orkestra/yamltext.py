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
"""

from __future__ import annotations

import re
from typing import Any

import yaml

SAFE_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
PURE_SAFE_DUMPER = yaml.SafeDumper
WIDE = 1 << 16  # never fold a long line (template strings stay on one line)
# What the emitters quote or break differently (see the module docstring).
_UNORDINARY = re.compile(
    r"[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]|[\u2028\u2029]"
    r"|(?:\A|\n)\n\Z"
)
# Without allow_unicode, every character beyond ASCII is written as an escape, and the two
# emitters fold a long line of escapes at different places.
_UNORDINARY_ESCAPED = re.compile(r"[^\t\n\x20-\x7e]|(?:\A|\n)\n\Z")


def _ordinary(value: Any, unordinary: re.Pattern[str]) -> bool:
    """Whether both emitters write ``value`` (a mapping or a list) the same way."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if unordinary.search(item):
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
    unordinary = _UNORDINARY if allow_unicode else _UNORDINARY_ESCAPED
    return (
        SAFE_DUMPER is not PURE_SAFE_DUMPER
        and isinstance(value, (dict, list))
        and _ordinary(value, unordinary)
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
