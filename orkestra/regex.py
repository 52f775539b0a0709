"""User regular expressions, with the semantics of Go and Kubernetes: RE2.

Every expression a user writes (``regexMatch`` and ``regexReplaceAll`` in templates, the
``regex`` condition operator, a CRD's ``pattern``) is compiled here by RE2 (the
``google-re2`` binding), whose matching time is linear in the input: no expression can make
a validation, a simulation or the runtime hang by backtracking, as Python's ``re`` can.

RE2's syntax is Go's, so expressions need no translation: ``(?P<name>...)`` and
``(?<name>...)`` name groups, ``\\z`` is the end of the text, ``$`` without ``(?m)`` matches
only there (not before a final newline as in Python). Go's ``\\C`` (any byte) is refused as
Go refuses it. Constructs RE2 does not have (backreferences, lookahead and lookbehind,
possessive quantifiers, atomic groups, Python's ``\\Z``) are errors naming the expression,
with a hint. Matching works on the UTF-8 bytes, as Go does, so ``regexReplaceAll`` follows
Go's ``ReplaceAllString`` exactly: empty matches next to a previous match are skipped and
``$1``, ``${name}``, ``$name`` and ``$$`` expand as Go's ``Regexp.Expand`` does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import re2  # type: ignore[import-untyped]

from orkestra.errors import OrkError

_UNSUPPORTED = (
    ("invalid perl operator: (?=", "lookahead"),
    ("invalid perl operator: (?!", "lookahead"),
    ("invalid perl operator: (?<=", "lookbehind"),
    ("invalid perl operator: (?<!", "lookbehind"),
    ("invalid perl operator: (?#", "comments"),
    ("invalid perl operator: (?>", "atomic groups"),
    ("invalid escape sequence: \\k", "backreferences"),
    ("bad repetition operator: ++", "possessive quantifiers"),
    ("bad repetition operator: *+", "possessive quantifiers"),
    ("bad repetition operator: ?+", "possessive quantifiers"),
)
_SYNTAX_HINT = (
    "the syntax is RE2's, as in Go and Kubernetes: https://github.com/google/re2/wiki/Syntax"
)


class RegexError(OrkError):
    """A regular expression RE2 cannot compile, or a replacement that grew too large."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


_OPTIONS = _options()


def _missing(pattern: str, error: str) -> str:
    """The construct RE2 lacks that ``error`` (RE2's message) is about, or ""."""
    for prefix, construct in _UNSUPPORTED:
        if error.startswith(prefix):
            return construct
    if error.startswith("invalid escape sequence: \\") and error[-1:].isdigit():
        return "backreferences"
    if error == "invalid perl operator: (?P":
        return "backreferences" if "(?P=" in pattern else "recursion" if "(?P>" in pattern else ""
    return ""


def _failure(pattern: str, error: str) -> RegexError:
    message = f"invalid regular expression {pattern!r}: {error}"
    construct = _missing(pattern, error)
    if construct:
        return RegexError(
            f"{message} (RE2, the syntax of Go and Kubernetes, has no {construct})",
            hint="rewrite the expression without them; " + _SYNTAX_HINT,
        )
    if error == "invalid escape sequence: \\Z":
        return RegexError(f"{message} (write \\z for the end of the text)", hint=_SYNTAX_HINT)
    return RegexError(message, hint=_SYNTAX_HINT)


def _check_go_only(pattern: str) -> None:
    """Refuse ``\\C`` (one byte), which RE2 has and Go does not."""
    i = 0
    while i < len(pattern):
        if pattern.startswith("\\Q", i):
            end = pattern.find("\\E", i + 2)
            if end < 0:
                return
            i = end + 2
        elif pattern[i] != "\\":
            i += 1
        elif pattern[i + 1 : i + 2] == "C":
            raise RegexError(
                f"invalid regular expression {pattern!r}: invalid escape "
                "sequence: \\C (Go has no \\C; use . for any character)",
                hint=_SYNTAX_HINT,
            )
        else:
            i += 2


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> Regex:
    """``pattern`` compiled by RE2 (cached); raises :class:`RegexError`."""
    _check_go_only(pattern)
    try:
        compiled = re2.compile(pattern.encode("utf-8"), _OPTIONS)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else str(exc)
        error = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise _failure(pattern, error) from None
    return Regex(pattern, compiled, _Expander.groups(compiled))


