"""Typed operators: Python hooks that reconcile besides (or instead of) the templates.

This package owns a pattern's code (PRODUCT.md D10): the types hook authors import
(:class:`HookSet`, :class:`HookContext`, :class:`Args`, :class:`CustomResource`), loading
and checking the module a katalog names (:mod:`orkestra.hooks.loader`), the client hooks
write through (:mod:`orkestra.hooks.client`) and running one cycle's callbacks with a
deadline (:mod:`orkestra.hooks.runner`). The reconciler calls hooks through
:class:`orkestra.engine.hooks.Hooks`, so simulate, plan, e2e and the runtime run them alike.
"""

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

__all__ = ["ArgError", "Args", "CustomResource", "Events", "HookClient", "HookContext",
           "HookError", "HookSet", "MalformedObjectError"]
