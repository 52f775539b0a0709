"""Compile parsed templates into Python functions.

Each named tree becomes one Python function ``(dot, write, state)`` in a generated module,
so rendering costs Python bytecode, not tree walking. Go variables become local variables
(renamed per declaration, which gives Go's lexical scoping), ``with``/``range`` bind a new
local for dot, ``and``/``or`` become conditional expressions so they short-circuit, and
pipeline stages run left to right through assignment expressions. Every generated line
records the template position it came from, so execution errors point at the source. Each
``range`` charges its items to the execution state's step budget before it iterates, and
each iteration has the state check the output's size once enough has been written.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import CodeType
from typing import Any, cast

from orkestra.template import nodes as n
from orkestra.template import values as v
from orkestra.template.errors import TemplateSyntaxError
from orkestra.template.functions import FuncTable
from orkestra.template.gofmt import GoInt

TreeFunc = Callable[[Any, Callable[[str], None], Any], None]

# Python refuses more than 20 statically nested blocks; keep a margin for the function body.
MAX_NESTING = 18

_file_ids = itertools.count()


class Program:
    """The generated code of one template set and the namespace it runs in: enough to
    define the set's functions again over other text (see :func:`rebind`). A plain class:
    each dataclass adds to the import time of every command that checks a template."""

    __slots__ = ("code", "entries", "namespace", "texts")

    def __init__(
        self,
        code: CodeType,
        namespace: dict[str, object],
        entries: dict[str, str],
        texts: tuple[tuple[str, int], ...],
    ) -> None:
        self.code = code
        self.namespace = namespace  # helpers and constants, before the functions exist
        self.entries = entries  # tree name -> its function's name in the namespace
        self.texts = texts  # (constant name, offset) of each text node, in order

    def define(self, namespace: dict[str, object]) -> dict[str, TreeFunc]:
        """Run the code in ``namespace``: each tree's function, by tree name."""
        exec(self.code, namespace)
        return {tree: cast(TreeFunc, namespace[py]) for tree, py in self.entries.items()}


class Compiled:
    """The functions of one template set and the source map for error reporting (a plain
    class, as :class:`Program`)."""

    __slots__ = ("filename", "functions", "positions", "program", "uses_state")

    def __init__(
        self,
        functions: dict[str, TreeFunc],
        filename: str,
        positions: dict[int, tuple[int, str]],
        uses_state: bool,
        program: Program,
    ) -> None:
        self.functions = functions
        self.filename = filename
        self.positions = positions  # python line -> (template offset, context)
        self.uses_state = uses_state  # whether the functions read the execution state
        self.program = program  # what the functions were defined from


