"""Go's ``fmt`` printing for template values: ``Sprint``, ``Sprintln`` and ``Sprintf``.

Templates print every value through Go's ``fmt`` rules (``1e+06`` for a float of a million,
``map[a:1 b:2]`` with sorted keys, ``%!d(string=x)`` for a verb that does not fit), so a
faithful engine needs them. Python's ``%``-formatting differs in too many places (``%g``
precision, exponent thresholds, how lists and maps print, error forms) to be reused.

Values are the ones templates work with: ``None`` (Go's nil interface), ``bool``,
:class:`GoInt` (Go ``int``), ``int`` (Go ``int64``), ``float``, ``complex``, ``str``,
``list`` and ``dict``.

A list or map a template built can hold the same list or map many times (``list $l $l`` in
a loop doubles it each time), so one printing could be astronomically long: lists and maps
are measured first (each shared part once) and refused beyond ``ORK_MAX_RENDER_CHARS``
(:func:`check_printable`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from orkestra import limits
from orkestra.template.errors import TemplateExecError


class GoInt(int):
    """A Go ``int``: template integer constants, ``len`` results and range indexes.

    Plain Python ints stand for ``int64``, the type numbers decoded from YAML or JSON have
    in Go. The two only differ in how ``%T`` and ``fmt`` error forms name them.
    """

    __slots__ = ()


def go_type_name(v: Any) -> str:
    """The Go type name ``%T`` prints for a template value."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, GoInt):
        return "int"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, complex):
        return "complex128"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list | tuple):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return type(v).__name__


# -- float digits ---------------------------------------------------------------------


def _shortest_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``abs(x)`` and the decimal point position.

    ``x == 0.<digits> * 10**dp``. Python's ``repr`` and Go's shortest formatting pick the
    same digits (the shortest string that round-trips, closest to the exact value).
    """
    text = repr(abs(x))
    mantissa, _, exp = text.partition("e")
    int_part, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    digits = (int_part + frac).lstrip("0")
    lead_zeros = len(int_part + frac) - len((int_part + frac).lstrip("0"))
    dp = len(int_part) - lead_zeros + (int(exp) if exp else 0)
    digits = digits.rstrip("0")
    if not digits:
        return "0", 1
    return digits, dp


def _rounded_digits(x: float, n: int) -> tuple[str, int]:
    """``abs(x)`` rounded to ``n`` significant digits, trailing zeros removed."""
    if x == 0:
        return "0", 1
    text = f"{abs(x):.{max(n, 1) - 1}e}"
    mantissa, _, exp = text.partition("e")
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    return digits, int(exp) + 1


def _fmt_e(digits: str, dp: int, prec: int, upper: bool) -> str:
    first = digits[0]
    rest = digits[1:]
    if prec > 0:
        rest = (rest + "0" * prec)[:prec]
        body = first + "." + rest
    else:
        body = first
    exp = dp - 1 if digits != "0" else 0
    sign = "-" if exp < 0 else "+"
    e = "E" if upper else "e"
    return f"{body}{e}{sign}{abs(exp):02d}"


def _fmt_f(digits: str, dp: int, prec: int) -> str:
    if dp > 0:
        int_part = digits[:dp] + "0" * max(0, dp - len(digits))
        frac_src = digits[dp:]
    else:
        int_part = "0"
        frac_src = "0" * (-dp) + digits
    if prec > 0:
        return int_part + "." + (frac_src + "0" * prec)[:prec]
    return int_part


def _format_g(x: float, prec: int, upper: bool) -> str:
    shortest = prec < 0
    if shortest:
        digits, dp = _shortest_digits(x)
        eprec = 6
    else:
        prec = prec or 1
        digits, dp = _rounded_digits(x, prec)
        eprec = prec
        if eprec > len(digits) and len(digits) >= dp:
            eprec = len(digits)
    exp = dp - 1
    if exp < -4 or exp >= eprec:
        p = len(digits) if shortest or prec > len(digits) else prec
        return _fmt_e(digits, dp, p - 1, upper)
    p = len(digits) if shortest or prec > dp else prec
    return _fmt_f(digits, dp, max(p - dp, 0))


def _format_hex_float(ax: float, prec: int, upper: bool) -> str:
    """Go's ``%x`` for a non-negative float: ``0x1.8p+01``, rounding half to even."""
    mask = (1 << 64) - 1
    if ax == 0:
        mant, exp = 0, 0
    else:
        m, e = math.frexp(ax)
        mant = int(m * (1 << 61))  # leading 1 at bit 60, exactly
        exp = e - 1
    if 0 <= prec < 15:
        shift = prec * 4
        extra = (mant << shift) & ((1 << 60) - 1)
        mant >>= 60 - shift
        if extra | (mant & 1) > (1 << 59):
            mant += 1
        mant <<= 60 - shift
        if mant & (1 << 61):
            mant >>= 1
            exp += 1
    digits = "0123456789ABCDEF" if upper else "0123456789abcdef"
    out = ["0", "X" if upper else "x", str((mant >> 60) & 1)]
    mant = (mant << 4) & mask
    count = -1 if prec < 0 else prec
    if (count < 0 and mant) or count > 0:
        out.append(".")
        while (count < 0 and mant) or count > 0:
            out.append(digits[(mant >> 60) & 15])
            mant = (mant << 4) & mask
            count -= 1 if count > 0 else 0
    out.append("P" if upper else "p")
    out.append(f"{'-' if exp < 0 else '+'}{abs(exp):02d}")
    return "".join(out)


