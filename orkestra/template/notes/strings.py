"""String notes. Names shared with Sprig take Sprig's argument order, so that the subject
comes last and pipelines read naturally: ``{{ .spec.image | trimPrefix "docker.io/" }}``.
Case mapping is per character, like Go's (``ß`` stays ``ß``).

Regular expressions are RE2, as Go's (:mod:`orkestra.regex`); functions that can multiply
their input (``repeat``, ``indent``, ``replace``, ``regexReplaceAll``) refuse a result
longer than ``ORK_MAX_RENDER_CHARS`` instead of building it."""

from __future__ import annotations

import re
from typing import Any

from orkestra import limits
from orkestra.template.functions import Func, P, func
from orkestra.template.gofmt import format_value, go_quote

_GO_SPACE = (
    " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def to_str(value: Any) -> str:
    """Sprig's ``strval``: strings as they are, anything else as Go prints it."""
    return value if isinstance(value, str) else format_value(value)


def _map_chars(s: str, upper: bool) -> str:
    if s.isascii():
        return s.upper() if upper else s.lower()
    out = []
    for c in s:
        mapped = c.upper() if upper else c.lower()
        out.append(mapped if len(mapped) == 1 else c)
    return "".join(out)


@func("upper", P.STR)
def upper(s: str) -> str:
    return _map_chars(s, True)


@func("lower", P.STR)
def lower(s: str) -> str:
    return _map_chars(s, False)


@func("toUpper", P.STR)
def to_upper(s: str) -> str:
    return _map_chars(s, True)


@func("toLower", P.STR)
def to_lower(s: str) -> str:
    return _map_chars(s, False)


@func("title", P.STR)
def title(s: str) -> str:
    """Upper-case the first letter of each word; other letters are left alone (Go's Title)."""
    out = []
    prev_separator = True
    for c in s:
        out.append(_map_chars(c, True) if prev_separator else c)
        prev_separator = not (c.isalnum() or c == "_")
    return "".join(out)


@func("trim", P.STR)
def trim(s: str) -> str:
    return s.strip(_GO_SPACE)


@func("trimSpace", P.STR)
def trim_space(s: str) -> str:
    return s.strip(_GO_SPACE)


@func("trimAll", P.STR, P.STR)
def trim_all(cutset: str, s: str) -> str:
    return s.strip(cutset) if cutset else s


@func("trimPrefix", P.STR, P.STR)
def trim_prefix(prefix: str, s: str) -> str:
    return s[len(prefix) :] if prefix and s.startswith(prefix) else s


@func("trimSuffix", P.STR, P.STR)
def trim_suffix(suffix: str, s: str) -> str:
    return s[: -len(suffix)] if suffix and s.endswith(suffix) else s


@func("hasPrefix", P.STR, P.STR)
def has_prefix(prefix: str, s: str) -> bool:
    return s.startswith(prefix)


@func("hasSuffix", P.STR, P.STR)
def has_suffix(suffix: str, s: str) -> bool:
    return s.endswith(suffix)


@func("contains", P.STR, P.STR)
def contains(substr: str, s: str) -> bool:
    return substr in s


def _bounded(size: int, name: str) -> None:
    """Refuse to build a result of ``size`` characters beyond the render limit."""
    limit = limits.RENDER_CHARS
    if size > limit.value:
        raise ValueError(
            f"{name} would make {size} characters, more than {limit.value} ({limit.variable})"
        )


@func("replace", P.STR, P.STR, P.STR)
def replace(old: str, new: str, s: str) -> str:
    if len(new) > len(old):
        count = len(s) + 1 if not old else s.count(old)
        _bounded(len(s) + count * (len(new) - len(old)), "replace")
    return s.replace(old, new)


def _split(sep: str, s: str) -> list[Any]:
    if sep == "":
        return list(s)
    return list(s.split(sep))


@func("split", P.STR, P.STR)
def split(sep: str, s: str) -> list[Any]:
    """``split SEP S``: the list of parts (Go's strings.Split)."""
    return _split(sep, s)


@func("splitList", P.STR, P.STR)
def split_list(sep: str, s: str) -> list[Any]:
    return _split(sep, s)


def string_list(value: Any) -> list[str]:
    """Sprig's strslice: list elements as strings, nil elements dropped."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [to_str(v) for v in value if v is not None]
    return [to_str(value)]


@func("join", P.STR, P.ANY)
def join(sep: str, items: Any) -> str:
    return sep.join(string_list(items))


@func("repeat", P.INT, P.STR)
def repeat(count: int, s: str) -> str:
    if count < 0:
        raise ValueError("strings: negative Repeat count")
    _bounded(count * len(s), "repeat")
    return s * count


@func("trunc", P.INT, P.STR)
def trunc(count: int, s: str) -> str:
    data = s.encode("utf-8")
    if count < 0 and len(data) + count > 0:
        return data[len(data) + count :].decode("utf-8", "replace")
    if count >= 0 and len(data) > count:
        return data[:count].decode("utf-8", "replace")
    return s


@func("truncate", P.INT, P.STR)
def truncate(count: int, s: str) -> str:
    """``truncate N S``: at most N characters of S."""
    return s[: max(count, 0)]


@func("quote", variadic=P.ANY)
def quote(*values: Any) -> str:
    return " ".join(go_quote(to_str(v)) for v in values if v is not None)


@func("squote", variadic=P.ANY)
def squote(*values: Any) -> str:
    return " ".join(f"'{format_value(v)}'" for v in values if v is not None)


def _indent(spaces: int, s: str) -> str:
    _bounded(len(s) + max(spaces, 0) * (s.count("\n") + 1), "indent")
    pad = " " * spaces
    return pad + s.replace("\n", "\n" + pad)


@func("indent", P.INT, P.STR)
def indent(spaces: int, s: str) -> str:
    return _indent(spaces, s)


@func("nindent", P.INT, P.STR)
def nindent(spaces: int, s: str) -> str:
    return "\n" + _indent(spaces, s)


@func("camelToKebab", P.STR)
def camel_to_kebab(s: str) -> str:
    """``camelToKebab "myAppName"`` is ``my-app-name``."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", s)
    return s.replace("_", "-").lower()


@func("regexMatch", P.STR, P.STR)
def regex_match(pattern: str, s: str) -> bool:
    """Whether ``pattern`` (RE2) matches anywhere in ``s``; an invalid pattern is an error."""
    from orkestra.regex import compile_regex  # RE2 loads on the first regex note

    return compile_regex(pattern).search(s)


@func("regexReplaceAll", P.STR, P.STR, P.STR)
def regex_replace_all(pattern: str, s: str, repl: str) -> str:
    """Go's ``ReplaceAllString``: ``$1``, ``${name}`` and ``$$`` in ``repl`` expand."""
    from orkestra.regex import compile_regex

    limit = limits.RENDER_CHARS
    return compile_regex(pattern).replace_all(s, repl, limit.value, limit.variable)


NOTES: tuple[Func, ...] = (
    upper,
    lower,
    to_upper,
    to_lower,
    title,
    trim,
    trim_space,
    trim_all,
    trim_prefix,
    trim_suffix,
    has_prefix,
    has_suffix,
    contains,
    replace,
    split,
    split_list,
    join,
    repeat,
    trunc,
    truncate,
    quote,
    squote,
    indent,
    nindent,
    camel_to_kebab,
    regex_match,
    regex_replace_all,
)