class _Scope:
    """Variables visible at a point of one tree: Go name -> Python local."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, str]] = [("$", "d0")]

    def mark(self) -> int:
        return len(self.stack)

    def pop(self, mark: int) -> None:
        del self.stack[mark:]

    def lookup(self, name: str) -> str | None:
        for go_name, py_name in reversed(self.stack):
            if go_name == name:
                return py_name
        return None


class _TreeCompiler:
    def __init__(self, module: _Module, funcs: FuncTable) -> None:
        self.m = module
        self.funcs = funcs
        self.scope = _Scope()
        self.dot = "d0"
        self.depth = 0

    # -- statements -----------------------------------------------------------------
    def emit(self, code: str, node: n.Node | None = None, context: str = "") -> None:
        self.m.emit(code, self.depth, node, context)

    def state(self) -> str:
        """The execution state's name, for code that reads it: the one place that marks the
        set as needing a state (:attr:`Compiled.uses_state`)."""
        self.m.uses_state = True
        return "_x"

    def block(self, body: n.ListNode) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise TemplateSyntaxError("template nesting too deep", pos=body.pos)
        before = len(self.m.lines)
        for node in body.nodes:
            self.statement(node)
        if len(self.m.lines) == before:
            self.emit("pass")
        self.depth -= 1

    def statement(self, node: n.Node) -> None:
        if isinstance(node, n.TextNode):
            name = self.m.constant(node.text)
            self.m.texts.append((name, node.pos))
            self.emit(f"_w({name})")
        elif isinstance(node, n.ActionNode):
            self.action(node)
        elif isinstance(node, n.IfNode):
            self.if_or_with(node, with_dot=False)
        elif isinstance(node, n.WithNode):
            self.if_or_with(node, with_dot=True)
        elif isinstance(node, n.RangeNode):
            self.range(node)
        elif isinstance(node, n.TemplateNode):
            self.template_call(node)
        elif isinstance(node, n.BreakNode):
            self.emit("break")
        elif isinstance(node, n.ContinueNode):
            self.emit("continue")

    def action(self, node: n.ActionNode) -> None:
        ctx = str(node.pipe)
        if node.pipe.decl:
            self.declare(node.pipe, self.pipe(node.pipe), node, ctx)
        else:
            self.emit(f"_w(_s({self.pipe(node.pipe)}))", node, ctx)

    def declare(self, pipe: n.PipeNode, expr: str, node: n.Node, ctx: str) -> str:
        """Assign a pipeline's value to its declared/assigned variables; returns a local."""
        targets = [self.variable_target(var.idents[0], pipe.is_assign, node) for var in pipe.decl]
        self.emit(f"{' = '.join(targets)} = _nv({expr})", node, ctx)
        return targets[-1]

    def variable_target(self, name: str, is_assign: bool, node: n.Node) -> str:
        if is_assign:
            existing = self.scope.lookup(name)
            if existing is not None:
                return existing
            self.emit(f"_fail({f'undefined variable: {name}'!r})", node, name)
        py_name = self.m.new_name("v")
        self.scope.stack.append((name, py_name))
        return py_name

    def if_or_with(self, node: n.BranchNode, with_dot: bool) -> None:
        mark = self.scope.mark()
        ctx = str(node.pipe)
        expr = self.pipe(node.pipe)
        if node.pipe.decl:
            expr = self.declare(node.pipe, expr, node, ctx)
        outer_dot = self.dot
        if with_dot:
            new_dot = self.m.new_name("d")
            self.emit(f"{new_dot} = _nv({expr})", node, ctx)
            self.emit(f"if _t({new_dot}):", node, ctx)
            self.dot = new_dot
        else:
            self.emit(f"if _t({expr}):", node, ctx)
        self.block(node.body)
        self.dot = outer_dot
        if node.else_body is not None:
            self.emit("else:")
            self.block(node.else_body)
        self.scope.pop(mark)

    def range(self, node: n.RangeNode) -> None:
        mark = self.scope.mark()
        ctx = str(node.pipe)
        value = self.m.new_name("r")
        self.emit(f"{value} = {self.pipe(node.pipe)}", node, ctx)
        decl = node.pipe.decl
        targets = []
        if decl:
            targets = [
                self.variable_target(var.idents[0], node.pipe.is_assign, node) for var in decl
            ]
            self.emit(f"{' = '.join(targets)} = _nv({value})", node, ctx)
        items = self.m.new_name("i")
        helper = "_rp" if len(decl) == 2 else "_rv"
        self.emit(f"{items} = {helper}({value})", node, ctx)
        state = self.state()
        self.emit(f"{state}.tick({items})", node, ctx)
        if node.else_body is not None:
            self.emit(f"if {items}:")
            self.depth += 1
        outer_dot = self.dot
        self.dot = self.m.new_name("d")
        if len(decl) == 2:
            self.emit(f"for {targets[0]}, {self.dot} in {items}:", node, ctx)
        else:
            self.emit(f"for {self.dot} in {items}:", node, ctx)
        self.depth += 1
        self.emit(f"if len({state}.out) > {state}.mark: {state}.check()", node, ctx)
        if decl:
            self.emit(f"{targets[-1]} = {self.dot}")
        self.depth -= 1
        self.block(node.body)
        self.dot = outer_dot
        if node.else_body is not None:
            self.depth -= 1
            self.emit("else:")
            self.block(node.else_body)
        self.scope.pop(mark)

    def template_call(self, node: n.TemplateNode) -> None:
        ctx = str(node)
        if node.pipe is None:
            arg = "_MISSING"
        elif node.pipe.decl:
            arg = self.declare(node.pipe, self.pipe(node.pipe), node, ctx)
        else:
            arg = f"_nv({self.pipe(node.pipe)})"
        self.emit(f"{self.state()}.call({node.name!r}, {arg}, _w)", node, ctx)

    # -- expressions ------------------------------------------------------------------
    def pipe(self, pipe: n.PipeNode) -> str:
        expr: str | None = None
        for cmd in pipe.cmds:
            expr = self.command(cmd, expr)
        assert expr is not None
        return expr

    def command(self, cmd: n.CommandNode, final: str | None) -> str:
        first, args = cmd.args[0], cmd.args[1:]
        has_args = bool(args) or final is not None
        if isinstance(first, n.IdentifierNode):
            return self.call(first.name, args, final)
        if isinstance(first, n.FieldNode):
            return self.field(self.dot, first.idents, has_args)
        if isinstance(first, n.ChainNode):
            return self.field(self.chain_base(first), first.fields, has_args)
        if isinstance(first, n.VariableNode):
            var = self.variable(first)
            if len(first.idents) > 1:
                return self.field(var, first.idents[1:], has_args)
            return self.not_a_function(first, has_args) or var
        if has_args:
            return self.not_a_function(first, True)
        if isinstance(first, n.PipeNode):
            return self.pipe(first)
        if isinstance(first, n.NilNode):
            return self.fail("nil is not a command")
        return self.literal(first)

    def not_a_function(self, node: n.Node, has_args: bool) -> str:
        return self.fail(f"can't give argument to non-function {node}") if has_args else ""

    def fail(self, message: str) -> str:
        return f"_fail({message!r})"

    def field(self, receiver: str, idents: tuple[str, ...], has_args: bool) -> str:
        if not has_args:
            return f"_fc({receiver}, {self.m.constant(idents)})"
        head = f"_fc({receiver}, {self.m.constant(idents[:-1])})" if len(idents) > 1 else receiver
        return f"_fcall({head}, {self.m.constant(idents[-1])})"

    def chain_base(self, chain: n.ChainNode) -> str:
        if isinstance(chain.node, n.PipeNode):
            return f"_nv({self.pipe(chain.node)})"
        return self.arg(chain.node)

    def variable(self, node: n.VariableNode) -> str:
        name = node.idents[0]
        py_name = self.scope.lookup(name)
        if py_name is None:
            return self.fail(f"undefined variable: {name}")
        return py_name

    def arg(self, node: n.Node) -> str:
        if isinstance(node, n.DotNode):
            return self.dot
        if isinstance(node, n.NilNode):
            return "_MISSING"
        if isinstance(node, n.FieldNode):
            return self.field(self.dot, node.idents, False)
        if isinstance(node, n.VariableNode):
            var = self.variable(node)
            return self.field(var, node.idents[1:], False) if len(node.idents) > 1 else var
        if isinstance(node, n.PipeNode):
            return self.pipe(node)
        if isinstance(node, n.IdentifierNode):
            return self.call(node.name, [], None)
        if isinstance(node, n.ChainNode):
            return self.field(self.chain_base(node), node.fields, False)
        return self.literal(node)

    def literal(self, node: n.Node) -> str:
        if isinstance(node, n.StringNode):
            return self.m.constant(node.text)
        if isinstance(node, n.BoolNode):
            return "True" if node.value else "False"
        if isinstance(node, n.DotNode):
            return self.dot
        if isinstance(node, n.NumberNode):
            return self.number(node)
        raise AssertionError(f"unexpected literal node {node!r}")  # parser guarantees

    def number(self, node: n.NumberNode) -> str:
        text = node.text
        if node.is_complex:
            return self.m.constant(node.complex_value)
        # Go types a constant by its spelling: a float if written with a point or an
        # exponent (but 0x1E is a hex int and 'e' a rune), else an int.
        hex_int = text[:2] in ("0x", "0X") and not any(c in text for c in "pP")
        looks_float = any(c in text for c in ".eEpP") and not hex_int and text[0] != "'"
        if node.is_float and looks_float:
            return self.m.constant(node.float_value)
        if node.is_int:
            return self.m.constant(GoInt(node.int_value))
        return self.fail(f"{text} overflows int")

    def call(self, name: str, args: list[n.Node], final: str | None) -> str:
        fn = self.funcs[name]
        count = len(args) + (final is not None)
        problem = fn.arity_error(count)
        if problem is not None:
            return self.fail(problem)
        if name in ("and", "or"):
            return self.and_or(name, args, final)
        parts = [self.arg(a) for a in args]
        if final is not None:
            if parts:
                first = self.m.new_name("p")
                parts.append(first)
                callee = self.m.function(name, fn)
                state = f"{self.state()}, " if fn.needs_state else ""
                return f"(({first} := {final}), {callee}({state}{', '.join(parts)}))[1]"
            parts.append(final)
        callee = self.m.function(name, fn)
        if fn.needs_state:
            parts.insert(0, self.state())
        return f"{callee}({', '.join(parts)})"

    def and_or(self, name: str, args: list[n.Node], final: str | None) -> str:
        exprs = [self.arg(a) for a in args]
        if final is not None:
            tmp = self.m.new_name("p")
            result = tmp
            prefix = f"({tmp} := {final}), "
        else:
            result = exprs.pop()
            prefix = ""
        test = "not _t" if name == "and" else "_t"
        for expr in reversed(exprs):
            tmp = self.m.new_name("p")
            result = f"({tmp} if {test}({tmp} := {expr}) else {result})"
        if prefix:
            return f"({prefix}{result})[1]"
        return result