@dataclass(frozen=True)
class Regex:
    """A compiled expression: Go's ``MatchString`` and ``ReplaceAllString``."""

    pattern: str
    compiled: Any  # re2._Regexp
    names: dict[str, int]

    def search(self, text: str) -> bool:
        """Whether the expression matches anywhere in ``text`` (Go's ``MatchString``)."""
        return self.compiled.search(text.encode("utf-8")) is not None

    def replace_all(
        self, text: str, template: str, limit: int | None = None, limit_name: str = ""
    ) -> str:
        """``text`` with each match replaced by ``template`` expanded (Go's
        ``ReplaceAllString``); a result longer than ``limit`` bytes raises RegexError
        (``limit_name``, the setting that raises it, is named in the message)."""
        src = text.encode("utf-8")
        expand = _Expander(template, self.names)
        out = bytearray()
        last_end = search = 0
        while search <= len(src):
            match = self.compiled.search(src, search)
            if match is None:
                break
            start, end = match.span()
            out += src[last_end:start]
            if end > last_end or start == 0:
                expand.into(out, match, src)
            if limit is not None and len(out) > limit:
                setting = f" ({limit_name})" if limit_name else ""
                raise RegexError(
                    f"replacing {self.pattern!r} would make more than {limit} bytes{setting}"
                )
            last_end = end
            width = _rune_width(src, search)
            search = (
                search + width if search + width > end else search + 1 if search + 1 > end else end
            )
        out += src[last_end:]
        return out.decode("utf-8", "replace")


def _rune_width(data: bytes, pos: int) -> int:
    """Bytes of the UTF-8 character at ``pos`` (0 at the end), as Go's DecodeRune."""
    if pos >= len(data):
        return 0
    lead = data[pos]
    return 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


class _Expander:
    """A replacement template parsed once: literal bytes and group references."""

    def __init__(self, template: str, names: dict[str, int]) -> None:
        self.parts: list[bytes | int] = []
        rest, literal = template, ""
        while rest:
            before, dollar, after = rest.partition("$")
            literal += before
            if not dollar:
                break
            if after.startswith("$"):
                literal, rest = literal + "$", after[1:]
                continue
            name, rest_after = _extract(after)
            if name is None:
                literal, rest = literal + "$", after
                continue
            self._literal(literal)
            literal, rest = "", rest_after
            group = _group_number(name)
            self.parts.append(group if group is not None else names.get(name, -1))
        self._literal(literal)

    def _literal(self, text: str) -> None:
        if text:
            self.parts.append(text.encode("utf-8"))

    @staticmethod
    def groups(compiled: Any) -> dict[str, int]:
        names: dict[str, int] = {}
        for raw, index in compiled.groupindex.items():
            name = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            names.setdefault(name, index)
        return names

    def into(self, out: bytearray, match: Any, src: bytes) -> None:
        for part in self.parts:
            if isinstance(part, bytes):
                out += part
            elif 0 <= part <= match.re.groups:
                start, end = match.span(part)
                if start >= 0:
                    out += src[start:end]


def _extract(text: str) -> tuple[str | None, str]:
    """Go's ``extract``: the name after a ``$`` (``name`` or ``{name}``) and the rest."""
    brace = text.startswith("{")
    body = text[1:] if brace else text
    i = 0
    while i < len(body) and (body[i].isalpha() or body[i].isdecimal() or body[i] == "_"):
        i += 1
    if i == 0:
        return None, text
    name, rest = body[:i], body[i:]
    if brace:
        if not rest.startswith("}"):
            return None, text
        rest = rest[1:]
    return name, rest


def _group_number(name: str) -> int | None:
    """A group number as Go parses one (digits, no leading zero, at most 9), else None."""
    if not name.isascii() or not name.isdigit() or (name[0] == "0" and len(name) > 1):
        return None
    return int(name) if len(name) <= 9 else None