def _format_binary_float(x: float) -> str:
    if x == 0:
        return "0p-1074"
    ax = abs(x)
    if ax < 2.2250738585072014e-308:
        return f"{int(ax / 5e-324)}p-1074"
    m, e = math.frexp(ax)
    return f"{int(m * (1 << 53))}p{e - 53:+d}"


def format_float(x: float, verb: str, prec: int) -> str:
    """``strconv.FormatFloat`` for verbs e E f g G x X b; ``prec < 0`` means shortest."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    neg = math.copysign(1.0, x) < 0
    if verb in "eE":
        if prec < 0:
            digits, dp = _shortest_digits(x)
            body = _fmt_e(digits, dp, len(digits) - 1, verb == "E")
        else:
            digits, dp = _rounded_digits(x, prec + 1)
            body = _fmt_e(digits, dp, prec, verb == "E")
    elif verb == "f":
        if prec < 0:
            digits, dp = _shortest_digits(x)
            body = _fmt_f(digits, dp, max(len(digits) - dp, 0))
        else:
            body = f"{abs(x):.{prec}f}"
    elif verb in "gG":
        body = _format_g(x, prec, verb == "G")
    elif verb in "xX":
        body = _format_hex_float(abs(x), prec, verb == "X")
    else:
        body = _format_binary_float(abs(x))
    return ("-" if neg else "") + body


# -- quoting --------------------------------------------------------------------------

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _escape_rune(c: str, quote: str, ascii_only: bool) -> str:
    if c == quote or c == "\\":
        return "\\" + c
    if ascii_only:
        if c.isascii() and c.isprintable():
            return c
    elif c.isprintable():
        return c
    if c in _ESCAPES:
        return _ESCAPES[c]
    r = ord(c)
    if r < 0x20 or r == 0x7F:
        return f"\\x{r:02x}"
    if 0xD800 <= r <= 0xDFFF:
        return "\\ufffd"
    if r < 0x10000:
        return f"\\u{r:04x}"
    return f"\\U{r:08x}"


def go_quote(s: str, ascii_only: bool = False) -> str:
    """``strconv.Quote`` (or ``QuoteToASCII``)."""
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'
    return '"' + "".join(_escape_rune(c, '"', ascii_only) for c in s) + '"'


def go_quote_rune(r: int, ascii_only: bool = False) -> str:
    """``strconv.QuoteRune``."""
    if r > 0x10FFFF or 0xD800 <= r <= 0xDFFF:
        r = 0xFFFD
    return "'" + _escape_rune(chr(r), "'", ascii_only) + "'"


def _can_backquote(s: str) -> bool:
    return all(
        c == "\t" or (c != "`" and c != "\ufeff" and not (ord(c) < 0x20 or c == "\x7f")) for c in s
    )


# -- the printer ----------------------------------------------------------------------


class _Printer:
    __slots__ = (
        "buf",
        "minus",
        "plus",
        "plus_v",
        "prec",
        "prec_present",
        "sharp",
        "sharp_v",
        "space",
        "wid",
        "wid_present",
        "zero",
    )

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.clear()

    def clear(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.plus_v = self.sharp_v = False
        self.wid = self.prec = 0
        self.wid_present = self.prec_present = False

    # padding ------------------------------------------------------------------------
    def padding(self, n: int) -> str:
        return ("0" if self.zero else " ") * n if n > 0 else ""

    def pad(self, s: str) -> None:
        if not self.wid_present or self.wid == 0:
            self.buf.append(s)
            return
        width = self.wid - len(s)
        if self.minus:
            self.buf.append(s + self.padding(width))
        else:
            self.buf.append(self.padding(width) + s)

    # basic kinds --------------------------------------------------------------------
    def bad_verb(self, verb: str, value: Any, have_value: bool = True) -> None:
        self.buf.append("%!" + verb + "(")
        if have_value and value is not None:
            self.buf.append(go_type_name(value) + "=")
            saved = self.snapshot()
            self.clear()
            self.print_value(value, "v", 1)
            self.restore(saved)
        else:
            self.buf.append("<nil>")
        self.buf.append(")")

    def snapshot(self) -> tuple[Any, ...]:
        return (
            self.minus,
            self.plus,
            self.plus_v,
            self.prec,
            self.prec_present,
            self.sharp,
            self.sharp_v,
            self.space,
            self.wid,
            self.wid_present,
            self.zero,
        )

    def restore(self, s: tuple[Any, ...]) -> None:
        (
            self.minus,
            self.plus,
            self.plus_v,
            self.prec,
            self.prec_present,
            self.sharp,
            self.sharp_v,
            self.space,
            self.wid,
            self.wid_present,
            self.zero,
        ) = s

    def fmt_bool(self, v: bool, verb: str) -> None:
        if verb in "tv":
            self.pad("true" if v else "false")
        else:
            self.bad_verb(verb, v)

    def fmt_integer(self, v: int, verb: str) -> None:
        if verb in "vd":
            self.integer(v, 10, verb, "0123456789abcdefx")
        elif verb == "b":
            self.integer(v, 2, verb, "0123456789abcdefx")
        elif verb in "oO":
            self.integer(v, 8, verb, "0123456789abcdefx")
        elif verb == "x":
            self.integer(v, 16, verb, "0123456789abcdefx")
        elif verb == "X":
            self.integer(v, 16, verb, "0123456789ABCDEFX")
        elif verb == "c":
            self.pad(chr(v) if 0 <= v <= 0x10FFFF and not 0xD800 <= v <= 0xDFFF else "\ufffd")
        elif verb == "q":
            self.pad(go_quote_rune(v if v >= 0 else 0xFFFD, self.plus))
        elif verb == "U":
            self.unicode(v)
        else:
            self.bad_verb(verb, v)

    def integer(self, v: int, base: int, verb: str, digits: str) -> None:
        negative = v < 0
        u = -v if negative else v
        prec = 0
        if self.prec_present:
            prec = self.prec
            if prec == 0 and u == 0:
                saved_zero, self.zero = self.zero, False
                self.buf.append(self.padding(self.wid))
                self.zero = saved_zero
                return
        elif self.zero and self.wid_present:
            prec = self.wid
            if negative or self.plus or self.space:
                prec -= 1
        out = ""
        while True:
            out = digits[u % base] + out
            u //= base
            if u == 0:
                break
        if len(out) < prec:
            out = "0" * (prec - len(out)) + out
        if self.sharp:
            if base == 2:
                out = "0b" + out
            elif base == 8 and out[0] != "0":
                out = "0" + out
            elif base == 16:
                out = "0" + digits[16] + out
        if verb == "O":
            out = "0o" + out
        if negative:
            out = "-" + out
        elif self.plus:
            out = "+" + out
        elif self.space:
            out = " " + out
        saved_zero, self.zero = self.zero, False
        self.pad(out)
        self.zero = saved_zero

    def unicode(self, v: int) -> None:
        prec = self.prec if self.prec_present and self.prec > 4 else 4
        hexs = f"{v:X}" if v >= 0 else f"{v & 0xFFFFFFFFFFFFFFFF:X}"
        out = "U+" + hexs.rjust(prec, "0")
        if self.sharp and 0 <= v <= 0x10FFFF and chr(v).isprintable():
            out += f" '{chr(v)}'"
        saved_zero, self.zero = self.zero, False
        self.pad(out)
        self.zero = saved_zero

    def fmt_float(self, v: float, verb: str) -> None:
        if verb == "v":
            self.float(v, "g", -1)
        elif verb in "bgGxX":
            self.float(v, verb, -1)
        elif verb in "feE":
            self.float(v, verb, 6)
        elif verb == "F":
            self.float(v, "f", 6)
        else:
            self.bad_verb(verb, v)

    def float(self, v: float, verb: str, prec: int) -> None:
        if self.prec_present:
            prec = self.prec
        num = format_float(v, verb, prec)
        if num[0] not in "+-":
            num = "+" + num
        if self.space and num[0] == "+" and not self.plus:
            num = " " + num[1:]
        if num[1] in "IN":
            saved_zero, self.zero = self.zero, False
            if num[1] == "N" and not self.space and not self.plus:
                num = num[1:]
            self.pad(num)
            self.zero = saved_zero
            return
        if self.sharp and verb != "b":
            num = self._sharp_float(num, verb, prec)
        if self.plus or num[0] != "+":
            if self.zero and self.wid_present and self.wid > len(num):
                self.buf.append(num[0] + "0" * (self.wid - len(num)) + num[1:])
                return
            self.pad(num)
            return
        self.pad(num[1:])

    @staticmethod
    def _sharp_float(num: str, verb: str, prec: int) -> str:
        digits = 0
        if verb in "vgGx":
            digits = 6 if prec == -1 else prec
        tail = ""
        has_point = False
        seen_nonzero = False
        body = num
        for i in range(1, len(num)):
            c = num[i]
            if c == ".":
                has_point = True
            elif c in "pP" or (c in "eE" and verb not in "xX"):
                tail = num[i:]
                body = num[:i]
                break
            else:
                if c != "0":
                    seen_nonzero = True
                if seen_nonzero:
                    digits -= 1
        if not has_point:
            if len(body) == 2 and body[1] == "0":
                digits -= 1
            body += "."
        if digits > 0:
            body += "0" * digits
        return body + tail

    def fmt_complex(self, v: complex, verb: str) -> None:
        if verb not in "vbgGxXfFeE":
            self.bad_verb(verb, v)
            return
        saved_plus = self.plus
        self.buf.append("(")
        self.fmt_float(v.real, verb)
        self.plus = True
        self.fmt_float(v.imag, verb)
        self.buf.append("i)")
        self.plus = saved_plus

    def fmt_string(self, v: str, verb: str) -> None:
        if verb == "v":
            if self.sharp_v:
                self.quoted(v)
            else:
                self.pad(self.truncate(v))
        elif verb == "s":
            self.pad(self.truncate(v))
        elif verb in "xX":
            self.hex_string(v, verb == "X")
        elif verb == "q":
            self.quoted(v)
        else:
            self.bad_verb(verb, v)

    def truncate(self, s: str) -> str:
        return s[: self.prec] if self.prec_present else s

    def quoted(self, s: str) -> None:
        s = self.truncate(s)
        if self.sharp and _can_backquote(s):
            self.pad("`" + s + "`")
        else:
            self.pad(go_quote(s, self.plus))

    def hex_string(self, s: str, upper: bool) -> None:
        data = s.encode("utf-8")
        length = len(data)
        if self.prec_present and self.prec < length:
            length = self.prec
        width = 2 * length
        if width <= 0:
            if self.wid_present:
                self.buf.append(self.padding(self.wid))
            return
        if self.space:
            if self.sharp:
                width *= 2
            width += length - 1
        elif self.sharp:
            width += 2
        if self.wid_present and self.wid > width and not self.minus:
            self.buf.append(self.padding(self.wid - width))
        x = "X" if upper else "x"
        parts = []
        for i in range(length):
            h = f"{data[i]:02X}" if upper else f"{data[i]:02x}"
            if self.sharp and (self.space or i == 0):
                h = "0" + x + h
            parts.append(h)
        self.buf.append((" " if self.space else "").join(parts))
        if self.wid_present and self.wid > width and self.minus:
            self.buf.append(self.padding(self.wid - width))

    # composite values -----------------------------------------------------------------
    def print_arg(self, arg: Any, verb: str) -> None:
        if arg is None:
            if verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb, None, have_value=False)
            return
        if verb == "T":
            self.pad(self.truncate(go_type_name(arg)))
            return
        self.print_value(arg, verb, 0)

    def print_value(self, v: Any, verb: str, depth: int) -> None:
        if v is None:
            if depth == 0:
                self.buf.append("<invalid reflect.Value>")
            elif self.sharp_v:
                self.buf.append("interface {}(nil)")
            elif verb == "v":
                self.buf.append("<nil>")
            else:
                self.bad_verb(verb, None, have_value=False)
        elif isinstance(v, bool):
            self.fmt_bool(v, verb)
        elif isinstance(v, int):
            self.fmt_integer(v, verb)
        elif isinstance(v, float):
            self.fmt_float(v, verb)
        elif isinstance(v, str):
            self.fmt_string(v, verb)
        elif isinstance(v, complex):
            self.fmt_complex(v, verb)
        elif isinstance(v, dict):
            self.print_map(v, verb, depth)
        elif isinstance(v, list | tuple):
            self.print_list(v, verb, depth)
        else:
            self.fmt_string(str(v), verb)

    def print_map(self, m: dict[Any, Any], verb: str, depth: int) -> None:
        if self.sharp_v:
            self.buf.append("map[string]interface {}{")
        else:
            self.buf.append("map[")
        for i, key in enumerate(sorted(m)):
            if i:
                self.buf.append(", " if self.sharp_v else " ")
            self.print_value(key, verb, depth + 1)
            self.buf.append(":")
            self.print_value(m[key], verb, depth + 1)
        self.buf.append("}" if self.sharp_v else "]")

    def print_list(self, items: Sequence[Any], verb: str, depth: int) -> None:
        if self.sharp_v:
            self.buf.append("[]interface {}{")
            sep = ", "
        else:
            self.buf.append("[")
            sep = " "
        for i, item in enumerate(items):
            if i:
                self.buf.append(sep)
            self.print_value(item, verb, depth + 1)
        self.buf.append("}" if self.sharp_v else "]")

    # Printf ---------------------------------------------------------------------------
    def printf(self, fmt: str, args: Sequence[Any]) -> None:
        _Formatter(self, fmt, args).run()


class _Formatter:
    """One ``Sprintf`` call: walks the format string and consumes arguments."""

    def __init__(self, p: _Printer, fmt: str, args: Sequence[Any]) -> None:
        self.p = p
        self.fmt = fmt
        self.args = args
        self.arg_num = 0
        self.reordered = False
        self.good_arg_num = True

    def run(self) -> None:
        p, fmt = self.p, self.fmt
        end = len(fmt)
        i = 0
        while i < end:
            j = fmt.find("%", i)
            if j < 0:
                p.buf.append(fmt[i:])
                break
            if j > i:
                p.buf.append(fmt[i:j])
            i = self.directive(j + 1)
            if i < 0:
                break
        if not self.reordered and self.arg_num < len(self.args):
            self.extra()

    def extra(self) -> None:
        p = self.p
        p.clear()
        p.buf.append("%!(EXTRA ")
        for k, arg in enumerate(self.args[self.arg_num :]):
            if k:
                p.buf.append(", ")
            if arg is None:
                p.buf.append("<nil>")
            else:
                p.buf.append(go_type_name(arg) + "=")
                p.print_arg(arg, "v")
        p.buf.append(")")

    def directive(self, i: int) -> int:
        """Handle one ``%...`` directive starting after the ``%``; returns the next index."""
        p, fmt = self.p, self.fmt
        end = len(fmt)
        p.clear()
        self.good_arg_num = True
        while i < end:
            c = fmt[i]
            if c == "#":
                p.sharp = True
            elif c == "0":
                p.zero = not p.minus
            elif c == "+":
                p.plus = True
            elif c == "-":
                p.minus = True
                p.zero = False
            elif c == " ":
                p.space = True
            else:
                break
            i += 1
        i, after_index = self.arg_number(i)
        if i < end and fmt[i] == "*":
            i += 1
            p.wid, p.wid_present = self.int_from_arg()
            if not p.wid_present:
                p.buf.append("%!(BADWIDTH)")
            if p.wid < 0:
                p.wid = -p.wid
                p.minus = True
                p.zero = False
            after_index = False
        else:
            p.wid, p.wid_present, i = _parse_num(fmt, i, end)
            if after_index and p.wid_present:
                self.good_arg_num = False
        if i + 1 < end and fmt[i] == ".":
            i += 1
            if after_index:
                self.good_arg_num = False
            i, after_index = self.arg_number(i)
            if i < end and fmt[i] == "*":
                i += 1
                p.prec, p.prec_present = self.int_from_arg()
                if p.prec < 0:
                    p.prec, p.prec_present = 0, False
                if not p.prec_present:
                    p.buf.append("%!(BADPREC)")
                after_index = False
            else:
                p.prec, p.prec_present, i = _parse_num(fmt, i, end)
                if not p.prec_present:
                    p.prec, p.prec_present = 0, True
        if not after_index:
            i, after_index = self.arg_number(i)
        if i >= end:
            p.buf.append("%!(NOVERB)")
            return -1
        verb = fmt[i]
        i += 1
        if verb == "%":
            p.buf.append("%")
        elif not self.good_arg_num:
            p.buf.append(f"%!{verb}(BADINDEX)")
        elif self.arg_num >= len(self.args):
            p.buf.append(f"%!{verb}(MISSING)")
        else:
            if verb == "v":
                p.sharp_v, p.sharp = p.sharp, False
                p.plus_v, p.plus = p.plus, False
            if verb == "w":
                p.bad_verb(verb, self.args[self.arg_num])
            else:
                p.print_arg(self.args[self.arg_num], verb)
            self.arg_num += 1
        return i

    def arg_number(self, i: int) -> tuple[int, bool]:
        fmt = self.fmt
        if i >= len(fmt) or fmt[i] != "[":
            return i, False
        self.reordered = True
        index, width, ok = _parse_arg_number(fmt[i:])
        if ok and 0 <= index < len(self.args):
            self.arg_num = index
            return i + width, True
        self.good_arg_num = False
        return i + width, ok

    def int_from_arg(self) -> tuple[int, bool]:
        num, is_int = 0, False
        if self.arg_num < len(self.args):
            arg = self.args[self.arg_num]
            if isinstance(arg, int) and not isinstance(arg, bool):
                num, is_int = arg, True
            self.arg_num += 1
            if _too_large(num):
                num, is_int = 0, False
        return num, is_int


def _too_large(x: int) -> bool:
    return x > 1_000_000 or x < -1_000_000


def _parse_num(s: str, start: int, end: int) -> tuple[int, bool, int]:
    if start >= end:
        return 0, False, end
    num, is_num, i = 0, False, start
    while i < end and "0" <= s[i] <= "9":
        if _too_large(num):
            return 0, False, end
        num = num * 10 + ord(s[i]) - 48
        is_num = True
        i += 1
    return num, is_num, i


def _parse_arg_number(fmt: str) -> tuple[int, int, bool]:
    if len(fmt) < 3:
        return 0, 1, False
    for i in range(1, len(fmt)):
        if fmt[i] == "]":
            width, ok, newi = _parse_num(fmt, 1, i)
            if not ok or newi != i:
                return 0, i + 1, False
            return width - 1, i + 1, True
    return 0, 1, False


# -- public API -----------------------------------------------------------------------


def check_printable(values: Iterable[Any]) -> None:
    """Refuse values whose lists and maps would print longer than ``ORK_MAX_RENDER_CHARS``
    (a rough measure: each string its length, each other scalar 8, each container 2 plus
    one per element), counting what they share once per occurrence, computed once."""
    containers = [v for v in values if isinstance(v, list | dict)]
    if not containers:
        return
    limit = limits.RENDER_CHARS.value
    sizes: dict[int, int] = {}
    if sum(_printed_size(v, sizes, limit) for v in containers) > limit:
        _too_long(limit)


def _too_long(limit: int) -> None:
    raise TemplateExecError(
        f"printing this value would make more than {limit} characters "
        f"({limits.RENDER_CHARS.variable})"
    )


def _parts(node: list[Any] | dict[Any, Any]) -> Iterable[Any]:
    return node if isinstance(node, list) else [*node.keys(), *node.values()]


def _printed_size(root: Any, sizes: dict[int, int], limit: int) -> int:
    """The measure of ``root``, post-order without recursion; ``sizes`` memoizes by id."""
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        if not ready:
            stack.append((node, True))
            stack.extend(
                (part, False)
                for part in _parts(node)
                if isinstance(part, list | dict) and id(part) not in sizes
            )
            continue
        size = 2
        for part in _parts(node):
            size += 1 + (
                sizes.get(id(part), limit + 1)
                if isinstance(part, list | dict)
                else len(part)
                if isinstance(part, str)
                else 8
            )
        if size > limit:
            _too_long(limit)
        sizes[id(node)] = size
    return sizes[id(root)]


def format_value(v: Any) -> str:
    """``fmt.Sprint(v)`` for a single value."""
    if type(v) is str:
        return v
    # What the printer would make of the commonest scalars, without building one.
    kind = type(v)
    if kind is int or kind is GoInt:
        digits: str = int.__repr__(v)
        return digits
    if kind is bool:
        return "true" if v else "false"
    check_printable((v,))
    p = _Printer()
    p.print_arg(v, "v")
    return "".join(p.buf)


def sprint(*args: Any) -> str:
    """``fmt.Sprint``: operands joined, with a space between two non-strings."""
    check_printable(args)
    p = _Printer()
    prev_string = False
    for i, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if i > 0 and not is_string and not prev_string:
            p.buf.append(" ")
        p.print_arg(arg, "v")
        prev_string = is_string
    return "".join(p.buf)


def sprintln(*args: Any) -> str:
    """``fmt.Sprintln``: operands always separated by spaces, newline appended."""
    check_printable(args)
    p = _Printer()
    for i, arg in enumerate(args):
        if i > 0:
            p.buf.append(" ")
        p.print_arg(arg, "v")
    p.buf.append("\n")
    return "".join(p.buf)


def sprintf(fmt: str, *args: Any) -> str:
    """``fmt.Sprintf``."""
    check_printable(args)
    p = _Printer()
    p.printf(fmt, args)
    return "".join(p.buf)
