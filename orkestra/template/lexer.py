"""Tokenizer for Go text/template source.

The token rules follow Go 1.19's ``text/template/parse`` lexer: ``{{``/``}}`` delimiters,
``{{-``/``-}}`` trim markers (a dash plus one ASCII space character), comments that must
touch their delimiters, raw and interpreted strings, rune constants, Go number syntax
(prefixes, underscores, exponents, imaginary parts) and the keyword set. The whole input is
tokenized up front into a list, which the parser walks with an index.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from orkestra.template.errors import TemplateSyntaxError

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
SPACE_CHARS = " \t\r\n"


class T(IntEnum):
    """Token types."""

    ERROR = 0
    BOOL = 1
    CHAR = 2
    CHAR_CONSTANT = 3
    COMPLEX = 4
    ASSIGN = 5
    DECLARE = 6
    EOF = 7
    FIELD = 8
    IDENTIFIER = 9
    LEFT_DELIM = 10
    LEFT_PAREN = 11
    NUMBER = 12
    PIPE = 13
    RAW_STRING = 14
    RIGHT_DELIM = 15
    RIGHT_PAREN = 16
    SPACE = 17
    STRING = 18
    TEXT = 19
    VARIABLE = 20
    # keywords
    BLOCK = 30
    BREAK = 31
    CONTINUE = 32
    DOT = 33
    DEFINE = 34
    ELSE = 35
    END = 36
    IF = 37
    NIL = 38
    RANGE = 39
    TEMPLATE = 40
    WITH = 41


KEYWORDS = {
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}


class Token(NamedTuple):  # a tuple: cheap to make per token, and to define at import
    typ: T
    val: str
    pos: int
    line: int

    def describe(self) -> str:
        """How Go names a token in "unexpected ..." messages."""
        if self.typ == T.EOF:
            return "EOF"
        if self.typ >= T.BLOCK:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return _go_quote(self.val[:10]) + "..."
        return _go_quote(self.val)


def _go_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _is_space(c: str) -> bool:
    return c in SPACE_CHARS and c != ""


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdecimal()


def _has_left_trim(s: str, i: int) -> bool:
    return len(s) >= i + 2 and s[i] == "-" and _is_space(s[i + 1])


def _has_right_trim(s: str, i: int) -> bool:
    return len(s) >= i + 2 and _is_space(s[i]) and s[i + 1] == "-"


class _Lexer:
    def __init__(self, text: str, break_ok: bool, continue_ok: bool) -> None:
        self.s = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.paren_depth = 0
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self.tokens: list[Token] = []

    # -- primitives -------------------------------------------------------------------
    def peek(self) -> str:
        return self.s[self.pos] if self.pos < len(self.s) else ""

    def next(self) -> str:
        c = self.peek()
        if c:
            self.pos += 1
            if c == "\n":
                self.line += 1
        return c

    def backup(self) -> None:
        self.pos -= 1
        if self.s[self.pos] == "\n":
            self.line -= 1

    def emit(self, typ: T) -> None:
        self.tokens.append(Token(typ, self.s[self.start : self.pos], self.start, self.start_line))
        self.start = self.pos
        self.start_line = self.line

    def ignore(self) -> None:
        self.line += self.s.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def fail(self, message: str) -> None:
        raise TemplateSyntaxError(message, line=self.start_line, pos=self.start)

    def accept(self, valid: str) -> bool:
        c = self.peek()
        if c and c in valid:
            self.pos += 1
            return True
        return False

    def accept_run(self, valid: str) -> None:
        while self.accept(valid):
            pass

    def at_right_delim(self) -> tuple[bool, bool]:
        s, p = self.s, self.pos
        if _has_right_trim(s, p) and s.startswith(RIGHT_DELIM, p + 2):
            return True, True
        if s.startswith(RIGHT_DELIM, p):
            return True, False
        return False, False

    def at_terminator(self) -> bool:
        c = self.peek()
        if c == "" or _is_space(c) or c in ".,|:)(":
            return True
        return self.s.startswith(RIGHT_DELIM, self.pos)

    # -- states -----------------------------------------------------------------------
    def run(self) -> list[Token]:
        inside = False
        while True:
            if inside:
                inside = self.lex_inside_action()
            elif not self.lex_text():
                return self.tokens
            else:
                inside = self.lex_left_delim()

    def lex_text(self) -> bool:
        """Emit text up to the next action; False at end of input."""
        s = self.s
        x = s.find(LEFT_DELIM, self.pos)
        if x < 0:
            self.pos = len(s)
            if self.pos > self.start:
                self.line += s.count("\n", self.start, self.pos)
                self.emit(T.TEXT)
            self.emit(T.EOF)
            return False
        self.pos = x
        trim = 0
        if _has_left_trim(s, x + len(LEFT_DELIM)):
            chunk = s[self.start : x]
            trim = len(chunk) - len(chunk.rstrip(SPACE_CHARS))
        self.pos -= trim
        if self.pos > self.start:
            self.line += s.count("\n", self.start, self.pos)
            self.emit(T.TEXT)
        self.pos += trim
        self.ignore()
        return True

    def lex_left_delim(self) -> bool:
        """Consume ``{{``; True when an action follows, False after a comment."""
        s = self.s
        self.pos += len(LEFT_DELIM)
        trim = _has_left_trim(s, self.pos)
        after = 2 if trim else 0
        if s.startswith("/*", self.pos + after):
            self.pos += after
            self.ignore()
            self.lex_comment()
            return False
        self.emit(T.LEFT_DELIM)
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return True

    def lex_comment(self) -> None:
        s = self.s
        self.pos += 2
        end = s.find("*/", self.pos)
        if end < 0:
            self.fail("unclosed comment")
        self.pos = end + 2
        delim, trim = self.at_right_delim()
        if not delim:
            self.fail("comment ends before closing delimiter")
        if trim:
            self.pos += 2
        self.pos += len(RIGHT_DELIM)
        if trim:
            self._skip_leading_space()
        self.ignore()

    def _skip_leading_space(self) -> None:
        s = self.s
        while self.pos < len(s) and s[self.pos] in SPACE_CHARS:
            self.pos += 1

    def lex_right_delim(self) -> None:
        trim = _has_right_trim(self.s, self.pos)
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += len(RIGHT_DELIM)
        self.emit(T.RIGHT_DELIM)
        if trim:
            self._skip_leading_space()
            self.ignore()

    def lex_inside_action(self) -> bool:
        """Lex one item inside an action; False once the action is closed."""
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                self.lex_right_delim()
                return False
            self.fail("unclosed left paren")
        c = self.next()
        if c == "":
            self.fail("unclosed action")
        elif _is_space(c):
            self.backup()
            return self.lex_space()
        elif c == "=":
            self.emit(T.ASSIGN)
        elif c == ":":
            if self.next() != "=":
                self.fail("expected :=")
            self.emit(T.DECLARE)
        elif c == "|":
            self.emit(T.PIPE)
        elif c == '"':
            self.lex_quote()
        elif c == "`":
            self.lex_raw_quote()
        elif c == "$":
            self.lex_variable()
        elif c == "'":
            self.lex_char()
        elif c == "." and self.pos < len(self.s) and not ("0" <= self.s[self.pos] <= "9"):
            self.lex_field_or_variable(T.FIELD)
        elif c in "+-." or "0" <= c <= "9":
            self.backup()
            self.lex_number()
        elif _is_alnum(c):
            self.backup()
            self.lex_identifier()
        elif c == "(":
            self.emit(T.LEFT_PAREN)
            self.paren_depth += 1
        elif c == ")":
            if self.paren_depth == 0:
                self.fail("unexpected right paren U+0029 ')'")
            self.emit(T.RIGHT_PAREN)
            self.paren_depth -= 1
        elif c.isascii() and c.isprintable():
            self.emit(T.CHAR)
        else:
            self.fail(f"unrecognized character in action: {_unicode_name(c)}")
        return True

    def lex_space(self) -> bool:
        s = self.s
        count = 0
        while self.pos < len(s) and _is_space(s[self.pos]):
            self.next()
            count += 1
        if _has_right_trim(s, self.pos - 1) and s.startswith(RIGHT_DELIM, self.pos + 1):
            self.backup()
            if count == 1:
                self.lex_right_delim()
                return False
        self.emit(T.SPACE)
        return True

    def lex_identifier(self) -> None:
        while _is_alnum(self.peek()):
            self.next()
        word = self.s[self.start : self.pos]
        if not self.at_terminator():
            self.fail(f"bad character {_unicode_name(self.peek())}")
        kw = KEYWORDS.get(word)
        if kw is not None:
            if (kw == T.BREAK and not self.break_ok) or (kw == T.CONTINUE and not self.continue_ok):
                self.emit(T.IDENTIFIER)
            else:
                self.emit(kw)
        elif word in ("true", "false"):
            self.emit(T.BOOL)
        else:
            self.emit(T.IDENTIFIER)

    def lex_variable(self) -> None:
        if self.at_terminator():
            self.emit(T.VARIABLE)
            return
        self.lex_field_or_variable(T.VARIABLE)

    def lex_field_or_variable(self, typ: T) -> None:
        if self.at_terminator():
            self.emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
            return
        while _is_alnum(self.peek()):
            self.next()
        if not self.at_terminator():
            self.fail(f"bad character {_unicode_name(self.peek())}")
        self.emit(typ)

    def _scan_quoted(self, quote: str, what: str) -> None:
        while True:
            c = self.next()
            if c == "\\":
                c = self.next()
                if c not in ("", "\n"):
                    continue
            if c in ("", "\n"):
                self.fail(f"unterminated {what}")
            if c == quote:
                return

    def lex_char(self) -> None:
        self._scan_quoted("'", "character constant")
        self.emit(T.CHAR_CONSTANT)

    def lex_quote(self) -> None:
        self._scan_quoted('"', "quoted string")
        self.emit(T.STRING)

    def lex_raw_quote(self) -> None:
        end = self.s.find("`", self.pos)
        if end < 0:
            self.fail("unterminated raw quoted string")
        while self.pos <= end:
            self.next()
        self.emit(T.RAW_STRING)

    def lex_number(self) -> None:
        if not self.scan_number():
            self.fail(f"bad number syntax: {_go_quote(self.s[self.start : self.pos])}")
        if self.peek() in ("+", "-"):
            if not self.scan_number() or self.s[self.pos - 1] != "i":
                self.fail(f"bad number syntax: {_go_quote(self.s[self.start : self.pos])}")
            self.emit(T.COMPLEX)
        else:
            self.emit(T.NUMBER)

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if _is_alnum(self.peek()):
            self.next()
            return False
        return True


def _unicode_name(c: str) -> str:
    if not c:
        return "EOF"
    return f"U+{ord(c):04X} '{c}'"


def tokenize(text: str, *, break_ok: bool = True, continue_ok: bool = True) -> list[Token]:
    """Split template source into tokens; raises TemplateSyntaxError on lexical errors."""
    return _Lexer(text, break_ok, continue_ok).run()
