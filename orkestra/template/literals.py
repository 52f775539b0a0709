"""Go literal syntax: quoted strings, rune constants and numbers.

Python's own literal parsers differ from Go's in ways templates can observe (a leading
``0`` means octal in Go, ``\\'`` is invalid inside a Go double-quoted string, hex floats
need a ``p`` exponent, underscores have their own placement rule), so these follow the rules
of Go's ``strconv`` package instead.
"""

from __future__ import annotations

from orkestra.template.nodes import NumberNode

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}
_HEX = "0123456789abcdefABCDEF"
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1


class LiteralError(ValueError):
    """The literal text is not valid Go syntax."""


def _unquote_char(s: str, i: int, quote: str) -> tuple[int, bool, int]:
    """Decode one character or escape at ``s[i]``.

    Returns (value, is_byte, next_index); ``is_byte`` marks ``\\x`` and octal escapes,
    which denote raw bytes rather than code points.
    """
    c = s[i]
    if c == quote and quote in "'\"":
        raise LiteralError("invalid syntax")
    if c != "\\":
        return ord(c), False, i + 1
    if i + 1 >= len(s):
        raise LiteralError("invalid syntax")
    e = s[i + 1]
    if e in _SIMPLE_ESCAPES:
        return ord(_SIMPLE_ESCAPES[e]), False, i + 2
    if e in "'\"":
        if e != quote:
            raise LiteralError("invalid syntax")
        return ord(e), False, i + 2
    if e in "xuU":
        width = {"x": 2, "u": 4, "U": 8}[e]
        digits = s[i + 2 : i + 2 + width]
        if len(digits) != width or any(d not in _HEX for d in digits):
            raise LiteralError("invalid syntax")
        value = int(digits, 16)
        if e == "x":
            return value, True, i + 2 + width
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise LiteralError("invalid syntax")
        return value, False, i + 2 + width
    if "0" <= e <= "7":
        digits = s[i + 1 : i + 4]
        if len(digits) != 3 or any(not ("0" <= d <= "7") for d in digits):
            raise LiteralError("invalid syntax")
        value = int(digits, 8)
        if value > 255:
            raise LiteralError("invalid syntax")
        return value, True, i + 4
    raise LiteralError("invalid syntax")


def unquote_string(quoted: str) -> str:
    """The value of a Go string literal (interpreted ``"..."`` or raw ```...```)."""
    if len(quoted) < 2 or quoted[0] != quoted[-1] or quoted[0] not in '"`':
        raise LiteralError("invalid syntax")
    body = quoted[1:-1]
    if quoted[0] == "`":
        if "`" in body:
            raise LiteralError("invalid syntax")
        return body.replace("\r", "")
    if "\n" in body:
        raise LiteralError("invalid syntax")
    if "\\" not in body and '"' not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        value, is_byte, i = _unquote_char(body, i, '"')
        if is_byte:
            out.append(value)
        else:
            out.extend(chr(value).encode("utf-8", "surrogatepass"))
    return out.decode("utf-8", "replace")


def unquote_rune(quoted: str) -> int:
    """The code point of a Go rune constant such as ``'a'`` or ``'\\n'``."""
    if len(quoted) < 3 or quoted[0] != "'":
        raise LiteralError(f"malformed character constant: {quoted}")
    value, _, end = _unquote_char(quoted, 1, "'")
    if quoted[end:] != "'":
        raise LiteralError(f"malformed character constant: {quoted}")
    return value


