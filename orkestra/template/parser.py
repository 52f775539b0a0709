"""Parser for Go text/template: tokens to a set of named syntax trees.

The grammar, the parse-time checks (functions must exist, variables must be declared,
``break``/``continue`` only inside ``range``, no literal as a later pipeline stage) and the
``define``/``block`` rules follow Go 1.19's ``text/template/parse``. One call returns every
template the text defines, keyed by name; the text's own body is stored under ``name``.
"""

from __future__ import annotations

from collections.abc import Container

from orkestra.template import nodes as n
from orkestra.template.errors import TemplateSyntaxError
from orkestra.template.lexer import T, Token, tokenize
from orkestra.template.literals import LiteralError, new_number, unquote_string

_OPERAND_START = frozenset(
    {
        T.BOOL,
        T.CHAR_CONSTANT,
        T.COMPLEX,
        T.DOT,
        T.FIELD,
        T.IDENTIFIER,
        T.NUMBER,
        T.NIL,
        T.RAW_STRING,
        T.STRING,
        T.VARIABLE,
        T.LEFT_PAREN,
    }
)
_GO_SPACE = (
    " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class _End(n.Node):
    """``{{end}}``: terminates a list, never stored in a tree."""

    def __str__(self) -> str:
        return "{{end}}"


class _Else(n.Node):
    """``{{else}}``: terminates a list, never stored in a tree."""

    def __str__(self) -> str:
        return "{{else}}"


TreeSet = dict[str, n.ListNode]


def is_empty_tree(node: n.Node | None) -> bool:
    """Go's IsEmptyTree: only whitespace text and comments."""
    if node is None or isinstance(node, n.CommentNode):
        return True
    if isinstance(node, n.ListNode):
        return all(is_empty_tree(child) for child in node.nodes)
    if isinstance(node, n.TextNode):
        return node.text.strip(_GO_SPACE) == ""
    return False


class _TreeParser:
    """Parses one tree (the main text, a ``define`` or a ``block`` body)."""

    def __init__(
        self, toks: list[Token], cursor: list[int], funcs: Container[str], trees: TreeSet
    ) -> None:
        self.toks = toks
        self.cursor = cursor  # shared with nested definitions: one token stream
        self.funcs = funcs
        self.trees = trees
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.last: Token = toks[0]

    # -- token stream -----------------------------------------------------------------
    def next(self) -> Token:
        tok = self.peek()
        self.cursor[0] += 1
        self.last = tok
        return tok

    def backup(self) -> None:
        self.cursor[0] -= 1

    def peek(self) -> Token:
        # The stream ends with EOF; reading past it keeps returning EOF.
        return self.toks[min(self.cursor[0], len(self.toks) - 1)]

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.typ == T.SPACE:
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.backup()
        return tok

    # -- errors -----------------------------------------------------------------------
    def fail(self, message: str, tok: Token | None = None) -> TemplateSyntaxError:
        at = tok or self.last
        return TemplateSyntaxError(message, line=at.line, pos=at.pos)

    def unexpected(self, tok: Token, context: str) -> TemplateSyntaxError:
        return self.fail(f"unexpected {tok.describe()} in {context}", tok)

    def expect(self, typ: T, context: str) -> Token:
        tok = self.next_non_space()
        if tok.typ != typ:
            raise self.unexpected(tok, context)
        return tok

    # -- structure --------------------------------------------------------------------
    def add(self, name: str, root: n.ListNode) -> None:
        existing = self.trees.get(name)
        if existing is None or is_empty_tree(existing):
            self.trees[name] = root
        elif not is_empty_tree(root):
            raise self.fail(f"template: multiple definition of template {name!r}")

    def parse_main(self, name: str) -> None:
        root = n.ListNode(self.peek().pos)
        while self.peek().typ != T.EOF:
            if self.peek().typ == T.LEFT_DELIM:
                mark = self.cursor[0]
                self.next()
                if self.next_non_space().typ == T.DEFINE:
                    _TreeParser(self.toks, self.cursor, self.funcs, self.trees).parse_definition()
                    continue
                self.cursor[0] = mark
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                raise self.fail(f"unexpected {node}")
            root.nodes.append(node)
        self.add(name, root)

    def parse_definition(self) -> None:
        context = "define clause"
        tok = self.next_non_space()
        if tok.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(tok, context)
        name = self.unquote(tok)
        self.expect(T.RIGHT_DELIM, context)
        root, end = self.item_list()
        if not isinstance(end, _End):
            raise self.fail(f"unexpected {end} in {context}")
        self.add(name, root)

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        lst = n.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T.EOF:
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                return lst, node
            lst.nodes.append(node)
        raise self.fail("unexpected EOF")

    def text_or_action(self) -> n.Node:
        tok = self.next_non_space()
        if tok.typ == T.TEXT:
            return n.TextNode(tok.pos, tok.val)
        if tok.typ == T.LEFT_DELIM:
            return self.action()
        raise self.unexpected(tok, "input")

    def action(self) -> n.Node:
        tok = self.next_non_space()
        handler = {
            T.BLOCK: self.block_control,
            T.BREAK: self.break_control,
            T.CONTINUE: self.continue_control,
            T.ELSE: self.else_control,
            T.END: self.end_control,
            T.IF: self.if_control,
            T.RANGE: self.range_control,
            T.TEMPLATE: self.template_control,
            T.WITH: self.with_control,
        }.get(tok.typ)
        if handler is not None:
            return handler(tok)
        self.backup()
        start = self.peek()
        return n.ActionNode(start.pos, self.pipeline("command", T.RIGHT_DELIM))

    def break_control(self, tok: Token) -> n.Node:
        after = self.next_non_space()
        if after.typ != T.RIGHT_DELIM:
            raise self.unexpected(after, "{{break}}")
        if self.range_depth == 0:
            raise self.fail("{{break}} outside {{range}}")
        return n.BreakNode(tok.pos)

    def continue_control(self, tok: Token) -> n.Node:
        after = self.next_non_space()
        if after.typ != T.RIGHT_DELIM:
            raise self.unexpected(after, "{{continue}}")
        if self.range_depth == 0:
            raise self.fail("{{continue}} outside {{range}}")
        return n.ContinueNode(tok.pos)

    # -- pipelines --------------------------------------------------------------------
    def pipeline(self, context: str, end: T) -> n.PipeNode:
        pipe = n.PipeNode(self.peek_non_space().pos)
        self.declarations(pipe, context)
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ not in _OPERAND_START:
                raise self.unexpected(tok, context)
            self.backup()
            pipe.cmds.append(self.command())

    def declarations(self, pipe: n.PipeNode, context: str) -> None:
        while True:
            var = self.peek_non_space()
            if var.typ != T.VARIABLE:
                return
            mark = self.cursor[0]
            self.next()
            following = self.peek_non_space()
            if following.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = following.typ == T.ASSIGN
                self.next_non_space()
                pipe.decl.append(n.VariableNode(var.pos, (var.val,)))
                self.vars.append(var.val)
                return
            if following.typ == T.CHAR and following.val == ",":
                self.next_non_space()
                pipe.decl.append(n.VariableNode(var.pos, (var.val,)))
                self.vars.append(var.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue
                    raise self.fail("range can only initialize variables")
                raise self.fail(f"too many declarations in {context}")
            self.cursor[0] = mark
            return

    def check_pipeline(self, pipe: n.PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.fail(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            first = cmd.args[0]
            if isinstance(first, n.BoolNode | n.DotNode | n.NilNode | n.NumberNode | n.StringNode):
                raise self.fail(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == T.SPACE:
                continue
            if tok.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif tok.typ != T.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.fail("empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None or self.peek().typ != T.FIELD:
            return node
        chain_pos = self.peek().pos
        fields: list[str] = []
        while self.peek().typ == T.FIELD:
            fields.append(self.next().val[1:])
        if isinstance(node, n.FieldNode):
            return n.FieldNode(node.pos, node.idents + tuple(fields))
        if isinstance(node, n.VariableNode):
            return n.VariableNode(node.pos, node.idents + tuple(fields))
        if isinstance(node, n.BoolNode | n.StringNode | n.NumberNode | n.NilNode | n.DotNode):
            raise self.fail(f"unexpected . after term {str(node)!r}")
        return n.ChainNode(chain_pos, node, tuple(fields))

    def term(self) -> n.Node | None:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == T.IDENTIFIER:
            if tok.val not in self.funcs:
                raise self.fail(f'function "{tok.val}" not defined')
            return n.IdentifierNode(tok.pos, tok.val)
        if typ == T.DOT:
            return n.DotNode(tok.pos)
        if typ == T.NIL:
            return n.NilNode(tok.pos)
        if typ == T.VARIABLE:
            if tok.val not in self.vars:
                raise self.fail(f'undefined variable "{tok.val}"')
            return n.VariableNode(tok.pos, (tok.val,))
        if typ == T.FIELD:
            return n.FieldNode(tok.pos, (tok.val[1:],))
        if typ == T.BOOL:
            return n.BoolNode(tok.pos, tok.val == "true")
        if typ in (T.CHAR_CONSTANT, T.COMPLEX, T.NUMBER):
            try:
                return new_number(
                    tok.pos, tok.val, is_char=typ == T.CHAR_CONSTANT, is_complex=typ == T.COMPLEX
                )
            except LiteralError as exc:
                raise self.fail(str(exc)) from None
        if typ == T.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
        if typ in (T.STRING, T.RAW_STRING):
            return n.StringNode(tok.pos, tok.val, self.unquote(tok))
        self.backup()
        return None

    def unquote(self, tok: Token) -> str:
        try:
            return unquote_string(tok.val)
        except LiteralError as exc:
            raise self.fail(str(exc)) from None

    # -- control structures -----------------------------------------------------------
    def parse_control(
        self, allow_else_if: bool, context: str
    ) -> tuple[n.PipeNode, n.ListNode, n.ListNode | None]:
        mark = len(self.vars)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        if context == "range":
            self.range_depth += 1
        body, end = self.item_list()
        if context == "range":
            self.range_depth -= 1
        else_body: n.ListNode | None = None
        if isinstance(end, _Else):
            if allow_else_if and self.peek().typ == T.IF:
                if_tok = self.next()
                else_body = n.ListNode(end.pos, [self.if_control(if_tok)])
            else:
                else_body, end = self.item_list()
                if not isinstance(end, _End):
                    raise self.fail(f"expected end; found {end}")
        del self.vars[mark:]
        return pipe, body, else_body

    def if_control(self, tok: Token) -> n.Node:
        pipe, body, else_body = self.parse_control(True, "if")
        return n.IfNode(pipe.pos, pipe, body, else_body)

    def range_control(self, tok: Token) -> n.Node:
        pipe, body, else_body = self.parse_control(False, "range")
        return n.RangeNode(pipe.pos, pipe, body, else_body)

    def with_control(self, tok: Token) -> n.Node:
        pipe, body, else_body = self.parse_control(False, "with")
        return n.WithNode(pipe.pos, pipe, body, else_body)

    def end_control(self, tok: Token) -> n.Node:
        return _End(self.expect(T.RIGHT_DELIM, "end").pos)

    def else_control(self, tok: Token) -> n.Node:
        following = self.peek_non_space()
        if following.typ == T.IF:
            return _Else(following.pos)
        return _Else(self.expect(T.RIGHT_DELIM, "else").pos)

    def template_name(self, tok: Token, context: str) -> str:
        if tok.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(tok, context)
        return self.unquote(tok)

    def block_control(self, tok: Token) -> n.Node:
        context = "block clause"
        name_tok = self.next_non_space()
        name = self.template_name(name_tok, context)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        block = _TreeParser(self.toks, self.cursor, self.funcs, self.trees)
        root, end = block.item_list()
        if not isinstance(end, _End):
            raise self.fail(f"unexpected {end} in {context}")
        block.add(name, root)
        return n.TemplateNode(name_tok.pos, name, pipe)

    def template_control(self, tok: Token) -> n.Node:
        context = "template clause"
        name_tok = self.next_non_space()
        name = self.template_name(name_tok, context)
        pipe: n.PipeNode | None = None
        if self.next_non_space().typ != T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, T.RIGHT_DELIM)
        return n.TemplateNode(name_tok.pos, name, pipe)


def parse(text: str, funcs: Container[str], name: str = "t") -> TreeSet:
    """Parse ``text``; returns every template it defines, its own body under ``name``."""
    toks = tokenize(text, break_ok="break" not in funcs, continue_ok="continue" not in funcs)
    trees: TreeSet = {}
    _TreeParser(toks, [0], funcs, trees).parse_main(name)
    return trees
