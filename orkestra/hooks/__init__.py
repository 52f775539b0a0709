"""Typed operators: Python hooks that reconcile besides (or instead of) the templates.

This package owns a pattern's code (PRODUCT.md D10): the types hook authors import
(:class:`HookSet`, :class:`HookContext`, :class:`Args`, :class:`CustomResource`), loading
and checking the module a katalog names (:mod:`orkestra.hooks.loader`), the client hooks
write through (:mod:`orkestra.hooks.client`) and running one cycle's callbacks with a
deadline (:mod:`orkestra.hooks.runner`). The reconciler calls hooks through
:class:`orkestra.engine.hooks.Hooks`, so simulate, plan, e2e and the runtime run them alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orkestra import lazy

if TYPE_CHECKING:
    from orkestra.hooks.api import (
        ArgError,
        Args,
        CustomResource,
        Events,
        HookContext,
        HookError,
        HookSet,
    )
    from orkestra.hooks.client import HookClient, MalformedObjectError

# Re-exported lazily: reading what a CRD entry says about its code (``hooks.spec``, for
# validate and plan) must not load the client and the engine behind it.
_EXPORTS = {
    "ArgError": "api",
    "Args": "api",
    "CustomResource": "api",
    "Events": "api",
    "HookContext": "api",
    "HookError": "api",
    "HookSet": "api",
    "HookClient": "client",
    "MalformedObjectError": "client",
}
__all__ = [
    "ArgError",
    "Args",
    "CustomResource",
    "Events",
    "HookClient",
    "HookContext",
    "HookError",
    "HookSet",
    "MalformedObjectError",
]


__getattr__ = lazy.exports(__name__, _EXPORTS)