class _Module:
    """The generated Python module for one template set."""

    def __init__(self, funcs: FuncTable, mode: str) -> None:
        self.lines: list[str] = []
        self.positions: dict[int, tuple[int, str]] = {}
        self.counter = itertools.count()
        self.namespace: dict[str, object] = {
            "_s": v.to_text,
            "_t": v.truth,
            "_nv": v.nil_to_missing,
            "_fc": v.make_field_chain(mode),
            "_fcall": v.make_field_call(mode),
            "_rv": v.range_values,
            "_rp": v.range_pairs,
            "_fail": v.fail,
            "_MISSING": v.MISSING,
        }
        self.bound: dict[str, str] = {}
        self.funcs = funcs
        self.uses_state = False
        self.texts: list[tuple[str, int]] = []

    def new_name(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter) + 1}"

    def constant(self, value: Any) -> str:
        name = f"_k{next(self.counter)}"
        self.namespace[name] = value
        return name

    def function(self, name: str, fn: Any) -> str:
        if name not in self.bound:
            py_name = f"_f{len(self.bound)}"
            self.namespace[py_name] = fn.bind()
            self.bound[name] = py_name
        return self.bound[name]

    def emit(self, code: str, depth: int, node: n.Node | None, context: str) -> None:
        self.lines.append("    " * (depth + 1) + code)
        if node is not None:
            self.positions[len(self.lines)] = (node.pos, context)


