"""Syntax tree of a parsed template.

Each node keeps ``pos``, the character offset of its first token in the template text, so
that execution errors can point back at the source. ``str(node)`` gives the Go-style source
form used in error messages (``<.spec.image>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Node:
    pos: int


@dataclass(slots=True)
class TextNode(Node):
    text: str

    def __str__(self) -> str:
        return repr(self.text)


@dataclass(slots=True)
class CommentNode(Node):
    def __str__(self) -> str:
        return "{{/* */}}"


@dataclass(slots=True)
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass(slots=True)
class NilNode(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass(slots=True)
class BoolNode(Node):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(slots=True)
class NumberNode(Node):
    text: str
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int_value: int = 0
    float_value: float = 0.0
    complex_value: complex = 0j

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)
class StringNode(Node):
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass(slots=True)
class FieldNode(Node):
    idents: tuple[str, ...]

    def __str__(self) -> str:
        return "".join("." + i for i in self.idents)


@dataclass(slots=True)
class VariableNode(Node):
    idents: tuple[str, ...]  # idents[0] is the variable name including "$"

    def __str__(self) -> str:
        return ".".join(self.idents)


@dataclass(slots=True)
class IdentifierNode(Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(slots=True)
class ChainNode(Node):
    node: Node
    fields: tuple[str, ...]

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return inner + "".join("." + f for f in self.fields)


@dataclass(slots=True)
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        parts = []
        for arg in self.args:
            parts.append(f"({arg})" if isinstance(arg, PipeNode) else str(arg))
        return " ".join(parts)


@dataclass(slots=True)
class PipeNode(Node):
    decl: list[VariableNode] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[CommandNode] = field(default_factory=list)

    def __str__(self) -> str:
        head = ""
        if self.decl:
            op = " = " if self.is_assign else " := "
            head = ", ".join(str(v) for v in self.decl) + op
        return head + " | ".join(str(c) for c in self.cmds)


@dataclass(slots=True)
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(slots=True)
class ActionNode(Node):
    pipe: PipeNode

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(slots=True)
class BranchNode(Node):
    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None


@dataclass(slots=True)
class IfNode(BranchNode):
    def __str__(self) -> str:
        return "{{if " + str(self.pipe) + "}}"


@dataclass(slots=True)
class WithNode(BranchNode):
    def __str__(self) -> str:
        return "{{with " + str(self.pipe) + "}}"


@dataclass(slots=True)
class RangeNode(BranchNode):
    def __str__(self) -> str:
        return "{{range " + str(self.pipe) + "}}"


@dataclass(slots=True)
class TemplateNode(Node):
    name: str
    pipe: PipeNode | None

    def __str__(self) -> str:
        arg = f" {self.pipe}" if self.pipe is not None else ""
        return "{{template " + repr(self.name) + arg + "}}"


@dataclass(slots=True)
class BreakNode(Node):
    def __str__(self) -> str:
        return "{{break}}"


@dataclass(slots=True)
class ContinueNode(Node):
    def __str__(self) -> str:
        return "{{continue}}"
