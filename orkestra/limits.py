"""Bounds on the work one input can cause, each set by an environment variable.

Hostile or broken input (a YAML alias bomb, a regular expression built to backtrack, a
``forEach`` over a million items, a ``crdFile`` pointing at ``/dev/zero``) must end fast
with a clear error instead of hanging or exhausting memory. Every bound is generous for
real patterns; an error that hits one names its variable, which takes a positive integer:

============================  =========  ==============================================
Variable                      Default    What it bounds
============================  =========  ==============================================
``ORK_MAX_YAML_BYTES``        4194304    size of any YAML file Orkestra reads (4 MiB)
``ORK_MAX_YAML_NODES``        100000     values in one YAML file, aliases expanded
``ORK_MAX_YAML_DEPTH``        200        nesting of mappings and lists
``ORK_MAX_YAML_KEYS``         10000      keys in one mapping
``ORK_MAX_TEMPLATE_ACTIONS``  10000      template actions (``{{ ... }}``) in one pattern
                                         document (each is parsed and compiled)
``ORK_MAX_RENDER_CHARS``      1048576    characters one template rendering outputs, and
                                         any string or printed value it makes
``ORK_MAX_TEMPLATE_STEPS``    1000000    ``range`` items and template calls in one
                                         rendering
``ORK_MAX_FOREACH_ITEMS``     1000       copies one ``forEach`` declaration makes
============================  =========  ==============================================

Files a pattern names (``crdFile``, ``include:``, simulate and e2e CR files ...) must be
regular files inside the pattern's directory; ``ORK_ALLOWED_ROOTS`` lists further
directories (separated by ``os.pathsep``) such files may come from. A simulation runs at
most 1000 cycles (the Simulate schema and ``--cycles`` enforce it); regular expressions are
RE2 (:mod:`orkestra.regex`), linear in their input.

Values are read once, on first use; :func:`override` changes them for a block (tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orkestra.errors import OrkError


class LimitError(OrkError):
    """A limit's environment variable does not hold a positive integer."""


@dataclass(frozen=True)
class Limit:
    """One bound: its variable, default and what it counts (for messages)."""

    variable: str
    default: int
    unit: str

    @property
    def value(self) -> int:
        """The bound in force (the variable's value, else the default)."""
        found = _values.get(self.variable)
        if found is None:
            found = _values[self.variable] = _read(self)
        return found

    @property
    def hint(self) -> str:
        """How to raise the bound, for error hints."""
        return (
            f"if this input is legitimate, raise the limit: {self.variable}=<{self.unit}> "
            f"(now {self.value})"
        )


def _read(limit: Limit) -> int:
    raw = os.environ.get(limit.variable, "").strip().replace("_", "")
    if not raw:
        return limit.default
    if not raw.isdigit() or int(raw) <= 0:
        raise LimitError(
            f"{limit.variable}={os.environ[limit.variable]!r} is not a positive integer",
            hint=f"unset it for the default ({limit.default})",
        )
    return int(raw)


YAML_BYTES = Limit("ORK_MAX_YAML_BYTES", 4 * 1024 * 1024, "bytes")
YAML_NODES = Limit("ORK_MAX_YAML_NODES", 100_000, "values")
YAML_DEPTH = Limit("ORK_MAX_YAML_DEPTH", 200, "levels")
YAML_KEYS = Limit("ORK_MAX_YAML_KEYS", 10_000, "keys")
FOREACH_ITEMS = Limit("ORK_MAX_FOREACH_ITEMS", 1000, "items")
RENDER_CHARS = Limit("ORK_MAX_RENDER_CHARS", 1024 * 1024, "characters")
TEMPLATE_STEPS = Limit("ORK_MAX_TEMPLATE_STEPS", 1_000_000, "steps")
TEMPLATE_ACTIONS = Limit("ORK_MAX_TEMPLATE_ACTIONS", 10_000, "actions")
ALLOWED_ROOTS_VARIABLE = "ORK_ALLOWED_ROOTS"
MAX_CYCLES = 1000
"""The most cycles one simulation runs (the Simulate schema and ``--cycles``)."""

_values: dict[str, int] = {}


def allowed_roots() -> tuple[Path, ...]:
    """The directories outside a pattern its files may come from (``ORK_ALLOWED_ROOTS``)."""
    raw = os.environ.get(ALLOWED_ROOTS_VARIABLE, "")
    return tuple(
        Path(part).expanduser().resolve() for part in raw.split(os.pathsep) if part.strip()
    )


def reset() -> None:
    """Forget the values read so far: the next use reads the environment again."""
    _values.clear()


@contextmanager
def override(*pairs: tuple[Limit, int]) -> Iterator[None]:
    """Set limits for the duration of a ``with`` block: ``override((YAML_DEPTH, 5))``."""
    saved = dict(_values)
    try:
        for limit, value in pairs:
            _values[limit.variable] = value
        yield
    finally:
        _values.clear()
        _values.update(saved)
