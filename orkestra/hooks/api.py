"""The types a hook author writes against: the hook set, its context, typed args, Events.

A katalog's ``reconcile.hooks.function`` names a function taking no arguments that returns a
:class:`HookSet`. Each callback of the set receives the CR (an instance of the
``apiTypes.location``/``object`` model when the katalog names one, else the
:class:`CustomResource` mapping) and a :class:`HookContext`; it may be a plain function or a
coroutine function. A callback creates or updates what it manages through
``ctx.client.apply`` (or returns the objects, one or a list, which are applied the same
way), sets status fields in ``ctx.status``, and reports through ``ctx.log`` and
``ctx.events``. Raising fails the reconcile of that CR only: the message goes on its status
and into a Warning Event.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypedDict, TypeVar

from orkestra.errors import OrkError
from orkestra.kubeobjects import Json, JsonDict, ObjectMeta

if TYPE_CHECKING:
    from orkestra.hooks.client import HookClient

CR = TypeVar("CR")
# What a callback may return: nothing, an object to apply, or several.
Result = Mapping[str, object] | Sequence[Mapping[str, object]] | None
Callback = Callable[[CR, "HookContext"], Result | Awaitable[Result]]
DEFAULT_TIMEOUT = 30.0
_MISSING = object()


class CustomResource(TypedDict, total=False):
    """The CR as a mapping (a copy: changing it changes nothing in the cluster)."""

    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: JsonDict
    status: JsonDict


@dataclass(frozen=True, kw_only=True)
class HookSet(Generic[CR]):
    """The callbacks of a typed operator; any may be left out.

    ``on_create`` runs until a cycle of the CR succeeded once, ``on_update`` when its spec
    changed since the last successful cycle, ``on_reconcile`` on every cycle (after the other
    two), ``on_delete`` while the CR is being deleted (the runtime holds a finalizer until it
    succeeds). ``timeout``: seconds one cycle's callbacks may take together."""

    on_create: Callback[CR] | None = None
    on_update: Callback[CR] | None = None
    on_reconcile: Callback[CR] | None = None
    on_delete: Callback[CR] | None = None
    timeout: float = DEFAULT_TIMEOUT


class HookError(OrkError):
    """A hook used the context wrongly (a bad arg, a malformed object, a late write)."""


class ArgError(HookError):
    """An arg is missing or does not have the type asked for."""


class Args(Mapping[str, Json]):
    """The ``args`` of the katalog, string values already rendered against the CR.

    Read them as a mapping or with the typed getters, which accept the text forms that
    rendering produces (``"2"`` is an integer, ``"true"`` a boolean) and raise
    :class:`ArgError` naming the arg otherwise."""

    def __init__(self, values: Mapping[str, Json]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> Json:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Args({self._values!r})"

    def _value(self, name: str, default: object) -> object:
        if name in self._values:
            return self._values[name]
        if default is _MISSING:
            known = ", ".join(sorted(self._values)) or "none"
            raise ArgError(
                f'hook arg "{name}" is not set (args given: {known})',
                hint="add it under reconcile.hooks.args in the katalog",
            )
        return default

    def _wrong(self, name: str, value: object, expected: str) -> ArgError:
        return ArgError(f'hook arg "{name}": expected {expected}, got {value!r}')

    def get_str(self, name: str, default: object = _MISSING) -> str:
        value = self._value(name, default)
        if isinstance(value, bool | int | float | str):
            return str(value).lower() if isinstance(value, bool) else str(value)
        raise self._wrong(name, value, "a string")

    def get_int(self, name: str, default: object = _MISSING) -> int:
        value = self._value(name, default)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise self._wrong(name, value, "an integer")

    def get_float(self, name: str, default: object = _MISSING) -> float:
        value = self._value(name, default)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise self._wrong(name, value, "a number")

    def get_bool(self, name: str, default: object = _MISSING) -> bool:
        value = self._value(name, default)
        if isinstance(value, bool):
            return value
        text = value.strip().lower() if isinstance(value, str) else None
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0", ""):
            return False
        raise self._wrong(name, value, "true or false")

    def get_list(self, name: str, default: object = _MISSING) -> list[Json]:
        value = self._value(name, default)
        if isinstance(value, list):
            return list(value)
        raise self._wrong(name, value, "a list")

    def get_map(self, name: str, default: object = _MISSING) -> JsonDict:
        value = self._value(name, default)
        if isinstance(value, dict):
            return dict(value)
        raise self._wrong(name, value, "a map")


@dataclass
class Events:
    """Kubernetes Events about the CR; the runtime sends them after the cycle (simulate
    lists them)."""

    recorded: list[tuple[str, str, str]] = field(default_factory=list)

    def normal(self, reason: str, message: str) -> None:
        self.recorded.append(("Normal", reason, message))

    def warning(self, reason: str, message: str) -> None:
        self.recorded.append(("Warning", reason, message))


@dataclass(kw_only=True)
class HookContext:
    """What a callback gets besides the CR."""

    phase: str
    name: str
    namespace: str
    cr: CustomResource
    client: HookClient
    args: Args
    log: logging.LoggerAdapter[logging.Logger]
    events: Events = field(default_factory=Events)
    status: JsonDict = field(default_factory=dict)