def _underscores_ok(s: str) -> bool:
    """Go's rule: an underscore must sit between digits or right after a base prefix."""
    if s[:1] in ("+", "-"):
        s = s[1:]
    saw = "^"
    i = 0
    hex_digits = False
    if len(s) >= 2 and s[0] == "0" and s[1] in "bBoOxX":
        i = 2
        saw = "0"
        hex_digits = s[1] in "xX"
    for c in s[i:]:
        if "0" <= c <= "9" or (hex_digits and c in "abcdefABCDEF"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


def parse_int(text: str) -> int:
    """``strconv.ParseInt(text, 0, 64)`` semantics, without the range check."""
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s:
        raise LiteralError("invalid syntax")
    base = 10
    if len(s) >= 2 and s[0] == "0" and s[1] in "xXoObB":
        base = {"x": 16, "o": 8, "b": 2}[s[1].lower()]
        s = s[2:]
    elif s[0] == "0" and len(s) > 1:
        base = 8
        s = s[1:]
    if "_" in text and not _underscores_ok(text):
        raise LiteralError("invalid syntax")
    s = s.replace("_", "")
    if not s:
        raise LiteralError("invalid syntax")
    try:
        return sign * int(s, base)
    except ValueError as exc:
        raise LiteralError("invalid syntax") from exc


def parse_float(text: str) -> float:
    """``strconv.ParseFloat(text, 64)`` semantics for the forms the lexer can produce."""
    s = text
    if "_" in s and not _underscores_ok(s):
        raise LiteralError("invalid syntax")
    s = s.replace("_", "")
    body = s.lstrip("+-")
    try:
        if body[:2] in ("0x", "0X"):
            if "p" not in body and "P" not in body:
                raise LiteralError("invalid syntax")
            value = float.fromhex(body)
        else:
            if not body or body[0] not in "0123456789.":
                raise LiteralError("invalid syntax")
            value = float(body)
    except (ValueError, OverflowError) as exc:
        raise LiteralError("invalid syntax") from exc
    if value in (float("inf"), float("-inf")):
        raise LiteralError("value out of range")
    return -value if s.startswith("-") else value


def _simplify_complex(n: NumberNode) -> None:
    n.is_float = n.complex_value.imag == 0
    if n.is_float:
        n.float_value = n.complex_value.real
        n.is_int = n.float_value.is_integer()
        if n.is_int:
            n.int_value = int(n.float_value)


def _parse_complex(text: str) -> complex:
    try:
        return complex(text.replace("_", "").replace("i", "j"))
    except ValueError as exc:
        raise LiteralError(f"bad complex constant: {text}") from exc


def new_number(pos: int, text: str, *, is_char: bool, is_complex: bool) -> NumberNode:
    """Classify a number literal the way Go's parser does (int / uint / float / complex)."""
    n = NumberNode(pos, text)
    if is_char:
        r = unquote_rune(text)
        n.is_int = n.is_uint = n.is_float = True
        n.int_value, n.float_value = r, float(r)
        return n
    if is_complex:
        n.is_complex = True
        n.complex_value = _parse_complex(text)
        _simplify_complex(n)
        return n
    if text.endswith("i"):
        try:
            imag = parse_float(text[:-1])
        except LiteralError:
            pass
        else:
            n.is_complex = True
            n.complex_value = complex(0, imag)
            _simplify_complex(n)
            return n
    _classify_real(n, text)
    if not (n.is_int or n.is_uint or n.is_float):
        raise LiteralError(f'illegal number syntax: "{text}"')
    return n


def _classify_real(n: NumberNode, text: str) -> None:
    value: int | None
    try:
        value = parse_int(text)
    except LiteralError:
        value = None
    if value is not None and not text.startswith(("-", "+")) and 0 <= value <= UINT64_MAX:
        n.is_uint = True
    if value is not None and INT64_MIN <= value <= INT64_MAX:
        n.is_int = True
        n.int_value = value
        if value == 0:
            n.is_uint = True
    if n.is_int:
        n.is_float = True
        n.float_value = float(n.int_value)
        return
    if n.is_uint and value is not None:
        n.is_float = True
        n.float_value = float(value)
        return
    try:
        f = parse_float(text)
    except LiteralError:
        return
    if not any(c in text for c in ".eEpP"):
        raise LiteralError(f'integer overflow: "{text}"')
    n.is_float = True
    n.float_value = f
    if f.is_integer() and INT64_MIN <= f <= INT64_MAX:
        n.is_int = True
        n.int_value = int(f)
    if f.is_integer() and 0 <= f <= UINT64_MAX:
        n.is_uint = True
