"""Whether a CRD's reconcile can depend on what writing its CR's status changes.

A reconcile's next run differs from it only through what changed in between. When its only
write was its CR's status, the next run sees the same spec, labels and children; it can
come out differently only if something it evaluates reads the status, or the version
fields every write changes (``resourceVersion``, ``managedFields``). ``ork run`` uses this
to skip the check it otherwise makes after every reconcile that wrote (running it again at
once, as simulate runs another cycle), which for most operators is a whole reconcile per
status change spent finding nothing to do.

The answer comes from the katalog's own text and errs towards "it reads": any string of the
CRD's entry (templates, field paths, conditions, cross queries, profiles) naming one of
those fields counts, as does a template action that uses the whole context (``.`` or ``$``
not followed by a field, as ``toJson .`` or ``include "x" .`` do, or ``.`` inside
``range``), and so do typed hooks, whose code sees the whole CR.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# what a status write changes in the CR a reconcile reads
CHANGED_BY_A_STATUS_WRITE = ("status", "resourceVersion", "managedFields")
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# ``.`` that starts no field chain and follows no value (``$.x``, ``(...).x``, ``1.5``), or
# a bare ``$`` (not ``$.x``, not a variable such as ``$name``)
_WHOLE_CONTEXT = re.compile(r"(?<![\w)\]$])\.(?!\w)|\$(?![\w.])")


def reads_own_status(*sources: object) -> bool:
    """Whether any string in ``sources`` (a CRD entry, profiles: JSON-like values) may read
    the CR's status or version fields; see the module docstring."""
    return any(_may_read(text) for text in _strings(sources))


def _may_read(text: str) -> bool:
    if any(name in text for name in CHANGED_BY_A_STATUS_WRITE):
        return True
    return any(_WHOLE_CONTEXT.search(action) for action in _ACTION.findall(text))


def _strings(value: object) -> Iterator[str]:
    """The string values in ``value``, and the keys that are templates."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "{{" in key:
                yield key
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