def compile_trees(trees: dict[str, n.ListNode], funcs: FuncTable, mode: str) -> Compiled:
    """Compile every tree of a template set into Python functions."""
    module = _Module(funcs, mode)
    names: dict[str, str] = {}
    for index, (tree_name, root) in enumerate(trees.items()):
        py_name = f"_tree{index}"
        names[tree_name] = py_name
        module.lines.append(f"def {py_name}(d0, _w, _x):")
        compiler = _TreeCompiler(module, funcs)
        compiler.depth = -1
        compiler.block(root)
    code = _code_for("\n".join(module.lines) + "\n")
    program = Program(code, dict(module.namespace), names, tuple(module.texts))
    functions = program.define(module.namespace)
    return Compiled(functions, code.co_filename, module.positions, module.uses_state, program)


def rebind(compiled: Compiled, texts: list[str], positions: dict[int, tuple[int, str]]) -> Compiled:
    """``compiled`` over other text: ``texts`` replaces the text of each text node (in
    :attr:`Program.texts` order) and ``positions`` the source map. The code is shared; only
    the functions are defined anew."""
    program = compiled.program
    namespace = dict(program.namespace)
    for (name, _), text in zip(program.texts, texts, strict=True):
        namespace[name] = text
    functions = program.define(namespace)
    return Compiled(functions, compiled.filename, positions, compiled.uses_state, program)


# Literals live in each module's namespace, not in its source, so templates of one shape
# ("{{ .metadata.name }}-cm-0", "-cm-1", ...) share one code object: a katalog listing a
# thousand such values pays Python's compiler once, not a thousand times.
_CODE: dict[str, CodeType] = {}
_CODE_LIMIT = 20_000


def _code_for(source: str) -> CodeType:
    code = _CODE.get(source)
    if code is None:
        try:
            code = compile(source, f"<orkestra-template-{next(_file_ids)}>", "exec")
        except (SyntaxError, RecursionError, MemoryError) as exc:
            raise TemplateSyntaxError(f"template too complex to compile: {exc}") from None
        if len(_CODE) >= _CODE_LIMIT:
            _CODE.clear()
        _CODE[source] = code
    return code
