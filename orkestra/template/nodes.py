"""Syntax tree of a parsed template.

Each node keeps ``pos``, the character offset of its first token in the template text, so
that execution errors can point back at the source. ``str(node)`` gives the Go-style source
form used in error messages (``<.spec.image>``).

The nodes are plain slotted classes rather than dataclasses: every command that checks a
template imports this module, and building 23 dataclasses took a fifth of the template
package's import time. Nodes are compared by identity.
"""

from __future__ import annotations

from itertools import chain


class Node:
    __slots__ = ("pos",)

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def __repr__(self) -> str:
        classes = reversed(type(self).__mro__)
        names = chain.from_iterable(getattr(c, "__slots__", ()) for c in classes)
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str) -> None:
        self.pos, self.text = pos, text

    def __str__(self) -> str:
        return repr(self.text)


class CommentNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{/* */}}"


class DotNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "."


class NilNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "nil"


class BoolNode(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: bool) -> None:
        self.pos, self.value = pos, value

    def __str__(self) -> str:
        return "true" if self.value else "false"


class NumberNode(Node):
    """A number constant; :func:`orkestra.template.literals.new_number` sets which of the
    Go types it can be and its value in each."""

    __slots__ = (
        "complex_value",
        "float_value",
        "int_value",
        "is_complex",
        "is_float",
        "is_int",
        "is_uint",
        "text",
    )

    def __init__(self, pos: int, text: str) -> None:
        self.pos, self.text = pos, text
        self.is_int = self.is_uint = self.is_float = self.is_complex = False
        self.int_value = 0
        self.float_value = 0.0
        self.complex_value = 0j

    def __str__(self) -> str:
        return self.text


class StringNode(Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos: int, quoted: str, text: str) -> None:
        self.pos, self.quoted, self.text = pos, quoted, text

    def __str__(self) -> str:
        return self.quoted


class FieldNode(Node):
    __slots__ = ("idents",)

    def __init__(self, pos: int, idents: tuple[str, ...]) -> None:
        self.pos, self.idents = pos, idents

    def __str__(self) -> str:
        return "".join("." + i for i in self.idents)


class VariableNode(Node):
    __slots__ = ("idents",)

    def __init__(self, pos: int, idents: tuple[str, ...]) -> None:
        self.pos = pos
        self.idents = idents  # idents[0] is the variable name including "$"

    def __str__(self) -> str:
        return ".".join(self.idents)


class IdentifierNode(Node):
    __slots__ = ("name",)

    def __init__(self, pos: int, name: str) -> None:
        self.pos, self.name = pos, name

    def __str__(self) -> str:
        return self.name


class ChainNode(Node):
    __slots__ = ("fields", "node")

    def __init__(self, pos: int, node: Node, fields: tuple[str, ...]) -> None:
        self.pos, self.node, self.fields = pos, node, fields

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return inner + "".join("." + f for f in self.fields)


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos: int, args: list[Node] | None = None) -> None:
        self.pos = pos
        self.args = [] if args is None else args

    def __str__(self) -> str:
        parts = []
        for arg in self.args:
            parts.append(f"({arg})" if isinstance(arg, PipeNode) else str(arg))
        return " ".join(parts)


class PipeNode(Node):
    __slots__ = ("cmds", "decl", "is_assign")

    def __init__(self, pos: int) -> None:
        self.pos = pos
        self.decl: list[VariableNode] = []
        self.is_assign = False
        self.cmds: list[CommandNode] = []

    def __str__(self) -> str:
        head = ""
        if self.decl:
            op = " = " if self.is_assign else " := "
            head = ", ".join(str(v) for v in self.decl) + op
        return head + " | ".join(str(c) for c in self.cmds)


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int, nodes: list[Node] | None = None) -> None:
        self.pos = pos
        self.nodes = [] if nodes is None else nodes

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


class ActionNode(Node):
    __slots__ = ("pipe",)

    def __init__(self, pos: int, pipe: PipeNode) -> None:
        self.pos, self.pipe = pos, pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


class BranchNode(Node):
    __slots__ = ("body", "else_body", "pipe")

    def __init__(
        self, pos: int, pipe: PipeNode, body: ListNode, else_body: ListNode | None
    ) -> None:
        self.pos, self.pipe, self.body, self.else_body = pos, pipe, body, else_body


class IfNode(BranchNode):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{if " + str(self.pipe) + "}}"


class WithNode(BranchNode):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{with " + str(self.pipe) + "}}"


class RangeNode(BranchNode):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{range " + str(self.pipe) + "}}"


class TemplateNode(Node):
    __slots__ = ("name", "pipe")

    def __init__(self, pos: int, name: str, pipe: PipeNode | None) -> None:
        self.pos, self.name, self.pipe = pos, name, pipe

    def __str__(self) -> str:
        arg = f" {self.pipe}" if self.pipe is not None else ""
        return "{{template " + repr(self.name) + arg + "}}"


class BreakNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{break}}"


class ContinueNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{continue}}"
