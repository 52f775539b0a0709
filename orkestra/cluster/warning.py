"""Warnings for the client: what a request was told besides its answer.

An API server answers some requests with ``Warning`` headers, which kubectl prints as
``Warning: <text>``: unknown fields under ``fieldValidation=Warn``, a failed validation of a
ValidatingAdmissionPolicy bound with ``Warn``. Like kube-apiserver's request-scoped warning
recorder, whoever serves a request opens a :func:`recording` scope and the code below it
calls :func:`add`; outside such a scope (the engine's own writes) warnings are dropped. A
context variable keeps concurrent requests apart: every request the API server answers runs
in a task of its own and every thread has its own context.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_recorded: ContextVar[list[str] | None] = ContextVar("orkestra_warnings", default=None)


class _Recording:
    """A scope of :func:`recording` (a class, not a generator context manager: it wraps
    every request the API server answers)."""

    __slots__ = ("_token", "collected")

    def __init__(self) -> None:
        self.collected: list[str] = []
        self._token: Token[list[str] | None] | None = None

    def __enter__(self) -> list[str]:
        self._token = _recorded.set(self.collected)
        return self.collected

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _recorded.reset(self._token)


def recording() -> _Recording:
    """Collect the warnings added in this scope, in order and without repeats."""
    return _Recording()


def add(text: str) -> None:
    collected = _recorded.get()
    if collected is not None and text not in collected:
        collected.append(text)
